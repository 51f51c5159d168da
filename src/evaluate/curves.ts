// The points behind a run report's charts, computed when the run is evaluated from the same onnxruntime outputs the
// holdout metrics come from, so a report drawn months later shows what the gate saw. Each curve follows
// scikit-learn's definition (roc_curve, precision_recall_curve, calibration_curve, confusion_matrix, numpy.histogram;
// test fixtures from scripts/make-curve-fixtures.py) and is then thinned to a bounded number of points: a curve
// over a million-row holdout is stored in kilobytes.

/** Most points kept per curve (and pairs in the predicted-vs-actual sample). */
export const MAX_CURVE_POINTS = 200;
/** Equal-width bins of the calibration plot, over [0, 1] (scikit-learn's default). */
export const CALIBRATION_BINS = 10;
/** Equal-width bins of the residual histogram, over the residuals' range. */
export const RESIDUAL_BINS = 20;

/** ROC curve of one class against the rest; `thresholds[0]` is null where scikit-learn has +inf. */
export interface RocCurve {
  fpr: number[];
  tpr: number[];
  thresholds: Array<number | null>;
}

/** Precision-recall curve of one class against the rest, as scikit-learn orders it (recall falling to 0). */
export interface PrCurve {
  precision: number[];
  recall: number[];
  thresholds: number[];
}

/** Reliability diagram of the positive class: per non-empty bin, the share of positives and the mean score. */
export interface CalibrationCurve {
  bins: number;
  probTrue: number[];
  probPred: number[];
  count: number[];
}

/** Rows by actual label (rows) and predicted label (columns). */
export interface ConfusionMatrix {
  actual: string[];
  predicted: string[];
  counts: number[][];
}

/** The curves of one model on the holdout; which are present depends on the task (and on both classes occurring). */
export interface ModelCurves {
  /** One entry per class scored against the rest (a binary model: class 1 only). */
  roc?: Array<{ label: string; curve: RocCurve }>;
  pr?: Array<{ label: string; curve: PrCurve }>;
  calibration?: CalibrationCurve;
  confusion?: ConfusionMatrix;
  /** A deterministic sample of (actual, predicted) pairs, evenly spaced over the holdout's rows. */
  predictedVsActual?: { rows: number; actual: number[]; predicted: number[] };
  /** Residuals (actual − predicted) of every holdout row in equal-width bins. */
  residuals?: { edges: number[]; counts: number[] };
  /** Curves left out, with the reason ("ROC: the holdout has no positive rows"). */
  notes?: string[];
}

/** What the evaluation stores next to its metrics: the candidate's (and the champion's) curves on the same holdout. */
export interface EvaluationCurves {
  kind: 'relearn.holdout-curves';
  version: 1;
  task: 'binary' | 'multiclass' | 'regression';
  holdoutRows: number;
  maxPoints: number;
  candidate: ModelCurves;
  champion?: ModelCurves;
}

/** One model's outputs on the holdout, as cross-validation scored them. */
export type HoldoutScores =
  | { task: 'binary' | 'multiclass'; y: Int32Array; probabilities: Float32Array | Float64Array; nClasses: number; classes: ReadonlyArray<string | number | boolean> | undefined }
  | { task: 'regression'; y: Float64Array; predictions: Float32Array | Float64Array };

/** The stored curves of a holdout: the candidate's, and the champion's scored on the same rows. */
export function evaluationCurves(task: EvaluationCurves['task'], holdoutRows: number, candidate: HoldoutScores, champion?: HoldoutScores): EvaluationCurves {
  return {
    kind: 'relearn.holdout-curves',
    version: 1,
    task,
    holdoutRows,
    maxPoints: MAX_CURVE_POINTS,
    candidate: holdoutCurves(candidate),
    ...(champion ? { champion: holdoutCurves(champion) } : {}),
  };
}

/** The curves of one model's holdout outputs; a label the model never saw (class -1) is a negative for every class. */
export function holdoutCurves(scores: HoldoutScores, maxPoints = MAX_CURVE_POINTS): ModelCurves {
  if (scores.task === 'regression') {
    const residuals = new Float64Array(scores.y.length);
    for (let i = 0; i < residuals.length; i++) residuals[i] = scores.y[i]! - scores.predictions[i]!;
    return {
      predictedVsActual: sampleRows(scores.y, scores.predictions, maxPoints),
      ...(residuals.length > 0 ? { residuals: histogram(residuals, RESIDUAL_BINS) } : {}),
    };
  }
  const { y, probabilities, nClasses } = scores;
  const name = (c: number): string => String(scores.classes?.[c] ?? c);
  const notes: string[] = [];
  const roc: NonNullable<ModelCurves['roc']> = [];
  const pr: NonNullable<ModelCurves['pr']> = [];
  // A binary model is read as scikit-learn reads it: class 1 is the positive class.
  const positives = scores.task === 'binary' ? [1] : Array.from({ length: nClasses }, (_, c) => c);
  for (const c of positives) {
    const truth = new Uint8Array(y.length);
    const score = new Float64Array(y.length);
    for (let i = 0; i < y.length; i++) {
      truth[i] = y[i] === c ? 1 : 0;
      score[i] = probabilities[i * nClasses + c]!;
    }
    const r = rocCurve(truth, score);
    if (typeof r === 'string') notes.push(`ROC of ${name(c)}: ${r}`);
    else roc.push({ label: name(c), curve: thinRoc(r, maxPoints) });
    const p = precisionRecallCurve(truth, score);
    if (typeof p === 'string') notes.push(`precision-recall of ${name(c)}: ${p}`);
    else pr.push({ label: name(c), curve: thinPr(p, maxPoints) });
  }
  const out: ModelCurves = { roc, pr, confusion: confusionMatrix(y, probabilities, nClasses, name) };
  if (scores.task === 'binary' && y.length > 0) {
    const truth = Uint8Array.from(y, (k) => (k === 1 ? 1 : 0));
    const score = Float64Array.from({ length: y.length }, (_, i) => probabilities[i * nClasses + 1]!);
    out.calibration = calibrationCurve(truth, score, CALIBRATION_BINS);
  }
  if (notes.length > 0) out.notes = notes;
  return out;
}

/** The (false positives, true positives, threshold) at each distinct score, highest first (sklearn's _binary_clf_curve). */
function binaryClfCurve(truth: Uint8Array, score: Float64Array): { fps: number[]; tps: number[]; thresholds: number[] } {
  const order = Array.from({ length: score.length }, (_, i) => i).sort((a, b) => score[b]! - score[a]!);
  const fps: number[] = [];
  const tps: number[] = [];
  const thresholds: number[] = [];
  let tp = 0;
  for (let k = 0; k < order.length; k++) {
    const i = order[k]!;
    tp += truth[i]!;
    const next = order[k + 1];
    // The last row of each run of equal scores closes that threshold.
    if (next === undefined || score[next] !== score[i]) {
      tps.push(tp);
      fps.push(k + 1 - tp);
      thresholds.push(score[i]!);
    }
  }
  return { fps, tps, thresholds };
}

/** scikit-learn's roc_curve (drop_intermediate=True), or why it is undefined. */
export function rocCurve(truth: Uint8Array, score: Float64Array): RocCurve | string {
  if (truth.length === 0) return 'the holdout has no rows';
  let { fps, tps, thresholds } = binaryClfCurve(truth, score);
  if (fps.length > 2) {
    // Points on a straight segment between their neighbours draw nothing: keep the corners only.
    const keep = fps.map((_, i) => i === 0 || i === fps.length - 1 || fps[i - 1]! - 2 * fps[i]! + fps[i + 1]! !== 0 || tps[i - 1]! - 2 * tps[i]! + tps[i + 1]! !== 0);
    fps = fps.filter((_, i) => keep[i]);
    tps = tps.filter((_, i) => keep[i]);
    thresholds = thresholds.filter((_, i) => keep[i]);
  }
  const negatives = fps.at(-1)!;
  const positives = tps.at(-1)!;
  if (positives === 0) return 'the holdout has no positive rows';
  if (negatives === 0) return 'the holdout has no negative rows';
  return {
    fpr: [0, ...fps.map((v) => v / negatives)],
    tpr: [0, ...tps.map((v) => v / positives)],
    thresholds: [null, ...thresholds],
  };
}

/** scikit-learn's precision_recall_curve (drop_intermediate=False), or why it is undefined. */
export function precisionRecallCurve(truth: Uint8Array, score: Float64Array): PrCurve | string {
  if (truth.length === 0) return 'the holdout has no rows';
  const { fps, tps, thresholds } = binaryClfCurve(truth, score);
  const positives = tps.at(-1)!;
  if (positives === 0) return 'the holdout has no positive rows';
  const precision = tps.map((tp, i) => (tp + fps[i]! === 0 ? 0 : tp / (tp + fps[i]!)));
  const recall = tps.map((tp) => tp / positives);
  return { precision: [...precision.reverse(), 1], recall: [...recall.reverse(), 0], thresholds: [...thresholds].reverse() };
}

/** scikit-learn's calibration_curve (strategy 'uniform'), with each non-empty bin's row count. */
export function calibrationCurve(truth: Uint8Array, score: Float64Array, bins = CALIBRATION_BINS): CalibrationCurve {
  const sums = new Float64Array(bins);
  const trues = new Float64Array(bins);
  const totals = new Float64Array(bins);
  for (let i = 0; i < score.length; i++) {
    // numpy.searchsorted(edges[1:-1], p, 'left'): a score on an inner edge belongs to the bin below it.
    let b = 0;
    while (b < bins - 1 && (b + 1) * (1 / bins) < score[i]!) b++;
    sums[b]! += score[i]!;
    trues[b]! += truth[i]!;
    totals[b]! += 1;
  }
  const out: CalibrationCurve = { bins, probTrue: [], probPred: [], count: [] };
  for (let b = 0; b < bins; b++) {
    if (totals[b] === 0) continue;
    out.probTrue.push(trues[b]! / totals[b]!);
    out.probPred.push(sums[b]! / totals[b]!);
    out.count.push(totals[b]!);
  }
  return out;
}

/** Counts by actual class (rows; a label the model never saw gets its own last row) and argmax class (columns). */
export function confusionMatrix(
  y: Int32Array,
  probabilities: Float32Array | Float64Array,
  nClasses: number,
  name: (c: number) => string = String,
): ConfusionMatrix {
  const unseen = y.includes(-1);
  const counts = Array.from({ length: nClasses + (unseen ? 1 : 0) }, () => new Array<number>(nClasses).fill(0));
  for (let i = 0; i < y.length; i++) {
    let best = 0;
    for (let c = 1; c < nClasses; c++) if (probabilities[i * nClasses + c]! > probabilities[i * nClasses + best]!) best = c;
    const row = y[i]! < 0 ? nClasses : y[i]!;
    counts[row]![best]! += 1;
  }
  const labels = Array.from({ length: nClasses }, (_, c) => name(c));
  return { actual: unseen ? [...labels, 'a label the model never saw'] : labels, predicted: labels, counts };
}

/** numpy.histogram(values, bins): equal-width bins over [min, max], the last one closed. */
export function histogram(values: Float64Array, bins: number): { edges: number[]; counts: number[] } {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  // numpy widens an empty range to ±0.5 around the value.
  if (lo === hi) {
    lo -= 0.5;
    hi += 0.5;
  }
  const step = (hi - lo) / bins;
  const edges = Array.from({ length: bins + 1 }, (_, i) => (i === bins ? hi : i * step + lo));
  const counts = new Array<number>(bins).fill(0);
  const norm = bins / (hi - lo);
  for (const v of values) {
    // numpy's fast path for equal bins, then its correction against the edges it reports.
    let k = Math.trunc((v - lo) * norm);
    if (k === bins) k -= 1;
    if (v < edges[k]!) k -= 1;
    else if (k !== bins - 1 && v >= edges[k + 1]!) k += 1;
    counts[k]! += 1;
  }
  return { edges, counts };
}

/** Indices of at most `maxPoints` points of an n-point curve, evenly spaced, always keeping the first and the last. */
export function thinIndices(n: number, maxPoints: number): number[] {
  if (n <= maxPoints) return Array.from({ length: n }, (_, i) => i);
  const keep = new Set<number>();
  for (let k = 0; k < maxPoints; k++) keep.add(Math.round((k * (n - 1)) / (maxPoints - 1)));
  return [...keep].sort((a, b) => a - b);
}

function pick<T>(values: readonly T[], indices: readonly number[]): T[] {
  return indices.map((i) => values[i]!);
}

function thinRoc(c: RocCurve, maxPoints: number): RocCurve {
  const at = thinIndices(c.fpr.length, maxPoints);
  return { fpr: pick(c.fpr, at), tpr: pick(c.tpr, at), thresholds: pick(c.thresholds, at) };
}

function thinPr(c: PrCurve, maxPoints: number): PrCurve {
  // precision and recall have one point more than thresholds (the closing (recall 0, precision 1)).
  const at = thinIndices(c.precision.length, maxPoints);
  return { precision: pick(c.precision, at), recall: pick(c.recall, at), thresholds: at.filter((i) => i < c.thresholds.length).map((i) => c.thresholds[i]!) };
}

function sampleRows(actual: Float64Array, predicted: Float32Array | Float64Array, maxPoints: number): NonNullable<ModelCurves['predictedVsActual']> {
  const at = thinIndices(actual.length, maxPoints);
  return { rows: actual.length, actual: at.map((i) => actual[i]!), predicted: at.map((i) => predicted[i]!) };
}
