// temporal.yaml's `rollout` block: what a candidate that passed the gate must prove on live traffic before (shadow,
// approval) and after (guard) it becomes the champion.
import { z } from 'zod';
import { durationMs } from './triggers';

/** How a window of live traffic is compared: the shadow window before promotion, the guard window after it. */
const comparisonFields = {
  /** The window lasts at least this long … */
  minDuration: durationMs.default(60_000),
  /** … and until this many labeled rows were scored by both models, but never longer than this. */
  maxDuration: durationMs.default(3_600_000),
  minLabeledRows: z.number().int().min(1).default(500),
  /** How often the prediction log is read while the window is open. */
  pollInterval: durationMs.default(10_000),
  /**
   * Labels come after predictions (hours, days): after maxDuration the window waits this much longer for the labels
   * of the predictions it already holds, then decides on them (no prediction made after maxDuration counts).
   */
  labelWait: durationMs.default(0),
  /** sequential: a confidence sequence on the per-row loss, checked at every poll; fixed: the paired bootstrap, once. */
  test: z.enum(['sequential', 'fixed']).default('sequential'),
  /** fixed: the contender may be worse than the baseline by at most this much of the primary metric … */
  margin: z.number().nonnegative().default(0.01),
  /** sequential: … or by at most this share of the baseline's mean per-row loss (Brier score, squared error). */
  lossMargin: z.number().nonnegative().lt(1).default(0.005),
  /** … with this confidence (the paired bootstrap interval, or the confidence sequence, two-sided). */
  confidence: z.number().gt(0.5).lt(1).default(0.95),
  resamples: z.number().int().min(100).max(100_000).default(1000),
  /** The comparison uses the first this-many labeled rows of the window: the log only grows, so a window measured
   * again after a worker restart compares the same rows and reaches the same decision. */
  maxCompareRows: z.number().int().min(30).default(20_000),
  seed: z.number().int().default(7),
};

const windowRefine = (w: { minDuration: number; maxDuration: number; pollInterval: number }, ctx: z.RefinementCtx) => {
  if (w.maxDuration < w.minDuration) {
    ctx.addIssue({ code: 'custom', path: ['maxDuration'], message: `must be at least minDuration (${w.minDuration} ms)` });
  }
  if (w.pollInterval < 100) ctx.addIssue({ code: 'custom', path: ['pollInterval'], message: 'at least 100ms' });
};

/** The shadow window: the candidate scores mirrored live requests beside the champion before it may be promoted. */
export const shadowSchema = z
  .object({
    ...comparisonFields,
    /** Still inconclusive at maxDuration: reject the candidate (default) or promote it. */
    onInconclusive: z.enum(['reject', 'promote']).default('reject'),
  })
  .strict()
  .superRefine(windowRefine);

/** The guard window: after a promotion, the previous champion keeps scoring in shadow; a regression rolls back. */
export const guardSchema = z
  .object({
    ...comparisonFields,
    /** Still inconclusive at maxDuration: keep the new champion (default) or roll back. */
    onInconclusive: z.enum(['keep', 'rollback']).default('keep'),
    /** fixed: roll back on evidence that the new champion is worse by more than this (primary-metric units; 0: worse at all). */
    harmMargin: z.number().nonnegative().default(0),
    /** sequential: the same as a share of the previous champion's mean per-row loss. */
    lossHarmMargin: z.number().nonnegative().lt(1).default(0),
    /** Roll back when more than this share of the new champion's requests fail (server-side errors). */
    maxErrorRate: z.number().min(0).max(1).default(0.01),
    /** Roll back when the new champion's p99 latency exceeds this (ms), with at least minLabeledRows requests. */
    maxP99LatencyMs: z.number().positive().default(250),
  })
  .strict()
  .superRefine(windowRefine);

/** A person must approve the promotion; nobody answering within `timeout` means `onTimeout`. */
export const approvalSchema = z
  .object({
    required: z.boolean().default(true),
    timeout: durationMs.default(24 * 3_600_000),
    onTimeout: z.enum(['reject', 'approve']).default('reject'),
  })
  .strict();

/** A model's rollout: every part optional; none means promote as soon as the gate passes. */
export const rolloutSchema = z
  .object({
    shadow: shadowSchema.optional(),
    approval: approvalSchema.optional(),
    guard: guardSchema.optional(),
  })
  .strict();

/** A resolved rollout block. */
export type RolloutConfig = z.infer<typeof rolloutSchema>;
/** A resolved shadow window. */
export type ShadowConfig = z.infer<typeof shadowSchema>;
/** A resolved guard window. */
export type GuardConfig = z.infer<typeof guardSchema>;
/** The fields a shadow and a guard window share (either one fits). */
export type WindowConfig = Omit<ShadowConfig, 'onInconclusive'> & { onInconclusive: ShadowConfig['onInconclusive'] | GuardConfig['onInconclusive'] };
