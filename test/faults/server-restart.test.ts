// Fault 2: the Temporal server goes away mid-training and comes back on the same database file. Uses a dev server of
// its own (free ports, another database) so the shared test server is never stopped under other tests.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import type { LoadedConfig } from '../../src/config';
import { connectClient } from '../../src/temporal/connection';
import { ensureDevServer, stopDevServer, temporalAnswers } from '../../src/temporal/dev-server';
import { startDevServerOnFreePorts, uniqueModelName } from '../helpers/pipeline-env';
import { waitFor } from '../helpers/wait';
import {
  artifactsLost,
  duplicateLaunches,
  faultConfig,
  faultModel,
  jobProcesses,
  launchesPerJob,
  outcomeOf,
  recordFault,
  slowTrainer,
  startRun,
  whenActivityStarted,
  WorkerProcess,
} from './harness';

/** Lines the training jobs of a config have logged, apart from the slow trainer's opening "sleeping" line. */
function trainingLogLines(loaded: LoadedConfig): number {
  const jobsDir = path.join(loaded.stateDir, 'jobs');
  if (!existsSync(jobsDir)) return 0;
  const logs = readdirSync(jobsDir, { recursive: true, encoding: 'utf8' }).filter((f) => path.basename(f) === 'stdout.log');
  const lines = logs.flatMap((f) => readFileSync(path.join(jobsDir, f), 'utf8').split('\n'));
  return lines.filter((l) => l.trim() !== '' && !l.startsWith('sleeping ')).length;
}

describe('fault: the Temporal server restarts mid-training', { timeout: 600_000 }, () => {
  const serverState = mkdtempSync(path.join(os.tmpdir(), 'relearn-fault-server-'));
  const options = { stateDir: serverState, dbFile: 'temporal.db', namespace: 'default' };

  after(async () => {
    await stopDevServer(serverState);
  });

  it('stop the dev server while jobs train, start it again on the same database: the run completes, each job launched once', async () => {
    const t0 = Date.now();
    const info = await startDevServerOnFreePorts(options);
    const model = uniqueModelName('restart');
    const loaded = await faultConfig({ [model]: faultModel({}, { command: slowTrainer(8) }) }, { address: info.address });
    const { client, close } = await connectClient(loaded);
    const worker = await WorkerProcess.start(loaded);
    try {
      const { started, handle } = await startRun(client, loaded, model);
      await whenActivityStarted(handle, 'runTrainingJob');
      await waitFor('a running job', () => (jobProcesses(loaded).length > 0 ? true : undefined));

      const stoppedAt = Date.now();
      assert.equal(await stopDevServer(serverState), true);
      assert.equal(await temporalAnswers(info.address, 1000), false, 'the server is down');
      // The jobs do not need the server: they keep training while it is away, which their logs show.
      const linesAtStop = trainingLogLines(loaded);
      const progressed = () => (trainingLogLines(loaded) > linesAtStop ? true : undefined);
      await waitFor('a training job to log progress while the server is down', progressed, 60_000, 200);
      assert.equal(await temporalAnswers(info.address, 1000), false, 'the server is still down');
      // The same ports: the worker reconnects to the address it knows.
      const again = await ensureDevServer({ ...options, port: info.port, uiPort: info.uiPort });
      assert.equal(again.dbFile, info.dbFile);
      const downMs = Date.now() - stoppedAt;

      const out = await outcomeOf(handle);
      assert.equal(out.failure, undefined, out.failure);
      assert.equal(out.result!.decision, 'promoted');
      assert.ok(worker.alive, 'the same worker reconnected');
      const runLaunches = [...launchesPerJob(loaded)].filter(([jobId]) => jobId.includes(started.runId));
      assert.equal(runLaunches.length, 3);
      for (const [jobId, n] of runLaunches) assert.equal(n, 1, `${jobId} launched ${n} times`);
      const lost = await artifactsLost(loaded, model);
      assert.equal(lost, 0);
      recordFault({
        fault: 2,
        name: 'dev server stopped mid-training, restarted on the same database',
        injected: 1,
        runs: 1,
        runsAsExpected: 1,
        duplicateLaunches: duplicateLaunches(loaded),
        artifactsLost: lost,
        seconds: Math.round((Date.now() - t0) / 1000),
        notes: `server away for ${(downMs / 1000).toFixed(1)} s; the same worker process reconnected`,
      });
    } finally {
      await worker.stop();
      await close();
    }
  });
});
