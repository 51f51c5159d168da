// temporal.yaml's `drift.multivariate` block: a domain classifier trained through the job launcher tells the recent
// window from the reference; its cross-validated ROC AUC above `maxAuc` is multivariate drift (docs/drift.md).
import { z } from 'zod';

/** Multivariate drift by a domain classifier. */
export const multivariateSchema = z
  .object({
    method: z.literal('domain-classifier').default('domain-classifier'),
    /** Drift when the cross-validated ROC AUC is above this (0.5: the windows cannot be told apart). */
    maxAuc: z.number().gt(0.5).lt(1).default(0.55),
    /** Folds of the cross-validation: one training job each. */
    folds: z.number().int().min(2).max(10).default(3),
    /** Rows sampled (seeded) from each side: the reference snapshot and the window. */
    maxRows: z.number().int().min(100).max(500_000).default(5000),
    /** The trainer's estimator and params for the domain classifier (the model's own trainer command runs it). */
    estimator: z.string().min(1).default('hist_gradient_boosting'),
    params: z.record(z.string(), z.unknown()).default({ max_iter: 100, learning_rate: 0.1 }),
    /** Shuffles per feature for the permutation importances (domain classifier and champion). */
    permutations: z.number().int().min(1).max(20).default(2),
    /** Reference rows the champion's sensitivity to each feature is measured on. */
    sensitivityRows: z.number().int().min(50).max(100_000).default(2000),
    /** Whether multivariate drift alone starts a retrain (else it is only reported). */
    triggers: z.boolean().default(true),
  })
  .strict();

export type MultivariateConfig = z.infer<typeof multivariateSchema>;
