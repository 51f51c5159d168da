// The registry's schema as one ordered list of migrations, applied at start-up on either backend. A database records
// the number of the last migration it holds (SQLite: `PRAGMA user_version`; PostgreSQL: the `relearn_schema` table)
// and gains the later ones in order, each in the same transaction as the new number. Both dialects describe the same
// tables, keys and append-only rules, so the registry's code runs the same statements on both.

/** One step of the registry's schema, in each backend's dialect. */
export interface RegistryMigration {
  /** Position in the list, from 1; a database at version n has applied migrations 1..n. */
  version: number;
  description: string;
  sqlite: string;
  postgres: string;
}

// Versions and audit rows are append-only: triggers refuse UPDATE and DELETE even from other tools.
const SQLITE_V1 = `
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

// The same tables in PostgreSQL. Ids are INTEGER identities (pg returns them as numbers; BIGINT would come back as
// text); the append-only rule also refuses TRUNCATE, which skips row triggers.
const POSTGRES_V1 = `
CREATE OR REPLACE FUNCTION relearn_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION '%', TG_ARGV[0]; END $$;

CREATE TABLE versions (
  model           TEXT    NOT NULL,
  version         INTEGER NOT NULL CHECK (version >= 1),
  artifact_uri    TEXT    NOT NULL,
  artifact_sha256 TEXT    NOT NULL,
  size_bytes      BIGINT  NOT NULL CHECK (size_bytes >= 0),
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
);
CREATE TRIGGER versions_no_change BEFORE UPDATE OR DELETE ON versions
  FOR EACH ROW EXECUTE FUNCTION relearn_refuse_change('registered model versions are immutable');
CREATE TRIGGER versions_no_truncate BEFORE TRUNCATE ON versions
  FOR EACH STATEMENT EXECUTE FUNCTION relearn_refuse_change('registered model versions are immutable');

CREATE TABLE aliases (
  model      TEXT    NOT NULL,
  alias      TEXT    NOT NULL,
  version    INTEGER NOT NULL,
  updated_at TEXT    NOT NULL,
  PRIMARY KEY (model, alias),
  FOREIGN KEY (model, version) REFERENCES versions (model, version)
);

CREATE TABLE audit_log (
  id           INTEGER GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  model        TEXT    NOT NULL,
  alias        TEXT    NOT NULL,
  action       TEXT    NOT NULL,
  from_version INTEGER,
  to_version   INTEGER,
  reason       TEXT    NOT NULL,
  workflow_id  TEXT    NOT NULL,
  run_id       TEXT    NOT NULL,
  at           TEXT    NOT NULL
);
CREATE INDEX audit_log_by_run ON audit_log (model, alias, workflow_id, run_id);
CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log
  FOR EACH ROW EXECUTE FUNCTION relearn_refuse_change('the audit log is append-only');
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
  FOR EACH STATEMENT EXECUTE FUNCTION relearn_refuse_change('the audit log is append-only');
`;

const SQLITE_V2 = `
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

const POSTGRES_V2 = `
CREATE TABLE evaluations (
  id          INTEGER GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
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
);
CREATE TRIGGER evaluations_no_change BEFORE UPDATE OR DELETE ON evaluations
  FOR EACH ROW EXECUTE FUNCTION relearn_refuse_change('evaluations are append-only');
CREATE TRIGGER evaluations_no_truncate BEFORE TRUNCATE ON evaluations
  FOR EACH STATEMENT EXECUTE FUNCTION relearn_refuse_change('evaluations are append-only');
`;

/** Every migration of the registry's schema, oldest first. */
export const REGISTRY_MIGRATIONS: readonly RegistryMigration[] = [
  { version: 1, description: 'versions, aliases and the alias audit log', sqlite: SQLITE_V1, postgres: POSTGRES_V1 },
  // Live-traffic evaluations (shadow and guard windows, approvals) with their evidence.
  { version: 2, description: 'live-traffic evaluations', sqlite: SQLITE_V2, postgres: POSTGRES_V2 },
];

/** The schema version this code writes and understands: the last migration's. */
export const REGISTRY_SCHEMA_VERSION = REGISTRY_MIGRATIONS.length;
