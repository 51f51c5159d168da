import { mkdirSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { z } from 'zod';
import { ArtifactIntegrityError, ConfigError } from '../errors';
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

/** The schema version this code writes and understands (kept in `PRAGMA user_version`). */
export const REGISTRY_SCHEMA_VERSION = 2;

/** The alias promote moves, and the one that keeps the champion it replaced. */
export const CHAMPION_ALIAS = 'champion';
/** The alias that keeps the champion a promotion replaced. */
export const PREVIOUS_ALIAS = 'previous';
/** The alias the server mirrors live traffic to: a candidate in its shadow window, or the old champion in a guard window. */
export const SHADOW_ALIAS = 'shadow';

/** How a Registry connects; `clock` is read once per call that writes. */
export interface RegistryOptions {
  busyTimeoutMs?: number;
  clock?: () => Date;
}

const DEFAULT_BUSY_TIMEOUT_MS = 5_000;

// Versions and audit rows are append-only: triggers refuse UPDATE and DELETE even from other tools.
const SCHEMA_SQL = `
CREATE TABLE IF NOT EXISTS versions (
  model           TEXT    NOT NULL,
  version         INTEGER NOT NULL CHECK (version >= 1),
  artifact_uri    TEXT    NOT NULL,
  artifact_sha256 TEXT    NOT NULL,
  size_bytes      INTEGER NOT NULL CHECK (size_bytes >= 0),
  snapshot_uri    TEXT    NOT NULL,
  snapshot_sha256 TEXT    NOT NULL,
  params          TEXT    NOT NULL,
  metrics         TEXT    NOT NULL,
  gate            TEXT    NOT NULL,
  lineage         TEXT    NOT NULL,
  workflow_id     TEXT    NOT NULL,
  run_id          TEXT    NOT NULL,
  created_at      TEXT    NOT NULL,
  PRIMARY KEY (model, version),
  UNIQUE (model, workflow_id, run_id)
) STRICT;

CREATE TRIGGER IF NOT EXISTS versions_no_update BEFORE UPDATE ON versions
BEGIN SELECT RAISE(ABORT, 'registered model versions are immutable'); END;
CREATE TRIGGER IF NOT EXISTS versions_no_delete BEFORE DELETE ON versions
BEGIN SELECT RAISE(ABORT, 'registered model versions are immutable'); END;

CREATE TABLE IF NOT EXISTS aliases (
  model      TEXT    NOT NULL,
  alias      TEXT    NOT NULL,
  version    INTEGER NOT NULL,
  updated_at TEXT    NOT NULL,
  PRIMARY KEY (model, alias),
  FOREIGN KEY (model, version) REFERENCES versions (model, version)
) STRICT;

CREATE TABLE IF NOT EXISTS audit_log (
  id           INTEGER PRIMARY KEY AUTOINCREMENT,
  model        TEXT    NOT NULL,
  alias        TEXT    NOT NULL,
  action       TEXT    NOT NULL,
  from_version INTEGER,
  to_version   INTEGER,
  reason       TEXT    NOT NULL,
  workflow_id  TEXT    NOT NULL,
  run_id       TEXT    NOT NULL,
  at           TEXT    NOT NULL
) STRICT;
CREATE INDEX IF NOT EXISTS audit_log_by_run ON audit_log (model, alias, workflow_id, run_id);

CREATE TRIGGER IF NOT EXISTS audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
`;

// Schema 2: live-traffic evaluations (shadow and guard windows, approvals) with their evidence.
const EVALUATIONS_SQL = `
CREATE TABLE IF NOT EXISTS evaluations (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  model       TEXT    NOT NULL,
  version     INTEGER NOT NULL,
  phase       TEXT    NOT NULL,
  decision    TEXT    NOT NULL,
  reason      TEXT    NOT NULL,
  evidence    TEXT    NOT NULL,
  workflow_id TEXT    NOT NULL,
  run_id      TEXT    NOT NULL,
  at          TEXT    NOT NULL,
  UNIQUE (model, version, phase, workflow_id, run_id),
  FOREIGN KEY (model, version) REFERENCES versions (model, version)
) STRICT;

CREATE TRIGGER IF NOT EXISTS evaluations_no_update BEFORE UPDATE ON evaluations
BEGIN SELECT RAISE(ABORT, 'evaluations are append-only'); END;
CREATE TRIGGER IF NOT EXISTS evaluations_no_delete BEFORE DELETE ON evaluations
BEGIN SELECT RAISE(ABORT, 'evaluations are append-only'); END;
`;

interface VersionRow {
  model: string;
  version: number;
  artifact_uri: string;
  artifact_sha256: string;
  size_bytes: number;
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

type AuditInsert = Omit<AuditRow, 'id'>;

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

/** Result of the shared compare-and-set; `changed` tells promote whether to move `previous` too. */
interface CasOutcome extends MoveAliasResult {
  changed: boolean;
  fromVersion: number | null;
}

/** Model versions, aliases and their audit log, in one SQLite file. */
export class Registry {
  private readonly clock: () => Date;

  private constructor(
    private readonly db: Database.Database,
    /** Path of the SQLite file. */
    readonly dbPath: string,
    options: RegistryOptions,
  ) {
    this.clock = options.clock ?? (() => new Date());
  }

  /** Opens (creating if needed) the registry at `dbPath`, in WAL mode with a busy timeout. */
  static open(dbPath: string, options: RegistryOptions = {}): Registry {
    if (dbPath !== ':memory:') mkdirSync(path.dirname(path.resolve(dbPath)), { recursive: true });
    const db = new Database(dbPath);
    try {
      // The busy timeout comes first so that even switching to WAL waits for other writers.
      db.pragma(`busy_timeout = ${Math.max(0, Math.trunc(options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS))}`);
      db.pragma('journal_mode = WAL');
      // FULL: a promotion that returned must survive a power cut; the registry writes rarely.
      db.pragma('synchronous = FULL');
      db.pragma('foreign_keys = ON');
      db.transaction(() => {
        const schemaVersion = db.pragma('user_version', { simple: true });
        if (schemaVersion === 0) {
          db.exec(SCHEMA_SQL);
          db.exec(EVALUATIONS_SQL);
          db.pragma(`user_version = ${REGISTRY_SCHEMA_VERSION}`);
        } else if (schemaVersion === 1) {
          // A registry written before live-traffic evaluations existed gains their table; nothing else changes.
          db.exec(EVALUATIONS_SQL);
          db.pragma(`user_version = ${REGISTRY_SCHEMA_VERSION}`);
        } else if (schemaVersion !== REGISTRY_SCHEMA_VERSION) {
          throw new ConfigError(
            `registry ${dbPath}: schema version ${String(schemaVersion)}, expected ${REGISTRY_SCHEMA_VERSION} (written by a different Relearn version)`,
          );
        }
      }).immediate();
    } catch (err) {
      db.close();
      throw err;
    }
    return new Registry(db, dbPath, options);
  }

  /** Closes the database connection. */
  close(): void {
    this.db.close();
  }

  /** Registers a new immutable version, numbered per model from 1; a repeat with the same (model, workflowId, runId) returns the first record. */
  registerVersion(input: RegisterVersionInput): VersionRecord {
    const parsed = parseInput(RegisterVersionInputSchema, input, 'registerVersion');
    const createdAt = this.clock().toISOString();
    return this.db
      .transaction((): VersionRecord => {
        const existing = this.getVersionByRun(parsed.model, parsed.workflowId, parsed.runId);
        if (existing !== null) return existing;
        const next = this.db
          .prepare<[string], { next: number }>('SELECT COALESCE(MAX(version), 0) + 1 AS next FROM versions WHERE model = ?')
          .get(parsed.model);
        const version = next?.next ?? 1;
        this.db
          .prepare<VersionRow>(
            `INSERT INTO versions (model, version, artifact_uri, artifact_sha256, size_bytes, snapshot_uri, snapshot_sha256,
               params, metrics, gate, lineage, workflow_id, run_id, created_at)
             VALUES (@model, @version, @artifact_uri, @artifact_sha256, @size_bytes, @snapshot_uri, @snapshot_sha256,
               @params, @metrics, @gate, @lineage, @workflow_id, @run_id, @created_at)`,
          )
          .run({
            model: parsed.model,
            version,
            artifact_uri: parsed.artifactUri,
            artifact_sha256: parsed.artifactSha256,
            size_bytes: parsed.sizeBytes,
            snapshot_uri: parsed.snapshotUri,
            snapshot_sha256: parsed.snapshotSha256,
            params: JSON.stringify(parsed.params),
            metrics: JSON.stringify(parsed.metrics),
            gate: JSON.stringify(parsed.gate),
            lineage: JSON.stringify(parsed.lineage),
            workflow_id: parsed.workflowId,
            run_id: parsed.runId,
            created_at: createdAt,
          });
        const stored = this.getVersion(parsed.model, version);
        if (stored === null) throw new Error(`registry ${this.dbPath}: ${parsed.model} v${version} vanished after insert`);
        return stored;
      })
      .immediate();
  }

  /** One version of a model, or null if it was never registered. */
  getVersion(model: string, version: number): VersionRecord | null {
    const row = this.db
      .prepare<[string, number], VersionRow>('SELECT * FROM versions WHERE model = ? AND version = ?')
      .get(model, version);
    return row === undefined ? null : this.versionFromRow(row);
  }

  /** The version a given workflow run registered, or null. */
  getVersionByRun(model: string, workflowId: string, runId: string): VersionRecord | null {
    const row = this.db
      .prepare<[string, string, string], VersionRow>('SELECT * FROM versions WHERE model = ? AND workflow_id = ? AND run_id = ?')
      .get(model, workflowId, runId);
    return row === undefined ? null : this.versionFromRow(row);
  }

  /** All versions of a model, oldest first. */
  listVersions(model: string): VersionRecord[] {
    return this.db
      .prepare<[string], VersionRow>('SELECT * FROM versions WHERE model = ? ORDER BY version')
      .all(model)
      .map((row) => this.versionFromRow(row));
  }

  /** Every model with at least one version, by name, with its version count and aliases. */
  listModels(): ModelSummary[] {
    const read = this.db.transaction((): ModelSummary[] => {
      const rows = this.db
        .prepare<[], { model: string; version_count: number; latest_version: number }>(
          'SELECT model, COUNT(*) AS version_count, MAX(version) AS latest_version FROM versions GROUP BY model ORDER BY model',
        )
        .all();
      const aliasRows = this.db.prepare<[], AliasRow>('SELECT * FROM aliases ORDER BY model, alias').all();
      return rows.map((row) => ({
        model: row.model,
        versionCount: row.version_count,
        latestVersion: row.latest_version,
        aliases: Object.fromEntries(aliasRows.filter((a) => a.model === row.model).map((a) => [a.alias, a.version])),
      }));
    });
    return read.deferred();
  }

  /** Where an alias points, or null if it is unset. */
  getAlias(model: string, alias: string): AliasRecord | null {
    const row = this.db
      .prepare<[string, string], AliasRow>('SELECT * FROM aliases WHERE model = ? AND alias = ?')
      .get(model, alias);
    return row === undefined ? null : this.aliasFromRow(row);
  }

  /** All aliases of a model, by name. */
  listAliases(model: string): AliasRecord[] {
    return this.db
      .prepare<[string], AliasRow>('SELECT * FROM aliases WHERE model = ? ORDER BY alias')
      .all(model)
      .map((row) => this.aliasFromRow(row));
  }

  /** The audit log of a model's aliases, oldest first. */
  auditLog(model: string): AuditEntry[] {
    return this.db
      .prepare<[string], AuditRow>('SELECT * FROM audit_log WHERE model = ? ORDER BY id')
      .all(model)
      .map((row) => this.auditFromRow(row));
  }

  /** Records a live-traffic evaluation of a version; a retry by the same run and phase returns the first record. */
  recordEvaluation(input: RecordEvaluationInput): EvaluationRecord {
    const parsed = parseInput(RecordEvaluationInputSchema, input, 'recordEvaluation');
    const at = this.clock().toISOString();
    return this.db
      .transaction((): EvaluationRecord => {
        if (this.getVersion(parsed.model, parsed.version) === null) {
          throw new ConfigError(`registry ${this.dbPath}: model ${JSON.stringify(parsed.model)} has no version ${parsed.version}; cannot record its ${parsed.phase} evaluation`);
        }
        this.db
          .prepare(
            `INSERT OR IGNORE INTO evaluations (model, version, phase, decision, reason, evidence, workflow_id, run_id, at)
             VALUES (@model, @version, @phase, @decision, @reason, @evidence, @workflow_id, @run_id, @at)`,
          )
          .run({
            model: parsed.model,
            version: parsed.version,
            phase: parsed.phase,
            decision: parsed.decision,
            reason: parsed.reason,
            evidence: JSON.stringify(parsed.evidence),
            workflow_id: parsed.workflowId,
            run_id: parsed.runId,
            at,
          });
        const row = this.db
          .prepare<[string, number, string, string, string], EvaluationRow>(
            'SELECT * FROM evaluations WHERE model = ? AND version = ? AND phase = ? AND workflow_id = ? AND run_id = ?',
          )
          .get(parsed.model, parsed.version, parsed.phase, parsed.workflowId, parsed.runId);
        if (row === undefined) throw new Error(`registry ${this.dbPath}: evaluation of ${parsed.model} v${parsed.version} vanished after insert`);
        return this.evaluationFromRow(row);
      })
      .immediate();
  }

  /** A model's live-traffic evaluations (of one version, or all), oldest first. */
  listEvaluations(model: string, version?: number): EvaluationRecord[] {
    const rows =
      version === undefined
        ? this.db.prepare<[string], EvaluationRow>('SELECT * FROM evaluations WHERE model = ? ORDER BY id').all(model)
        : this.db.prepare<[string, number], EvaluationRow>('SELECT * FROM evaluations WHERE model = ? AND version = ? ORDER BY id').all(model, version);
    return rows.map((row) => this.evaluationFromRow(row));
  }

  /**
   * Moves one alias if it still points at `expectedVersion` (compare-and-set, one transaction).
   * A retry of a move this workflow run already made returns moved: true without a second audit row.
   */
  moveAlias(input: MoveAliasInput): MoveAliasResult {
    const parsed = parseInput(MoveAliasInputSchema, input, 'moveAlias');
    const at = this.clock().toISOString();
    const outcome = this.db.transaction(() => this.compareAndSetAlias({ ...parsed, at })).immediate();
    return { moved: outcome.moved, version: outcome.version, reason: outcome.reason };
  }

  /**
   * Makes `version` the champion if the champion is still `expectedChampion`; the replaced champion
   * becomes `previous`. One transaction, one audit row per alias moved, a `promote-rejected` row on a lost race.
   */
  promote(input: PromoteInput): PromoteResult {
    const parsed = parseInput(PromoteInputSchema, input, 'promote');
    const at = this.clock().toISOString();
    return this.db
      .transaction((): PromoteResult => {
        const champion = this.compareAndSetAlias({
          model: parsed.model,
          alias: CHAMPION_ALIAS,
          toVersion: parsed.version,
          expectedVersion: parsed.expectedChampion,
          reason: parsed.reason,
          workflowId: parsed.workflowId,
          runId: parsed.runId,
          action: 'promote',
          at,
        });
        if (champion.changed && champion.fromVersion !== null) {
          const previous = this.currentAliasVersion(parsed.model, PREVIOUS_ALIAS);
          const moved = this.compareAndSetAlias({
            model: parsed.model,
            alias: PREVIOUS_ALIAS,
            toVersion: champion.fromVersion,
            expectedVersion: previous,
            reason: parsed.reason,
            workflowId: parsed.workflowId,
            runId: parsed.runId,
            action: 'promote',
            at,
          });
          // Cannot lose: the expected value was read inside this same write transaction.
          if (!moved.moved) throw new Error(`registry ${this.dbPath}: ${moved.reason}`);
        }
        return { promoted: champion.moved, champion: champion.version, reason: champion.reason };
      })
      .immediate();
  }

  // Must run inside a write transaction: the read of the alias and the write that depends on it are one step.
  private compareAndSetAlias(move: {
    model: string;
    alias: string;
    toVersion: number | null;
    expectedVersion: number | null;
    reason: string;
    workflowId: string;
    runId: string;
    action: 'move' | 'promote' | 'rollback';
    at: string;
  }): CasOutcome {
    const { model, alias, toVersion, expectedVersion, action } = move;
    if (toVersion !== null && this.getVersion(model, toVersion) === null) {
      const latest = this.db
        .prepare<[string], { latest: number | null }>('SELECT MAX(version) AS latest FROM versions WHERE model = ?')
        .get(model)?.latest;
      throw new ConfigError(
        `registry ${this.dbPath}: model ${JSON.stringify(model)} has no version ${toVersion} ` +
          `(${latest === null || latest === undefined ? 'no versions registered' : `versions are 1..${latest}`}); cannot ${action} ${alias}`,
      );
    }
    const current = this.currentAliasVersion(model, alias);

    // A retry of this run's own move: the effect already happened, so report it and write nothing.
    // Keyed by the expected version too: one run may move the same alias to the same place twice on purpose (the
    // shadow alias is cleared after the shadow window and again after the guard window).
    if (
      this.findAuditRow({ model, alias, action, workflowId: move.workflowId, runId: move.runId, toVersion, fromVersion: expectedVersion }) !==
      undefined
    ) {
      const reason =
        current === toVersion
          ? `${alias} is ${versionLabel(toVersion)} (already moved by this run)`
          : `this run already moved ${alias} to ${versionLabel(toVersion)}; it has since moved to ${versionLabel(current)}`;
      return { moved: true, changed: false, version: current, fromVersion: current, reason };
    }

    if (current !== expectedVersion) {
      const reason = `${alias} is ${versionLabel(current)}, expected ${versionLabel(expectedVersion)}`;
      const rejected: AuditAction = `${action}-rejected`;
      const alreadyRecorded = this.findAuditRow({
        model,
        alias,
        action: rejected,
        workflowId: move.workflowId,
        runId: move.runId,
        toVersion,
        fromVersion: current,
      });
      if (alreadyRecorded === undefined) {
        this.insertAudit({
          model,
          alias,
          action: rejected,
          from_version: current,
          to_version: toVersion,
          reason: `${reason}; requested: ${move.reason}`,
          workflow_id: move.workflowId,
          run_id: move.runId,
          at: move.at,
        });
      }
      return { moved: false, changed: false, version: current, fromVersion: current, reason };
    }

    if (current === toVersion) {
      return { moved: true, changed: false, version: current, fromVersion: current, reason: `${alias} is already ${versionLabel(current)}` };
    }

    if (toVersion === null) {
      this.db.prepare<[string, string]>('DELETE FROM aliases WHERE model = ? AND alias = ?').run(model, alias);
    } else {
      this.db
        .prepare<[string, string, number, string]>(
          `INSERT INTO aliases (model, alias, version, updated_at) VALUES (?, ?, ?, ?)
           ON CONFLICT (model, alias) DO UPDATE SET version = excluded.version, updated_at = excluded.updated_at`,
        )
        .run(model, alias, toVersion, move.at);
    }
    this.insertAudit({
      model,
      alias,
      action,
      from_version: current,
      to_version: toVersion,
      reason: move.reason,
      workflow_id: move.workflowId,
      run_id: move.runId,
      at: move.at,
    });
    return {
      moved: true,
      changed: true,
      version: toVersion,
      fromVersion: current,
      reason: `${alias} moved from ${versionLabel(current)} to ${versionLabel(toVersion)}`,
    };
  }

  private currentAliasVersion(model: string, alias: string): number | null {
    const row = this.db
      .prepare<[string, string], { version: number }>('SELECT version FROM aliases WHERE model = ? AND alias = ?')
      .get(model, alias);
    return row?.version ?? null;
  }

  private findAuditRow(key: {
    model: string;
    alias: string;
    action: AuditAction;
    workflowId: string;
    runId: string;
    toVersion: number | null;
    fromVersion?: number | null;
  }): { id: number } | undefined {
    const checkFrom = key.fromVersion !== undefined;
    return this.db
      .prepare<[string, string, string, string, string, number | null, number, number | null], { id: number }>(
        `SELECT id FROM audit_log
         WHERE model = ? AND alias = ? AND action = ? AND workflow_id = ? AND run_id = ? AND to_version IS ?
           AND (? = 0 OR from_version IS ?)
         ORDER BY id LIMIT 1`,
      )
      .get(key.model, key.alias, key.action, key.workflowId, key.runId, key.toVersion, checkFrom ? 1 : 0, key.fromVersion ?? null);
  }

  private insertAudit(row: AuditInsert): void {
    this.db
      .prepare<AuditInsert>(
        `INSERT INTO audit_log (model, alias, action, from_version, to_version, reason, workflow_id, run_id, at)
         VALUES (@model, @alias, @action, @from_version, @to_version, @reason, @workflow_id, @run_id, @at)`,
      )
      .run(row);
  }

  private versionFromRow(row: VersionRow): VersionRecord {
    const where = `versions row (${row.model}, v${row.version})`;
    return this.parseStored(VersionRecordSchema, where, {
      model: row.model,
      version: row.version,
      artifactUri: row.artifact_uri,
      artifactSha256: row.artifact_sha256,
      sizeBytes: row.size_bytes,
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
        `registry ${this.dbPath}: ${where}: column ${column} is not valid JSON (${err instanceof Error ? err.message : String(err)})`,
      );
    }
  }

  // Rows are data from disk: another tool may have written them, so they are checked like any input.
  private parseStored<T>(schema: z.ZodType<T>, where: string, value: unknown): T {
    const result = schema.safeParse(value);
    if (!result.success) {
      throw new ArtifactIntegrityError(`registry ${this.dbPath}: ${where} is malformed:\n${z.prettifyError(result.error)}`);
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

function versionLabel(version: number | null): string {
  return version === null ? 'unset' : `v${version}`;
}
