import { CLASSIFICATION_METRIC_NAMES, classificationMetrics } from './classification';
import type { ClassificationMetricName, ClassificationMetrics, ProbabilityMatrix } from './classification';
import type { FloatVector } from './numeric';
import { REGRESSION_METRIC_NAMES, regressionMetrics } from './regression';
import type { RegressionMetricName, RegressionMetrics } from './regression';

export {
  CLASSIFICATION_METRIC_NAMES,
  accuracyScore,
  classificationMetrics,
  logLoss,
  precisionRecallF1,
  predictedClasses,
  rocAucScore,
} from './classification';
export type {
  Averaging,
  ClassificationMetricName,
  ClassificationMetrics,
  PrecisionRecallF1,
  ProbabilityMatrix,
} from './classification';
export type { FloatVector } from './numeric';
export {
  REGRESSION_METRIC_NAMES,
  meanAbsoluteError,
  r2Score,
  regressionMetrics,
  rootMeanSquaredError,
} from './regression';
export type { RegressionMetricName, RegressionMetrics } from './regression';
export { summarizeFolds } from './summary';
export type { FoldSummary } from './summary';

/** The model tasks Relearn evaluates. */
export type MetricTask = 'binary' | 'multiclass' | 'regression';

/** Every metric name Relearn computes, for validating names in temporal.yaml. */
export const METRIC_NAMES = [...CLASSIFICATION_METRIC_NAMES, ...REGRESSION_METRIC_NAMES] as const;

/** One of METRIC_NAMES. */
export type MetricName = ClassificationMetricName | RegressionMetricName;

/** Whether a larger value of the metric means a better model. */
export type MetricDirection = 'higher' | 'lower';

const LOWER_IS_BETTER: ReadonlySet<MetricName> = new Set<MetricName>(['log_loss', 'rmse', 'mae']);
const KNOWN_METRICS: ReadonlySet<string> = new Set<string>(METRIC_NAMES);

/** True when `name` is one of METRIC_NAMES. */
export function isMetricName(name: string): name is MetricName {
  return KNOWN_METRICS.has(name);
}

/** The metric names that apply to a task. */
export function metricNamesFor(task: MetricTask): readonly MetricName[] {
  return task === 'regression' ? REGRESSION_METRIC_NAMES : CLASSIFICATION_METRIC_NAMES;
}

/** 'lower' for losses and errors (log_loss, rmse, mae), 'higher' for every other metric. */
export function metricDirection(name: MetricName): MetricDirection {
  if (!KNOWN_METRICS.has(name)) throw new RangeError(`unknown metric '${name}'; expected one of ${METRIC_NAMES.join(', ')}`);
  return LOWER_IS_BETTER.has(name) ? 'lower' : 'higher';
}

/** Classification metrics (binary: class 1 positive; multiclass: macro, one-vs-rest AUC) from class ids and n×C probabilities. */
export function computeMetrics(
  task: 'binary' | 'multiclass',
  yTrue: Int32Array,
  proba: ProbabilityMatrix,
  nClasses: number,
): ClassificationMetrics;
/** Regression metrics from targets and predictions. */
export function computeMetrics(task: 'regression', yTrue: FloatVector, yPred: FloatVector): RegressionMetrics;
export function computeMetrics(
  task: MetricTask,
  yTrue: Int32Array | FloatVector,
  predictions: FloatVector,
  nClasses?: number,
): ClassificationMetrics | RegressionMetrics {
  if (task === 'regression') {
    if (yTrue instanceof Int32Array) throw new TypeError('regression yTrue must be a Float32Array or Float64Array');
    return regressionMetrics(yTrue, predictions);
  }
  if (!(yTrue instanceof Int32Array)) throw new TypeError(`${task} yTrue must be an Int32Array of class indices`);
  if (nClasses === undefined) throw new TypeError(`${task} metrics need nClasses`);
  return classificationMetrics(yTrue, predictions, nClasses, task === 'binary' ? 'binary' : 'macro');
}
