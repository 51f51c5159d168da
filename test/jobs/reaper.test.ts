// No orphans: a run terminated while its training job runs leaves no job behind. The job outlives its activity on
// purpose (a restarted worker re-attaches to it), so the worker's reaper stops it once Temporal says its run is
// closed. Real dev server, real worker, a real job process (local) and a real Ray job.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { before, describe, test } from 'node:test';
import type { LoadedConfig } from '../../src/config';
import { connectClient } from '../../src/temporal/connection';
import { startRetrain } from '../../src/temporal/runs';
import { createRelearnWorker } from '../../src/temporal/worker';
import { smallFlightsModel, testConfig, uniqueModelName } from '../helpers/pipeline-env';
import { rayJobList, testRayHead } from '../helpers/ray';
import { processesWith } from '../helpers/processes';
import { waitFor } from '../helpers/wait';

/** A trainer that never finishes on its own. */
const SLEEPER = ['{python}', '-c', 'import time; time.sleep(600)', '{spec}'];
/** The reaper's bound in these tests: it looks every 500 ms; the job must be gone well within this. */
const REAPED_WITHIN_MS = 20_000;

/**
 * Starts a run whose training jobs never end, waits for one to run, terminates the run, and returns how long it took
 * for every job process to go (the markers are the run's own jobs folder, in each job's spec path).
 */
async function terminateWhileTraining(loaded: LoadedConfig, model: string): Promise<{ workflowId: string; runId: string; goneAfterMs: number }> {
  const { client, target, close } = await connectClient(loaded);
  const { worker, close: closeWorker } = await createRelearnWorker(loaded, target, { reaperIntervalMs: 500 });
  const marker = path.join(loaded.stateDir, 'jobs');
  try {
    const started = await startRetrain(client, target, loaded, model);
    const handle = client.workflow.getHandle(started.workflowId, started.runId);
    return await worker.runUntil(async () => {
      await waitFor('a training job process', () => (processesWith(marker).length > 0 ? true : undefined), 180_000, 100);
      await handle.terminate('test: terminated while training');
      const t0 = Date.now();
      await waitFor(`the run's job processes to be stopped within ${REAPED_WITHIN_MS} ms`, () => (processesWith(marker).length === 0 ? true : undefined), REAPED_WITHIN_MS, 100);
      return { workflowId: started.workflowId, runId: started.runId, goneAfterMs: Date.now() - t0 };
    });
  } finally {
    await closeWorker();
    await close();
  }
}

describe('the reaper stops the jobs of a terminated run', { timeout: 420_000 }, () => {
  let rayAddress: string;
  before(async () => {
    rayAddress = (await testRayHead()).address;
  });

  test('local launcher: the job process group is killed, with the reason noted in its run folder', async () => {
    const model = uniqueModelName('reap-local');
    const loaded = await testConfig({ [model]: smallFlightsModel({ trainer: { command: SLEEPER, maxParallel: 1, maxAttempts: 1 } }) }, { prefix: 'reap' });
    const { workflowId, runId, goneAfterMs } = await terminateWhileTraining(loaded, model);
    const jobs = readdirSync(path.join(loaded.stateDir, 'jobs')).filter((name) => name !== 'launches.jsonl');
    assert.ok(jobs.length >= 1);
    const notes = jobs.map((job) => readFileSync(path.join(loaded.stateDir, 'jobs', job, 'runs', '1', 'killed'), 'utf8').trim());
    assert.deepEqual(new Set(notes), new Set([`its workflow run ${workflowId}/${runId} is closed`]));
    console.log(`# local job stopped ${goneAfterMs} ms after the terminate`);
  });

  test('ray launcher: the Ray job is stopped (Ray lists it STOPPED) and its processes are gone', async () => {
    const model = uniqueModelName('reap-ray');
    const loaded = await testConfig(
      { [model]: smallFlightsModel({ trainer: { command: SLEEPER, maxParallel: 1, maxAttempts: 1, launcher: { ray: { address: rayAddress } } } }) },
      { prefix: 'reap' },
    );
    const { workflowId, goneAfterMs } = await terminateWhileTraining(loaded, model);
    const mine = (await rayJobList(rayAddress)).filter((job) => job.metadata?.['relearn.workflowId'] === workflowId);
    assert.ok(mine.length >= 1, 'the run submitted its job to Ray');
    await waitFor('Ray to list the job as STOPPED', async () => {
      const jobs = (await rayJobList(rayAddress)).filter((job) => job.metadata?.['relearn.workflowId'] === workflowId);
      return jobs.every((job) => job.status === 'STOPPED') ? true : undefined;
    }, 20_000, 200);
    console.log(`# Ray job stopped ${goneAfterMs} ms after the terminate`);
  });
});
