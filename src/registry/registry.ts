import { z } from 'zod';
import { ArtifactIntegrityError, ConfigError } from '../errors';
import { planAliasMove, type AliasMove, type AliasMoveOutcome } from './alias-move';
import type { RegistryDb, SqlSession } from './sql';
import { SqliteRegistryDb } from './sqlite-db';
import {
  AliasRecordSchema,
  AuditEntrySchema,
  EvaluationRecordSchema,
  MoveAliasInputSchema,
  RecordEvaluationInputSchema,
  PromoteInputSchema,
  RegisterVersionInputSchema,
  VersionRecordSchema,
} from './schemas';
import type {
  AliasRecord,
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

export { REGISTRY_SCHEMA_VERSION } from './migrations';

/** The alias promote moves, and the one that keeps the champion it replaced. */
export const CHAMPION_ALIAS = 'champion';
/** The alias that keeps the champion a promotion replaced. */
export const PREVIOUS_ALIAS = 'previous';
/** The alias the server mirrors live traffic to: a candidate in its shadow window, or the old champion in a guard window. */
export const SHADOW_ALIAS = 'shadow';

/** How a registry behaves; `clock` is read once per call that writes. */
export interface RegistryOptions {
  clock?: () => Date;
}

/** Options of a registry in a SQLite file. */
export interface SqliteRegistryOptions extends RegistryOptions {
  busyTimeoutMs?: number;
}

/** Model versions, aliases and their audit log, on either backend (SQLite file or PostgreSQL). */
export interface RegistryStore {
  /** Where the registry lives, for messages: a file path, or a URL without its password. */
  readonly location: string;
  /** Connects and applies the migrations the database lacks; every other call waits for it too. */
  ready(): Promise<void>;
  close(): Promise<void>;
  /** Registers a new immutable version, numbered per model from 1; a repeat with the same (model, workflowId, runId) returns the first record. */
  registerVersion(input: RegisterVersionInput): Promise<VersionRecord>;
  /** One version of a model, or null if it was never registered. */
  getVersion(model: string, version: number): Promise<VersionRecord | null>;
  /** The version a given workflow run registered, or null. */
  getVersionByRun(model: string, workflowId: string, runId: string): Promise<VersionRecord | null>;
  /** All versions of a model, oldest first. */
  listVersions(model: string): Promise<VersionRecord[]>;
  /** Every model with at least one version, by name, with its version count and aliases. */
  listModels(): Promise<ModelSummary[]>;
  /** Where an alias points, or null if it is unset. */
  getAlias(model: string, alias: string): Promise<AliasRecord | null>;
  /** All aliases of a model, by name. */
  listAliases(model: string): Promise<AliasRecord[]>;
  /** The audit log of a model's aliases, oldest first. */
  auditLog(model: string): Promise<AuditEntry[]>;
  /** Records a live-traffic evaluation of a version; a retry by the same run and phase returns the first record. */
  recordEvaluation(input: RecordEvaluationInput): Promise<EvaluationRecord>;
  /** A model's live-traffic evaluations (of one version, or all), oldest first. */
  listEvaluations(model: string, version?: number): Promise<EvaluationRecord[]>;
  /** Moves one alias if it still points at `expectedVersion` (compare-and-set, one transaction). */
  moveAlias(input: MoveAliasInput): Promise<MoveAliasResult>;
  /** Makes `version` the champion if the champion is still `expectedChampion`; the replaced champion becomes `previous`. */
  promote(input: PromoteInput): Promise<PromoteResult>;
}

/** Opens (creating if needed) a registry in a SQLite file, applying the migrations it lacks before returning. */
export function openSqliteRegistry(dbPath: string, options: SqliteRegistryOptions = {}): RegistryStore {
  return new Registry(SqliteRegistryDb.open(dbPath, options), options);
}

interface VersionRow {
  model: string;
  version: number;
  artifact_uri: string;
  artifact_sha256: string;
  size_bytes: number | string;
  snapshot_uri: string;
  snapshot_sha256: string;
  params: string;
  metrics: string;
  gate: string;
  lineage: string;
  workflow_id: string;
  run_id: string;
  created_at: string;
}

interface AliasRow {
  model: string;
  alias: string;
  version: number;
  updated_at: string;
}

interface AuditRow {
  id: number;
  model: string;
  alias: string;
  action: string;
  from_version: number | null;
  to_version: number | null;
  reason: string;
  workflow_id: string;
  run_id: string;
  at: string;
}


interface EvaluationRow {
  id: number;
  model: string;
  version: number;
  phase: string;
  decision: string;
  reason: string;
  evidence: string;
  workflow_id: string;
  run_id: string;
  at: string;
}

// Every number goes through Number(): PostgreSQL returns BIGINT and COUNT(*) as text.
const num = (value: number | string): number => Number(value);

/** The registry's logic, written once over a RegistryDb (SQLite or PostgreSQL): same statements, same transactions. */
export class Registry implements RegistryStore {
  private readonly clock: () => Date;
  readonly location: string;

  constructor(
    private readonly db: RegistryDb,
    options: RegistryOptions = {},
  ) {
    this.clock = options.clock ?? (() => new Date());
    this.location = db.location;
  }

  ready(): Promise<void> {
    return this.db.ready();
  }

  async close(): Promise<void> {
    await this.db.close();
  }

  async registerVersion(input: RegisterVersionInput): Promise<VersionRecord> {
    const parsed = parseInput(RegisterVersionInputSchema, input, 'registerVersion');
    const createdAt = this.clock().toISOString();
    await this.db.ready();
    return this.db.write(parsed.model, async (s): Promise<VersionRecord> => {
      const existing = await this.versionByRun(s, parsed.model, parsed.workflowId, parsed.runId);
      if (existing !== null) return existing;
      const [next] = await s.rows<{ next: number | string }>(
        'SELECT COALESCE(MAX(version), 0) + 1 AS next FROM versions WHERE model = ?',
        [parsed.model],
      );
      const version = num(next?.next ?? 1);
      await s.run(
        `INSERT INTO versions (model, version, artifact_uri, artifact_sha256, size_bytes, snapshot_uri, snapshot_sha256,
           params, metrics, gate, lineage, workflow_id, run_id, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        [
          parsed.model,
          version,
          parsed.artifactUri,
          parsed.artifactSha256,
          parsed.sizeBytes,
          parsed.snapshotUri,
          parsed.snapshotSha256,
          JSON.stringify(parsed.params),
          JSON.stringify(parsed.metrics),
          JSON.stringify(parsed.gate),
          JSON.stringify(parsed.lineage),
          parsed.workflowId,
          parsed.runId,
          createdAt,
        ],
      );
      const stored = await this.version(s, parsed.model, version);
      if (stored === null) throw new Error(`registry ${this.location}: ${parsed.model} v${version} vanished after insert`);
      return stored;
    });
  }

  async getVersion(model: string, version: number): Promise<VersionRecord | null> {
    await this.db.ready();
    return this.db.read((s) => this.version(s, model, version));
  }

  async getVersionByRun(model: string, workflowId: string, runId: string): Promise<VersionRecord | null> {
    await this.db.ready();
    return this.db.read((s) => this.versionByRun(s, model, workflowId, runId));
  }

  async listVersions(model: string): Promise<VersionRecord[]> {
    await this.db.ready();
    const rows = await this.db.read((s) => s.rows<VersionRow>('SELECT * FROM versions WHERE model = ? ORDER BY version', [model]));
    return rows.map((row) => this.versionFromRow(row));
  }

  async listModels(): Promise<ModelSummary[]> {
    await this.db.ready();
    return this.db.read(async (s): Promise<ModelSummary[]> => {
      const rows = await s.rows<{ model: string; version_count: number | string; latest_version: number | string }>(
        'SELECT model, COUNT(*) AS version_count, MAX(version) AS latest_version FROM versions GROUP BY model ORDER BY model',
      );
      const aliasRows = await s.rows<AliasRow>('SELECT * FROM aliases ORDER BY model, alias');
      return rows.map((row) => ({
        model: row.model,
        versionCount: num(row.version_count),
        latestVersion: num(row.latest_version),
        aliases: Object.fromEntries(aliasRows.filter((a) => a.model === row.model).map((a) => [a.alias, num(a.version)])),
      }));
    });
  }

  async getAlias(model: string, alias: string): Promise<AliasRecord | null> {
    await this.db.ready();
    const [row] = await this.db.read((s) => s.rows<AliasRow>('SELECT * FROM aliases WHERE model = ? AND alias = ?', [model, alias]));
    return row === undefined ? null : this.aliasFromRow(row);
  }

  async listAliases(model: string): Promise<AliasRecord[]> {
    await this.db.ready();
    const rows = await this.db.read((s) => s.rows<AliasRow>('SELECT * FROM aliases WHERE model = ? ORDER BY alias', [model]));
    return rows.map((row) => this.aliasFromRow(row));
  }

  async auditLog(model: string): Promise<AuditEntry[]> {
    await this.db.ready();
    const rows = await this.db.read((s) => s.rows<AuditRow>('SELECT * FROM audit_log WHERE model = ? ORDER BY id', [model]));
    return rows.map((row) => this.auditFromRow(row));
  }

  async recordEvaluation(input: RecordEvaluationInput): Promise<EvaluationRecord> {
    const parsed = parseInput(RecordEvaluationInputSchema, input, 'recordEvaluation');
    const at = this.clock().toISOString();
    await this.db.ready();
    return this.db.write(parsed.model, async (s): Promise<EvaluationRecord> => {
      if ((await this.version(s, parsed.model, parsed.version)) === null) {
        throw new ConfigError(
          `registry ${this.location}: model ${JSON.stringify(parsed.model)} has no version ${parsed.version}; cannot record its ${parsed.phase} evaluation`,
        );
      }
      await s.run(
        `INSERT INTO evaluations (model, version, phase, decision, reason, evidence, workflow_id, run_id, at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (model, version, phase, workflow_id, run_id) DO NOTHING`,
        [parsed.model, parsed.version, parsed.phase, parsed.decision, parsed.reason, JSON.stringify(parsed.evidence), parsed.workflowId, parsed.runId, at],
      );
      const [row] = await s.rows<EvaluationRow>(
        'SELECT * FROM evaluations WHERE model = ? AND version = ? AND phase = ? AND workflow_id = ? AND run_id = ?',
        [parsed.model, parsed.version, parsed.phase, parsed.workflowId, parsed.runId],
      );
      if (row === undefined) throw new Error(`registry ${this.location}: evaluation of ${parsed.model} v${parsed.version} vanished after insert`);
      return this.evaluationFromRow(row);
    });
  }

  async listEvaluations(model: string, version?: number): Promise<EvaluationRecord[]> {
    await this.db.ready();
    const rows = await this.db.read((s) =>
      version === undefined
        ? s.rows<EvaluationRow>('SELECT * FROM evaluations WHERE model = ? ORDER BY id', [model])
        : s.rows<EvaluationRow>('SELECT * FROM evaluations WHERE model = ? AND version = ? ORDER BY id', [model, version]),
    );
    return rows.map((row) => this.evaluationFromRow(row));
  }

  /**
   * Moves one alias if it still points at `expectedVersion` (compare-and-set, one transaction).
   * A retry of a move this workflow run already made returns moved: true without a second audit row.
   */
  async moveAlias(input: MoveAliasInput): Promise<MoveAliasResult> {
    const parsed = parseInput(MoveAliasInputSchema, input, 'moveAlias');
    const at = this.clock().toISOString();
    await this.db.ready();
    const outcome = await this.db.write(parsed.model, (s) => this.compareAndSetAlias(s, { ...parsed, at }));
    return { moved: outcome.moved, version: outcome.version, reason: outcome.reason };
  }

  /**
   * Makes `version` the champion if the champion is still `expectedChampion`; the replaced champion
   * becomes `previous`. One transaction, one audit row per alias moved, a `promote-rejected` row on a lost race.
   */
  async promote(input: PromoteInput): Promise<PromoteResult> {
    const parsed = parseInput(PromoteInputSchema, input, 'promote');
    const at = this.clock().toISOString();
    await this.db.ready();
    return this.db.write(parsed.model, async (s): Promise<PromoteResult> => {
      const move = { model: parsed.model, reason: parsed.reason, workflowId: parsed.workflowId, runId: parsed.runId, action: 'promote' as const, at };
      const champion = await this.compareAndSetAlias(s, {
        ...move,
        alias: CHAMPION_ALIAS,
        toVersion: parsed.version,
        expectedVersion: parsed.expectedChampion,
      });
      if (champion.changed && champion.fromVersion !== null) {
        const previous = await this.currentAliasVersion(s, parsed.model, PREVIOUS_ALIAS);
        const moved = await this.compareAndSetAlias(s, { ...move, alias: PREVIOUS_ALIAS, toVersion: champion.fromVersion, expectedVersion: previous });
        // Cannot lose: the expected value was read inside this same write transaction.
        if (!moved.moved) throw new Error(`registry ${this.location}: ${moved.reason}`);
      }
      return { promoted: champion.moved, champion: champion.version, reason: champion.reason };
    });
  }

  // Runs inside a write transaction: the read of the alias and the write that depends on it are one step. What to do
  // is decided by planAliasMove from what was read; this only reads the facts and applies the plan.
  private async compareAndSetAlias(s: SqlSession, move: AliasMove): Promise<AliasMoveOutcome> {
    const { model, alias, toVersion } = move;
    const [latestRow] = await s.rows<{ latest: number | string | null }>('SELECT MAX(version) AS latest FROM versions WHERE model = ?', [model]);
    const latest = latestRow?.latest === null || latestRow?.latest === undefined ? null : num(latestRow.latest);
    const targetExists = toVersion === null || (await this.version(s, model, toVersion)) !== null;
    const current = await this.currentAliasVersion(s, model, alias);
    const runRows = await s.rows<{ action: string; from_version: number | null; to_version: number | null }>(
      'SELECT action, from_version, to_version FROM audit_log WHERE model = ? AND alias = ? AND workflow_id = ? AND run_id = ? ORDER BY id',
      [model, alias, move.workflowId, move.runId],
    );
    const plan = planAliasMove(move, {
      location: this.location,
      targetExists,
      latestVersion: latest,
      current,
      runRows: runRows.map((r) => ({ action: r.action, fromVersion: r.from_version, toVersion: r.to_version })),
    });
    if (plan.alias !== undefined) {
      if (plan.alias.toVersion === null) {
        await s.run('DELETE FROM aliases WHERE model = ? AND alias = ?', [model, alias]);
      } else {
        await s.run(
          `INSERT INTO aliases (model, alias, version, updated_at) VALUES (?, ?, ?, ?)
           ON CONFLICT (model, alias) DO UPDATE SET version = excluded.version, updated_at = excluded.updated_at`,
          [model, alias, plan.alias.toVersion, move.at],
        );
      }
    }
    if (plan.audit !== undefined) {
      const a = plan.audit;
      await s.run(
        `INSERT INTO audit_log (model, alias, action, from_version, to_version, reason, workflow_id, run_id, at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        [model, alias, a.action, a.fromVersion, a.toVersion, a.reason, move.workflowId, move.runId, move.at],
      );
    }
    return plan.outcome;
  }

  private async currentAliasVersion(s: SqlSession, model: string, alias: string): Promise<number | null> {
    const [row] = await s.rows<{ version: number }>('SELECT version FROM aliases WHERE model = ? AND alias = ?', [model, alias]);
    return row === undefined ? null : num(row.version);
  }

  private async version(s: SqlSession, model: string, version: number): Promise<VersionRecord | null> {
    const [row] = await s.rows<VersionRow>('SELECT * FROM versions WHERE model = ? AND version = ?', [model, version]);
    return row === undefined ? null : this.versionFromRow(row);
  }

  private async versionByRun(s: SqlSession, model: string, workflowId: string, runId: string): Promise<VersionRecord | null> {
    const [row] = await s.rows<VersionRow>('SELECT * FROM versions WHERE model = ? AND workflow_id = ? AND run_id = ?', [model, workflowId, runId]);
    return row === undefined ? null : this.versionFromRow(row);
  }

  private versionFromRow(row: VersionRow): VersionRecord {
    const where = `versions row (${row.model}, v${row.version})`;
    return this.parseStored(VersionRecordSchema, where, {
      model: row.model,
      version: row.version,
      artifactUri: row.artifact_uri,
      artifactSha256: row.artifact_sha256,
      sizeBytes: num(row.size_bytes),
      snapshotUri: row.snapshot_uri,
      snapshotSha256: row.snapshot_sha256,
      params: this.parseJsonColumn(row.params, where, 'params'),
      metrics: this.parseJsonColumn(row.metrics, where, 'metrics'),
      gate: this.parseJsonColumn(row.gate, where, 'gate'),
      lineage: this.parseJsonColumn(row.lineage, where, 'lineage'),
      workflowId: row.workflow_id,
      runId: row.run_id,
      createdAt: row.created_at,
    });
  }

  private aliasFromRow(row: AliasRow): AliasRecord {
    return this.parseStored(AliasRecordSchema, `aliases row (${row.model}, ${row.alias})`, {
      model: row.model,
      alias: row.alias,
      version: row.version,
      updatedAt: row.updated_at,
    });
  }

  private evaluationFromRow(row: EvaluationRow): EvaluationRecord {
    const where = `evaluations row ${row.id}`;
    return this.parseStored(EvaluationRecordSchema, where, {
      id: row.id,
      model: row.model,
      version: row.version,
      phase: row.phase,
      decision: row.decision,
      reason: row.reason,
      evidence: this.parseJsonColumn(row.evidence, where, 'evidence'),
      workflowId: row.workflow_id,
      runId: row.run_id,
      at: row.at,
    });
  }

  private auditFromRow(row: AuditRow): AuditEntry {
    return this.parseStored(AuditEntrySchema, `audit_log row ${row.id}`, {
      id: row.id,
      model: row.model,
      alias: row.alias,
      action: row.action,
      fromVersion: row.from_version,
      toVersion: row.to_version,
      reason: row.reason,
      workflowId: row.workflow_id,
      runId: row.run_id,
      at: row.at,
    });
  }

  private parseJsonColumn(text: string, where: string, column: string): unknown {
    try {
      return JSON.parse(text) as unknown;
    } catch (err) {
      throw new ArtifactIntegrityError(
        `registry ${this.location}: ${where}: column ${column} is not valid JSON (${err instanceof Error ? err.message : String(err)})`,
      );
    }
  }

  // Rows are data from disk: another tool may have written them, so they are checked like any input.
  private parseStored<T>(schema: z.ZodType<T>, where: string, value: unknown): T {
    const result = schema.safeParse(value);
    if (!result.success) {
      throw new ArtifactIntegrityError(`registry ${this.location}: ${where} is malformed:\n${z.prettifyError(result.error)}`);
    }
    return result.data;
  }
}

function parseInput<S extends z.ZodType>(schema: S, input: unknown, method: string): z.output<S> {
  const result = schema.safeParse(input);
  if (!result.success) {
    throw new ConfigError(`Registry.${method}: invalid input:\n${z.prettifyError(result.error)}`);
  }
  return result.data;
}
