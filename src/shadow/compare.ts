// Champion vs shadow on the same labeled rows: a paired bootstrap interval for the difference of the primary metric
// (the decision) and McNemar's test on the correctness of predicted labels (evidence beside it). Pure computation,
// no I/O: test/shadow/compare.test.ts checks it against scikit-learn/numpy/scipy fixtures from
// scripts/make-shadow-fixtures.py, fed the same resample indices.
import type { McNemarResult, ShadowComparison } from '../contracts/live';
import { CLASSIFICATION_METRIC_NAMES } from '../contracts/metrics';
import { mulberry32 } from '../contracts/random';
import { quantileSorted } from '../data/stats';
import { chiSquareSf } from '../drift/stats';
import { ConfigError } from '../errors';
import {
  type MetricDirection,
  type MetricName,
  accuracyScore,
  logLoss,
  meanAbsoluteError,
  metricDirection,
  precisionRecallF1,
  predictedClasses,
  r2Score,
  rocAucScore,
  rootMeanSquaredError,
} from '../metrics';

export type { McNemarResult, ShadowComparison };

/** What kind of model is compared. */
export type ShadowTask = 'binary' | 'multiclass' | 'regression';

/** One model's outputs on the compared rows. */
export interface ModelScores {
  /** Classifiers: predicted class index per row (argmax of `probabilities` when omitted). Regression: predicted value per row. */
  predicted?: ArrayLike<number>;
  /** Classifiers: class probabilities, row-major n×C, columns in class-index order. */
  probabilities?: ArrayLike<number>;
}

/** Inputs of compareShadow. */
export interface CompareShadowInput {
  task: ShadowTask;
  /** The primary metric; for lower-is-better metrics (log_loss, rmse, mae) the difference is flipped. */
  metric: MetricName;
  /** Classifiers: true class index per row (0..C−1). Regression: true value per row. */
  labels: ArrayLike<number>;
  champion: ModelScores;
  shadow: ModelScores;
  /** Classifiers: the number of classes C, or the class labels (their count is used). Ignored for regression. */
  classes?: number | readonly unknown[];
  /** How much worse (in metric units, ≥ 0) the shadow may be and still count as not worse. */
  margin: number;
  /** Confidence of the two-sided percentile interval, e.g. 0.95. */
  confidence: number;
  /** Bootstrap resamples (default 1000); ignored when `resampleIndices` is given. */
  resamples?: number;
  /** Seed of the mulberry32 stream that draws the resample indices (default 0): same inputs, same result. */
  seed?: number;
  /** Fewer labeled rows than this (default 30) is `insufficient`. */
  minRows?: number;
  /** Explicit resample index arrays (each of length n, values in 0..n−1) instead of drawing them from `seed`. */
  resampleIndices?: readonly ArrayLike<number>[];
  /** What the reason calls the two sides (default `champion` and `shadow`), e.g. their versions `v3` and `v4`. */
  names?: { champion: string; shadow: string };
}

export const COMPARE_DEFAULTS = { resamples: 1000, seed: 0, minRows: 30 } as const;

/** b + c below this uses the exact binomial test (statsmodels' and the usual textbook rule). */
const MCNEMAR_EXACT_BELOW = 25;

const CLASSIFICATION_ONLY: ReadonlySet<string> = new Set<string>(CLASSIFICATION_METRIC_NAMES);

/** Draws `resamples` bootstrap index arrays of n rows from mulberry32(seed): index = floor(u · n). */
export function bootstrapIndices(n: number, resamples: number, seed: number): Int32Array[] {
  const random = mulberry32(seed);
  const out: Int32Array[] = [];
  for (let b = 0; b < resamples; b++) {
    const idx = new Int32Array(n);
    for (let i = 0; i < n; i++) idx[i] = Math.floor(random() * n);
    out.push(idx);
  }
  return out;
}

/** McNemar's test from the discordant counts, as statsmodels' `mcnemar` (exact below 25, else corrected chi-square). */
export function mcnemarTest(b: number, c: number): McNemarResult {
  const n = b + c;
  if (n < MCNEMAR_EXACT_BELOW) {
    const k = Math.min(b, c);
    // Two-sided binomial test at p = 1/2 (scipy.stats.binomtest): twice the lower tail, at most 1. Exact in doubles for n < 25.
    let tail = 0;
    let coefficient = 1;
    for (let i = 0; i <= k; i++) {
      tail += coefficient;
      coefficient = (coefficient * (n - i)) / (i + 1);
    }
    const pValue = n === 0 ? 1 : Math.min(1, (2 * tail) / 2 ** n);
    return { b, c, statistic: k, pValue, exact: true };
  }
  const statistic = (Math.abs(b - c) - 1) ** 2 / n;
  return { b, c, statistic, pValue: chiSquareSf(statistic, 1), exact: false };
}

/**
 * Compares champion and shadow on the same labeled rows. The decision is a paired bootstrap: each resample draws
 * row indices with replacement and computes the metric of both models on the same rows; the verdict is
 * `not-worse` iff the lower end of the percentile interval of (shadow − champion, sign-adjusted) is ≥ −margin,
 * i.e. a one-sided non-inferiority test at level (1 − confidence)/2. McNemar's test is reported beside it.
 */
export function compareShadow(input: CompareShadowInput): ShadowComparison {
  const { task, metric, labels, margin, confidence } = input;
  const n = labels.length;
  const direction = metricDirection(metric);
  if (task === 'regression' && CLASSIFICATION_ONLY.has(metric)) throw new ConfigError(`metric '${metric}' needs a classifier; the model is a regressor`);
  if (task !== 'regression' && !CLASSIFICATION_ONLY.has(metric)) throw new ConfigError(`metric '${metric}' needs a regressor; the model is a ${task} classifier`);
  if (!(margin >= 0) || !Number.isFinite(margin)) throw new RangeError(`margin must be a finite number ≥ 0, got ${margin}`);
  if (!(confidence > 0 && confidence < 1)) throw new RangeError(`confidence must be between 0 and 1, got ${confidence}`);
  const minRows = input.minRows ?? COMPARE_DEFAULTS.minRows;

  const nClasses = task === 'regression' ? 0 : classCount(input.classes, task);
  const side = (name: 'champion' | 'shadow') => prepare(name, input[name], task, n, nClasses);
  const champion = side('champion');
  const shadow = side('shadow');
  const y = task === 'regression' ? Float64Array.from(labels) : classIndices(labels, nClasses);

  const width = task === 'regression' ? 1 : nClasses;
  const outputsOf = (scores: Prepared): Float64Array => (task === 'regression' ? (scores.predicted as Float64Array) : scores.probabilities!);
  const value = (scores: Prepared): number => metricOn(task, metric, y, outputsOf(scores), nClasses);
  const signed = (championValue: number, shadowValue: number): number =>
    direction === 'higher' ? shadowValue - championValue : championValue - shadowValue;

  const mcnemar = task === 'regression' ? null : mcnemarFrom(y as Int32Array, champion.predicted as Int32Array, shadow.predicted as Int32Array);
  const base = { rows: n, metric, direction, confidence, margin, mcnemar };

  const missingClass = metric === 'roc_auc' && n > 0 && missingClasses(y as Int32Array, nClasses).length > 0;
  if (n < minRows || missingClass) {
    const championValue = n > 0 && !missingClass ? value(champion) : null;
    const shadowValue = n > 0 && !missingClass ? value(shadow) : null;
    const why =
      n < minRows
        ? `${n} labeled rows, fewer than the minimum of ${minRows}`
        : `roc_auc needs every class among the labels; class index ${missingClasses(y as Int32Array, nClasses).join(', ')} never occurs in ${n} rows`;
    return {
      ...base,
      championValue,
      shadowValue,
      diff: championValue !== null && shadowValue !== null ? signed(championValue, shadowValue) : null,
      ciLow: null,
      ciHigh: null,
      resamples: 0,
      pValue: null,
      verdict: 'insufficient',
      reason: `insufficient evidence: ${why}`,
    };
  }

  const championValue = value(champion);
  const shadowValue = value(shadow);
  const diff = signed(championValue, shadowValue);
  const indexArrays = input.resampleIndices ?? bootstrapIndices(n, input.resamples ?? COMPARE_DEFAULTS.resamples, input.seed ?? COMPARE_DEFAULTS.seed);
  // One set of buffers for every resample: the labels of the drawn rows, then each model's outputs in turn.
  const yDrawn = task === 'regression' ? new Float64Array(n) : new Int32Array(n);
  const drawn = new Float64Array(n * width);
  const onDrawn = (scores: Prepared, rows: ArrayLike<number>): number => {
    gatherInto(drawn, outputsOf(scores), rows, width);
    return metricOn(task, metric, yDrawn, drawn, nClasses);
  };
  const diffs: number[] = [];
  // Binary ROC AUC, the common case, needs no sort per resample: each model's rows are ranked once, and a resample
  // is a weight per row (how often it was drawn), summed in rank order (Mann–Whitney with ties counted half).
  const fastAuc = task === 'binary' && metric === 'roc_auc';
  const rankedChampion = fastAuc ? rankGroups(champion.probabilities!) : null;
  const rankedShadow = fastAuc ? rankGroups(shadow.probabilities!) : null;
  const weights = fastAuc ? new Float64Array(n) : null;
  for (const [b, rows] of indexArrays.entries()) {
    if (rows.length !== n) throw new RangeError(`resample ${b} has ${rows.length} indices; expected ${n}, one per row`);
    let d: number;
    if (weights !== null) {
      weights.fill(0);
      for (let i = 0; i < n; i++) {
        const r = rows[i]!;
        if (!(Number.isInteger(r) && r >= 0 && r < n)) throw new RangeError(`resample index ${r} is outside 0..${n - 1}`);
        weights[r]! += 1;
      }
      d = signed(weightedAuc(rankedChampion!, y as Int32Array, weights), weightedAuc(rankedShadow!, y as Int32Array, weights));
    } else {
      gatherInto(yDrawn, y, rows, 1);
      d = signed(onDrawn(champion, rows), onDrawn(shadow, rows));
    }
    if (Number.isFinite(d)) diffs.push(d);
  }
  if (diffs.length === 0) {
    return { ...base, championValue, shadowValue, diff, ciLow: null, ciHigh: null, resamples: 0, pValue: null, verdict: 'insufficient', reason: 'insufficient evidence: no resample had a finite metric difference' };
  }
  const sorted = Float64Array.from(diffs).sort();
  const alpha = 1 - confidence;
  const ciLow = quantileSorted(sorted, alpha / 2);
  const ciHigh = quantileSorted(sorted, 1 - alpha / 2);
  // Strictly below −margin, as the verdict counts a lower bound of exactly −margin as not worse.
  let below = 0;
  for (const d of sorted) if (d < -margin) below++;
  const pValue = below / sorted.length;
  const verdict = ciLow >= -margin ? 'not-worse' : 'worse';
  const pct = `${Math.round(confidence * 1000) / 10}%`;
  const names = input.names ?? { champion: 'champion', shadow: 'shadow' };
  const reason =
    `${metric}: ${names.shadow} ${fmt(shadowValue)} vs ${names.champion} ${fmt(championValue)} on ${n} labeled rows; ` +
    `diff ${signed4(diff)} (positive = ${names.shadow} better), ${pct} CI [${signed4(ciLow)}, ${signed4(ciHigh)}] ` +
    `${verdict === 'not-worse' ? '≥' : '<'} −${fmt(margin)} (the margin); p(worse by more than the margin) = ${fmt(pValue)}` +
    (mcnemar === null ? '' : `; McNemar b=${mcnemar.b} c=${mcnemar.c} p=${fmt(mcnemar.pValue)}`) +
    ` → ${verdict}`;
  return { ...base, championValue, shadowValue, diff, ciLow, ciHigh, resamples: sorted.length, pValue, verdict, reason };
}

interface Prepared {
  /** Classifiers: Int32Array of class indices; regression: Float64Array of values. */
  predicted: Int32Array | Float64Array;
  /** Classifiers: n×C. */
  probabilities: Float64Array | null;
}

function classCount(classes: CompareShadowInput['classes'], task: ShadowTask): number {
  const c = typeof classes === 'number' ? classes : classes?.length;
  if (c === undefined) throw new RangeError(`a ${task} comparison needs classes (the class count or labels)`);
  if (!Number.isInteger(c) || c < 2 || (task === 'binary' && c !== 2)) throw new RangeError(`a ${task} classifier cannot have ${c} classes`);
  return c;
}

function classIndices(values: ArrayLike<number>, nClasses: number): Int32Array {
  const out = new Int32Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (!Number.isInteger(v) || v < 0 || v >= nClasses) throw new RangeError(`label ${i} is ${v}; expected a class index in 0..${nClasses - 1}`);
    out[i] = v;
  }
  return out;
}

function prepare(name: string, scores: ModelScores, task: ShadowTask, n: number, nClasses: number): Prepared {
  if (task === 'regression') {
    if (scores.predicted === undefined || scores.predicted.length !== n) {
      throw new RangeError(`${name}: expected ${n} predicted values, got ${scores.predicted?.length ?? 'none'}`);
    }
    return { predicted: Float64Array.from(scores.predicted), probabilities: null };
  }
  if (scores.probabilities === undefined || scores.probabilities.length !== n * nClasses) {
    throw new RangeError(`${name}: expected ${n} × ${nClasses} probabilities (row-major), got ${scores.probabilities?.length ?? 'none'}`);
  }
  const probabilities = Float64Array.from(scores.probabilities);
  const predicted = scores.predicted === undefined ? predictedClasses(probabilities, nClasses) : classIndices(scores.predicted, nClasses);
  if (predicted.length !== n) throw new RangeError(`${name}: expected ${n} predicted classes, got ${predicted.length}`);
  return { predicted, probabilities };
}

/** The metric of one model's outputs (regression: values; classifiers: n×C probabilities) against `y`. */
function metricOn(task: ShadowTask, metric: MetricName, y: Int32Array | Float64Array, outputs: Float64Array, nClasses: number): number {
  if (task === 'regression') {
    const yTrue = y as Float64Array;
    if (metric === 'rmse') return rootMeanSquaredError(yTrue, outputs);
    if (metric === 'mae') return meanAbsoluteError(yTrue, outputs);
    return r2Score(yTrue, outputs);
  }
  const yTrue = y as Int32Array;
  switch (metric) {
    case 'accuracy':
      return accuracyScore(yTrue, outputs, nClasses);
    case 'roc_auc':
      return rocAucScore(yTrue, outputs, nClasses);
    case 'log_loss':
      return logLoss(yTrue, outputs, nClasses);
    case 'precision':
    case 'recall':
    case 'f1':
      return precisionRecallF1(yTrue, outputs, nClasses, task === 'binary' ? 'binary' : 'macro')[metric];
    default:
      throw new ConfigError(`metric '${metric}' is not a classification metric`);
  }
}

/** Rows ordered by the positive-class probability (column 1 of n×2), with the start of each run of equal scores. */
interface RankGroups {
  order: Int32Array;
  /** groupStart[g] .. groupStart[g+1] − 1 are the positions in `order` of the g-th distinct score. */
  groupStart: Int32Array;
}

function rankGroups(probabilities: Float64Array): RankGroups {
  const n = probabilities.length / 2;
  const score = new Float64Array(n);
  for (let i = 0; i < n; i++) score[i] = probabilities[2 * i + 1]!;
  const order = Int32Array.from({ length: n }, (_, i) => i).sort((a, b) => score[a]! - score[b]!);
  const starts: number[] = [];
  for (let k = 0; k < n; k++) if (k === 0 || score[order[k]!] !== score[order[k - 1]!]) starts.push(k);
  starts.push(n);
  return { order, groupStart: Int32Array.from(starts) };
}

/** ROC AUC of rows weighted by how often a resample drew them; NaN when a class has no weight (as scikit-learn refuses). */
function weightedAuc(ranked: RankGroups, y: Int32Array, weights: Float64Array): number {
  const { order, groupStart } = ranked;
  let negBelow = 0;
  let numerator = 0;
  let positives = 0;
  for (let g = 0; g + 1 < groupStart.length; g++) {
    let pos = 0;
    let neg = 0;
    for (let k = groupStart[g]!; k < groupStart[g + 1]!; k++) {
      const r = order[k]!;
      if (y[r] === 1) pos += weights[r]!;
      else neg += weights[r]!;
    }
    numerator += pos * (negBelow + 0.5 * neg);
    negBelow += neg;
    positives += pos;
  }
  if (positives === 0 || negBelow === 0) return Number.NaN;
  return numerator / (positives * negBelow);
}

/** Copies the `width`-wide records of `values` at `rows` (with repeats) into `out`. */
function gatherInto(out: Int32Array | Float64Array, values: Int32Array | Float64Array, rows: ArrayLike<number>, width: number): void {
  const count = values.length / width;
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i]!;
    if (!(Number.isInteger(r) && r >= 0 && r < count)) throw new RangeError(`resample index ${r} is outside 0..${count - 1}`);
    for (let k = 0; k < width; k++) out[i * width + k] = values[r * width + k]!;
  }
}

function mcnemarFrom(y: Int32Array, champion: Int32Array, shadow: Int32Array): McNemarResult {
  let b = 0;
  let c = 0;
  for (let i = 0; i < y.length; i++) {
    const championRight = champion[i] === y[i];
    const shadowRight = shadow[i] === y[i];
    if (championRight && !shadowRight) b++;
    else if (!championRight && shadowRight) c++;
  }
  return mcnemarTest(b, c);
}

function missingClasses(y: Int32Array, nClasses: number): number[] {
  const seen = new Uint8Array(nClasses);
  for (const v of y) seen[v] = 1;
  const missing: number[] = [];
  for (let c = 0; c < nClasses; c++) if (seen[c] === 0) missing.push(c);
  return missing;
}

function fmt(x: number): string {
  return Math.abs(x) >= 1e-3 || x === 0 ? x.toFixed(4) : x.toExponential(2);
}

function signed4(x: number): string {
  return `${x >= 0 ? '+' : '−'}${fmt(Math.abs(x))}`;
}
