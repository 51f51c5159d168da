import { z } from 'zod';
import { Sha256Schema } from '../store/store-uri';

const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const NAME_HINT = 'expected 1-128 characters from [A-Za-z0-9._-], starting with a letter or digit';

/** A model's name as used in temporal.yaml and in the registry. */
export const ModelNameSchema = z.string().regex(NAME_PATTERN, NAME_HINT);

/** An alias name such as `champion`, `previous` or `shadow`. */
export const AliasNameSchema = z.string().regex(NAME_PATTERN, NAME_HINT);

/** A registered version number; versions count from 1 per model. */
export const VersionNumberSchema = z.number().int().positive();

/** A JSON object, as stored in the registry's JSON columns. */
export const JsonObjectSchema = z.record(z.string(), z.json());

// The four JSON columns are named separately so that each can be narrowed without touching the others.
/** Training params of a version, as passed to the job. */
export const ParamsSchema = JsonObjectSchema;
/** Metrics Relearn computed for a version (never the job's own claims). */
export const MetricsSchema = JsonObjectSchema;
/** The gate's decision and reasons for a version. */
export const GateSchema = JsonObjectSchema;
/** Where a version came from: snapshot, split, jobs, trigger, config digest. */
export const LineageSchema = JsonObjectSchema;

/** What registerVersion takes; (model, workflowId, runId) is its idempotency key. */
export const RegisterVersionInputSchema = z.object({
  model: ModelNameSchema,
  artifactUri: z.string().min(1),
  artifactSha256: Sha256Schema,
  sizeBytes: z.number().int().nonnegative(),
  snapshotUri: z.string().min(1),
  snapshotSha256: Sha256Schema,
  params: ParamsSchema,
  metrics: MetricsSchema,
  gate: GateSchema,
  lineage: LineageSchema,
  workflowId: z.string().min(1),
  runId: z.string().min(1),
});
/** What registerVersion takes; (model, workflowId, runId) is its idempotency key. */
export type RegisterVersionInput = z.infer<typeof RegisterVersionInputSchema>;

/** An immutable registered model version. */
export const VersionRecordSchema = RegisterVersionInputSchema.extend({
  version: VersionNumberSchema,
  createdAt: z.iso.datetime(),
});
/** An immutable registered model version. */
export type VersionRecord = z.infer<typeof VersionRecordSchema>;

/** Where an alias of a model points now. */
export const AliasRecordSchema = z.object({
  model: ModelNameSchema,
  alias: AliasNameSchema,
  version: VersionNumberSchema,
  updatedAt: z.iso.datetime(),
});
/** Where an alias of a model points now. */
export type AliasRecord = z.infer<typeof AliasRecordSchema>;

/** What an audit row records; `-rejected` rows are compare-and-set attempts that lost. */
export const AuditActionSchema = z.enum([
  'move',
  'move-rejected',
  'promote',
  'promote-rejected',
  'rollback',
  'rollback-rejected',
]);
/** What an audit row records; `-rejected` rows are compare-and-set attempts that lost. */
export type AuditAction = z.infer<typeof AuditActionSchema>;

/** One row of the append-only alias audit log; a null version means the alias was unset. */
export const AuditEntrySchema = z.object({
  id: z.number().int().positive(),
  model: ModelNameSchema,
  alias: AliasNameSchema,
  action: AuditActionSchema,
  fromVersion: VersionNumberSchema.nullable(),
  toVersion: VersionNumberSchema.nullable(),
  reason: z.string(),
  workflowId: z.string(),
  runId: z.string(),
  at: z.iso.datetime(),
});
/** One row of the append-only alias audit log; a null version means the alias was unset. */
export type AuditEntry = z.infer<typeof AuditEntrySchema>;

/** A compare-and-set move of one alias; `toVersion: null` removes the alias, `expectedVersion: null` expects it unset. */
export const MoveAliasInputSchema = z.object({
  model: ModelNameSchema,
  alias: AliasNameSchema,
  toVersion: VersionNumberSchema.nullable(),
  expectedVersion: VersionNumberSchema.nullable(),
  reason: z.string().min(1),
  workflowId: z.string().min(1),
  runId: z.string().min(1),
  action: z.enum(['move', 'rollback']).default('move'),
});
/** A compare-and-set move of one alias; `toVersion: null` removes the alias, `expectedVersion: null` expects it unset. */
export type MoveAliasInput = z.input<typeof MoveAliasInputSchema>;

/** Whether the alias now holds what was asked (also true for a retry of a move that already happened). */
export const MoveAliasResultSchema = z.object({
  moved: z.boolean(),
  version: VersionNumberSchema.nullable(),
  reason: z.string(),
});
/** Whether the alias now holds what was asked (also true for a retry of a move that already happened). */
export type MoveAliasResult = z.infer<typeof MoveAliasResultSchema>;

/** Make `version` the champion if the champion is still `expectedChampion` (null: no champion yet). */
export const PromoteInputSchema = z.object({
  model: ModelNameSchema,
  version: VersionNumberSchema,
  expectedChampion: VersionNumberSchema.nullable(),
  reason: z.string().min(1),
  workflowId: z.string().min(1),
  runId: z.string().min(1),
});
/** Make `version` the champion if the champion is still `expectedChampion` (null: no champion yet). */
export type PromoteInput = z.infer<typeof PromoteInputSchema>;

/** Outcome of promote; `champion` is the champion after the call. */
export const PromoteResultSchema = z.object({
  promoted: z.boolean(),
  champion: VersionNumberSchema.nullable(),
  reason: z.string(),
});
/** Outcome of promote; `champion` is the champion after the call. */
export type PromoteResult = z.infer<typeof PromoteResultSchema>;

/** One line of listModels: how many versions a model has and where its aliases point. */
export const ModelSummarySchema = z.object({
  model: ModelNameSchema,
  versionCount: z.number().int().positive(),
  latestVersion: VersionNumberSchema,
  aliases: z.record(z.string(), VersionNumberSchema),
});
/** One line of listModels: how many versions a model has and where its aliases point. */
export type ModelSummary = z.infer<typeof ModelSummarySchema>;

/** Which live-traffic check an evaluation records. */
export const EvaluationPhaseSchema = z.enum(['shadow', 'approval', 'guard']);

/** A live-traffic evaluation of one version by one run: its decision, why, and the numbers behind it. */
export const RecordEvaluationInputSchema = z.object({
  model: ModelNameSchema,
  version: VersionNumberSchema,
  phase: EvaluationPhaseSchema,
  decision: z.string().min(1),
  reason: z.string().min(1),
  evidence: JsonObjectSchema,
  workflowId: z.string().min(1),
  runId: z.string().min(1),
});
/** A live-traffic evaluation of one version by one run: its decision, why, and the numbers behind it. */
export type RecordEvaluationInput = z.input<typeof RecordEvaluationInputSchema>;

/** A stored evaluation. */
export const EvaluationRecordSchema = RecordEvaluationInputSchema.extend({
  id: z.number().int().positive(),
  at: z.iso.datetime(),
});
/** A stored evaluation. */
export type EvaluationRecord = z.infer<typeof EvaluationRecordSchema>;
