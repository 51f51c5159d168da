import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { ArtifactIntegrityError, ConfigError } from '../../src/errors';
import type { AuditEntry, RegisterVersionInput } from '../../src/registry';
import { BACKENDS, type RegistryBackend, cleanupBackends, postgresPasswordFile } from './backends';

const projectRoot = path.resolve(import.meta.dirname, '..', '..');

after(() => cleanupBackends());

/** A clock that moves one second per reading, so each call's single reading is visible in the rows. */
function steppingClock(startIso = '2025-01-01T00:00:00.000Z'): { clock: () => Date; readings: () => number } {
  let count = 0;
  const start = Date.parse(startIso);
  return {
    clock: () => new Date(start + 1000 * count++),
    readings: () => count,
  };
}

const digest = (text: string): string => createHash('sha256').update(text).digest('hex');

function versionInput(model: string, runId: string, overrides: Partial<RegisterVersionInput> = {}): RegisterVersionInput {
  return {
    model,
    artifactUri: `store://models/${digest(`model-${runId}`)}/model.onnx`,
    artifactSha256: digest(`model-${runId}`),
    sizeBytes: 1234,
    snapshotUri: `store://snapshots/${digest('snap')}/snapshot.arrow`,
    snapshotSha256: digest('snap'),
    params: { maxDepth: 6, learningRate: 0.1, features: ['distance', 'origin'] },
    metrics: { f1: { mean: 0.81, std: 0.02, ci95: [0.78, 0.84] }, auc: 0.9 },
    gate: { decision: 'PASS', reasons: ['f1 0.81 >= 0.75'] },
    lineage: { splitUri: 'store://splits/x/split.arrow', trigger: 'manual', folds: 5 },
    workflowId: `retrain/${model}`,
    runId,
    ...overrides,
  };
}

function auditSummary(entries: AuditEntry[]): string[] {
  const label = (v: number | null): string => (v === null ? '-' : `v${v}`);
  return entries.map((e) => `${e.action} ${e.alias} ${label(e.fromVersion)}->${label(e.toVersion)} ${e.runId}`);
}

/** Starts `racers` promote-racer processes (v2.. promoted from a stale v1), lets them go together, returns what each got. */
async function race(location: string, racers: number): Promise<Array<{ version: number; promoted: boolean; champion: number; reason: string }>> {
  const script = path.join(projectRoot, 'test', 'registry', 'promote-racer.ts');
  const children = Array.from({ length: racers }, (_, i) =>
    spawn(process.execPath, ['--import', 'tsx', script, location, 'flights', String(i + 2), '1', `run-${i + 1}`], {
      cwd: projectRoot,
      env: { ...process.env, RELEARN_TEST_PGPASSFILE: postgresPasswordFile() },
      stdio: ['pipe', 'pipe', 'inherit'],
    }),
  );
  const outputs = children.map((child) => {
    let text = '';
    const ready = new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => {
        text += chunk.toString();
        if (text.startsWith('ready\n')) resolve();
      });
      child.on('exit', (code) => reject(new Error(`a racer exited ${String(code)} before it was ready: ${text}`)));
    });
    const done = new Promise<string>((resolve, reject) =>
      child.on('exit', (code) => (code === 0 ? resolve(text.slice('ready\n'.length)) : reject(new Error(`a racer exited ${String(code)}: ${text}`)))),
    );
    return { ready, done };
  });
  await Promise.all(outputs.map((o) => o.ready));
  for (const child of children) child.stdin.end('go\n');
  return (await Promise.all(outputs.map((o) => o.done))).map((line) => JSON.parse(line) as { version: number; promoted: boolean; champion: number; reason: string });
}

// The same suite on both backends: what a caller sees must not depend on where the registry lives.
function registrySuite(backend: RegistryBackend): void {
  describe('versions', () => {
    test('numbers versions per model from 1 and stores every field', async () => {
      const { clock } = steppingClock();
      const registry = backend.open(await backend.fresh(), { clock });
      try {
        const v1 = await registry.registerVersion(versionInput('flights', 'run-1'));
        const v2 = await registry.registerVersion(versionInput('flights', 'run-2'));
        const other = await registry.registerVersion(versionInput('churn', 'run-1'));
        const v3 = await registry.registerVersion(versionInput('flights', 'run-3'));
        assert.deepEqual([v1.version, v2.version, v3.version, other.version], [1, 2, 3, 1]);

        assert.deepEqual(v1, { ...versionInput('flights', 'run-1'), version: 1, createdAt: '2025-01-01T00:00:00.000Z' });
        assert.deepEqual(await registry.getVersion('flights', 2), v2);
        assert.deepEqual(await registry.getVersionByRun('flights', 'retrain/flights', 'run-3'), v3);
        assert.equal(await registry.getVersion('flights', 4), null);
        assert.equal(await registry.getVersionByRun('flights', 'retrain/flights', 'run-9'), null);
        assert.deepEqual(
          (await registry.listVersions('flights')).map((v) => v.version),
          [1, 2, 3],
        );
        assert.deepEqual(await registry.listVersions('unknown'), []);
      } finally {
        await registry.close();
      }
    });

    test('registering again with the same (model, workflowId, runId) returns the first record', async () => {
      const { clock, readings } = steppingClock();
      const registry = backend.open(await backend.fresh(), { clock });
      try {
        const first = await registry.registerVersion(versionInput('flights', 'run-1'));
        // A retried activity may have re-exported different bytes; the first registration stands.
        const retry = await registry.registerVersion(
          versionInput('flights', 'run-1', { artifactSha256: digest('other'), sizeBytes: 99 }),
        );
        assert.deepEqual(retry, first);
        assert.equal((await registry.listVersions('flights')).length, 1);
        assert.equal(readings(), 2, 'one clock reading per call');

        const sameRunOtherWorkflow = await registry.registerVersion(
          versionInput('flights', 'run-1', { workflowId: 'retrain/flights-backfill' }),
        );
        assert.equal(sameRunOtherWorkflow.version, 2);
        assert.equal((await registry.registerVersion(versionInput('churn', 'run-1'))).version, 1, 'the key includes the model');
      } finally {
        await registry.close();
      }
    });

    test('invalid input is a ConfigError naming the field', async () => {
      const registry = backend.open(await backend.fresh());
      try {
        await assert.rejects(() => registry.registerVersion(versionInput('flights', 'run-1', { artifactSha256: 'abc' })),
          (err: unknown) => {
            assert.ok(err instanceof ConfigError);
            assert.match(err.message, /Registry\.registerVersion: invalid input/);
            assert.match(err.message, /at artifactSha256/);
            return true;
          },
        );
        await assert.rejects(() => registry.registerVersion(versionInput('../flights', 'run-1')), { name: 'ConfigError', message: /at model/ });
        await assert.rejects(() => registry.registerVersion(versionInput('flights', 'run-1', { params: { bad: undefined } as unknown as RegisterVersionInput['params'] })),
          { name: 'ConfigError', message: /at params\.bad/ },
        );
        assert.deepEqual(await registry.listModels(), []);
      } finally {
        await registry.close();
      }
    });

    test('versions and the audit log cannot be changed, even with plain SQL', async () => {
      const location = await backend.fresh();
      const registry = backend.open(location);
      await registry.registerVersion(versionInput('flights', 'run-1'));
      await registry.promote({ model: 'flights', version: 1, expectedChampion: null, reason: 'first', workflowId: 'w', runId: 'r' });
      await registry.close();

      await assert.rejects(backend.rawSql(location, "UPDATE versions SET artifact_sha256 = 'x'"), /registered model versions are immutable/);
      await assert.rejects(backend.rawSql(location, 'DELETE FROM versions'), /registered model versions are immutable/);
      await assert.rejects(backend.rawSql(location, "UPDATE audit_log SET reason = 'x'"), /the audit log is append-only/);
      await assert.rejects(backend.rawSql(location, 'DELETE FROM audit_log'), /the audit log is append-only/);
      if (backend.name === 'postgres') {
        // TRUNCATE skips row triggers; a statement trigger refuses it too.
        await assert.rejects(backend.rawSql(location, 'TRUNCATE audit_log'), /the audit log is append-only/);
        await assert.rejects(backend.rawSql(location, 'TRUNCATE evaluations'), /evaluations are append-only/);
      }
      const check = backend.open(location);
      try {
        assert.equal((await check.listVersions('flights'))[0]?.artifactSha256, digest('model-run-1'));
        assert.equal((await check.auditLog('flights')).length, 1);
      } finally {
        await check.close();
      }
    });

    test('rows damaged outside Relearn are reported when read, naming the row and column', async () => {
      const location = await backend.fresh();
      const seed = backend.open(location);
      await seed.registerVersion(versionInput('flights', 'run-1'));
      await seed.registerVersion(versionInput('flights', 'run-2'));
      await seed.close();

      await backend.rawSql(location, backend.dropVersionGuard);
      await backend.rawSql(location, "UPDATE versions SET params = '{not json' WHERE version = 1");
      await backend.rawSql(location, "UPDATE versions SET metrics = '[1, 2]' WHERE version = 2");

      const registry = backend.open(location);
      try {
        await assert.rejects(() => registry.getVersion('flights', 1), (err: unknown) => {
          assert.ok(err instanceof ArtifactIntegrityError);
          assert.match(err.message, /versions row \(flights, v1\): column params is not valid JSON/);
          assert.ok(err.message.includes(`registry ${registry.location}:`), err.message);
          return true;
        });
        await assert.rejects(() => registry.getVersion('flights', 2), {
          name: 'ArtifactIntegrityError',
          message: /versions row \(flights, v2\) is malformed:[\s\S]*at metrics/,
        });
      } finally {
        await registry.close();
      }
    });

    test('a database with a different schema version is refused', async () => {
      const location = await backend.fresh();
      const first = backend.open(location);
      await first.ready();
      await first.close();
      await backend.rawSql(location, backend.setSchemaVersion(7));
      await assert.rejects(
        async () => {
          const registry = backend.open(location);
          try {
            await registry.ready();
          } finally {
            await registry.close();
          }
        },
        { name: 'ConfigError', message: /schema version 7, expected 2 \(written by a different Relearn version\)/ },
      );
    });
  });

  describe('promote', () => {
    test('compare-and-set success moves champion and previous, one audit row per alias, one clock reading', async () => {
      const { clock } = steppingClock();
      const registry = backend.open(await backend.fresh(), { clock });
      try {
        for (const run of ['run-1', 'run-2', 'run-3']) await registry.registerVersion(versionInput('flights', run));

        const first = await registry.promote({ model: 'flights', version: 1, expectedChampion: null, reason: 'first model', workflowId: 'retrain/flights', runId: 'run-1' });
        assert.deepEqual(first, { promoted: true, champion: 1, reason: 'champion moved from unset to v1' });
        assert.equal(await registry.getAlias('flights', 'previous'), null, 'no champion was replaced');

        const second = await registry.promote({ model: 'flights', version: 2, expectedChampion: 1, reason: 'f1 +0.03', workflowId: 'retrain/flights', runId: 'run-2' });
        assert.deepEqual(second, { promoted: true, champion: 2, reason: 'champion moved from v1 to v2' });
        assert.equal((await registry.getAlias('flights', 'champion'))?.version, 2);
        assert.equal((await registry.getAlias('flights', 'previous'))?.version, 1);

        const third = await registry.promote({ model: 'flights', version: 3, expectedChampion: 2, reason: 'f1 +0.01', workflowId: 'retrain/flights', runId: 'run-3' });
        assert.equal(third.promoted, true);
        assert.deepEqual(
          (await registry.listAliases('flights')).map((a) => [a.alias, a.version]),
          [['champion', 3], ['previous', 2]],
        );

        const log = await registry.auditLog('flights');
        assert.deepEqual(auditSummary(log), [
          'promote champion -->v1 run-1',
          'promote champion v1->v2 run-2',
          'promote previous -->v1 run-2',
          'promote champion v2->v3 run-3',
          'promote previous v1->v2 run-3',
        ]);
        // Registration used readings 0-2; each promote read the clock once and stamped all its rows with it.
        assert.deepEqual(
          log.map((e) => e.at),
          ['2025-01-01T00:00:03.000Z', '2025-01-01T00:00:04.000Z', '2025-01-01T00:00:04.000Z', '2025-01-01T00:00:05.000Z', '2025-01-01T00:00:05.000Z'],
        );
        assert.equal(log[1]?.reason, 'f1 +0.03');
        assert.equal((await registry.getAlias('flights', 'champion'))?.updatedAt, '2025-01-01T00:00:05.000Z');
      } finally {
        await registry.close();
      }
    });

    test('compare-and-set failure changes nothing but records the lost race', async () => {
      const registry = backend.open(await backend.fresh());
      try {
        for (const run of ['run-1', 'run-2', 'run-3']) await registry.registerVersion(versionInput('flights', run));
        await registry.promote({ model: 'flights', version: 1, expectedChampion: null, reason: 'first', workflowId: 'w', runId: 'run-1' });
        await registry.promote({ model: 'flights', version: 3, expectedChampion: 1, reason: 'better', workflowId: 'w', runId: 'run-3' });

        const lost = await registry.promote({ model: 'flights', version: 2, expectedChampion: 1, reason: 'stale view', workflowId: 'w', runId: 'run-2' });
        assert.deepEqual(lost, { promoted: false, champion: 3, reason: 'champion is v3, expected v1 (moved by someone else)' });
        const fromNothing = await registry.promote({ model: 'flights', version: 2, expectedChampion: null, reason: 'thinks it is first', workflowId: 'w', runId: 'run-2b' });
        assert.deepEqual(fromNothing, { promoted: false, champion: 3, reason: 'champion is v3, expected unset (moved by someone else)' });

        assert.equal((await registry.getAlias('flights', 'champion'))?.version, 3);
        assert.equal((await registry.getAlias('flights', 'previous'))?.version, 1);
        const log = await registry.auditLog('flights');
        assert.deepEqual(auditSummary(log).slice(-2), [
          'promote-rejected champion v3->v2 run-2',
          'promote-rejected champion v3->v2 run-2b',
        ]);
        assert.equal(log.at(-2)?.reason, 'champion is v3, expected v1 (moved by someone else); requested: stale view');

        // Retrying the lost attempt does not pile up identical rejection rows.
        await registry.promote({ model: 'flights', version: 2, expectedChampion: 1, reason: 'stale view', workflowId: 'w', runId: 'run-2' });
        assert.equal((await registry.auditLog('flights')).length, log.length);
      } finally {
        await registry.close();
      }
    });

    test('a retried promote from the same run succeeds without new audit rows', async () => {
      const registry = backend.open(await backend.fresh());
      try {
        await registry.registerVersion(versionInput('flights', 'run-1'));
        await registry.registerVersion(versionInput('flights', 'run-2'));
        await registry.promote({ model: 'flights', version: 1, expectedChampion: null, reason: 'first', workflowId: 'w', runId: 'run-1' });
        const input = { model: 'flights', version: 2, expectedChampion: 1, reason: 'better', workflowId: 'w', runId: 'run-2' };
        assert.equal((await registry.promote(input)).promoted, true);
        const rowsAfterFirst = await registry.auditLog('flights');

        // The activity timed out after committing and runs again with the same (now stale) expectation.
        const retry = await registry.promote(input);
        assert.deepEqual(retry, { promoted: true, champion: 2, reason: 'champion is v2 (already moved by this run)' });
        assert.deepEqual(await registry.auditLog('flights'), rowsAfterFirst);
        assert.equal((await registry.getAlias('flights', 'previous'))?.version, 1);

        // Asking for the champion it already is, with a matching expectation, is a no-op.
        assert.deepEqual(await registry.promote({ ...input, expectedChampion: 2, runId: 'run-y' }), {
          promoted: true,
          champion: 2,
          reason: 'champion is already v2',
        });
        assert.deepEqual(await registry.auditLog('flights'), rowsAfterFirst);

        // A different run asking for the same thing with a stale expectation loses and is recorded.
        const other = await registry.promote({ ...input, runId: 'run-x' });
        assert.deepEqual(other, { promoted: false, champion: 2, reason: 'champion is v2, expected v1 (moved by someone else)' });
        assert.equal((await registry.auditLog('flights')).length, rowsAfterFirst.length + 1);
      } finally {
        await registry.close();
      }
    });

    test('promoting a version that does not exist is a ConfigError and writes nothing', async () => {
      const registry = backend.open(await backend.fresh());
      try {
        await registry.registerVersion(versionInput('flights', 'run-1'));
        await assert.rejects(() => registry.promote({ model: 'flights', version: 5, expectedChampion: null, reason: 'x', workflowId: 'w', runId: 'r' }),
          { name: 'ConfigError', message: /model "flights" has no version 5 \(versions are 1\.\.1\); cannot promote champion/ },
        );
        await assert.rejects(() => registry.promote({ model: 'nope', version: 1, expectedChampion: null, reason: 'x', workflowId: 'w', runId: 'r' }),
          { name: 'ConfigError', message: /no versions registered/ },
        );
        assert.deepEqual(await registry.auditLog('flights'), []);
        assert.equal(await registry.getAlias('flights', 'champion'), null);
      } finally {
        await registry.close();
      }
    });
  });

  describe('moveAlias', () => {
    test('sets, moves and clears an alias by compare-and-set, with audit rows', async () => {
      const registry = backend.open(await backend.fresh());
      try {
        await registry.registerVersion(versionInput('flights', 'run-1'));
        await registry.registerVersion(versionInput('flights', 'run-2'));
        const base = { model: 'flights', alias: 'shadow', workflowId: 'retrain/flights', runId: 'run-2' };

        assert.deepEqual(await registry.moveAlias({ ...base, toVersion: 2, expectedVersion: null, reason: 'start shadow' }), {
          moved: true,
          version: 2,
          reason: 'shadow moved from unset to v2',
        });
        assert.deepEqual(await registry.moveAlias({ ...base, runId: 'run-3', toVersion: 1, expectedVersion: null, reason: 'late' }), {
          moved: false,
          version: 2,
          reason: 'shadow is v2, expected unset (moved by someone else)',
        });
        assert.deepEqual(await registry.moveAlias({ ...base, toVersion: null, expectedVersion: 2, reason: 'shadow done' }), {
          moved: true,
          version: null,
          reason: 'shadow moved from v2 to unset',
        });
        assert.equal(await registry.getAlias('flights', 'shadow'), null);

        await registry.promote({ model: 'flights', version: 1, expectedChampion: null, reason: 'first', workflowId: 'w', runId: 'run-1' });
        await registry.promote({ model: 'flights', version: 2, expectedChampion: 1, reason: 'better', workflowId: 'w', runId: 'run-2' });
        const rollback = await registry.moveAlias({
          model: 'flights',
          alias: 'champion',
          toVersion: 1,
          expectedVersion: 2,
          reason: 'guard: f1 dropped',
          workflowId: 'w',
          runId: 'run-2',
          action: 'rollback',
        });
        assert.deepEqual(rollback, { moved: true, version: 1, reason: 'champion moved from v2 to v1' });

        assert.deepEqual(auditSummary(await registry.auditLog('flights')), [
          'move shadow -->v2 run-2',
          'move-rejected shadow v2->v1 run-3',
          'move shadow v2->- run-2',
          'promote champion -->v1 run-1',
          'promote champion v1->v2 run-2',
          'promote previous -->v1 run-2',
          'rollback champion v2->v1 run-2',
        ]);
      } finally {
        await registry.close();
      }
    });

    test('an alias cannot point at a version that does not exist', async () => {
      const registry = backend.open(await backend.fresh());
      try {
        await registry.registerVersion(versionInput('flights', 'run-1'));
        await assert.rejects(() => registry.moveAlias({ model: 'flights', alias: 'shadow', toVersion: 2, expectedVersion: null, reason: 'x', workflowId: 'w', runId: 'r' }),
          { name: 'ConfigError', message: /has no version 2/ },
        );
        await assert.rejects(() => registry.moveAlias({ model: 'flights', alias: 'bad/alias', toVersion: 1, expectedVersion: null, reason: 'x', workflowId: 'w', runId: 'r' }),
          { name: 'ConfigError', message: /at alias/ },
        );
      } finally {
        await registry.close();
      }
    });
  });

  describe('several connections on one file', () => {
    test('two registries interleaving register and promote: exactly one promotion wins, the log agrees', async () => {
      const dbPath = await backend.fresh();
      const a = backend.open(dbPath);
      const b = backend.open(dbPath);
      try {
        await a.registerVersion(versionInput('flights', 'run-0'));
        await a.promote({ model: 'flights', version: 1, expectedChampion: null, reason: 'first', workflowId: 'w', runId: 'run-0' });

        // Both runs register and read the champion before either promotes.
        const va = await a.registerVersion(versionInput('flights', 'run-a'));
        const vb = await b.registerVersion(versionInput('flights', 'run-b'));
        assert.deepEqual([va.version, vb.version], [2, 3]);
        const seenByA = (await a.getAlias('flights', 'champion'))?.version ?? null;
        const seenByB = (await b.getAlias('flights', 'champion'))?.version ?? null;
        assert.deepEqual([seenByA, seenByB], [1, 1]);

        const ra = await a.promote({ model: 'flights', version: va.version, expectedChampion: seenByA, reason: 'a', workflowId: 'w', runId: 'run-a' });
        const rb = await b.promote({ model: 'flights', version: vb.version, expectedChampion: seenByB, reason: 'b', workflowId: 'w', runId: 'run-b' });
        assert.deepEqual(ra, { promoted: true, champion: 2, reason: 'champion moved from v1 to v2' });
        assert.deepEqual(rb, { promoted: false, champion: 2, reason: 'champion is v2, expected v1 (moved by someone else)' });

        for (const registry of [a, b]) {
          assert.equal((await registry.getAlias('flights', 'champion'))?.version, 2);
          assert.equal((await registry.getAlias('flights', 'previous'))?.version, 1);
        }
        assert.deepEqual(await a.auditLog('flights'), await b.auditLog('flights'));
        assert.deepEqual(auditSummary(await b.auditLog('flights')), [
          'promote champion -->v1 run-0',
          'promote champion v1->v2 run-a',
          'promote previous -->v1 run-a',
          'promote-rejected champion v2->v3 run-b',
        ]);
      } finally {
        await a.close();
        await b.close();
      }
    });

    // The issue's race: 8 processes move `champion` from the same expected version at once (4 on a SQLite file, where
    // they queue on the file's lock anyway).
    const racers = backend.name === 'postgres' ? 8 : 4;
    test(`${racers} processes promoting at the same time against a stale champion: exactly one wins`, async () => {
      const location = await backend.fresh();
      const setup = backend.open(location);
      await setup.registerVersion(versionInput('flights', 'run-0'));
      await setup.promote({ model: 'flights', version: 1, expectedChampion: null, reason: 'first', workflowId: 'retrain/flights', runId: 'run-0' });
      for (let i = 1; i <= racers; i += 1) await setup.registerVersion(versionInput('flights', `run-${i}`));
      await setup.close();

      const results = await race(location, racers);
      const winners = results.filter((r) => r.promoted);
      assert.equal(winners.length, 1, JSON.stringify(results));
      const winner = winners[0]?.version;
      assert.equal(winners[0]?.reason, `champion moved from v1 to v${winner}`);
      for (const r of results.filter((x) => !x.promoted)) {
        assert.equal(r.champion, winner);
        assert.equal(r.reason, `champion is v${winner}, expected v1 (moved by someone else)`);
      }

      const registry = backend.open(location);
      try {
        assert.equal((await registry.getAlias('flights', 'champion'))?.version, winner);
        assert.equal((await registry.getAlias('flights', 'previous'))?.version, 1);
        const log = (await registry.auditLog('flights')).slice(1);
        // The history holds the one move that won (champion and previous) and every attempt that lost, once each.
        assert.deepEqual(
          auditSummary(log.filter((e) => e.action === 'promote')),
          [`promote champion v1->v${winner} run-${Number(winner) - 1}`, `promote previous -->v1 run-${Number(winner) - 1}`],
        );
        const rejected = log.filter((e) => e.action === 'promote-rejected');
        assert.equal(rejected.length, racers - 1);
        assert.deepEqual(new Set(rejected.map((e) => e.toVersion)).size, racers - 1, 'one row per losing racer');
        // Every rejection happened after the winning move and saw its result.
        const winningRow = log.find((e) => e.action === 'promote' && e.alias === 'champion');
        assert.ok(winningRow);
        for (const row of rejected) {
          assert.ok(row.id > winningRow.id);
          assert.equal(row.fromVersion, winner);
        }
      } finally {
        await registry.close();
      }
    });
  });

  describe('persistence', () => {
    test('versions, aliases and the audit log survive closing and reopening', async () => {
      const dbPath = await backend.fresh();
      const first = backend.open(dbPath);
      await first.registerVersion(versionInput('flights', 'run-1'));
      await first.registerVersion(versionInput('flights', 'run-2'));
      await first.registerVersion(versionInput('churn', 'run-1'));
      await first.promote({ model: 'flights', version: 1, expectedChampion: null, reason: 'first', workflowId: 'w', runId: 'run-1' });
      await first.promote({ model: 'flights', version: 2, expectedChampion: 1, reason: 'better', workflowId: 'w', runId: 'run-2' });
      await first.moveAlias({ model: 'churn', alias: 'shadow', toVersion: 1, expectedVersion: null, reason: 'watch', workflowId: 'w', runId: 'run-1' });
      const versions = await first.listVersions('flights');
      const log = await first.auditLog('flights');
      await first.close();

      const reopened = backend.open(dbPath);
      try {
        assert.deepEqual(await reopened.listVersions('flights'), versions);
        assert.deepEqual(await reopened.auditLog('flights'), log);
        assert.deepEqual(await reopened.listModels(), [
          { model: 'churn', versionCount: 1, latestVersion: 1, aliases: { shadow: 1 } },
          { model: 'flights', versionCount: 2, latestVersion: 2, aliases: { champion: 2, previous: 1 } },
        ]);
        // Numbering and idempotency keys carry over.
        assert.equal((await reopened.registerVersion(versionInput('flights', 'run-3'))).version, 3);
        assert.equal((await reopened.registerVersion(versionInput('flights', 'run-1'))).version, 1);
        assert.equal(
          (await reopened.promote({ model: 'flights', version: 2, expectedChampion: 1, reason: 'better', workflowId: 'w', runId: 'run-2' })).promoted,
          true,
        );
        assert.deepEqual(await reopened.auditLog('flights'), log);
      } finally {
        await reopened.close();
      }
    });
  });
}

for (const backend of BACKENDS) describe(backend.name, () => registrySuite(backend));
