/** The metrics CBPE estimates without labels (a leaf module: the config schema names them too). */
export const ESTIMATED_METRICS = ['roc_auc', 'accuracy', 'f1'] as const;

/** One of ESTIMATED_METRICS. */
export type EstimatedMetric = (typeof ESTIMATED_METRICS)[number];
