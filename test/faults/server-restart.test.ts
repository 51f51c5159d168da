// Fault 2: the Temporal server goes away mid-training and comes back on the same database file. Uses a dev server of
// its own (another port, another database) so the shared test server is never stopped under other tests.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { connectClient } from '../../src/temporal/connection';
import { ensureDevServer, stopDevServer, temporalAnswers } from '../../src/temporal/dev-server';
import { uniqueModelName } from '../helpers/pipeline-env';
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
  waitFor,
  whenActivityStarted,
  WorkerProcess,
} from './harness';

const PORT = 7263;

describe('fault: the Temporal server restarts mid-training', { timeout: 600_000 }, () => {
  const serverState = mkdtempSync(path.join(os.tmpdir(), 'relearn-fault-server-'));
  const server = () => ensureDevServer({ stateDir: serverState, port: PORT, uiPort: PORT + 1000, dbFile: 'temporal.db', namespace: 'default' });

  after(async () => {
    await stopDevServer(serverState);
  });

  it('stop the dev server while jobs train, start it again on the same database: the run completes, each job launched once', async () => {
    const t0 = Date.now();
    const info = await server();
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
      // The jobs do not need the server: they keep training while it is away.
      await sleep(3000);
      assert.ok(jobProcesses(loaded).length > 0, 'jobs still running while the server is down');
      const again = await server();
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
