// Metric names, which way each is better, and the default primary metric per task: the one definition that the
// workflows, the config schema, the metrics code, the CLI and the shadow comparison all import.

/** Classification metric names, in the order reports list them. */
export const CLASSIFICATION_METRIC_NAMES = ['accuracy', 'precision', 'recall', 'f1', 'roc_auc', 'log_loss'] as const;

/** Regression metric names, in the order reports list them. */
export const REGRESSION_METRIC_NAMES = ['rmse', 'mae', 'r2'] as const;

/** Every metric name Relearn computes, for validating names in temporal.yaml. */
export const METRIC_NAMES = [...CLASSIFICATION_METRIC_NAMES, ...REGRESSION_METRIC_NAMES] as const;

/** One of CLASSIFICATION_METRIC_NAMES. */
export type ClassificationMetricName = (typeof CLASSIFICATION_METRIC_NAMES)[number];

/** One of REGRESSION_METRIC_NAMES. */
export type RegressionMetricName = (typeof REGRESSION_METRIC_NAMES)[number];

/** One of METRIC_NAMES. */
export type MetricName = ClassificationMetricName | RegressionMetricName;

/** The model tasks Relearn evaluates. */
export type MetricTask = 'binary' | 'multiclass' | 'regression';

/**
 * Metric name → why the metric has no value on a set of rows ("class 'snow' never occurs in the 146 rows of the
 * holdout"). Only metrics that are undefined appear; their number fields hold NaN or scikit-learn's stand-in value.
 */
export type UndefinedMetrics = Record<string, string>;

/** Whether a larger value of the metric means a better model. */
export type MetricDirection = 'higher' | 'lower';

/** Metrics where a smaller value is better; every other metric is higher-is-better. */
export const LOWER_IS_BETTER: ReadonlySet<string> = new Set<MetricName>(['log_loss', 'rmse', 'mae']);

const KNOWN_METRICS: ReadonlySet<string> = new Set<string>(METRIC_NAMES);

/** The primary metric of a task when the gate names none. */
export const DEFAULT_PRIMARY_METRIC: Readonly<Record<MetricTask, MetricName>> = { binary: 'roc_auc', multiclass: 'f1', regression: 'rmse' };

/** True when `name` is one of METRIC_NAMES. */
export function isMetricName(name: string): name is MetricName {
  return KNOWN_METRICS.has(name);
}

/** The metric names that apply to a task. */
export function metricNamesFor(task: MetricTask): readonly MetricName[] {
  return task === 'regression' ? REGRESSION_METRIC_NAMES : CLASSIFICATION_METRIC_NAMES;
}

/** 'lower' for losses and errors (log_loss, rmse, mae), 'higher' for every other metric. */
export function metricDirection(name: string): MetricDirection {
  if (!KNOWN_METRICS.has(name)) throw new RangeError(`unknown metric '${name}'; expected one of ${METRIC_NAMES.join(', ')}`);
  return LOWER_IS_BETTER.has(name) ? 'lower' : 'higher';
}

/** The metric a model's gate, search and live windows decide on: the gate's `primaryMetric`, else the task's default. */
export function primaryMetricOf(model: { task: MetricTask; gate: { primaryMetric?: MetricName | undefined } }): MetricName {
  return model.gate.primaryMetric ?? DEFAULT_PRIMARY_METRIC[model.task];
}
