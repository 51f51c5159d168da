// Faults 6–9, around the registry: SIGKILL during its writes, two triggers at once, two pipelines racing to promote
// into one registry model, and a registered model changed on disk.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import type { WorkflowHandle } from '@temporalio/client';
import type { LoadedConfig } from '../../src/config';
import { RELEARN_ROOT } from '../../src/paths';
import { openArtifactStore } from '../../src/store';
import { connectClient } from '../../src/temporal/connection';
import { uniqueModelName } from '../helpers/pipeline-env';
import {
  activityAttempts,
  artifactsLost,
  duplicateLaunches,
  faultConfig,
  faultModel,
  launchesPerJob,
  outcomeOf,
  pendingActivities,
  recordFault,
  startRun,
  waitFor,
  whenActivityStarted,
  withRegistry,
  WorkerProcess,
} from './harness';
import { killStorm } from './registry-storm';

const registryPath = (loaded: LoadedConfig) => path.join(loaded.stateDir, 'registry.db');

/** Holds the registry's write lock from this process (BEGIN IMMEDIATE) until `release` is called. */
function lockRegistry(loaded: LoadedConfig) {
  const db = new Database(registryPath(loaded));
  db.exec('BEGIN IMMEDIATE');
  return {
    db,
    release() {
      db.exec('ROLLBACK');
      db.close();
    },
  };
}

function jobsLaunchedOnce(loaded: LoadedConfig, runId: string): void {
  const runLaunches = [...launchesPerJob(loaded)].filter(([jobId]) => jobId.includes(runId));
  assert.equal(runLaunches.length, 3);
  for (const [jobId, n] of runLaunches) assert.equal(n, 1, `${jobId} launched ${n} times`);
}

describe('fault: the registry under kills, races and tampering', { timeout: 900_000 }, () => {
  let loaded: LoadedConfig;
  let model: string;

  it('SIGKILL during the registry writes of register and of promote: consistent after each kill, and the retried activities finish the run', async () => {
    const t0 = Date.now();
    model = uniqueModelName('regkill');
    loaded = await faultConfig({ [model]: faultModel() });
    const { client, close } = await connectClient(loaded);
    const workers = [await WorkerProcess.start(loaded)];
    try {
      const { started, handle } = await startRun(client, loaded, model);

      // 1. Kill while registerVersion's transaction waits for the write lock held here.
      await whenActivityStarted(handle, 'crossValidate');
      let lock = lockRegistry(loaded);
      await whenActivityStarted(handle, 'registerVersion', 60_000);
      await workers.at(-1)!.signal('SIGKILL');
      lock.release();
      await withRegistry(loaded, async (r) => {
        assert.deepEqual(await r.listVersions(model), [], 'not registered at all');
        assert.equal(await r.getAlias(model, 'champion'), null);
        assert.deepEqual(await r.auditLog(model), []);
      });
      workers.push(await WorkerProcess.start(loaded));

      // 2. Kill while promote's transaction waits: the lock is taken the moment the version row appears.
      const db = new Database(registryPath(loaded));
      await waitFor('the version row', () => (db.prepare('SELECT 1 FROM versions WHERE model = ?').get(model) ? true : undefined), 120_000, 2);
      db.exec('BEGIN IMMEDIATE');
      lock = { db, release: () => (db.exec('ROLLBACK'), db.close()) };
      await whenActivityStarted(handle, 'promoteVersion', 30_000);
      await workers.at(-1)!.signal('SIGKILL');
      lock.release();
      await withRegistry(loaded, async (r) => {
        assert.equal((await r.listVersions(model)).length, 1, 'fully registered');
        assert.equal(await r.getAlias(model, 'champion'), null, 'not promoted');
        assert.deepEqual(await r.auditLog(model), []);
      });
      workers.push(await WorkerProcess.start(loaded));

      const out = await outcomeOf(handle);
      assert.equal(out.failure, undefined, out.failure);
      assert.equal(out.result!.decision, 'promoted');
      const attempts = await activityAttempts(handle);
      for (const type of ['registerVersion', 'promoteVersion']) {
        assert.ok(attempts.some((a) => a.type === type && a.outcome === 'completed' && a.attempt >= 2), `${type} retried`);
      }
      await withRegistry(loaded, async (r) => {
        assert.equal((await r.listVersions(model)).length, 1, 'one version, not two');
        assert.equal((await r.getAlias(model, 'champion'))?.version, 1);
        assert.deepEqual((await r.auditLog(model)).map((a) => [a.action, a.toVersion]), [['promote', 1]]);
      });
      jobsLaunchedOnce(loaded, started.runId);

      // 3. A writer process killed at random moments inside its transactions (WAL, synchronous=FULL).
      const storm = await killStorm(10);
      const lost = await artifactsLost(loaded, model);
      recordFault({
        fault: 9,
        name: 'SIGKILL during a registry write (register, promote; + a writer killed at random)',
        injected: 2 + storm.kills,
        runs: 1,
        runsAsExpected: 1,
        duplicateLaunches: duplicateLaunches(loaded),
        artifactsLost: lost,
        seconds: Math.round((Date.now() - t0) / 1000),
        notes: `writer storm: ${storm.kills} kills, ${storm.versions} versions, registry consistent after every kill`,
      });
    } finally {
      for (const w of workers) await w.stop();
      await close();
    }
  });

  it('a registered model changed on disk is refused: the next run fails reading the champion, nothing is promoted', async () => {
    const t0 = Date.now();
    const { client, close } = await connectClient(loaded);
    const worker = await WorkerProcess.start(loaded);
    try {
      const champion = await withRegistry(loaded, async (r) => (await r.getVersion(model, (await r.getAlias(model, 'champion'))!.version))!);
      const store = openArtifactStore(loaded);
      const file = store.locate(champion.artifactUri);
      chmodSync(file, 0o644);
      const bytes = readFileSync(file);
      bytes.writeUInt8(bytes.readUInt8(bytes.length - 1) ^ 0xff, bytes.length - 1);
      writeFileSync(file, bytes);
      await assert.rejects(store.readVerified({ uri: champion.artifactUri, sha256: champion.artifactSha256 }), /changed after it was written/);

      const { handle } = await startRun(client, loaded, model, { from: '2001-03-01', to: '2001-03-08' });
      const out = await outcomeOf(handle);
      assert.equal(out.result, undefined);
      assert.equal(out.failureType, 'ArtifactIntegrityError', out.failure);
      assert.match(out.failure!, new RegExp(`${champion.artifactSha256}.*changed after it was written`));
      // Refused once, not retried: an integrity failure is final.
      const attempts = (await activityAttempts(handle)).filter((a) => a.type === 'crossValidate');
      assert.deepEqual(attempts.map((a) => [a.attempt, a.outcome]), [[1, 'failed']]);
      await withRegistry(loaded, async (r) => {
        assert.equal((await r.getAlias(model, 'champion'))?.version, 1);
        assert.equal((await r.listVersions(model)).length, 1, 'nothing registered');
      });
      recordFault({
        fault: 6,
        name: 'registered model changed on disk (digest mismatch)',
        injected: 1,
        runs: 1,
        runsAsExpected: 1,
        duplicateLaunches: duplicateLaunches(loaded),
        artifactsLost: await artifactsLost(loaded, model, [champion.artifactUri]),
        seconds: Math.round((Date.now() - t0) / 1000),
        notes: 'refused by crossValidate (ArtifactIntegrityError, not retried) and by every verified read',
      });
    } finally {
      await worker.stop();
      await close();
    }
  });

  it('two triggers for the same model at once (two CLI processes): one run, both callers get its id', async () => {
    const t0 = Date.now();
    const name = uniqueModelName('twice');
    const cfg = await faultConfig({ [name]: faultModel() });
    const { client, close } = await connectClient(cfg);
    const worker = await WorkerProcess.start(cfg);
    try {
      const trigger = () =>
        new Promise<{ runId: string; existing: boolean }>((resolve, reject) => {
          const child = spawn(process.execPath, ['--import', 'tsx', path.join(RELEARN_ROOT, 'src/cli/main.ts'), '--config', cfg.configPath, 'run', name, '--json'], {
            cwd: RELEARN_ROOT,
            stdio: ['ignore', 'pipe', 'pipe'],
          });
          let out = '';
          child.stdout.on('data', (d: Buffer) => (out += d.toString()));
          child.stderr.on('data', (d: Buffer) => (out += d.toString()));
          child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out.slice(out.indexOf('{')))) : reject(new Error(out))));
        });
      const [a, b] = await Promise.all([trigger(), trigger()]);
      assert.equal(a.runId, b.runId, 'both callers got the same run');
      const runs = [];
      for await (const wf of client.workflow.list({ query: `WorkflowId = 'retrain/${name}'` })) runs.push(wf.runId);
      assert.deepEqual(runs, [a.runId]);
      const out = await outcomeOf(client.workflow.getHandle(`retrain/${name}`, a.runId));
      assert.equal(out.result?.version, 1);
      jobsLaunchedOnce(cfg, a.runId);
      recordFault({
        fault: 7,
        name: 'two triggers for one model at once',
        injected: 1,
        runs: 1,
        runsAsExpected: 1,
        duplicateLaunches: duplicateLaunches(cfg),
        artifactsLost: await artifactsLost(cfg, name),
        seconds: Math.round((Date.now() - t0) / 1000),
        notes: `existing flags: ${a.existing}, ${b.existing}`,
      });
    } finally {
      await worker.stop();
      await close();
    }
  });

  it('two pipelines of different configurations race to promote into one registry model: the compare-and-set lets one win, the other records why it lost', async () => {
    const t0 = Date.now();
    const shared = uniqueModelName('shared');
    const a = uniqueModelName('race-a');
    const b = uniqueModelName('race-b');
    const cfg = await faultConfig({
      [a]: faultModel({ registryModel: shared }),
      [b]: faultModel({ registryModel: shared, source: { ...(faultModel().source as object), window: { from: '2001-03-01', to: '2001-03-08' } } }),
    });
    const { client, close } = await connectClient(cfg);
    const worker = await WorkerProcess.start(cfg);
    try {
      // Both runs read "no champion" before either can write: the registry is held until both wait to register.
      const lock = lockRegistry(cfg);
      const runs: WorkflowHandle[] = [];
      for (const m of [a, b]) runs.push((await startRun(client, cfg, m)).handle);
      try {
        await waitFor('both runs to wait on the registry', async () => {
          const pending = await Promise.all(runs.map((h) => pendingActivities(h, 'registerVersion')));
          return pending.every((p) => p.pending > 0) ? true : undefined;
        }, 300_000, 100);
      } finally {
        lock.release();
      }
      const [oa, ob] = await Promise.all(runs.map((h) => outcomeOf(h)));
      assert.equal(oa!.failure, undefined, oa!.failure);
      assert.equal(ob!.failure, undefined, ob!.failure);
      const results = [oa!.result!, ob!.result!];
      assert.ok(results.every((r) => r.championBefore === null && r.gate.verdict === 'PASS'), 'both compared against no champion');
      const winners = results.filter((r) => r.decision === 'promoted');
      const losers = results.filter((r) => r.decision !== 'promoted');
      assert.equal(winners.length, 1, 'exactly one moved champion');
      assert.equal(losers.length, 1);
      const winner = winners[0]!;
      const loser = losers[0]!;
      assert.match(loser.promotion.reason, new RegExp(`champion is v${winner.version}, expected unset`));
      await withRegistry(cfg, async (r) => {
        assert.deepEqual((await r.listVersions(shared)).map((v) => v.version), [1, 2]);
        assert.equal((await r.getAlias(shared, 'champion'))?.version, winner.version);
        const audit = (await r.auditLog(shared)).map((e) => [e.action, e.fromVersion, e.toVersion]);
        assert.deepEqual(
          audit.sort(),
          [
            ['promote', null, winner.version],
            ['promote-rejected', winner.version, loser.version],
          ].sort(),
        );
      });
      recordFault({
        fault: 8,
        name: 'two configurations race to promote one registry model',
        injected: 1,
        runs: 2,
        runsAsExpected: 2,
        duplicateLaunches: duplicateLaunches(cfg),
        artifactsLost: await artifactsLost(cfg, shared),
        seconds: Math.round((Date.now() - t0) / 1000),
        notes: `v${winner.version} won; v${loser.version}: ${loser.promotion.reason}`,
      });
    } finally {
      await worker.stop();
      await close();
    }
  });
});
