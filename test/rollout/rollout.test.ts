// End to end on the real dev server, trainer and server: live traffic replayed through `relearn serve`'s app with
// labels sent as feedback decides the shadow and guard windows of real runs.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import type { LoadedConfig } from '../../src/config';
import { modelConfig } from '../../src/config';
import { startTrafficReplay, type TrafficReplay } from '../../src/cli/live-traffic';
import { RELEARN_ROOT } from '../../src/paths';
import { CHAMPION_ALIAS, openRegistry, type RegistryStore, SHADOW_ALIAS } from '../../src/registry';
import { type RunningServer, startServer } from '../../src/serve';
import { openArtifactStore } from '../../src/store';
import { connectClient } from '../../src/temporal/connection';
import { WorkerProcess, outcomeOf, runStatus, startRun, waitFor } from '../faults/harness';
import { runPipeline, smallFlightsModel, testConfig, uniqueModelName } from '../helpers/pipeline-env';
import { approveUpdate, rollbackUpdate, type RetrainResult } from '../../src/contracts';

const execFileAsync = promisify(execFile);

const WINDOW = {
  minDuration: '2s',
  maxDuration: '120s',
  minLabeledRows: 1000,
  pollInterval: '1s',
  margin: 0.05,
  confidence: 0.95,
  resamples: 500,
  maxCompareRows: 3000,
};
const GUARD = { ...WINDOW, maxErrorRate: 0.05, maxP99LatencyMs: 5000 };
// A label-join bug: `delayed` computed from the distance. The candidate learns it perfectly and passes the gate,
// but its predictions have little to do with real delays.
const MISLABELED = {
  source: {
    ...(smallFlightsModel().source as Record<string, unknown>),
    derive: [
      { name: 'hour', from: 'date', op: 'hour' },
      { name: 'delayed', from: 'distance', op: 'greaterThan', value: 700 },
    ],
  },
};

// Accuracy decides on live traffic here: the test's small champion ranks live flights barely better than chance
// (roc_auc about 0.53), while the label bug shows plainly in how often each model is right.
const GATE = { primaryMetric: 'accuracy', minimums: { roc_auc: 0.5 }, maxDropVsChampion: 0.2 };

const name = uniqueModelName('rollout');
let loaded: LoadedConfig;
let registry: RegistryStore;
let server: RunningServer;
let traffic: TrafficReplay;
const workers: WorkerProcess[] = [];

/** A worker process that is stopped at the end even when an assertion fails first. */
async function startWorker(): Promise<WorkerProcess> {
  const worker = await WorkerProcess.start(loaded);
  workers.push(worker);
  return worker;
}

before(async () => {
  loaded = await testConfig(
    {
      [name]: smallFlightsModel({ gate: GATE, rollout: { shadow: WINDOW, guard: GUARD } }),
      [`${name}-bad-shadow`]: smallFlightsModel({ ...MISLABELED, gate: GATE, registryModel: name, rollout: { shadow: WINDOW } }),
      [`${name}-bad-guard`]: smallFlightsModel({
        ...MISLABELED,
        gate: GATE,
        registryModel: name,
        rollout: { approval: { required: true, timeout: '120s' }, guard: GUARD },
      }),
    },
    { prefix: 'rollout' },
  );
  registry = openRegistry(loaded);
});

after(async () => {
  for (const worker of workers) await worker.stop();
  await traffic?.stop();
  await server?.close();
  registry?.close();
});

async function evaluations(version: number) {
  return (await registry.listEvaluations(name, version)).map((e) => `${e.phase}:${e.decision}`);
}

test('shadow and guard windows on live traffic: promote, resume after a worker kill, reject, roll back', { timeout: 600_000 }, async () => {
  // Run 1 has no champion to compare with: promoted straight after the gate.
  const first = await runPipeline(loaded, name);
  assert.equal(first.result?.decision, 'promoted', first.failure);
  assert.deepEqual(first.result?.rollout, []);

  server = await startServer({
    registry,
    store: openArtifactStore(loaded),
    predictionLogDir: path.join(loaded.stateDir, 'predictions'),
    token: null,
    port: 0,
    pollMs: 200,
    logFlushIntervalMs: 1000,
    processMetrics: false,
  });
  traffic = await startTrafficReplay({
    model: name,
    modelConfig: modelConfig(loaded, name),
    window: { from: '2001-02-08', to: '2001-02-15' },
    url: server.url,
    token: null,
    sampleRows: 3000,
    rowsPerRequest: 20,
    intervalMs: 50,
  });

  // Run 2 retrains on the same window (the same model again): not worse in shadow. Its worker is killed mid-window;
  // a new worker resumes the durable window and reaches the decision.
  const { client, close } = await connectClient(loaded);
  try {
    let worker = await startWorker();
    const { handle } = await startRun(client, loaded, name);
    // The window is open once the run's status names it (the demo's traffic waits on the same) and the shadow alias
    // points at the candidate.
    const open = await waitFor(
      'the shadow window',
      async () => {
        const w = (await runStatus(handle)).window;
        return w?.phase === 'shadow' && (await registry.getAlias(name, SHADOW_ALIAS))?.version === 2 ? w : undefined;
      },
      240_000,
      200,
    );
    assert.deepEqual(
      { baseline: open.baselineVersion, contender: open.contenderVersion, test: open.test, min: open.minDurationMs, poll: open.pollIntervalMs },
      { baseline: 1, contender: 2, test: 'sequential', min: 2000, poll: 1000 },
    );
    assert.ok(Date.parse(open.since) <= Date.now(), `the window opened at ${open.since}`);
    await worker.signal('SIGKILL');
    worker = await startWorker();
    const second = await outcomeOf(handle);
    await worker.stop();
    const result = second.result as RetrainResult;
    assert.equal(result?.decision, 'promoted', second.failure);
    const [shadow, guard] = result.rollout ?? [];
    assert.equal(shadow?.phase, 'shadow');
    assert.equal(shadow?.decision, 'promote');
    assert.equal(shadow?.outcome, 'pass');
    assert.equal(shadow?.decidedBy, 'evidence');
    assert.equal(shadow?.window?.test, 'sequential');
    assert.equal(shadow?.evidence?.comparison?.verdict, 'not-worse');
    // The sequential test may decide before minLabeledRows (it is anytime-valid), never before its 100-row minimum.
    assert.ok((shadow?.window?.rows ?? 0) >= 100, `decided on ${shadow?.window?.rows} rows`);
    // Same data, same seed: the candidate's outputs equal the champion's, so the paired difference is exactly 0.
    assert.equal(shadow?.evidence?.comparison?.diff, 0);
    assert.equal(guard?.phase, 'guard');
    assert.equal(guard?.decision, 'keep');
    assert.deepEqual(await evaluations(2), ['shadow:promote', 'guard:keep']);
    assert.equal((await registry.getAlias(name, CHAMPION_ALIAS))?.version, 2);
    assert.equal(await registry.getAlias(name, SHADOW_ALIAS), null);

    // Run 3: the mislabeled candidate passes its gate but is worse than the champion on live traffic.
    const third = await runPipeline(loaded, `${name}-bad-shadow`);
    const r3 = third.result as RetrainResult;
    assert.equal(r3?.gate.verdict, 'PASS', third.failure);
    assert.equal(r3.decision, 'rejected');
    assert.equal(r3.rollout?.[0]?.decision, 'reject');
    assert.equal(r3.rollout?.[0]?.outcome, 'fail');
    assert.equal(r3.rollout?.[0]?.evidence?.comparison?.verdict, 'worse');
    assert.ok((r3.rollout?.[0]?.evidence?.comparison?.diff ?? 0) < -WINDOW.margin, r3.rollout?.[0]?.reason);
    assert.deepEqual(await evaluations(3), ['shadow:reject']);
    assert.equal((await registry.getAlias(name, CHAMPION_ALIAS))?.version, 2);

    // Run 4: the same bug on a pipeline with approval and a guard window but no shadow. A rollback sent while it waits
    // for approval is refused; the approval is given through the CLI; the guard then rolls the champion back.
    worker = await startWorker();
    const bad = await startRun(client, loaded, `${name}-bad-guard`);
    await waitFor('the approval stage', async () => ((await runStatus(bad.handle)).stage === 'approval' ? true : undefined), 240_000, 200);
    await assert.rejects(bad.handle.executeUpdate(rollbackUpdate, { args: [{ by: 'test' }] }), (err: unknown) => {
      assert.ok(err instanceof WorkflowUpdateFailedError);
      assert.match(String((err.cause as Error)?.message), /is in stage approval; rollback is taken in the guard stage/);
      return true;
    });
    const cli = await execFileAsync(
      process.execPath,
      ['--import', 'tsx', path.join(RELEARN_ROOT, 'src/cli/main.ts'), '--config', loaded.configPath, 'approve', `${name}-bad-guard`, '--by', 'tester', '--reason', 'looks fine'],
      { cwd: RELEARN_ROOT, env: { ...process.env, NO_COLOR: '1' } },
    );
    assert.match(cli.stdout, /approve: approve taken by the run/);
    // A second approval is refused: the first is pending or done.
    await assert.rejects(bad.handle.executeUpdate(approveUpdate, { args: [{ by: 'again' }] }));
    const fourth = await outcomeOf(bad.handle);
    await worker.stop();
    const r4 = fourth.result as RetrainResult;
    assert.equal(r4?.decision, 'rolled-back', fourth.failure);
    assert.deepEqual(r4.rollout?.map((s) => `${s.phase}:${s.decision}:${s.decidedBy}`), ['approval:promote:approve', 'guard:rollback:evidence']);
    assert.equal(r4.rollout?.[0]?.by, 'tester');
    assert.match(r4.rollout?.[1]?.reason ?? '', /^v4 is worse than v2/);
    assert.equal(r4.rollout?.[1]?.outcome, 'fail');
    assert.equal(r4.championAfter, 2);
    assert.equal((await registry.getAlias(name, CHAMPION_ALIAS))?.version, 2);
    const rollback = (await registry.auditLog(name)).filter((e) => e.action === 'rollback');
    assert.equal(rollback.length, 1);
    assert.equal(rollback[0]?.fromVersion, 4);
    assert.equal(rollback[0]?.toVersion, 2);
    assert.match(rollback[0]?.reason ?? '', /^guard: v4 is worse than v2/);
    assert.deepEqual(await evaluations(4), ['approval:promote', 'guard:rollback']);
  } finally {
    await close();
  }

  // Traffic never failed through three swaps of the champion and the shadow alias moving four times.
  const stats = await traffic.stop();
  assert.equal(stats.errors, 0, stats.lastError);
  assert.ok(stats.requests > 100);
  assert.ok(Object.keys(stats.byVersion).length >= 2, JSON.stringify(stats.byVersion));
});
