// Pure helpers of the hyperparameter search (no I/O, no clock, seeded randomness only), shared by the search workflows,
// the CLI and the tests: proposing trials, naming them, planning halving rungs, ranking results.
import type { ParamRange, ParamSpace, SearchConfig } from '../src/config/search';
import { metricDirection } from '../src/contracts/metrics';
import { mulberry32 } from '../src/contracts/random';
import type { ParamValue, ProposedTrial, SearchSummary, TrialOutcome, TrialRecord } from '../src/contracts/search';

/** Six significant digits: grid and log-scale points print as 0.01, not 0.010000000000000002, and digest the same. */
function tidy(x: number): number {
  return Number(x.toPrecision(6));
}

/** JSON of a parameter set with its keys sorted: the same set always gives the same text. */
export function canonicalParams(params: Record<string, ParamValue>): string {
  return JSON.stringify(Object.fromEntries(Object.keys(params).sort().map((k) => [k, params[k]])));
}

/** FNV-1a (64-bit) of the canonical parameter set, as 16 hex digits: workflow code has no crypto module. */
export function paramsDigest(params: Record<string, ParamValue>): string {
  let hash = 0xcbf29ce484222325n;
  const text = canonicalParams(params);
  for (let i = 0; i < text.length; i++) {
    hash ^= BigInt(text.charCodeAt(i));
    hash = (hash * 0x100000001b3n) & 0xffffffffffffffffn;
  }
  return hash.toString(16).padStart(16, '0');
}

/** The `steps` points of a range a grid visits: evenly spaced on its scale, integers rounded and deduplicated. */
export function rangePoints(range: ParamRange): number[] {
  const log = range.scale === 'log';
  const lo = log ? Math.log(range.min) : range.min;
  const hi = log ? Math.log(range.max) : range.max;
  const points: number[] = [];
  for (let i = 0; i < range.steps; i++) {
    const x = lo + ((hi - lo) * i) / (range.steps - 1);
    const v = log ? Math.exp(x) : x;
    points.push(range.type === 'int' ? Math.round(v) : tidy(v));
  }
  return [...new Set(points)];
}

/** One draw from a parameter's space. */
function draw(space: ParamSpace, random: () => number): ParamValue {
  if (Array.isArray(space)) return space[Math.floor(random() * space.length)] ?? null;
  const u = random();
  if (space.scale === 'log') {
    const v = Math.exp(Math.log(space.min) + u * (Math.log(space.max) - Math.log(space.min)));
    return space.type === 'int' ? Math.min(space.max, Math.max(space.min, Math.round(v))) : tidy(v);
  }
  if (space.type === 'int') return Math.min(space.max, space.min + Math.floor(u * (space.max - space.min + 1)));
  return tidy(space.min + u * (space.max - space.min));
}

/** Every point of the grid, in a fixed order (the space's keys sorted, the last key varying fastest). */
export function gridPoints(space: Record<string, ParamSpace>): Array<Record<string, ParamValue>> {
  let points: Array<Record<string, ParamValue>> = [{}];
  for (const name of Object.keys(space).sort()) {
    const p = space[name]!;
    const values: ParamValue[] = Array.isArray(p) ? p : rangePoints(p);
    points = points.flatMap((point) => values.map((v) => ({ ...point, [name]: v })));
  }
  return points;
}

/** `count` seeded draws (mulberry32): the same space, count and seed give the same points in the same order. */
export function randomPoints(space: Record<string, ParamSpace>, count: number, seed: number): Array<Record<string, ParamValue>> {
  const random = mulberry32(seed);
  const names = Object.keys(space).sort();
  return Array.from({ length: count }, () => Object.fromEntries(names.map((name) => [name, draw(space[name]!, random)])));
}

/**
 * The trials a search trains: the grid, or `budget` seeded draws. A parameter set drawn twice is one trial (its id
 * is its digest), so it is trained once; `duplicates` counts the repeats.
 */
export function proposeTrials(search: Pick<SearchConfig, 'strategy' | 'space' | 'budget' | 'seed'>): { trials: ProposedTrial[]; proposed: number; duplicates: number } {
  const points = search.strategy === 'grid' ? gridPoints(search.space) : randomPoints(search.space, search.budget, search.seed);
  const seen = new Map<string, ProposedTrial>();
  for (const params of points) {
    const id = paramsDigest(params);
    if (!seen.has(id)) seen.set(id, { id, params });
  }
  const trials = [...seen.values()].slice(0, search.budget);
  return { trials, proposed: points.length, duplicates: points.length - seen.size };
}

/**
 * Successive-halving rungs for `n` trials: row shares minRowShare·eta^r up to 1, and how many trials each rung trains
 * (the best ceil(previous/eta) go on). Grid and random have one rung of all the rows.
 */
export function planRungs(search: Pick<SearchConfig, 'strategy' | 'halving'>, n: number): Array<{ rowShare: number; trials: number }> {
  if (search.strategy !== 'halving') return [{ rowShare: 1, trials: n }];
  const { eta, minRowShare } = search.halving;
  const rungs: Array<{ rowShare: number; trials: number }> = [];
  let share = minRowShare;
  let count = n;
  while (share < 1 - 1e-9 && count > 1) {
    rungs.push({ rowShare: tidy(share), trials: count });
    share *= eta;
    count = Math.max(1, Math.ceil(count / eta));
  }
  rungs.push({ rowShare: 1, trials: count });
  return rungs;
}

/** Orders scored trials best first by the metric's mean (ties: smaller std, then id, so the order is deterministic). */
export function rankByMetric<T extends { id: string; metric?: { mean: number; std: number } }>(trials: readonly T[], direction: 'higher' | 'lower'): T[] {
  const sign = direction === 'higher' ? -1 : 1;
  const key = (t: T) => (t.metric && Number.isFinite(t.metric.mean) ? t.metric.mean : Number.NaN);
  return [...trials].sort((a, b) => {
    const ka = key(a);
    const kb = key(b);
    if (Number.isNaN(ka) !== Number.isNaN(kb)) return Number.isNaN(ka) ? 1 : -1;
    if (!Number.isNaN(ka) && ka !== kb) return sign * (ka - kb);
    const sa = a.metric?.std ?? Number.POSITIVE_INFINITY;
    const sb = b.metric?.std ?? Number.POSITIVE_INFINITY;
    if (sa !== sb && Number.isFinite(sa - sb)) return sa - sb;
    return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
  });
}
