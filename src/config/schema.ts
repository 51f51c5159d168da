import { z } from 'zod';
import { METRIC_NAMES, type MetricName, metricNamesFor } from '../metrics';
import { rolloutSchema } from './rollout';
import { driftSchema, scheduleSchema } from './triggers';
import { checkSearch, searchSchema } from './search';
import { checkEstimated } from './estimated';
import { registrySchema } from './registry';
import { predictionLogSchema } from './prediction-log';
import { storeSchema } from './store';

const CLASSIFICATION_METRICS = new Set<string>(metricNamesFor('binary'));
const REGRESSION_METRICS = new Set<string>(metricNamesFor('regression'));

const metricName = z.enum(METRIC_NAMES);

const isoDate = z
  .string()
  .refine((s) => !Number.isNaN(Date.parse(s)), { message: 'expected an ISO date such as 2001-03-01' });

const tlsSchema = z
  .object({
    clientCertPath: z.string().optional(),
    clientKeyPath: z.string().optional(),
    serverRootCACertPath: z.string().optional(),
    serverNameOverride: z.string().optional(),
  })
  .strict();

/** Where Temporal runs: no `address` means Relearn starts and owns a local dev server. */
export const temporalSchema = z
  .object({
    address: z.string().min(1).optional(),
    namespace: z.string().min(1).default('default'),
    taskQueue: z.string().min(1).default('relearn'),
    tls: tlsSchema.optional(),
    apiKeyEnv: z.string().min(1).optional(),
    /** The Web UI of a named server, for run links (the embedded dev server's is known). */
    webUi: z.url().optional(),
    devServer: z
      .object({
        port: z.number().int().min(1).max(65535).default(7233),
        uiPort: z.number().int().min(1).max(65535).default(8233),
        dbFile: z.string().default('temporal.db'),
      })
      .strict()
      .prefault({}),
  })
  .strict();

const deriveSchema = z
  .object({
    name: z.string().min(1),
    from: z.string().min(1),
    op: z.enum(['hour', 'dayOfWeek', 'month', 'dayOfMonth', 'greaterThan', 'lessThan']),
    value: z.number().optional(),
  })
  .strict()
  .refine((d) => !['greaterThan', 'lessThan'].includes(d.op) || d.value !== undefined, {
    message: 'op greaterThan/lessThan needs a numeric `value`',
    path: ['value'],
  });

const sourceSchema = z
  .object({
    format: z.enum(['parquet', 'csv', 'arrow', 'json']).optional(),
    path: z.string().min(1),
    timeColumn: z.string().min(1),
    window: z.object({ from: isoDate.optional(), to: isoDate.optional() }).strict().optional(),
    sample: z.object({ maxRows: z.number().int().positive(), seed: z.number().int().default(1) }).strict().optional(),
    derive: z.array(deriveSchema).default([]),
  })
  .strict();

const columnContractSchema = z
  .object({
    type: z.enum(['int', 'float', 'number', 'string', 'timestamp', 'bool']),
    nullable: z.boolean().default(false),
    min: z.number().optional(),
    max: z.number().optional(),
    allowed: z.array(z.string()).optional(),
  })
  .strict();

const contractSchema = z
  .object({
    minRows: z.number().int().min(1).default(100),
    columns: z.record(z.string(), columnContractSchema).default({}),
  })
  .strict();

const splitSchema = z
  .object({
    folds: z.number().int().min(2).max(20).default(5),
    strategy: z.enum(['stratified', 'time']).default('stratified'),
    holdoutFraction: z.number().gt(0).lt(0.9).default(0.2),
    seed: z.number().int().default(42),
  })
  .strict();

/** A Ray dashboard address: http(s), no credentials (the trainer block travels in workflow inputs). */
const rayAddress = z
  .string()
  .refine((v) => URL.canParse(v) && ['http:', 'https:'].includes(new URL(v).protocol), 'an http:// or https:// URL of the Ray dashboard, e.g. http://ray-head:8265')
  .refine((v) => !URL.canParse(v) || (new URL(v).username === '' && new URL(v).password === ''), 'no user or password in the URL (the address is kept in run inputs)');

/** Where a model's training jobs run (src/jobs/): the worker's machine, or a Ray cluster through its Jobs API. */
export const launcherSchema = z
  .union([z.literal('local'), z.object({ ray: z.object({ address: rayAddress }).strict() }).strict()], {
    error: "expected 'local' or { ray: { address: 'http://host:8265' } }",
  })
  .default('local');
export type LauncherConfig = z.infer<typeof launcherSchema>;

const trainerSchema = z
  .object({
    /** The job's command: `{python}` is the project's Python, `{relearn}` Relearn's folder, `{spec}` the job spec path. */
    command: z.array(z.string().min(1)).min(1).default(['{python}', '{relearn}/trainers/sklearn/train.py', '{spec}']),
    estimator: z.string().min(1).default('logistic_regression'),
    params: z.record(z.string(), z.unknown()).default({}),
    seed: z.number().int().default(42),
    maxParallel: z.number().int().min(1).max(64).default(2),
    timeoutMs: z.number().int().positive().default(30 * 60_000),
    maxAttempts: z.number().int().min(1).max(20).default(3),
    retryInitialIntervalMs: z.number().int().positive().default(1000),
    probeRows: z.number().int().min(1).max(10_000).default(200),
    /** How soon a training attempt whose worker died is noticed and retried (the await loop heartbeats every second). */
    heartbeatTimeoutMs: z.number().int().min(1000).default(20_000),
    /** The job's own environment variables; the rest of its environment is an allow-list (docs/security.md). */
    env: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'a variable name: letters, digits and _'), z.string()).default({}),
    /** Names of worker variables passed to the job as they are (a store credential it needs): no value in the config. */
    passEnv: z.array(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'a variable name: letters, digits and _')).default([]),
    /** Threads each numeric library of the job may use (OMP_NUM_THREADS and kin). */
    threads: z.number().int().min(1).max(256).default(1),
    /** Where the job runs: `local` (a detached process of the worker, the default) or `{ ray: { address } }`. */
    launcher: launcherSchema,
  })
  .strict();

const exportSchema = z
  .object({
    parityTolerance: z.number().positive().default(1e-4),
    maxSizeBytes: z.number().int().positive().default(200 * 1024 * 1024),
    memoryLimitBytes: z.number().int().positive().default(2 * 1024 * 1024 * 1024),
    checkTimeoutMs: z.number().int().positive().default(60_000),
  })
  .strict();

/** A model's gate rules (also the shape of a `relearn gate --what-if` rules file). */
export const gateSchema = z
  .object({
    primaryMetric: metricName.optional(),
    minimums: z.partialRecord(metricName, z.number()).default({}),
    maximums: z.partialRecord(metricName, z.number()).default({}),
    maxCvStd: z.partialRecord(metricName, z.number().nonnegative()).default({}),
    maxDropVsChampion: z.number().nonnegative().default(0),
  })
  .strict();

/** One model's pipeline. */
export const modelSchema = z
  .object({
    task: z.enum(['binary', 'multiclass', 'regression']),
    description: z.string().optional(),
    /** The model's name in the registry (default: its name here); lets two pipelines compete for one registry model. */
    registryModel: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'lowercase letters, digits and dashes (at most 63)').optional(),
    /** How soon a pull, export, evaluation or registry activity whose worker died is noticed and retried. */
    heartbeatTimeoutMs: z.number().int().min(1000).default(120_000),
    source: sourceSchema,
    features: z
      .object({ numeric: z.array(z.string().min(1)).default([]), categorical: z.array(z.string().min(1)).default([]) })
      .strict(),
    label: z.string().min(1),
    contract: contractSchema.prefault({}),
    split: splitSchema.prefault({}),
    trainer: trainerSchema.prefault({}),
    export: exportSchema.prefault({}),
    gate: gateSchema.prefault({}),
    /** Scheduled retraining (a Temporal Schedule kept in sync by `relearn schedule sync`). */
    schedule: scheduleSchema.optional(),
    /** Drift monitor: checks recent data against the champion's training snapshot and triggers retraining. */
    drift: driftSchema.optional(),
    /** Live-traffic checks around promotion: shadow window, approval, guard window with automatic rollback. */
    rollout: rolloutSchema.optional(),
    /** Hyperparameter search in the train stage (docs/search.md). */
    search: searchSchema.optional(),
  })
  .strict()
  .superRefine((m, ctx) => {
    const features = [...m.features.numeric, ...m.features.categorical];
    if (features.length === 0) {
      ctx.addIssue({ code: 'custom', path: ['features'], message: 'at least one numeric or categorical feature is needed' });
    }
    const seen = new Set<string>();
    for (const f of features) {
      if (seen.has(f)) ctx.addIssue({ code: 'custom', path: ['features'], message: `feature '${f}' is listed twice` });
      seen.add(f);
    }
    if (seen.has(m.label)) ctx.addIssue({ code: 'custom', path: ['label'], message: `label '${m.label}' is also a feature` });
    const allowed = m.task === 'regression' ? REGRESSION_METRICS : CLASSIFICATION_METRICS;
    const check = (metric: string, path: (string | number)[]) => {
      if (!allowed.has(metric)) {
        ctx.addIssue({ code: 'custom', path, message: `metric '${metric}' does not apply to a ${m.task} model (use one of ${[...allowed].join(', ')})` });
      }
    };
    if (m.gate.primaryMetric) check(m.gate.primaryMetric, ['gate', 'primaryMetric']);
    for (const k of Object.keys(m.gate.minimums)) check(k, ['gate', 'minimums', k]);
    for (const k of Object.keys(m.gate.maximums)) check(k, ['gate', 'maximums', k]);
    for (const k of Object.keys(m.gate.maxCvStd)) check(k, ['gate', 'maxCvStd', k]);
    checkSearch(m, ctx);
    checkEstimated(m, ctx);
  });

/** The whole temporal.yaml. */
export const configSchema = z
  .object({
    temporal: temporalSchema.prefault({}),
    /** Folder for Relearn's state (artifact store, registry, job folders, dev server database). */
    stateDir: z.string().min(1).default('.relearn'),
    python: z.string().min(1).optional(),
    /** Folder every model's source.path must lie in, after resolving symlinks (default: the folder of temporal.yaml). */
    dataRoot: z.string().min(1).optional(),
    /** Model registry: a SQLite file under stateDir (default `registry.db`) or a PostgreSQL database (docs/scaling.md). */
    registry: registrySchema,
    /** Artifact store: a folder under stateDir (default `store`) or an S3-compatible bucket (docs/scaling.md). */
    store: storeSchema,
    /** Prediction log of `relearn serve`: a folder under stateDir (default `predictions`), an S3 prefix or `store` (docs/scaling.md). */
    predictionLog: predictionLogSchema,
    models: z.record(z.string(), modelSchema),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (c.predictionLog.url === 'store' && !c.store.url.startsWith('s3://')) {
      ctx.addIssue({ code: 'custom', path: ['predictionLog'], message: `'store' puts the log in the store's S3 bucket, but store is the folder ${c.store.url}` });
    }
    for (const name of Object.keys(c.models)) {
      if (!/^[a-z0-9][a-z0-9-]{0,62}$/.test(name)) {
        ctx.addIssue({ code: 'custom', path: ['models', name], message: 'model names are lowercase letters, digits and dashes (at most 63)' });
      }
    }
  });

export type RelearnConfigInput = z.input<typeof configSchema>;
export type RelearnConfig = z.infer<typeof configSchema>;
export type ModelConfig = z.infer<typeof modelSchema>;
export type TemporalConfig = z.infer<typeof temporalSchema>;
export type GateConfig = z.infer<typeof gateSchema>;

