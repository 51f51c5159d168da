import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { CHAMPION_ALIAS, REGISTRY_MIGRATIONS, REGISTRY_SCHEMA_VERSION } from '../../src/registry';
import type { RegisterVersionInput, RegistryStore } from '../../src/registry';
import { rawPostgres } from '../helpers/postgres';
import { BACKENDS, type RegistryBackend, cleanupBackends, postgresBackend, postgresPasswordFile, sqliteBackend } from './backends';

after(() => cleanupBackends());

function versionInput(runId: string): RegisterVersionInput {
  return {
    model: 'flights',
    artifactUri: `store://models/${'a'.repeat(64)}/model.onnx`,
    artifactSha256: 'a'.repeat(64),
    sizeBytes: 10,
    snapshotUri: `store://snapshots/${'b'.repeat(64)}/snapshot.arrow`,
    snapshotSha256: 'b'.repeat(64),
    params: {},
    metrics: {},
    gate: {},
    lineage: {},
    workflowId: 'retrain/flights',
    runId,
  };
}

// The v1 schema as the first release wrote it (no evaluations table).
const V1_SQL = `
CREATE TABLE versions (model TEXT NOT NULL, version INTEGER NOT NULL, artifact_uri TEXT NOT NULL, artifact_sha256 TEXT NOT NULL,
  size_bytes INTEGER NOT NULL, snapshot_uri TEXT NOT NULL, snapshot_sha256 TEXT NOT NULL, params TEXT NOT NULL, metrics TEXT NOT NULL,
  gate TEXT NOT NULL, lineage TEXT NOT NULL, workflow_id TEXT NOT NULL, run_id TEXT NOT NULL, created_at TEXT NOT NULL,
  PRIMARY KEY (model, version), UNIQUE (model, workflow_id, run_id)) STRICT;
CREATE TABLE aliases (model TEXT NOT NULL, alias TEXT NOT NULL, version INTEGER NOT NULL, updated_at TEXT NOT NULL,
  PRIMARY KEY (model, alias)) STRICT;
CREATE TABLE audit_log (id INTEGER PRIMARY KEY AUTOINCREMENT, model TEXT NOT NULL, alias TEXT NOT NULL, action TEXT NOT NULL,
  from_version INTEGER, to_version INTEGER, reason TEXT NOT NULL, workflow_id TEXT NOT NULL, run_id TEXT NOT NULL, at TEXT NOT NULL) STRICT;
`;

describe('migrations', () => {
  test('a schema-1 SQLite registry is migrated in place and keeps its versions and aliases', async () => {
    const file = await sqliteBackend.fresh();
    await sqliteBackend.open(file).close();
    // Rebuild the file as schema 1 with one version and a champion.
    const raw = new Database(file);
    raw.exec('DROP TABLE evaluations; DROP TABLE aliases; DROP TABLE audit_log; DROP TABLE versions;');
    raw.exec(V1_SQL);
    raw
      .prepare(
        `INSERT INTO versions VALUES ('flights', 1, 'store://m', '${'a'.repeat(64)}', 10, 'store://s', '${'b'.repeat(64)}', '{}', '{}', '{}', '{}', 'w', 'r', '2025-01-01T00:00:00.000Z')`,
      )
      .run();
    raw.prepare(`INSERT INTO aliases VALUES ('flights', 'champion', 1, '2025-01-01T00:00:00.000Z')`).run();
    raw.pragma('user_version = 1');
    raw.close();

    const registry = sqliteBackend.open(file);
    try {
      assert.equal((await registry.getAlias('flights', CHAMPION_ALIAS))?.version, 1);
      assert.equal((await registry.listVersions('flights')).length, 1);
      const recorded = await registry.recordEvaluation({
        model: 'flights', version: 1, phase: 'guard', decision: 'kept', reason: 'r', evidence: { rows: 3 }, workflowId: 'w', runId: 'r',
      });
      assert.equal(recorded.decision, 'kept');
    } finally {
      await registry.close();
    }
    const check = new Database(file);
    assert.equal(check.pragma('user_version', { simple: true }), REGISTRY_SCHEMA_VERSION);
    check.close();
  });

  test('a schema-1 PostgreSQL registry gains migration 2 at start-up, the same list SQLite uses', async () => {
    const url = await postgresBackend.fresh();
    // The database as a release with only migration 1 left it: its tables, one version and a champion.
    await postgresBackend.rawSql(url, `${REGISTRY_MIGRATIONS[0]!.postgres}
      CREATE TABLE relearn_schema (version INTEGER NOT NULL); INSERT INTO relearn_schema VALUES (1);
      INSERT INTO versions VALUES ('flights', 1, 'store://m', '${'a'.repeat(64)}', 10, 'store://s', '${'b'.repeat(64)}', '{}', '{}', '{}', '{}', 'w', 'r', '2025-01-01T00:00:00.000Z');
      INSERT INTO aliases VALUES ('flights', 'champion', 1, '2025-01-01T00:00:00.000Z');`);
    const registry = postgresBackend.open(url);
    try {
      await registry.ready();
      assert.equal((await registry.getAlias('flights', CHAMPION_ALIAS))?.version, 1);
      const recorded = await registry.recordEvaluation({
        model: 'flights', version: 1, phase: 'guard', decision: 'kept', reason: 'r', evidence: { rows: 3 }, workflowId: 'w', runId: 'r',
      });
      assert.deepEqual(recorded.evidence, { rows: 3 });
    } finally {
      await registry.close();
    }
    // Two processes starting at once would both see version 1; the advisory lock lets only one migrate.
    const again = [postgresBackend.open(url), postgresBackend.open(url)];
    await Promise.all(again.map((r) => r.ready()));
    await Promise.all(again.map((r) => r.close()));
    const { rows } = await rawPostgres(url, postgresPasswordFile(), 'SELECT version FROM relearn_schema');
    assert.deepEqual(rows, [{ version: REGISTRY_SCHEMA_VERSION }]);
  });
});

function evaluationSuite(backend: RegistryBackend): void {
  describe('live-traffic evaluations', () => {
    test('a retried record returns the first one; rows are append-only; an unknown version is refused', async () => {
      const registry = backend.open(await backend.fresh());
      try {
        await registry.registerVersion(versionInput('run-1'));
        const first = await registry.recordEvaluation({
          model: 'flights', version: 1, phase: 'shadow', decision: 'promote', reason: 'not worse', evidence: { diff: 0.01, rows: 800 },
          workflowId: 'retrain/flights', runId: 'run-2',
        });
        const again = await registry.recordEvaluation({
          model: 'flights', version: 1, phase: 'shadow', decision: 'reject', reason: 'other', evidence: {},
          workflowId: 'retrain/flights', runId: 'run-2',
        });
        assert.deepEqual(again, first);
        assert.deepEqual(first.evidence, { diff: 0.01, rows: 800 });
        await registry.recordEvaluation({
          model: 'flights', version: 1, phase: 'guard', decision: 'kept', reason: 'fine', evidence: {}, workflowId: 'retrain/flights', runId: 'run-2',
        });
        assert.deepEqual((await registry.listEvaluations('flights', 1)).map((e) => e.phase), ['shadow', 'guard']);
        assert.equal((await registry.listEvaluations('flights', 2)).length, 0);
        await assert.rejects(() => registry.recordEvaluation({ model: 'flights', version: 9, phase: 'shadow', decision: 'x', reason: 'x', evidence: {}, workflowId: 'w', runId: 'r' }),
          { name: 'ConfigError', message: /has no version 9/ },
        );
        await assert.rejects(backend.rawSql(registry.location, "UPDATE evaluations SET decision = 'reject'"), /append-only/);
        await assert.rejects(backend.rawSql(registry.location, 'DELETE FROM evaluations'), /append-only/);
      } finally {
        await registry.close();
      }
    });
  });

  describe('shadow alias moves', () => {
    test('one run may point the same alias at the same place twice from different versions; a retry still writes once', async () => {
      const registry = backend.open(await backend.fresh());
      try {
        for (const run of ['run-1', 'run-2']) await registry.registerVersion(versionInput(run));
        const move = async (toVersion: number | null, expectedVersion: number | null) =>
          registry.moveAlias({ model: 'flights', alias: 'shadow', toVersion, expectedVersion, reason: 'window', workflowId: 'retrain/flights', runId: 'run-2' });
        assert.equal((await move(2, null)).moved, true);
        assert.equal((await move(null, 2)).moved, true);
        assert.equal((await move(1, null)).moved, true);
        assert.equal((await move(null, 1)).moved, true);
        // Retry of the last clear: reported as done, no new row.
        assert.equal((await move(null, 1)).moved, true);
        assert.equal(await registry.getAlias('flights', 'shadow'), null);
        assert.deepEqual((await registry.auditLog('flights')).map((e) => `${e.fromVersion}->${e.toVersion}`), ['null->2', '2->null', 'null->1', '1->null']);
      } finally {
        await registry.close();
      }
    });
  });

  describe('rollback races', () => {
    async function promoted(): Promise<RegistryStore> {
      const registry = backend.open(await backend.fresh());
      for (const run of ['run-1', 'run-2']) await registry.registerVersion(versionInput(run));
      await registry.promote({ model: 'flights', version: 1, expectedChampion: null, reason: 'first', workflowId: 'retrain/flights', runId: 'run-1' });
      await registry.promote({ model: 'flights', version: 2, expectedChampion: 1, reason: 'better', workflowId: 'retrain/flights', runId: 'run-2' });
      return registry;
    }

    test('two rollbacks of the same champion: one moves it, the other is recorded as rejected', async () => {
      const registry = await promoted();
      try {
        const rollback = async (runId: string) =>
          registry.moveAlias({
            model: 'flights', alias: CHAMPION_ALIAS, toVersion: 1, expectedVersion: 2, reason: `regressed (${runId})`,
            workflowId: 'retrain/flights', runId, action: 'rollback',
          });
        const a = await rollback('run-2');
        const b = await rollback('cli');
        assert.equal(a.moved, true);
        assert.equal(b.moved, false);
        assert.match(b.reason, /champion is v1, expected v2/);
        // A retry of the first rollback (same run) reports success without a second row.
        assert.equal((await rollback('run-2')).moved, true);
        assert.equal((await registry.getAlias('flights', CHAMPION_ALIAS))?.version, 1);
        const rows = (await registry.auditLog('flights')).filter((e) => e.alias === CHAMPION_ALIAS).map((e) => `${e.action} ${e.fromVersion}->${e.toVersion}`);
        assert.deepEqual(rows, ['promote null->1', 'promote 1->2', 'rollback 2->1', 'rollback-rejected 1->1']);
      } finally {
        await registry.close();
      }
    });

    test('a rollback racing a new promotion: whichever comes second loses, and the audit log says why', async () => {
      const registry = await promoted();
      try {
        await registry.registerVersion(versionInput('run-3'));
        const promotion = await registry.promote({ model: 'flights', version: 3, expectedChampion: 2, reason: 'newer', workflowId: 'retrain/flights', runId: 'run-3' });
        const rollback = await registry.moveAlias({
          model: 'flights', alias: CHAMPION_ALIAS, toVersion: 1, expectedVersion: 2, reason: 'v2 regressed',
          workflowId: 'retrain/flights', runId: 'run-2', action: 'rollback',
        });
        assert.equal(promotion.promoted, true);
        assert.equal(rollback.moved, false);
        assert.equal((await registry.getAlias('flights', CHAMPION_ALIAS))?.version, 3);
        const last = (await registry.auditLog('flights')).at(-1)!;
        assert.equal(last.action, 'rollback-rejected');
        assert.match(last.reason, /champion is v3, expected v2 \(moved by someone else\); requested: v2 regressed/);
      } finally {
        await registry.close();
      }
    });
  });
}

for (const backend of BACKENDS) describe(backend.name, () => evaluationSuite(backend));
