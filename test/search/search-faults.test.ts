// A search survives its worker: a worker SIGKILLed while trials are running (one trial done, others mid-job) is
// replaced, and the run finishes without any trial job launched twice. Cancelling a searching run stops its trials
// and kills their jobs: no process is left behind.
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import { connectClient } from '../../src/temporal/connection';
import { uniqueModelName } from '../helpers/pipeline-env';
import {
  duplicateLaunches,
  faultConfig,
  faultModel,
  jobProcesses,
  launchesPerJob,
  outcomeOf,
  slowTrainer,
  startRun,
  waitFor,
  WorkerProcess,
} from '../faults/harness';

/** Trial job ids that finished (exit code written) and that are running (pid, no exit code), from the job folders. */
function trialJobs(jobsDir: string): { done: string[]; running: string[] } {
  const done: string[] = [];
  const running: string[] = [];
  if (!existsSync(jobsDir)) return { done, running };
  for (const jobId of readdirSync(jobsDir).filter((j) => j.includes('_search_trial-'))) {
    const runs = path.join(jobsDir, jobId, 'runs');
    if (!existsSync(runs)) continue;
    const last = path.join(runs, String(readdirSync(runs).map(Number).sort((a, b) => a - b).at(-1)));
    if (existsSync(path.join(last, 'exit_code'))) done.push(jobId);
    else if (existsSync(path.join(last, 'pid'))) running.push(jobId);
  }
  return { done, running };
}

const trialOf = (jobId: string) => jobId.replace(/_fold-\d+$/, '');

describe('search faults (real worker processes, real trainer)', { timeout: 600_000 }, () => {
  it('a worker killed mid-search is replaced: finished and running trials are not launched again', async () => {
    const model = uniqueModelName('search-kill');
    // One trial at a time: the kill finds the first trial finished and the second one's jobs running.
    const cfg = faultModel({ search: { strategy: 'grid', budget: 2, maxParallel: 1, space: { C: [0.01, 1] } } }, { command: slowTrainer(3) });
    const loaded = await faultConfig({ [model]: cfg });
    const jobsDir = path.join(loaded.stateDir, 'jobs');
    const { client, close } = await connectClient(loaded);
    const workers = [await WorkerProcess.start(loaded)];
    try {
      const { handle } = await startRun(client, loaded, model);
      const atKill = await waitFor('a finished trial and a running trial job', () => {
        const jobs = trialJobs(jobsDir);
        const finishedTrials = new Set(jobs.done.map(trialOf));
        const complete = [...finishedTrials].filter((t) => jobs.done.filter((j) => trialOf(j) === t).length === 2);
        return complete.length >= 1 && jobs.running.length >= 1 ? { ...jobs, complete } : undefined;
      }, 240_000, 100);
      await workers[0]!.signal('SIGKILL');
      workers.push(await WorkerProcess.start(loaded));
      const outcome = await outcomeOf(handle);
      assert.equal(outcome.failure, undefined, outcome.failure);
      const search = outcome.result!.search!;
      assert.equal(search.trials.length, 2);
      assert.ok(search.trials.every((t) => t.status === 'completed'), JSON.stringify(search.trials));
      const launches = launchesPerJob(loaded);
      const trialLaunches = [...launches].filter(([jobId]) => jobId.includes('_search_trial-'));
      assert.equal(trialLaunches.length, 2 * 2);
      assert.ok(trialLaunches.every(([, n]) => n === 1), JSON.stringify(trialLaunches));
      // The jobs that were running when the worker died were re-attached to, not relaunched.
      for (const jobId of atKill.running) assert.equal(launches.get(jobId), 1, jobId);
      assert.equal(duplicateLaunches(loaded), 0);
    } finally {
      for (const w of workers) await w.stop();
      await close();
    }
  });

  it('cancelling a searching run cancels its trials and kills their jobs', async () => {
    const model = uniqueModelName('search-cancel');
    const cfg = faultModel({ search: { strategy: 'grid', budget: 2, maxParallel: 2, space: { C: [0.01, 1] } } }, { command: slowTrainer(120) });
    const loaded = await faultConfig({ [model]: cfg });
    const jobsDir = path.join(loaded.stateDir, 'jobs');
    const { client, close } = await connectClient(loaded);
    const worker = await WorkerProcess.start(loaded);
    try {
      const { handle, started } = await startRun(client, loaded, model);
      await waitFor('four running trial jobs', () => (trialJobs(jobsDir).running.length === 4 ? true : undefined), 120_000, 100);
      await handle.cancel();
      await assert.rejects(handle.result(), (err: unknown) => err instanceof WorkflowFailedError && /cancel/i.test(String(err.cause)));
      const searchHandle = client.workflow.getHandle(`${started.workflowId}/${started.runId}/search`);
      assert.equal((await searchHandle.describe()).status.name, 'CANCELLED');
      const trialIds = readdirSync(jobsDir).filter((j) => j.includes('_search_trial-'));
      assert.equal(trialIds.length, 4);
      assert.deepEqual(jobProcesses(loaded), [], 'no job process outlives the cancelled run');
    } finally {
      await worker.stop();
      await close();
    }
  });
});
