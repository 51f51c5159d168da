// Prediction drift and the metric on labelled recent data: the champion's output distribution on the recent window
// tested against its outputs on its own training snapshot with the same per-feature machinery, and the primary
// metric on rows whose labels are known, compared with the champion's holdout value from the registry.
import { Table, Utf8, makeVector, vectorFromArray } from 'apache-arrow';
import { computeMetrics, metricDirection, type MetricName } from '../metrics';
import { checkDrift, type DriftCheckOptions, type FeatureDrift, type FeatureRule } from './check';

/** The model's output per row as the drift test sees it. */
export type PredictionOutputs =
  | { kind: 'numeric'; what: 'positive-class probability' | 'predicted value'; values: Float64Array }
  | { kind: 'categorical'; what: 'predicted class'; values: string[] };

/** Name of the pseudo-feature prediction drift is reported under. */
export const PREDICTION_FEATURE = 'prediction';

/**
 * Outputs of a scored batch in the form prediction drift compares: binary → P(class 1), multiclass → the predicted
 * class (argmax, by its label), regression → the predicted value.
 */
export function predictionOutputs(
  task: 'binary' | 'multiclass' | 'regression',
  scored: { probabilities?: ArrayLike<number>; numClasses?: number; predictions?: ArrayLike<number> },
  classes: ReadonlyArray<string | number | boolean> | undefined,
): PredictionOutputs {
  if (task === 'regression') return { kind: 'numeric', what: 'predicted value', values: Float64Array.from(scored.predictions ?? []) };
  const p = scored.probabilities ?? [];
  const width = scored.numClasses ?? 2;
  const n = width > 0 ? p.length / width : 0;
  if (task === 'binary') {
    const values = new Float64Array(n);
    for (let i = 0; i < n; i++) values[i] = p[i * width + (width > 1 ? 1 : 0)]!;
    return { kind: 'numeric', what: 'positive-class probability', values };
  }
  const values: string[] = new Array(n);
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let c = 1; c < width; c++) if (p[i * width + c]! > p[i * width + best]!) best = c;
    values[i] = String(classes?.[best] ?? best);
  }
  return { kind: 'categorical', what: 'predicted class', values };
}

function asTable(outputs: PredictionOutputs): Table {
  return new Table({
    [PREDICTION_FEATURE]: outputs.kind === 'numeric' ? makeVector(outputs.values) : vectorFromArray(outputs.values, new Utf8()),
  });
}

/** Prediction drift: the recent outputs against the reference outputs, one test chosen and judged like a feature's. */
export function predictionDrift(
  reference: PredictionOutputs,
  current: PredictionOutputs,
  options: { rule?: FeatureRule; minSampleSize?: number; psiBins?: number; jsBins?: number } & Pick<DriftCheckOptions, 'decision' | 'effects' | 'alpha'>,
): FeatureDrift & { what: PredictionOutputs['what'] } {
  const report = checkDrift(asTable(reference), asTable(current), {
    numeric: reference.kind === 'numeric' ? [PREDICTION_FEATURE] : [],
    categorical: reference.kind === 'categorical' ? [PREDICTION_FEATURE] : [],
    features: options.rule ? { [PREDICTION_FEATURE]: options.rule } : {},
    // One test on its own: no multiple-test correction.
    correction: 'none',
    minSampleSize: options.minSampleSize,
    psiBins: options.psiBins,
    jsBins: options.jsBins,
    decision: options.decision,
    effects: options.effects,
    alpha: options.alpha,
  });
  return { ...report.features[0]!, what: reference.what };
}

/** The primary metric on the labelled recent rows next to the champion's holdout value. */
export interface MetricOnRecent {
  metric: MetricName;
  /** Where the labels came from. */
  labelsFrom: 'feedback' | 'data';
  labelled: number;
  value: number | null;
  championHoldout: number | null;
  /** How much worse than the holdout (positive = worse, whichever direction the metric improves in). */
  drop: number | null;
  maxDrop: number | null;
  /** True when the drop exceeds maxDrop; null without a verdict. */
  drifted: boolean | null;
  note?: string;
}

/** Labelled rows of the recent window: targets as class indices (classifiers) or values, with the model's outputs. */
export type LabelledOutputs =
  | { task: 'binary' | 'multiclass'; yTrue: Int32Array; probabilities: Float32Array | Float64Array; numClasses: number }
  | { task: 'regression'; yTrue: Float64Array; predictions: Float32Array | Float64Array };

/** Computes the primary metric on labelled recent rows and compares it with the champion's holdout value. */
export function metricOnRecent(input: {
  metric: MetricName;
  labelsFrom: 'feedback' | 'data';
  labelled: LabelledOutputs;
  championHoldout: number | null;
  maxDrop?: number;
  minSampleSize: number;
}): MetricOnRecent {
  const { metric, labelled } = input;
  const n = labelled.yTrue.length;
  const base = { metric, labelsFrom: input.labelsFrom, labelled: n, championHoldout: input.championHoldout, maxDrop: input.maxDrop ?? null };
  if (n < input.minSampleSize) return { ...base, value: null, drop: null, drifted: null, note: `fewer than ${input.minSampleSize} labelled rows` };
  const all =
    labelled.task === 'regression'
      ? computeMetrics('regression', labelled.yTrue, labelled.predictions)
      : computeMetrics(labelled.task, labelled.yTrue, labelled.probabilities, labelled.numClasses);
  const value = (all as Record<string, number>)[metric];
  if (value === undefined || !Number.isFinite(value)) {
    return { ...base, value: null, drop: null, drifted: null, note: `${metric} is undefined on these labels (e.g. one class only)` };
  }
  if (input.championHoldout === null) return { ...base, value, drop: null, drifted: null, note: 'the champion has no holdout value of this metric' };
  const drop = metricDirection(metric) === 'higher' ? input.championHoldout - value : value - input.championHoldout;
  return { ...base, value, drop, drifted: input.maxDrop === undefined ? null : drop > input.maxDrop };
}

/** Class indices of labels in the order of the model's classes (a label the model never saw gets -1, never right). */
export function classIndices(labels: ReadonlyArray<unknown>, classes: ReadonlyArray<string | number | boolean>): Int32Array {
  const index = new Map(classes.map((c, i) => [String(c), i]));
  return Int32Array.from(labels, (l) => index.get(String(typeof l === 'bigint' ? Number(l) : l)) ?? -1);
}
