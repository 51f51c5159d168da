import { CLASSIFICATION_METRIC_NAMES, type ClassificationMetricName } from '../contracts/metrics';
import { CompensatedSum, SUM_BLOCK_ROWS, assertNotEmpty } from './numeric';
import type { FloatVector } from './numeric';
import { type ReasonContext, type UndefinedMetrics, className, missingClassesPhrase, rowsPhrase } from './reasons';

/** Class probabilities, row-major n×C, columns in class-index order. */
export type ProbabilityMatrix = FloatVector;

/** How precision, recall and F1 combine classes: class 1 as the positive class, or the unweighted mean over classes. */
export type Averaging = 'binary' | 'macro';

export { CLASSIFICATION_METRIC_NAMES };
export type { ClassificationMetricName };

/** Every classification metric, keyed by its name. */
export type ClassificationMetrics = Record<ClassificationMetricName, number>;

/** Precision, recall and F1 under one averaging. */
export interface PrecisionRecallF1 {
  precision: number;
  recall: number;
  f1: number;
}

// sklearn clips at the eps of the array's dtype; Relearn always computes in float64, so this is float64's eps.
const LOG_LOSS_EPS = Number.EPSILON;
const LOG_LOSS_MAX = 1 - LOG_LOSS_EPS;

// Float32 models (tree ensembles averaging leaf values, softmax) can land a few ulps outside [0, 1];
// that is still a probability. Anything further out is a wrong output (logits, scores) or NaN.
const PROBABILITY_SLACK = 1e-5;

/** Per-class counts and the log-loss sum, gathered in one pass over the rows. */
interface RowScan {
  trueCount: Float64Array;
  predCount: Float64Array;
  truePositive: Float64Array;
  correct: number;
  logLossSum: number;
}

function assertClassCount(nClasses: number): void {
  if (!Number.isInteger(nClasses) || nClasses < 2) {
    throw new RangeError(`nClasses must be an integer >= 2, got ${nClasses}`);
  }
}

/** Validates the inputs and collects everything but the AUC in a single pass. */
function scanRows(yTrue: Int32Array, proba: ProbabilityMatrix, nClasses: number): RowScan {
  assertClassCount(nClasses);
  const n = yTrue.length;
  assertNotEmpty('yTrue', n);
  if (proba.length !== n * nClasses) {
    throw new RangeError(
      `proba has ${proba.length} values but yTrue has ${n} rows and nClasses is ${nClasses}; expected ${n} × ${nClasses} = ${n * nClasses} values (row-major n×C)`,
    );
  }
  const trueCount = new Float64Array(nClasses);
  const predCount = new Float64Array(nClasses);
  const truePositive = new Float64Array(nClasses);
  let correct = 0;
  const loss = new CompensatedSum();
  for (let start = 0; start < n; start += SUM_BLOCK_ROWS) {
    const end = Math.min(n, start + SUM_BLOCK_ROWS);
    let blockLoss = 0;
    for (let i = start, base = start * nClasses; i < end; i++, base += nClasses) {
      const y = yTrue[i] as number;
      if (!(y >= 0 && y < nClasses)) {
        throw new RangeError(`yTrue[${i}] is ${y}; expected a class index in 0..${nClasses - 1}`);
      }
      // argmax with ties to the lowest index, like numpy.argmax.
      let best = 0;
      let bestP = -Infinity;
      for (let c = 0; c < nClasses; c++) {
        const p = proba[base + c] as number;
        if (!(p >= -PROBABILITY_SLACK && p <= 1 + PROBABILITY_SLACK)) {
          throw new RangeError(`proba[row ${i}, class ${c}] is ${p}; expected a probability in [0, 1]`);
        }
        if (p > bestP) {
          bestP = p;
          best = c;
        }
      }
      trueCount[y]! += 1;
      predCount[best]! += 1;
      if (best === y) {
        truePositive[y]! += 1;
        correct++;
      }
      const p = proba[base + y] as number;
      blockLoss -= Math.log(p < LOG_LOSS_EPS ? LOG_LOSS_EPS : p > LOG_LOSS_MAX ? LOG_LOSS_MAX : p);
    }
    loss.add(blockLoss);
  }
  return { trueCount, predCount, truePositive, correct, logLossSum: loss.value() };
}

// sklearn's zero_division="warn" path: a 0/0 ratio counts as 0.
function ratioOrZero(numerator: number, denominator: number): number {
  return denominator === 0 ? 0 : numerator / denominator;
}

function prfFromScan(scan: RowScan, averaging: Averaging): PrecisionRecallF1 {
  const { trueCount, predCount, truePositive } = scan;
  if (averaging === 'binary') {
    const tp = truePositive[1] ?? 0;
    const t = trueCount[1] ?? 0;
    const p = predCount[1] ?? 0;
    return { precision: ratioOrZero(tp, p), recall: ratioOrZero(tp, t), f1: ratioOrZero(2 * tp, t + p) };
  }
  // Like sklearn without `labels`: average over the classes seen in yTrue or in the predictions only.
  let precision = 0;
  let recall = 0;
  let f1 = 0;
  let present = 0;
  for (let c = 0; c < trueCount.length; c++) {
    const t = trueCount[c] as number;
    const p = predCount[c] as number;
    if (t === 0 && p === 0) continue;
    const tp = truePositive[c] as number;
    precision += ratioOrZero(tp, p);
    recall += ratioOrZero(tp, t);
    f1 += ratioOrZero(2 * tp, t + p);
    present++;
  }
  return { precision: precision / present, recall: recall / present, f1: f1 / present };
}

/**
 * AUC of one class against the rest from its column of scores. Sorting positives and negatives
 * apart with the native typed-array sort beats an index sort with a comparator several times over.
 * Tied scores count half (Mann–Whitney), which is exactly the trapezoid sklearn integrates between
 * distinct thresholds; the area is summed in integers, so the only rounding is the final division.
 */
function oneVsRestAuc(
  yTrue: Int32Array,
  proba: ProbabilityMatrix,
  nClasses: number,
  column: number,
  positiveClass: number,
  nPositive: number,
  buffer: Float64Array,
): number {
  const n = yTrue.length;
  const nNegative = n - nPositive;
  if (nPositive === 0 || nNegative === 0) return NaN;
  let ip = 0;
  let ineg = nPositive;
  for (let i = 0, k = column; i < n; i++, k += nClasses) {
    if (yTrue[i] === positiveClass) buffer[ip++] = proba[k] as number;
    else buffer[ineg++] = proba[k] as number;
  }
  const pos = buffer.subarray(0, nPositive).sort();
  const neg = buffer.subarray(nPositive, n).sort();
  let twiceArea = 0;
  let a = 0;
  let below = 0;
  while (a < nPositive) {
    const s = pos[a] as number;
    while (below < nNegative && (neg[below] as number) < s) below++;
    let posHere = 0;
    while (a < nPositive && pos[a] === s) {
      a++;
      posHere++;
    }
    let tiedEnd = below;
    while (tiedEnd < nNegative && neg[tiedEnd] === s) tiedEnd++;
    twiceArea += posHere * (2 * below + (tiedEnd - below));
    below = tiedEnd;
  }
  return twiceArea / (2 * nPositive * nNegative);
}

function aucFromCounts(yTrue: Int32Array, proba: ProbabilityMatrix, nClasses: number, trueCount: Float64Array): number {
  const buffer = new Float64Array(yTrue.length);
  if (nClasses === 2) return oneVsRestAuc(yTrue, proba, 2, 1, 1, trueCount[1] as number, buffer);
  let sum = 0;
  for (let c = 0; c < nClasses; c++) {
    sum += oneVsRestAuc(yTrue, proba, nClasses, c, c, trueCount[c] as number, buffer);
  }
  return sum / nClasses;
}

/** Predicted class per row: the argmax of its probabilities, ties to the lowest class index (numpy.argmax). */
export function predictedClasses(proba: ProbabilityMatrix, nClasses: number): Int32Array {
  assertClassCount(nClasses);
  if (proba.length % nClasses !== 0) {
    throw new RangeError(`proba has ${proba.length} values, not a multiple of nClasses = ${nClasses}`);
  }
  const n = proba.length / nClasses;
  const out = new Int32Array(n);
  for (let i = 0, base = 0; i < n; i++, base += nClasses) {
    let best = 0;
    let bestP = proba[base] as number;
    for (let c = 1; c < nClasses; c++) {
      const p = proba[base + c] as number;
      if (p > bestP) {
        bestP = p;
        best = c;
      }
    }
    out[i] = best;
  }
  return out;
}

/** Share of rows whose argmax class equals yTrue (sklearn accuracy_score). */
export function accuracyScore(yTrue: Int32Array, proba: ProbabilityMatrix, nClasses: number): number {
  return scanRows(yTrue, proba, nClasses).correct / yTrue.length;
}

/** Precision, recall and F1 of the argmax predictions; 0/0 ratios are 0 (sklearn's zero_division default). */
export function precisionRecallF1(
  yTrue: Int32Array,
  proba: ProbabilityMatrix,
  nClasses: number,
  averaging: Averaging,
): PrecisionRecallF1 {
  if (averaging === 'binary' && nClasses !== 2) {
    throw new RangeError(`binary averaging needs nClasses = 2, got ${nClasses}`);
  }
  return prfFromScan(scanRows(yTrue, proba, nClasses), averaging);
}

/**
 * ROC-AUC: for two classes the AUC of proba[:,1]; for more, the macro one-vs-rest mean (sklearn
 * multi_class='ovr', average='macro', labels=0..C-1). NaN when a class has no positive or no negative
 * row, where sklearn warns and returns NaN too; in the multiclass mean one such class makes it NaN.
 */
export function rocAucScore(yTrue: Int32Array, proba: ProbabilityMatrix, nClasses: number): number {
  const { trueCount } = scanRows(yTrue, proba, nClasses);
  return aucFromCounts(yTrue, proba, nClasses, trueCount);
}

/**
 * Mean negative log-likelihood of the true class, probabilities clipped to [ε, 1−ε] with ε the float64
 * machine epsilon. Rows are not renormalised (sklearn ≥ 1.5 only warns when they do not sum to 1).
 */
export function logLoss(yTrue: Int32Array, proba: ProbabilityMatrix, nClasses: number): number {
  return scanRows(yTrue, proba, nClasses).logLossSum / yTrue.length;
}

/** All classification metrics from one validation pass plus the AUC sorts. */
export function classificationMetrics(
  yTrue: Int32Array,
  proba: ProbabilityMatrix,
  nClasses: number,
  averaging: Averaging,
): ClassificationMetrics {
  return classificationMetricsWithReasons(yTrue, proba, nClasses, averaging).metrics;
}

/**
 * The classification metrics that have no value on these rows, with the reason, as scikit-learn decides it: ROC AUC
 * when a class never occurs (scikit-learn warns and returns NaN with `labels`, raises without); with binary
 * averaging, precision, recall or F1 when its ratio is 0/0 (scikit-learn warns and counts it as 0). A macro average
 * whose term for some class is 0/0 keeps its value, as scikit-learn's does: the other classes define it. Accuracy and
 * log loss (with every class of the model as `labels`) are defined on any non-empty set.
 */
function undefinedFromScan(scan: RowScan, rows: number, averaging: Averaging, context: ReasonContext): UndefinedMetrics {
  const out: UndefinedMetrics = {};
  const where = rowsPhrase(rows, context);
  const missing: number[] = [];
  for (let c = 0; c < scan.trueCount.length; c++) if (scan.trueCount[c] === 0) missing.push(c);
  if (missing.length > 0) out.roc_auc = `${missingClassesPhrase(missing, context)} in ${where}`;
  if (averaging === 'binary') {
    const positive = `${className(1, context)} (the positive class)`;
    const occurs = (scan.trueCount[1] ?? 0) > 0;
    const predicted = (scan.predCount[1] ?? 0) > 0;
    if (!predicted) out.precision = `the model predicts ${positive} for none of ${where}`;
    if (!occurs) out.recall = `${positive} never occurs in ${where}`;
    if (!occurs && !predicted) out.f1 = `${positive} neither occurs in ${where} nor is predicted for any of them`;
  }
  return out;
}

/** Every classification metric and, for those undefined on these rows, why (see `undefinedFromScan`). */
export function classificationMetricsWithReasons(
  yTrue: Int32Array,
  proba: ProbabilityMatrix,
  nClasses: number,
  averaging: Averaging,
  context: ReasonContext = {},
): { metrics: ClassificationMetrics; undefined: UndefinedMetrics } {
  if (averaging === 'binary' && nClasses !== 2) {
    throw new RangeError(`binary averaging needs nClasses = 2, got ${nClasses}`);
  }
  const scan = scanRows(yTrue, proba, nClasses);
  const { precision, recall, f1 } = prfFromScan(scan, averaging);
  return {
    metrics: {
      accuracy: scan.correct / yTrue.length,
      precision,
      recall,
      f1,
      roc_auc: aucFromCounts(yTrue, proba, nClasses, scan.trueCount),
      log_loss: scan.logLossSum / yTrue.length,
    },
    undefined: undefinedFromScan(scan, yTrue.length, averaging, context),
  };
}
