// Faults 3, 4 and 5: training jobs that crash, hang, or hand back hostile ONNX files, on a worker process with the
// real pipeline. Each run must end cleanly: retried where that can help, failed with a clear reason, no job process
// left behind, nothing registered or promoted.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import type { LoadedConfig } from '../../src/config';
import { connectClient } from '../../src/temporal/connection';
import { uniqueModelName } from '../helpers/pipeline-env';
import {
  duplicateLaunches,
  faultConfig,
  faultModel,
  jobProcesses,
  launchesPerJob,
  outcomeOf,
  recordFault,
  startRun,
  waitFor,
  withRegistry,
  WorkerProcess,
} from './harness';

async function assertNothingRegistered(loaded: LoadedConfig, model: string): Promise<void> {
  await withRegistry(loaded, async (r) => {
    assert.equal(await r.getAlias(model, 'champion'), null);
    assert.deepEqual(await r.listVersions(model), []);
  });
}

/** Start times (ms) of a job's runs, from the launcher's run folders. */
function runStarts(loaded: LoadedConfig, jobId: string): number[] {
  const runs = path.join(loaded.stateDir, 'jobs', jobId, 'runs');
  return readdirSync(runs)
    .map(Number)
    .sort((a, b) => a - b)
    .map((n) => Number(readFileSync(path.join(runs, String(n), 'started_at'), 'utf8')));
}

/** No process of this config's jobs is alive (given a moment for killed groups to be reaped). */
async function assertNoOrphans(loaded: LoadedConfig): Promise<void> {
  const left = await waitFor('job processes to be gone', () => (jobProcesses(loaded).length === 0 ? true : undefined), 10_000, 200).catch(
    () => false,
  );
  assert.equal(left, true, `job processes left: ${jobProcesses(loaded).join(', ')}`);
}

describe('fault: training jobs that crash, hang or return hostile models', { timeout: 900_000 }, () => {
  it('a job that crashes (exit 1) is retried with backoff up to maxAttempts, then the run fails with its stderr; the other job is cancelled and killed', async () => {
    const t0 = Date.now();
    const model = uniqueModelName('crash');
    const loaded = await faultConfig({
      [model]: faultModel({}, { command: ['{python}', '{relearn}/test/fixtures/trainers/crash-one.py', '{spec}'], maxAttempts: 3, retryInitialIntervalMs: 1000 }),
    });
    const { client, close } = await connectClient(loaded);
    const worker = await WorkerProcess.start(loaded);
    try {
      const { started, handle } = await startRun(client, loaded, model);
      const out = await outcomeOf(handle);
      assert.equal(out.result, undefined);
      assert.match(out.failure!, /simulated trainer crash: CUDA error/);
      assert.match(out.failure!, /exited with code 1/);

      const launches = launchesPerJob(loaded);
      const fold0 = [...launches.keys()].find((j) => j.includes(started.runId) && j.endsWith('fold-0'))!;
      const fold1 = [...launches.keys()].find((j) => j.includes(started.runId) && j.endsWith('fold-1'))!;
      assert.equal(launches.get(fold0), 3, 'fold-0: one launch per attempt');
      const starts = runStarts(loaded, fold0);
      // Backoff 1 s, then 2 s (coefficient 2) between the attempts.
      assert.ok(starts[1]! - starts[0]! >= 1000, `first retry after ${starts[1]! - starts[0]!} ms`);
      assert.ok(starts[2]! - starts[1]! >= 2000, `second retry after ${starts[2]! - starts[1]!} ms`);
      // fold-1 (running alongside) was cancelled with the run and its process group killed; final never started.
      assert.equal(launches.get(fold1), 1);
      const fold1Run = path.join(loaded.stateDir, 'jobs', fold1, 'runs', '1');
      assert.match(readFileSync(path.join(fold1Run, 'killed'), 'utf8'), /run cancelled/);
      assert.equal([...launches.keys()].some((j) => j.endsWith('final')), false);
      await assertNoOrphans(loaded);
      await assertNothingRegistered(loaded, model);
      recordFault({
        fault: 3,
        name: 'training job crashes (exit 1 on every attempt)',
        injected: 3,
        runs: 1,
        runsAsExpected: 1,
        duplicateLaunches: duplicateLaunches(loaded),
        artifactsLost: 0,
        seconds: Math.round((Date.now() - t0) / 1000),
        notes: `retried after ${starts[1]! - starts[0]!} and ${starts[2]! - starts[1]!} ms; the sibling job was cancelled and killed`,
      });
    } finally {
      await worker.stop();
      await close();
    }
  });

  it('a job that hangs is killed at its deadline with its whole process group, retried, and leaves no process behind', async () => {
    const t0 = Date.now();
    const model = uniqueModelName('hang');
    const loaded = await faultConfig({
      [model]: faultModel(
        {},
        { command: ['{python}', '{relearn}/test/fixtures/trainers/hang.py', '{spec}'], timeoutMs: 2500, maxAttempts: 2, maxParallel: 1 },
      ),
    });
    const { client, close } = await connectClient(loaded);
    const worker = await WorkerProcess.start(loaded);
    try {
      const { started, handle } = await startRun(client, loaded, model);
      // While the first attempt hangs, the job and its child are alive.
      const during = await waitFor('the hanging job and its child', () => {
        const pids = jobProcesses(loaded);
        return pids.length >= 3 ? pids : undefined;
      }, 60_000, 100);
      const out = await outcomeOf(handle);
      assert.equal(out.result, undefined);
      assert.match(out.failure!, /exceeded its deadline of 2500 ms and was killed/);
      const fold0 = [...launchesPerJob(loaded).keys()].find((j) => j.includes(started.runId) && j.endsWith('fold-0'))!;
      assert.equal(launchesPerJob(loaded).get(fold0), 2, 'one launch per attempt');
      for (const run of ['1', '2']) {
        assert.match(readFileSync(path.join(loaded.stateDir, 'jobs', fold0, 'runs', run, 'killed'), 'utf8'), /exceeded the job deadline/);
      }
      await assertNoOrphans(loaded);
      for (const pid of during) assert.equal(existsSync(`/proc/${pid}/environ`) && jobProcesses(loaded).includes(pid), false);
      await assertNothingRegistered(loaded, model);
      recordFault({
        fault: 4,
        name: 'training job hangs (killed at its deadline)',
        injected: 2,
        runs: 1,
        runsAsExpected: 1,
        duplicateLaunches: duplicateLaunches(loaded),
        artifactsLost: 0,
        seconds: Math.round((Date.now() - t0) / 1000),
        notes: `${during.length} processes (wrapper, job, child) while it hung, 0 after the run`,
      });
    } finally {
      await worker.stop();
      await close();
    }
  });

  it('hostile ONNX from a job (corrupt, truncated, external data outside its folder, over the size cap, memory bomb) is rejected with a reason; the worker survives; nothing is promoted', async () => {
    const t0 = Date.now();
    const cases: Array<{ kind: string; reason: RegExp; export?: Record<string, unknown> }> = [
      { kind: 'truncated', reason: /not a valid ONNX model/ },
      { kind: 'random-bytes', reason: /not a valid ONNX model/ },
      { kind: 'external-absolute', reason: /is an absolute path and points outside the model folder/ },
      { kind: 'external-dotdot', reason: /uses '\.\.' and points outside the model folder/ },
      // Only model.onnx is copied into the store, so a symlinked weights file never travels with it.
      { kind: 'external-symlink', reason: /external data 'weights\.bin'.* does not exist in the model folder/ },
      { kind: 'oversize', reason: /over the cap|exceeds|larger than/, export: { maxSizeBytes: 1024 } },
      { kind: 'constant-of-shape', reason: /exceeded the memory limit of 512 MB/, export: { memoryLimitBytes: 512 * 1024 * 1024 } },
    ];
    const models = Object.fromEntries(
      cases.map((c) => [
        uniqueModelName(`onnx-${c.kind}`),
        faultModel(
          { export: { checkTimeoutMs: 20_000, ...c.export } },
          { command: ['{python}', '{relearn}/test/fixtures/trainers/hostile.py', c.kind, '{spec}'], maxParallel: 1, maxAttempts: 1 },
        ),
      ]),
    );
    const names = Object.keys(models);
    const loaded = await faultConfig(models);
    const { client, close } = await connectClient(loaded);
    const worker = await WorkerProcess.start(loaded);
    try {
      const handles = [];
      for (const name of names) handles.push((await startRun(client, loaded, name)).handle);
      const outcomes = await Promise.all(handles.map((h) => outcomeOf(h)));
      for (const [i, out] of outcomes.entries()) {
        const c = cases[i]!;
        assert.equal(out.result, undefined, c.kind);
        assert.equal(out.failureType, 'ModelRejected', `${c.kind}: ${out.failure}`);
        assert.match(out.failure!, /model\.onnx of fold-0/, c.kind);
        assert.match(out.failure!, c.reason, `${c.kind}: ${out.failure}`);
        await assertNothingRegistered(loaded, names[i]!);
      }
      assert.ok(worker.alive, 'the worker survived every hostile file');
      // A job still going when its run failed is cancelled and killed: the launch ledger and run folders are final (and
      // duplicateLaunches reads them) once no job process of this config is left.
      await assertNoOrphans(loaded);
      recordFault({
        fault: 5,
        name: 'hostile ONNX from a job (7 kinds)',
        injected: cases.length,
        runs: cases.length,
        runsAsExpected: outcomes.filter((o) => o.failureType === 'ModelRejected').length,
        duplicateLaunches: duplicateLaunches(loaded),
        artifactsLost: 0,
        seconds: Math.round((Date.now() - t0) / 1000),
        notes: cases.map((c) => c.kind).join(', '),
      });
    } finally {
      await worker.stop();
      await close();
    }
  });
});
