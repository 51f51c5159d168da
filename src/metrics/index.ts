import type { MetricName, MetricTask } from '../contracts/metrics';
import { CLASSIFICATION_METRIC_NAMES, classificationMetrics, classificationMetricsWithReasons } from './classification';
import type { ClassificationMetricName, ClassificationMetrics, ProbabilityMatrix } from './classification';
import type { FloatVector } from './numeric';
import type { ReasonContext, UndefinedMetrics } from './reasons';
import { REGRESSION_METRIC_NAMES, regressionMetrics, regressionMetricsWithReasons } from './regression';
import type { RegressionMetricName, RegressionMetrics } from './regression';

export {
  CLASSIFICATION_METRIC_NAMES,
  accuracyScore,
  classificationMetrics,
  classificationMetricsWithReasons,
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
  regressionMetricsWithReasons,
  rootMeanSquaredError,
} from './regression';
export type { ReasonContext, UndefinedMetrics } from './reasons';
export type { RegressionMetricName, RegressionMetrics } from './regression';
export { summarizeFolds } from './summary';
export type { FoldSummary } from './summary';

export {
  DEFAULT_PRIMARY_METRIC,
  LOWER_IS_BETTER,
  METRIC_NAMES,
  isMetricName,
  metricDirection,
  metricNamesFor,
  primaryMetricOf,
} from '../contracts/metrics';
export type { MetricDirection, MetricName, MetricTask } from '../contracts/metrics';

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

/** Metric values on a set of rows and, for those undefined on it, the reason. */
export interface MetricsWithReasons {
  metrics: Record<string, number>;
  undefined: UndefinedMetrics;
}

/** Like computeMetrics, with the reason for each metric that is undefined on these rows (a class missing, a constant target). */
export function computeMetricsWithReasons(
  task: 'binary' | 'multiclass',
  yTrue: Int32Array,
  proba: ProbabilityMatrix,
  nClasses: number,
  context?: ReasonContext,
): MetricsWithReasons;
export function computeMetricsWithReasons(task: 'regression', yTrue: FloatVector, yPred: FloatVector, context?: ReasonContext): MetricsWithReasons;
export function computeMetricsWithReasons(
  task: MetricTask,
  yTrue: Int32Array | FloatVector,
  predictions: FloatVector,
  nClassesOrContext?: number | ReasonContext,
  context?: ReasonContext,
): MetricsWithReasons {
  if (task === 'regression') {
    if (yTrue instanceof Int32Array) throw new TypeError('regression yTrue must be a Float32Array or Float64Array');
    return regressionMetricsWithReasons(yTrue, predictions, typeof nClassesOrContext === 'object' ? nClassesOrContext : {});
  }
  if (!(yTrue instanceof Int32Array)) throw new TypeError(`${task} yTrue must be an Int32Array of class indices`);
  if (typeof nClassesOrContext !== 'number') throw new TypeError(`${task} metrics need nClasses`);
  return classificationMetricsWithReasons(yTrue, predictions, nClassesOrContext, task === 'binary' ? 'binary' : 'macro', context);
}
