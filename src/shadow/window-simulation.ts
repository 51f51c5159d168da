// Simulated shadow and guard windows, to measure the decision rules' error rates and power instead of assuming them
// (scripts/simulate-windows.ts writes the table in docs/shadow.md; test/shadow/error-rates.test.ts keeps it honest).
//
// The traffic model: a binary label with base rate π, and two scorers whose latent scores are binormal with equal
// variance, s = μ·y + e with e ~ N(0, 1), the two models' noises correlated (corr(e_b, e_c) = r). Each model reports
// its exactly calibrated probability P(y = 1 | s) = σ(μ·s − μ²/2 + logit π), so both are calibrated, each model's
// ROC AUC is exactly Φ(μ/√2), and a drop of the AUC is a smaller μ. Seeded with mulberry32: the same seed draws the
// same windows on every machine.
import erfc from '@stdlib/math-base-special-erfc';
import erfcinv from '@stdlib/math-base-special-erfcinv';
import { mulberry32 } from '../contracts/random';
import { type DecideWindowConfig, type WindowKind, type WindowOutcome, decideWindow } from './decide-window';

/**
 * The demo's traffic: about 7,000 labeled rows per window, a poll every ~250 rows, 20% positives, ROC AUC ~0.63. The
 * noise correlation 0.6 gives two equally good models an ROC AUC difference with a standard deviation of about 0.0073
 * on 7,000 rows, as the demo's paired bootstrap intervals (±0.014 at 95%) imply.
 */
export const DEMO_TRAFFIC = { baseRate: 0.2, auc: 0.63, correlation: 0.6, rows: 7000, lookEvery: 250 } as const;

/** Two calibrated binormal scorers of one binary label. */
export interface BinormalPair {
  baseRate: number;
  /** μ of the baseline and of the contender: each model's ROC AUC is Φ(μ/√2). */
  baselineSeparation: number;
  contenderSeparation: number;
  /** Correlation of the two models' score noise. */
  correlation: number;
}

/** μ whose binormal ROC AUC is `auc`: √2 · Φ⁻¹(auc). */
export function separationForAuc(auc: number): number {
  if (!(auc > 0 && auc < 1)) throw new RangeError(`auc must be in (0, 1), got ${auc}`);
  return -2 * erfcinv(2 * auc);
}

/** The binormal ROC AUC of separation μ: Φ(μ/√2). */
export function aucOfSeparation(mu: number): number {
  return 0.5 * erfc(-mu / 2);
}

/** The calibrated probability of y = 1 given the latent score s. */
function calibrated(s: number, mu: number, logitBase: number): number {
  return 1 / (1 + Math.exp(-(mu * s - (mu * mu) / 2 + logitBase)));
}

/** The expected Brier score of the calibrated binormal scorer with separation μ (Simpson's rule, 24,000 intervals). */
export function expectedBrier(mu: number, baseRate: number): number {
  const logitBase = Math.log(baseRate / (1 - baseRate));
  const lo = Math.min(0, mu) - 12;
  const hi = Math.max(0, mu) + 12;
  const steps = 24_000;
  const h = (hi - lo) / steps;
  const density = (x: number): number => Math.exp(-0.5 * x * x) / Math.sqrt(2 * Math.PI);
  const f = (s: number): number => {
    const p = calibrated(s, mu, logitBase);
    return baseRate * density(s - mu) * (1 - p) ** 2 + (1 - baseRate) * density(s) * p * p;
  };
  let sum = f(lo) + f(hi);
  for (let k = 1; k < steps; k++) sum += (k % 2 === 1 ? 4 : 2) * f(lo + k * h);
  return (sum * h) / 3;
}

/** The separation whose expected Brier score is `ratio` times that of separation `mu` (ratio ≥ 1: a worse model). */
export function separationForBrierRatio(mu: number, baseRate: number, ratio: number): number {
  const target = ratio * expectedBrier(mu, baseRate);
  let lo = 0;
  let hi = mu;
  if (expectedBrier(lo, baseRate) < target) throw new RangeError(`no calibrated model is ${ratio} times as bad as separation ${mu}`);
  for (let i = 0; i < 100; i++) {
    const mid = (lo + hi) / 2;
    if (expectedBrier(mid, baseRate) > target) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

/** Standard normal draws from a uniform stream (Box–Muller; 1 − u keeps the logarithm finite). */
export function normalStream(random: () => number): () => number {
  let spare: number | null = null;
  return () => {
    if (spare !== null) {
      const z = spare;
      spare = null;
      return z;
    }
    const r = Math.sqrt(-2 * Math.log(1 - random()));
    const theta = 2 * Math.PI * random();
    spare = r * Math.sin(theta);
    return r * Math.cos(theta);
  };
}

/** n labeled rows scored by both models: labels, and each model's n×2 probabilities (row-major, column 1 = y = 1). */
export interface PairedRows {
  labels: Int32Array;
  baseline: Float64Array;
  contender: Float64Array;
}

/** Draws n rows of the pair's traffic. */
export function drawPairedRows(pair: BinormalPair, n: number, random: () => number, normal: () => number = normalStream(random)): PairedRows {
  const { baseRate, baselineSeparation: mb, contenderSeparation: mc, correlation: r } = pair;
  const logitBase = Math.log(baseRate / (1 - baseRate));
  const labels = new Int32Array(n);
  const baseline = new Float64Array(2 * n);
  const contender = new Float64Array(2 * n);
  const rest = Math.sqrt(1 - r * r);
  for (let i = 0; i < n; i++) {
    const y = random() < baseRate ? 1 : 0;
    const eb = normal();
    const ec = r * eb + rest * normal();
    const pb = calibrated(mb * y + eb, mb, logitBase);
    const pc = calibrated(mc * y + ec, mc, logitBase);
    labels[i] = y;
    baseline[2 * i] = 1 - pb;
    baseline[2 * i + 1] = pb;
    contender[2 * i] = 1 - pc;
    contender[2 * i + 1] = pc;
  }
  return { labels, baseline, contender };
}

/**
 * How a simulated window is decided: `sequential` checks the confidence sequence at every poll; `fixed-every-poll`
 * checks the classical fixed-sample interval of the same loss difference at every poll (what not to do); `fixed-once`
 * is the paired bootstrap of ROC AUC (the `fixed` test) looked at once, at the end.
 */
export type SimulatedTest = 'sequential' | 'fixed-every-poll' | 'fixed-once';

/** One simulated window. */
export interface WindowScenario {
  kind: WindowKind;
  pair: BinormalPair;
  /** Labeled rows the window holds at its end (maxDuration). */
  rows: number;
  /** Labeled rows between two polls. */
  lookEvery: number;
  config: DecideWindowConfig;
}

/** A simulated window's outcome and the labeled rows it held when it decided (its end when inconclusive). */
export interface WindowRun {
  outcome: WindowOutcome;
  rows: number;
  /** fixed-once: the ROC AUC difference contender − baseline on the window's rows. */
  aucDiff?: number;
}

/** Runs one window on freshly drawn rows. */
export function simulateWindow(scenario: WindowScenario, test: SimulatedTest, random: () => number, normal?: () => number): WindowRun {
  const { kind, rows, lookEvery, config } = scenario;
  const data = drawPairedRows(scenario.pair, rows, random, normal);
  const at = (t: number) => ({
    kind,
    task: 'binary' as const,
    metric: 'roc_auc' as const,
    labels: data.labels.subarray(0, t),
    baseline: { probabilities: data.baseline.subarray(0, 2 * t) },
    contender: { probabilities: data.contender.subarray(0, 2 * t) },
    classes: 2,
  });
  if (test === 'fixed-once') {
    const decision = decideWindow({ ...at(rows), config: { ...config, test: 'fixed' }, final: true });
    return { outcome: decision.outcome, rows, aucDiff: decision.primary?.diff ?? Number.NaN };
  }
  for (let t = lookEvery; t <= rows; t += lookEvery) {
    const decision = decideWindow({
      ...at(t),
      config: { ...config, test: 'sequential' },
      reportPrimary: false,
      ...(test === 'fixed-every-poll' ? { interval: 'fixed-sample' as const } : {}),
    });
    if (decision.outcome !== 'inconclusive') return { outcome: decision.outcome, rows: t };
  }
  return { outcome: 'inconclusive', rows };
}

/** Counts over many simulated windows. */
export interface WindowTally {
  windows: number;
  pass: number;
  fail: number;
  inconclusive: number;
  /** Median labeled rows held when the window decided (its end for an inconclusive window). */
  medianRows: number;
  /** Median labeled rows at the decision over the windows that passed or failed (NaN when none did). */
  medianDecidedRows: number;
  /** fixed-once: the standard deviation of the ROC AUC difference across windows. */
  aucDiffSd?: number;
}

/** Runs `windows` windows of a scenario from mulberry32(seed). */
export function simulateWindows(scenario: WindowScenario, test: SimulatedTest, windows: number, seed: number): WindowTally {
  const random = mulberry32(seed);
  const normal = normalStream(random);
  const rows: number[] = [];
  const decidedRows: number[] = [];
  const aucDiffs: number[] = [];
  const tally = { windows, pass: 0, fail: 0, inconclusive: 0 };
  for (let w = 0; w < windows; w++) {
    const run = simulateWindow(scenario, test, random, normal);
    tally[run.outcome]++;
    rows.push(run.rows);
    if (run.outcome !== 'inconclusive') decidedRows.push(run.rows);
    if (run.aucDiff !== undefined && Number.isFinite(run.aucDiff)) aucDiffs.push(run.aucDiff);
  }
  const result: WindowTally = { ...tally, medianRows: median(rows), medianDecidedRows: median(decidedRows) };
  if (aucDiffs.length > 1) {
    const mean = aucDiffs.reduce((a, b) => a + b, 0) / aucDiffs.length;
    result.aucDiffSd = Math.sqrt(aucDiffs.reduce((a, b) => a + (b - mean) ** 2, 0) / (aucDiffs.length - 1));
  }
  return result;
}

function median(values: number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
