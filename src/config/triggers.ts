// temporal.yaml blocks for the two automatic triggers: a model's `schedule` and its `drift` monitor.
import { z } from 'zod';
import { multivariateSchema } from './multivariate';
import { estimatedSchema } from './estimated';
import { CATEGORICAL_EFFECTS, DRIFT_DECISIONS, DRIFT_METHODS, NUMERIC_EFFECTS } from '../drift/methods';

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Parses `90s`, `15m`, `6h`, `7d`, `250ms` (or a number of milliseconds) into milliseconds; NaN when malformed. */
export function parseDurationMs(value: string | number): number {
  if (typeof value === 'number') return value;
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)\s*$/.exec(value);
  return m ? Number(m[1]) * UNIT_MS[m[2]!]! : Number.NaN;
}

/** A duration in temporal.yaml: `15m`, `6h`, `7d` or milliseconds; parsed to milliseconds. */
export const durationMs = z
  .union([z.number().int().nonnegative(), z.string()])
  .transform((v, ctx) => {
    const ms = parseDurationMs(v);
    if (!Number.isFinite(ms) || ms < 0) {
      ctx.addIssue({ code: 'custom', message: `expected a duration such as 90s, 15m, 6h or 7d (got '${v}')` });
      return z.NEVER;
    }
    return ms;
  });

/** Overlap policies of Temporal Schedules, lower-case. */
export const OVERLAP_POLICIES = ['skip', 'buffer_one', 'buffer_all', 'cancel_other', 'terminate_other', 'allow_all'] as const;

/** A model's retraining schedule: a Temporal Schedule that `relearn schedule sync` keeps equal to this block. */
export const scheduleSchema = z
  .object({
    /** Cron expression (5 fields, e.g. `0 3 * * 1`); or use `every`. */
    cron: z.string().min(1).optional(),
    /** Fixed interval (e.g. `6h`), with an optional `offset` into each interval. */
    every: durationMs.optional(),
    offset: durationMs.optional(),
    /** IANA time zone of the cron expression (UTC by default). */
    timeZone: z.string().min(1).optional(),
    /** Each start is delayed by a random amount up to this. */
    jitter: durationMs.optional(),
    /** What to do when a scheduled run is due while the previous one is still going. */
    overlap: z.enum(OVERLAP_POLICIES).default('skip'),
    /** After server downtime, missed starts younger than this are still taken. */
    catchupWindow: durationMs.default(60_000 * 5),
    paused: z.boolean().default(false),
    /** Overrides the source window of scheduled runs. */
    window: z.object({ from: z.string().optional(), to: z.string().optional() }).strict().optional(),
  })
  .strict()
  .superRefine((s, ctx) => {
    if ((s.cron === undefined) === (s.every === undefined)) {
      ctx.addIssue({ code: 'custom', path: [], message: 'give exactly one of `cron` or `every`' });
    }
    if (s.every !== undefined && s.every < 1000) ctx.addIssue({ code: 'custom', path: ['every'], message: 'at least 1s' });
    if (s.cron !== undefined && s.cron.trim().split(/\s+/).length !== 5 && !s.cron.startsWith('@')) {
      ctx.addIssue({ code: 'custom', path: ['cron'], message: `expected 5 fields (minute hour day-of-month month day-of-week), got '${s.cron}'` });
    }
    if (s.timeZone !== undefined) {
      try {
        new Intl.DateTimeFormat('en', { timeZone: s.timeZone });
      } catch {
        ctx.addIssue({ code: 'custom', path: ['timeZone'], message: `unknown time zone '${s.timeZone}'` });
      }
    }
  });

const windowSchema = z
  .object({
    /** The last this-long before each check (e.g. `7d`). */
    last: durationMs.optional(),
    from: z.string().optional(),
    to: z.string().optional(),
  })
  .strict()
  .refine((w) => w.last === undefined || (w.from === undefined && w.to === undefined), { message: 'give `last` or `from`/`to`, not both' });

/** A model's drift monitor. */
export const driftSchema = z
  .object({
    enabled: z.boolean().default(true),
    /** Time between two checks of the monitor. */
    every: durationMs.default(3_600_000),
    /** The recent data checked: the last `last` before each check, or a fixed `from`/`to`; default the last 7 days. */
    window: windowSchema.default({ last: 7 * 86_400_000 }),
    /** Another file with the recent data (same columns as the source); default the model's own source. */
    path: z.string().min(1).optional(),
    /** Rows sampled from the window (seeded), so a check stays cheap. */
    maxRows: z.number().int().positive().default(100_000),
    /** Per-feature method and threshold (defaults chosen by reference size, as Evidently does). */
    features: z.record(z.string(), z.object({ method: z.enum(DRIFT_METHODS).optional(), threshold: z.number().positive().optional() }).strict()).default({}),
    correction: z.enum(['bonferroni', 'none']).default('bonferroni'),
    /**
     * How a feature counts as drifted (docs/drift.md): `effect-size` (default) — its effect size reaches the threshold
     * and the p-value beside it is below `alpha`; `size-based` — Evidently's defaults (p-values up to 1,000 reference
     * rows, distances above); `p-value` — KS, chi-square or z-test at every size.
     */
    effectSize: z
      .object({
        mode: z.enum(DRIFT_DECISIONS).default('effect-size'),
        numeric: z.enum(NUMERIC_EFFECTS).default('wasserstein'),
        categorical: z.enum(CATEGORICAL_EFFECTS).default('jensenshannon'),
        alpha: z.number().gt(0).lt(1).default(0.05),
      })
      .strict()
      .prefault({}),
    minSampleSize: z.number().int().min(1).default(30),
    /** Dataset drift when at least this share of the checked features drift. */
    driftShare: z.number().gt(0).max(1).default(0.5),
    psiBins: z.number().int().min(2).max(100).default(10),
    jsBins: z.number().int().min(2).max(200).default(30),
    /** After a drift-triggered run, further drift triggers are suppressed (and counted) for this long. */
    cooldown: durationMs.default(86_400_000),
    /** The monitor continues as new after this many checks, so its history stays small. */
    checksPerRun: z.number().int().min(1).max(500).default(50),
    /**
     * Where the recent data comes from: `data` reads the window from the model's source (or `path`); `predictions`
     * reads the serving prediction log (`<stateDir>/predictions/<model>/…`, the server run with `--log-inputs full`).
     */
    source: z.enum(['data', 'predictions']).default('data'),
    /** Prediction drift: the champion's outputs on the recent window vs on its training snapshot. */
    prediction: z
      .object({
        enabled: z.boolean().default(true),
        method: z.enum(DRIFT_METHODS).optional(),
        threshold: z.number().positive().optional(),
        /** Whether drifting predictions alone start a retrain (else they are only reported). */
        triggers: z.boolean().default(true),
      })
      .strict()
      .prefault({}),
    /** The primary metric on the recent window where labels are known (feedback, or a label column in the data). */
    metric: z
      .object({
        /** A drop of the primary metric below the champion's holdout value by more than this counts as drift. */
        maxDrop: z.number().nonnegative().optional(),
      })
      .strict()
      .prefault({}),
    /** Estimated performance without labels (CBPE): retrain when the estimate falls more than maxDrop below the holdout. */
    estimated: estimatedSchema.optional(),
    /** Multivariate drift: a domain classifier trained through the launcher, scored on ONNX (docs/drift.md). */
    multivariate: multivariateSchema.optional(),
  })
  .strict();

export type ScheduleConfig = z.infer<typeof scheduleSchema>;
export type DriftConfig = z.infer<typeof driftSchema>;
