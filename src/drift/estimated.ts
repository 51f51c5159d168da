// Confidence-based performance estimation (CBPE, as NannyML defines it): a classifier's ROC AUC, accuracy and F1 on
// a window WITHOUT labels, from its own probabilities once they are calibrated on labelled rows it was not trained on
// (the champion's holdout). With calibrated probabilities, P(row is class c) is known for every row, so the expected
// confusion matrix, and the metrics made of it, follow without a single label. The band is NannyML's sampling error
// (from the holdout's spread, scaled to the window's size) times three.
//
// It holds while (1) the relation between features and label is the one of the holdout (no concept shift: covariate
// shift is fine) and (2) the calibration learnt on the holdout still holds on the window's region of the inputs.
import { fitIsotonic, predictIsotonic, type IsotonicFit } from './isotonic';
import { ESTIMATED_METRICS, type EstimatedMetric } from './estimated-metrics';
import { computeMetrics } from '../metrics';
import { mulberry32 } from '../contracts';

/** Labelled rows the calibration is learnt on: class indices and the model's probabilities (row-major, width C). */
export interface CalibrationRows {
  yTrue: Int32Array;
  probabilities: ArrayLike<number>;
  numClasses: number;
}

/** One class's calibrator (absent: the raw probability is already calibrated better than isotonic would make it). */
interface ClassCalibration {
  fit?: IsotonicFit;
}

/** A fitted CBPE: calibrators per class and the holdout's sampling-error components. */
export interface CbpeModel {
  numClasses: number;
  /** Binary: one calibrator (class 1); multiclass: one per class, one-vs-rest. */
  calibration: ClassCalibration[];
  /** Whether each class's probabilities are calibrated (NannyML's needs_calibration verdict). */
  calibrated: boolean[];
  components: Record<EstimatedMetric, Array<{ std: number; fraction: number }>>;
  /** The metrics realised on the calibration rows themselves (the reference the drop is measured from). */
  reference: Record<EstimatedMetric, number>;
  referenceRows: number;
}

/** One estimated metric with NannyML's band (estimate ± 3 sampling errors, clipped to [0, 1]). */
export interface EstimatedValue {
  value: number;
  samplingError: number;
  lower: number;
  upper: number;
}

/** Estimates of every metric on a window. */
export type CbpeEstimate = Record<EstimatedMetric, EstimatedValue> & { rows: number };

/** How many sampling errors the band spans on each side (NannyML's SAMPLING_ERROR_RANGE). */
export const SAMPLING_ERROR_RANGE = 3;

const mean = (a: ArrayLike<number>) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]!;
  return s / a.length;
};
/** Population standard deviation (numpy's np.std, ddof 0). */
function std(a: ArrayLike<number>): number {
  const m = mean(a);
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i]! - m) ** 2;
  return Math.sqrt(s / a.length);
}

/** Column c of a row-major probability matrix. */
function column(p: ArrayLike<number>, width: number, c: number): Float64Array {
  const n = p.length / width;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = p[i * width + c]!;
  return out;
}

/** The predicted class of each row: the largest probability, the first on ties (scikit-learn's argmax). */
export function argmaxRows(p: ArrayLike<number>, width: number): Int32Array {
  const n = p.length / width;
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let c = 1; c < width; c++) if (p[i * width + c]! > p[i * width + best]!) best = c;
    out[i] = best;
  }
  return out;
}

/**
 * Expected ROC AUC (NannyML's estimate_roc_auc): rows sorted by the model's raw score, highest first; walking down,
 * expected true positives add up the calibrated probabilities and false positives their complements; the curve
 * through (FP/FP_total, TP/TP_total) is integrated with the trapezoid rule.
 */
export function estimateRocAuc(calibrated: ArrayLike<number>, raw: ArrayLike<number>): number {
  const n = calibrated.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => raw[b]! - raw[a]! || a - b);
  const tps = new Float64Array(n + 1);
  const fps = new Float64Array(n + 1);
  let tp = 0;
  for (let k = 0; k < n; k++) {
    tp += calibrated[order[k]!]!;
    tps[k + 1] = tp;
    fps[k + 1] = k + 1 - tp;
  }
  // NannyML rounds the running sums to 5 decimals before dividing.
  const round5 = (v: number) => Math.round(v * 1e5) / 1e5;
  const totalTp = round5(tps[n]!);
  const totalFp = round5(fps[n]!);
  if (!(totalTp > 0) || !(totalFp > 0)) return Number.NaN;
  let auc = 0;
  for (let k = 1; k <= n; k++) {
    const dx = (round5(fps[k]!) - round5(fps[k - 1]!)) / totalFp;
    auc += (dx * (round5(tps[k]!) + round5(tps[k - 1]!))) / totalTp / 2;
  }
  return auc;
}

/** Expected F1 of a one-vs-rest class: predicted positives where `predicted`, P(positive) = p (NannyML's estimate_f1). */
function estimateF1(predicted: ArrayLike<boolean>, p: ArrayLike<number>): number {
  let tp = 0;
  let fp = 0;
  let fn = 0;
  for (let i = 0; i < p.length; i++) {
    if (predicted[i]) {
      tp += p[i]!;
      fp += 1 - p[i]!;
    } else fn += p[i]!;
  }
  const denominator = tp + 0.5 * (fp + fn);
  return denominator === 0 ? 0 : tp / denominator;
}

// ---- sampling-error components on labelled rows (NannyML's sampling_error module) ----

/** A metric's spread on the calibration rows per class: std and the share of rows that count. */
interface Component {
  std: number;
  fraction: number;
}

/**
 * ROC AUC's components (a Mann–Whitney view): for each positive (counted from the minority class), the share of
 * negatives ranked below it; their spread and the positives' share. As NannyML, a positive ranked first is left out.
 */
function aucComponents(y: ArrayLike<number>, p: ArrayLike<number>): Component {
  let yy = Float64Array.from(y);
  let pp = Float64Array.from(p);
  if (mean(yy) > 0.5) {
    yy = yy.map((v) => 1 - v);
    pp = pp.map((v) => 1 - v);
  }
  const order = Array.from({ length: pp.length }, (_, i) => i).sort((a, b) => pp[a]! - pp[b]! || a - b);
  const nPos = yy.reduce((s, v) => s + v, 0);
  const nNeg = yy.length - nPos;
  const ser: number[] = [];
  for (let r = 1; r < order.length; r++) if (yy[order[r]!] === 1) ser.push((r - ser.length) / nNeg);
  return { std: ser.length ? std(ser) : 0, fraction: nPos / yy.length };
}

/**
 * F1's components for one class: 1 for each true positive, 0 for each false positive or negative, and their share of
 * rows. A binary model's are scaled by NannyML's correcting factor (rows that count over TP + (FP + FN) / 2); the
 * multiclass ones are not, as in NannyML.
 */
function f1Components(yPos: ArrayLike<boolean>, predPos: ArrayLike<boolean>, binary: boolean): Component {
  const obs: number[] = [];
  for (let i = 0; i < yPos.length; i++) {
    if (yPos[i] && predPos[i]) obs.push(1);
    else if (yPos[i] !== predPos[i]) obs.push(0);
  }
  if (obs.length === 0) return { std: 0, fraction: 0 };
  const tp = obs.reduce((s, v) => s + v, 0);
  const factor = binary ? obs.length / ((obs.length - tp) * 0.5 + tp) : 1;
  return { std: std(obs) * factor, fraction: obs.length / yPos.length };
}

// ---- calibration: fit, and NannyML's check whether it helps ----

/** Expected calibration error over equal-count bins of the sorted probabilities (NannyML's bin edges). */
function expectedCalibrationError(y: ArrayLike<number>, p: ArrayLike<number>, edges: number[]): number {
  const order = Array.from({ length: p.length }, (_, i) => i).sort((a, b) => p[a]! - p[b]! || a - b);
  let ece = 0;
  for (let b = 0; b + 1 < edges.length; b++) {
    let sp = 0;
    let sy = 0;
    for (let k = edges[b]!; k < edges[b + 1]!; k++) {
      sp += p[order[k]!]!;
      sy += y[order[k]!]!;
    }
    const count = edges[b + 1]! - edges[b]!;
    ece += (count / p.length) * Math.abs(sp / count - sy / count);
  }
  return ece;
}

/** Bin edges as NannyML's _get_bin_index_edges: steps of floor(n / bins), the last edge moved to n. */
function binEdges(n: number, bins: number): number[] {
  const count = n <= 2 * bins ? Math.floor(n / 2) : bins;
  const width = Math.floor(n / count);
  const edges: number[] = [];
  for (let e = 0; e <= n; e += width) edges.push(e);
  edges[edges.length - 1] = n;
  return edges;
}

/**
 * Whether isotonic calibration makes a class's probabilities better calibrated (NannyML's needs_calibration): over
 * 10 stratified 90/10 splits of the calibration rows, the ECE of the pooled calibrated test probabilities against the
 * raw ones'. NannyML draws its splits from numpy's generator; ours are the same shape from a seeded one, so on a
 * close call the two can decide differently (docs/estimated-performance.md).
 */
function needsCalibration(y: Float64Array, p: Float64Array, splits = 10): boolean {
  const nPos = y.reduce((s, v) => s + v, 0);
  if (nPos === 0 || nPos === y.length) return false;
  if (binaryAuc(y, p) > 0.999) return false;
  const positives: number[] = [];
  const negatives: number[] = [];
  y.forEach((v, i) => (v === 1 ? positives : negatives).push(i));
  const random = mulberry32(42);
  const shuffle = (a: number[]) => {
    for (let i = a.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [a[i], a[j]] = [a[j]!, a[i]!];
    }
    return a;
  };
  const nTest = Math.ceil(0.1 * y.length);
  const testPos = Math.round((nTest * positives.length) / y.length);
  const yTest: number[] = [];
  const rawTest: number[] = [];
  const calTest: number[] = [];
  for (let s = 0; s < splits; s++) {
    const pos = shuffle([...positives]);
    const neg = shuffle([...negatives]);
    const test = [...pos.slice(0, testPos), ...neg.slice(0, nTest - testPos)];
    const train = [...pos.slice(testPos), ...neg.slice(nTest - testPos)];
    const fit = fitIsotonic(train.map((i) => p[i]!), train.map((i) => y[i]!));
    for (const i of test) {
      yTest.push(y[i]!);
      rawTest.push(p[i]!);
      calTest.push(predictIsotonic(fit, p[i]!));
    }
  }
  const edges = binEdges(yTest.length, 10);
  return expectedCalibrationError(yTest, rawTest, edges) > expectedCalibrationError(yTest, calTest, edges);
}

/** ROC AUC of 0/1 labels against scores, through the project's own metric. */
function binaryAuc(y: Float64Array, p: Float64Array): number {
  const proba = new Float64Array(p.length * 2);
  p.forEach((v, i) => {
    proba[2 * i] = 1 - v;
    proba[2 * i + 1] = v;
  });
  return computeMetrics('binary', Int32Array.from(y), proba, 2).roc_auc;
}

/** Calibrated probabilities of a window, row-major; multiclass rows renormalised to sum to 1 (uniform if all 0). */
export function calibrate(model: CbpeModel, probabilities: ArrayLike<number>): Float64Array {
  const width = model.numClasses;
  const n = probabilities.length / width;
  const out = Float64Array.from(probabilities);
  if (width === 2) {
    const fit = model.calibration[0]!.fit;
    if (fit) {
      for (let i = 0; i < n; i++) {
        const p1 = predictIsotonic(fit, probabilities[i * 2 + 1]!);
        out[i * 2 + 1] = p1;
        out[i * 2] = 1 - p1;
      }
    }
    return out;
  }
  for (let c = 0; c < width; c++) {
    const fit = model.calibration[c]!.fit;
    if (fit) for (let i = 0; i < n; i++) out[i * width + c] = predictIsotonic(fit, probabilities[i * width + c]!);
  }
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let c = 0; c < width; c++) s += out[i * width + c]!;
    for (let c = 0; c < width; c++) out[i * width + c] = s > 0 ? out[i * width + c]! / s : 1 / width;
  }
  return out;
}

/** Fits CBPE on labelled rows the model was not trained on: calibrators, sampling-error components, reference metrics. */
export function fitCbpe(rows: CalibrationRows): CbpeModel {
  const { yTrue, probabilities, numClasses: width } = rows;
  const n = yTrue.length;
  if (width < 2) throw new RangeError(`CBPE needs a classifier's probabilities (at least 2 classes), got ${width}`);
  if (probabilities.length !== n * width) throw new RangeError(`CBPE: ${probabilities.length} probabilities for ${n} rows × ${width} classes`);
  const predicted = argmaxRows(probabilities, width);
  const classes = width === 2 ? [1] : Array.from({ length: width }, (_, c) => c);
  const calibration: ClassCalibration[] = [];
  const calibrated: boolean[] = [];
  const auc: Component[] = [];
  const f1: Component[] = [];
  for (const c of classes) {
    const y = Float64Array.from(yTrue, (v) => (v === c ? 1 : 0));
    const p = column(probabilities, width, c);
    const needs = needsCalibration(y, p);
    calibration.push(needs ? { fit: fitIsotonic(p, y) } : {});
    calibrated.push(needs);
    auc.push(aucComponents(y, p));
    f1.push(f1Components(Array.from(y, (v) => v === 1), Array.from(predicted, (v) => v === c), width === 2));
  }
  const correct = Float64Array.from(yTrue, (v, i) => (v === predicted[i] ? 1 : 0));
  const realised = computeMetrics(width === 2 ? 'binary' : 'multiclass', yTrue, Float64Array.from(probabilities), width);
  return {
    numClasses: width,
    calibration,
    calibrated,
    components: { roc_auc: auc, f1, accuracy: [{ std: std(correct), fraction: 1 }] },
    reference: { roc_auc: realised.roc_auc, f1: realised.f1, accuracy: realised.accuracy },
    referenceRows: n,
  };
}

/**
 * Sampling error of a metric on `rows` rows: std/√(rows·fraction) for one class; for several, the root of the summed
 * class variances over the number of classes, ROC AUC's raised by NannyML's empirical factor 1.2.
 */
function samplingError(metric: EstimatedMetric, components: Component[], rows: number): number {
  const each = components.map(({ std: s, fraction }) => s / Math.sqrt(rows * fraction));
  if (each.length === 1) return each[0]!;
  return (Math.sqrt(each.reduce((s, v) => s + v * v, 0)) / each.length) * (metric === 'roc_auc' ? 1.2 : 1);
}

/** Estimates ROC AUC, accuracy and F1 of a window from the model's raw probabilities on it (no labels). */
export function estimateCbpe(model: CbpeModel, probabilities: ArrayLike<number>): CbpeEstimate {
  const width = model.numClasses;
  const n = probabilities.length / width;
  if (!Number.isInteger(n) || n === 0) throw new RangeError(`CBPE: ${probabilities.length} probabilities are not rows of ${width} classes`);
  // The predicted class comes from the raw probabilities (what the model answers); the chances from calibrated ones.
  const predicted = argmaxRows(probabilities, width);
  const cal = calibrate(model, probabilities);
  const classes = width === 2 ? [1] : Array.from({ length: width }, (_, c) => c);
  const aucs: number[] = [];
  const f1s: number[] = [];
  for (const c of classes) {
    const p = column(cal, width, c);
    aucs.push(estimateRocAuc(p, column(probabilities, width, c)));
    f1s.push(estimateF1(Array.from(predicted, (v) => v === c), p));
  }
  let expectedCorrect = 0;
  for (let i = 0; i < n; i++) expectedCorrect += cal[i * width + predicted[i]!]!;
  const values: Record<EstimatedMetric, number> = { roc_auc: mean(aucs), f1: mean(f1s), accuracy: expectedCorrect / n };
  const out = { rows: n } as CbpeEstimate;
  for (const metric of ESTIMATED_METRICS) {
    const se = samplingError(metric, model.components[metric], n);
    const value = values[metric];
    out[metric] = {
      value,
      samplingError: se,
      lower: Math.max(0, value - SAMPLING_ERROR_RANGE * se),
      upper: Math.min(1, value + SAMPLING_ERROR_RANGE * se),
    };
  }
  return out;
}
