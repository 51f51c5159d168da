// One drift check: every configured feature of a reference table (the champion's training snapshot) against a
// current table (a recent window), with Evidently's default choice of test, per-feature overrides, a multiple-test
// correction for p-value tests, a minimum sample size and the dataset-drift rule.
import type { Table } from 'apache-arrow';
import { numericValues, stringValues } from '../data/columns';
import { ks2SampleSorted } from './ks';
import { sortFloat64 } from './sort';
import {
  alignCounts,
  chiSquareHomogeneity,
  jensenShannonDistance,
  jensenShannonNumeric,
  psiFromCounts,
  psiNumeric,
  twoProportionZ,
  wassersteinNormed,
} from './stats';

import { type CategoricalEffect, DRIFT_DECISIONS, DRIFT_METHODS, type DriftDecision, type DriftMethod, type NumericEffect } from './methods';

export { DRIFT_METHODS };
export type { DriftMethod };

/** Methods whose statistic is a p-value judged by `p < threshold`; the others drift when `statistic ≥ threshold`. */
export const P_VALUE_METHODS: ReadonlySet<DriftMethod> = new Set<DriftMethod>(['ks', 'chisquare', 'ztest']);

/** Evidently's thresholds: p < 0.05 for tests, 0.1 for distances and PSI. */
export function defaultThreshold(method: DriftMethod): number {
  return P_VALUE_METHODS.has(method) ? 0.05 : 0.1;
}

/**
 * Evidently's default test by reference size: up to 1,000 rows KS for numeric features with more than 5 distinct
 * values, chi-square for categorical or low-cardinality ones, the two-proportion Z-test for binary ones; above,
 * normed Wasserstein for numeric and Jensen–Shannon for categorical or low-cardinality features.
 */
export function defaultMethod(kind: 'numeric' | 'categorical', referenceRows: number, distinct: number): DriftMethod {
  const lowCardinality = kind === 'categorical' || distinct <= 5;
  if (referenceRows <= 1000) {
    if (!lowCardinality) return 'ks';
    return distinct > 2 ? 'chisquare' : 'ztest';
  }
  return lowCardinality ? 'jensenshannon' : 'wasserstein';
}

/**
 * How a feature's verdict is reached. `effect-size` (the default): the feature's effect size (normed Wasserstein for
 * numeric, Jensen–Shannon for categorical features, or the configured ones) must reach its threshold AND the p-value
 * reported beside it must be below alpha — at production sizes the p-value is tiny for any change, so the effect size
 * decides; at small sizes the p-value keeps noise from counting. `size-based`: Evidently's defaults (p-values up to
 * 1,000 reference rows, distances alone above). `p-value`: KS / chi-square / z-test at every size.
 */
export { DRIFT_DECISIONS };
export type { CategoricalEffect, DriftDecision, NumericEffect };

/** Test chosen for a feature under `decision`, before per-feature overrides. */
export function methodFor(
  decision: DriftDecision,
  kind: 'numeric' | 'categorical',
  referenceRows: number,
  distinct: number,
  effects: { numeric?: NumericEffect; categorical?: CategoricalEffect } = {},
): DriftMethod {
  if (decision === 'size-based') return defaultMethod(kind, referenceRows, distinct);
  const lowCardinality = kind === 'categorical' || distinct <= 5;
  if (decision === 'p-value') return defaultMethod(kind, 0, distinct);
  return lowCardinality ? (effects.categorical ?? 'jensenshannon') : (effects.numeric ?? 'wasserstein');
}

/** Per-feature override from temporal.yaml. */
export interface FeatureRule {
  method?: DriftMethod;
  threshold?: number;
}

/** How a check is run. */
export interface DriftCheckOptions {
  numeric: string[];
  categorical: string[];
  features?: Record<string, FeatureRule>;
  /** Multiple-test correction of p-value thresholds over the checked features (alibi-detect's default). */
  correction?: 'bonferroni' | 'none';
  /** Fewer present values than this in either sample: no verdict for the feature. */
  minSampleSize?: number;
  /** Dataset drift when at least this share of the checked features drift (Evidently's 0.5). */
  driftShare?: number;
  psiBins?: number;
  jsBins?: number;
  /** How verdicts are reached (default `effect-size`). */
  decision?: DriftDecision;
  /** Effect sizes used in `effect-size` mode (default normed Wasserstein and Jensen–Shannon). */
  effects?: { numeric?: NumericEffect; categorical?: CategoricalEffect };
  /** In `effect-size` mode the p-value beside the effect must be below this (multiple-test corrected); default 0.05. */
  alpha?: number;
}

/** Rows, missing values and their share in one sample of one feature. */
export interface SampleCounts {
  rows: number;
  present: number;
  missing: number;
  missingShare: number;
}

/** Bars of a feature's two distributions, as shares, for the report's histogram. */
export interface Histogram {
  labels: string[];
  reference: number[];
  current: number[];
}

/** One feature's verdict. */
export interface FeatureDrift {
  feature: string;
  kind: 'numeric' | 'categorical';
  method: DriftMethod;
  /** The p-value for p-value tests, else the distance or PSI. */
  statistic: number | null;
  /** The test statistic behind a p-value (KS D, chi-square, z). */
  testStatistic?: number;
  threshold: number;
  /** The threshold after the multiple-test correction (p-value tests only). */
  effectiveThreshold: number;
  /** The effect size beside the verdict: the statistic for a distance, normed Wasserstein / Jensen–Shannon for a p-value test. */
  effectSize?: { method: DriftMethod; value: number };
  /** The p-value beside the verdict: the statistic for a p-value test, KS / chi-square / z-test beside a distance. */
  pValue?: { method: DriftMethod; value: number; statistic: number };
  /** The corrected alpha the p-value had to pass too (`effect-size` mode, distance methods). */
  alpha?: number;
  drifted: boolean | null;
  /** Why there is no verdict, when there is none. */
  note?: string;
  reference: SampleCounts;
  current: SampleCounts;
  histogram?: Histogram;
}

/** A whole check. */
export interface DriftReport {
  features: FeatureDrift[];
  checked: number;
  drifted: number;
  share: number;
  driftShare: number;
  datasetDrift: boolean;
  correction: 'bonferroni' | 'none';
  decision: DriftDecision;
  referenceRows: number;
  currentRows: number;
}

/** Present (non-NaN) values in their order, as a new array, and how many were missing. */
export function presentValues(values: Float64Array): { present: Float64Array; missing: number } {
  let count = 0;
  for (let i = 0; i < values.length; i++) if (!Number.isNaN(values[i]!)) count++;
  const present = count === values.length ? values.slice() : new Float64Array(count);
  if (count !== values.length) {
    let k = 0;
    for (let i = 0; i < values.length; i++) if (!Number.isNaN(values[i]!)) present[k++] = values[i]!;
  }
  return { present, missing: values.length - count };
}

/** Present (non-NaN) values in ascending order, and how many were missing. */
export function sortedPresent(values: Float64Array): { sorted: Float64Array; missing: number } {
  const { present, missing } = presentValues(values);
  return { sorted: sortFloat64(present), missing };
}

/** Counts per category in first-seen order, and how many values were missing. */
export function categoryCounts(values: ArrayLike<string | null>): { counts: Map<string, number>; missing: number } {
  const counts = new Map<string, number>();
  let missing = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v === null || v === undefined) missing++;
    else counts.set(v, (counts.get(v) ?? 0) + 1);
  }
  return { counts, missing };
}

function distinctSorted(sorted: Float64Array): number {
  let distinct = sorted.length > 0 ? 1 : 0;
  for (let i = 1; i < sorted.length; i++) if (sorted[i] !== sorted[i - 1]) distinct++;
  return distinct;
}

function countsOfSorted(sorted: Float64Array): Map<string, number> {
  const counts = new Map<string, number>();
  for (let i = 0; i < sorted.length; i++) {
    const key = String(sorted[i]);
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
}

function sampleCounts(rows: number, missing: number): SampleCounts {
  return { rows, present: rows - missing, missing, missingShare: rows === 0 ? 0 : missing / rows };
}

const share = (xs: ArrayLike<number>) => {
  let total = 0;
  for (let i = 0; i < xs.length; i++) total += xs[i]!;
  return Array.from(xs, (x) => (total > 0 ? x / total : 0));
};

function categoricalHistogram(aligned: ReturnType<typeof alignCounts>, maxBars = 30): Histogram {
  const order = aligned.categories.map((_, i) => i).sort((a, b) => aligned.reference[b]! + aligned.current[b]! - (aligned.reference[a]! + aligned.current[a]!));
  const keep = order.slice(0, maxBars);
  const r = share(aligned.reference);
  const c = share(aligned.current);
  return { labels: keep.map((i) => aligned.categories[i]!), reference: keep.map((i) => r[i]!), current: keep.map((i) => c[i]!) };
}

function testCategorical(method: DriftMethod, aligned: ReturnType<typeof alignCounts>): { statistic: number; testStatistic?: number } {
  switch (method) {
    case 'chisquare': {
      const r = chiSquareHomogeneity(aligned.reference, aligned.current);
      return { statistic: r.pValue, testStatistic: r.statistic };
    }
    case 'ztest': {
      const r = twoProportionZ(aligned.reference, aligned.current);
      return { statistic: r.pValue, testStatistic: r.statistic };
    }
    case 'psi':
      return { statistic: psiFromCounts(aligned.reference, aligned.current) };
    case 'jensenshannon':
      return { statistic: jensenShannonDistance(aligned.reference, aligned.current) };
    default:
      throw new RangeError(`${method} needs a numeric feature`);
  }
}

/** The p-value beside a categorical distance: chi-square (z-test for two categories). */
function categoricalPValue(aligned: ReturnType<typeof alignCounts>): NonNullable<FeatureDrift['pValue']> {
  const method: DriftMethod = aligned.categories.length > 2 ? 'chisquare' : 'ztest';
  const r = testCategorical(method, aligned);
  return { method, value: r.statistic, statistic: r.testStatistic ?? 0 };
}

/** Checks every feature of `current` against `reference` and decides dataset drift. */
export function checkDrift(reference: Table, current: Table, options: DriftCheckOptions): DriftReport {
  const correction = options.correction ?? 'bonferroni';
  const minSample = options.minSampleSize ?? 30;
  const driftShare = options.driftShare ?? 0.5;
  const decision = options.decision ?? 'effect-size';
  const alpha = options.alpha ?? 0.05;
  const features = [...options.numeric.map((f) => ({ f, kind: 'numeric' as const })), ...options.categorical.map((f) => ({ f, kind: 'categorical' as const }))];
  const pending: Array<Omit<FeatureDrift, 'effectiveThreshold' | 'drifted'>> = [];
  for (const { f, kind } of features) {
    const refColumn = reference.getChild(f);
    const curColumn = current.getChild(f);
    if (!refColumn || !curColumn) throw new RangeError(`column '${f}' is missing from the ${refColumn ? 'current window' : 'reference snapshot'}`);
    const rule = options.features?.[f] ?? {};
    if (kind === 'numeric') {
      const ref = sortedPresent(numericValues(refColumn));
      const cur = sortedPresent(numericValues(curColumn));
      const distinct = distinctSorted(ref.sorted);
      const method = rule.method ?? methodFor(decision, 'numeric', ref.sorted.length, distinct, options.effects);
      const base = { feature: f, kind, method, threshold: rule.threshold ?? defaultThreshold(method), reference: sampleCounts(reference.numRows, ref.missing), current: sampleCounts(current.numRows, cur.missing) };
      if (ref.sorted.length < minSample || cur.sorted.length < minSample) {
        pending.push({ ...base, statistic: null, note: `fewer than ${minSample} present values` });
        continue;
      }
      const js = jensenShannonNumeric(ref.sorted, cur.sorted, options.jsBins ?? 30);
      const histogram: Histogram = {
        labels: Array.from(js.edges.subarray(0, -1), (e, i) => `${formatEdge(e)}–${formatEdge(js.edges[i + 1]!)}`),
        reference: share(js.reference),
        current: share(js.current),
      };
      // Low-cardinality numeric features are tested as categories (Evidently's rule), their p-value beside too.
      const asCategories = () => alignCounts(countsOfSorted(ref.sorted), countsOfSorted(cur.sorted));
      let statistic: number;
      let testStatistic: number | undefined;
      if (method === 'ks') {
        const r = ks2SampleSorted(ref.sorted, cur.sorted);
        statistic = r.pValue;
        testStatistic = r.statistic;
      } else if (method === 'wasserstein') statistic = wassersteinNormed(ref.sorted, cur.sorted).statistic;
      else if (method === 'jensenshannon') statistic = js.statistic;
      else if (method === 'psi') statistic = psiNumeric(ref.sorted, cur.sorted, options.psiBins ?? 10).statistic;
      else ({ statistic, testStatistic } = testCategorical(method, asCategories()));
      let pValue: FeatureDrift['pValue'];
      let effectSize: FeatureDrift['effectSize'];
      if (P_VALUE_METHODS.has(method)) {
        pValue = { method, value: statistic, statistic: testStatistic ?? 0 };
        effectSize = distinct <= 5 ? { method: 'jensenshannon', value: js.statistic } : { method: 'wasserstein', value: wassersteinNormed(ref.sorted, cur.sorted).statistic };
      } else {
        effectSize = { method, value: statistic };
        if (distinct <= 5) pValue = categoricalPValue(asCategories());
        else {
          const r = ks2SampleSorted(ref.sorted, cur.sorted);
          pValue = { method: 'ks', value: r.pValue, statistic: r.statistic };
        }
      }
      pending.push({ ...base, statistic, testStatistic, histogram, effectSize, pValue });
    } else {
      const ref = categoryCounts(stringValues(refColumn));
      const cur = categoryCounts(stringValues(curColumn));
      const method = rule.method ?? methodFor(decision, 'categorical', reference.numRows - ref.missing, ref.counts.size, options.effects);
      const base = { feature: f, kind, method, threshold: rule.threshold ?? defaultThreshold(method), reference: sampleCounts(reference.numRows, ref.missing), current: sampleCounts(current.numRows, cur.missing) };
      if (base.reference.present < minSample || base.current.present < minSample) {
        pending.push({ ...base, statistic: null, note: `fewer than ${minSample} present values` });
        continue;
      }
      if (method === 'ks' || method === 'wasserstein') throw new RangeError(`feature '${f}': ${method} needs a numeric feature`);
      const aligned = alignCounts(ref.counts, cur.counts);
      const tested = testCategorical(method, aligned);
      const beside = P_VALUE_METHODS.has(method)
        ? { pValue: { method, value: tested.statistic, statistic: tested.testStatistic ?? 0 }, effectSize: { method: 'jensenshannon' as const, value: jensenShannonDistance(aligned.reference, aligned.current) } }
        : { pValue: categoricalPValue(aligned), effectSize: { method, value: tested.statistic } };
      pending.push({ ...base, ...tested, ...beside, histogram: categoricalHistogram(aligned) });
    }
  }
  const checked = pending.filter((p) => p.statistic !== null).length;
  const corrected = (threshold: number) => (correction === 'bonferroni' && checked > 0 ? threshold / checked : threshold);
  const results: FeatureDrift[] = pending.map((p) => {
    const isP = P_VALUE_METHODS.has(p.method);
    const effectiveThreshold = isP ? corrected(p.threshold) : p.threshold;
    if (p.statistic === null) return { ...p, effectiveThreshold, drifted: null };
    if (isP) return { ...p, effectiveThreshold, drifted: p.statistic < effectiveThreshold };
    // A distance alone (Evidently's rule) unless effect-size mode asks the p-value beside it to agree.
    if (decision !== 'effect-size' || !p.pValue) return { ...p, effectiveThreshold, drifted: p.statistic >= effectiveThreshold };
    const a = corrected(alpha);
    return { ...p, effectiveThreshold, alpha: a, drifted: p.statistic >= effectiveThreshold && p.pValue.value < a };
  });
  const drifted = results.filter((r) => r.drifted === true).length;
  const shareDrifted = checked === 0 ? 0 : drifted / checked;
  return {
    features: results,
    checked,
    drifted,
    share: shareDrifted,
    driftShare,
    datasetDrift: checked > 0 && shareDrifted >= driftShare,
    correction,
    decision,
    referenceRows: reference.numRows,
    currentRows: current.numRows,
  };
}

function formatEdge(x: number): string {
  return Number.isInteger(x) ? String(x) : x.toPrecision(4);
}
