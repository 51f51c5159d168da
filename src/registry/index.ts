/** Model registry: immutable versions, aliases moved by compare-and-set, and their audit log. */
export { CHAMPION_ALIAS, PREVIOUS_ALIAS, REGISTRY_SCHEMA_VERSION, Registry } from './registry';
export type { RegistryOptions } from './registry';
export {
  AliasNameSchema,
  AliasRecordSchema,
  AuditActionSchema,
  AuditEntrySchema,
  GateSchema,
  JsonObjectSchema,
  LineageSchema,
  MetricsSchema,
  ModelNameSchema,
  ModelSummarySchema,
  MoveAliasInputSchema,
  MoveAliasResultSchema,
  ParamsSchema,
  PromoteInputSchema,
  PromoteResultSchema,
  RegisterVersionInputSchema,
  VersionNumberSchema,
  VersionRecordSchema,
} from './schemas';
export type {
  AliasRecord,
  AuditAction,
  AuditEntry,
  ModelSummary,
  MoveAliasInput,
  MoveAliasResult,
  PromoteInput,
  PromoteResult,
  RegisterVersionInput,
  VersionRecord,
} from './schemas';
