/** Model registry: immutable versions, aliases moved by compare-and-set, and their audit log, in SQLite or PostgreSQL. */
export { CHAMPION_ALIAS, PREVIOUS_ALIAS, REGISTRY_SCHEMA_VERSION, Registry, SHADOW_ALIAS, openSqliteRegistry } from './registry';
export type { RegistryOptions, RegistryStore, SqliteRegistryOptions } from './registry';
export { openRegistry, registryFile } from './open-registry';
export { PostgresRegistryDb, RegistryUnavailableError, postgresConnectionFields, redactPostgresUrl } from './postgres-db';
export type { PostgresRegistryOptions } from './postgres-db';
export { SqliteRegistryDb } from './sqlite-db';
export type { RegistryDb, SqlSession, SqlValue } from './sql';
export { REGISTRY_MIGRATIONS } from './migrations';
export type { RegistryMigration } from './migrations';
export {
  AliasNameSchema,
  AliasRecordSchema,
  AuditActionSchema,
  AuditEntrySchema,
  EvaluationPhaseSchema,
  EvaluationRecordSchema,
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
  RecordEvaluationInputSchema,
  RegisterVersionInputSchema,
  VersionNumberSchema,
  VersionRecordSchema,
} from './schemas';
export type {
  AliasRecord,
  AuditAction,
  AuditEntry,
  EvaluationRecord,
  ModelSummary,
  MoveAliasInput,
  MoveAliasResult,
  PromoteInput,
  PromoteResult,
  RecordEvaluationInput,
  RegisterVersionInput,
  VersionRecord,
} from './schemas';
