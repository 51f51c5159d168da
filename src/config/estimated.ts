// temporal.yaml's `drift.estimated` block: retrain when the champion's performance, estimated without labels (CBPE,
// docs/estimated-performance.md), falls too far below its holdout value.
import { z } from 'zod';
import { ESTIMATED_METRICS } from '../drift/estimated-metrics';
import { DEFAULT_PRIMARY_METRIC, type MetricName, type MetricTask } from '../contracts';

/** The trigger on estimated performance. */
export const estimatedSchema = z
  .object({
    /** The metric estimated and compared (default: the model's primary metric, when it is one CBPE estimates). */
    metric: z.enum(ESTIMATED_METRICS).optional(),
    /** A retrain starts when the estimate is more than this below the champion's holdout value. */
    maxDrop: z.number().nonnegative(),
  })
  .strict();

export type EstimatedConfig = z.infer<typeof estimatedSchema>;

const ESTIMATED: ReadonlySet<string> = new Set(ESTIMATED_METRICS);

/** The metric a model's estimate is made of: the block's, else the primary metric (checked at load to be estimable). */
export function estimatedMetricOf(model: { task: MetricTask; gate: { primaryMetric?: MetricName | undefined } }, block: EstimatedConfig): (typeof ESTIMATED_METRICS)[number] {
  return block.metric ?? ((model.gate.primaryMetric ?? DEFAULT_PRIMARY_METRIC[model.task]) as (typeof ESTIMATED_METRICS)[number]);
}

/** Load-time checks of `drift.estimated` against the model: a classifier, and a metric CBPE can estimate. */
export function checkEstimated(
  m: { task: MetricTask; gate: { primaryMetric?: MetricName | undefined }; drift?: { estimated?: EstimatedConfig | undefined } | undefined },
  ctx: z.RefinementCtx,
): void {
  const block = m.drift?.estimated;
  if (!block) return;
  if (m.task === 'regression') {
    ctx.addIssue({
      code: 'custom',
      path: ['drift', 'estimated'],
      message: 'estimated performance needs a classifier (CBPE); a regression model has no estimate yet (docs/estimated-performance.md)',
    });
    return;
  }
  const primary = m.gate.primaryMetric ?? DEFAULT_PRIMARY_METRIC[m.task];
  if (block.metric === undefined && !ESTIMATED.has(primary)) {
    ctx.addIssue({
      code: 'custom',
      path: ['drift', 'estimated', 'metric'],
      message: `the primary metric '${primary}' cannot be estimated without labels; name one of ${ESTIMATED_METRICS.join(', ')}`,
    });
  }
}
