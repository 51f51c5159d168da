// The Ray launcher against a real Ray head (test/helpers/ray.ts), without Temporal: a relaunch attaches instead of
// submitting again, cancel stops the job's processes, a job exiting 2 fails as it does locally, an unreachable
// dashboard is a retryable error naming its URL. Submissions are counted from Ray's own job list.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { before, describe, test } from 'node:test';
import { JobParamsError, RelearnError } from '../../src/errors';
import { failureOf, type JobHandle, type JobLauncher, type JobState, type LaunchOptions } from '../../src/jobs/launcher';
import { LocalLauncher } from '../../src/jobs/local';
import { RayLauncher, submissionIdOf } from '../../src/jobs/ray';
import { RELEARN_ROOT, VENV_PYTHON } from '../../src/paths';
import { freePort } from '../helpers/free-port';
import { type RayHead, rayJobList, testRayHead } from '../helpers/ray';
import { processesWith } from '../helpers/processes';
import { waitFor } from '../helpers/wait';

const RUN = `${process.pid.toString(36)}-${Date.now().toString(36)}`;

function launch(jobId: string, script: string, extra: string[] = []): LaunchOptions {
  return { jobId: `${jobId}-${RUN}`, command: [VENV_PYTHON, '-c', script, '{spec}', ...extra], cwd: RELEARN_ROOT, spec: {} as LaunchOptions['spec'] };
}

async function finish(launcher: JobLauncher, handle: JobHandle): Promise<Extract<JobState, { kind: 'succeeded' | 'failed' }>> {
  return waitFor(`job ${handle.jobId} to finish`, async () => {
    const state = await launcher.poll(handle);
    return state.kind === 'succeeded' || state.kind === 'failed' ? state : undefined;
  }, 120_000, 200);
}

const SUCCEED_AFTER_2_S = [
  'import json, os, sys, time',
  'time.sleep(2)',
  'spec = json.load(open(sys.argv[1]))',
  'status = {"status": "succeeded", "role": "final", "task": "binary", "estimator": "x", "trainRows": 7}',
  'open(os.path.join(spec["outputDir"], "status.json"), "w").write(json.dumps(status))',
].join('\n');

const WRITE_STATUS = [
  'import json, os, sys',
  'spec = json.load(open(sys.argv[1]))',
  'open(os.path.join(spec["outputDir"], "status.json"), "w").write(json.dumps({"status": "failed", "error": "param C must be positive, got -1"}))',
  'print("bad C", file=sys.stderr)',
  'sys.exit(2)',
].join('\n');

describe('the Ray launcher on a real Ray head', { timeout: 420_000 }, () => {
  let head: RayHead;
  let ray: RayLauncher;
  let jobsDir: string;

  before(async () => {
    head = await testRayHead();
    jobsDir = mkdtempSync(path.join(os.tmpdir(), 'relearn-rayjobs-'));
    ray = new RayLauncher({ address: head.address, jobsDir });
  });

  test('a relaunch of the same job id attaches: two launches at once and a worker that restarts make one submission', async () => {
    const opts = launch('attach', SUCCEED_AFTER_2_S);
    // Two attempts at once: both find nothing, both submit; Ray takes one and refuses the other, which attaches.
    const [a, b] = await Promise.all([ray.launchOrAttach(opts), ray.launchOrAttach(opts)]);
    assert.equal(a.submissionId, opts.jobId, 'the submission id is the job id');
    assert.deepEqual([a.attached, b.attached].sort(), [false, true]);
    // A worker that restarts has a launcher of its own: it finds the run on the cluster.
    const restarted = new RayLauncher({ address: head.address, jobsDir });
    const again = await restarted.launchOrAttach(opts);
    assert.equal(again.attached, true);
    assert.equal(again.run, 1);
    const done = await finish(restarted, again);
    assert.equal(done.kind, 'succeeded');
    assert.equal((done as Extract<JobState, { kind: 'succeeded' }>).status.trainRows, 7, 'the status.json the job wrote');
    const submitted = (await rayJobList(head.address)).filter((j) => j.submission_id.startsWith(opts.jobId));
    assert.deepEqual(submitted.map((j) => j.submission_id), [opts.jobId], 'Ray lists exactly one submission');
    assert.equal((await ray.launches(opts.jobId)).length, 1);
  });

  test('cancel stops the Ray job and its processes', async () => {
    const marker = `relearn-cancel-marker-${RUN}`;
    const opts = launch('cancel', 'import time; time.sleep(600)', [marker]);
    const handle = await ray.launchOrAttach(opts);
    await waitFor('the job to run', async () => ((await ray.poll(handle)).kind === 'running' && processesWith(marker).length > 0 ? true : undefined), 120_000, 200);
    await ray.cancel(handle, 'run cancelled');
    await waitFor('the job\'s processes to end', () => (processesWith(marker).length === 0 ? true : undefined), 30_000, 100);
    const state = await finish(ray, handle);
    assert.equal(state.kind, 'failed');
    assert.match((state as { message: string }).message, /was stopped/);
    assert.equal((await rayJobList(head.address)).find((j) => j.submission_id === opts.jobId)?.status, 'STOPPED');
  });

  test('a job exiting 2 fails on Ray as it does locally: JobParamsError with the job\'s own reason', async () => {
    const opts = launch('bad-params', WRITE_STATUS);
    const local = new LocalLauncher(mkdtempSync(path.join(os.tmpdir(), 'relearn-localjobs-')));
    const onRay = (await finish(ray, await ray.launchOrAttach(opts))) as Extract<JobState, { kind: 'failed' }>;
    const localHandle = local.launchOrAttach(opts);
    const onLocal = (await finish(local, localHandle)) as Extract<JobState, { kind: 'failed' }>;
    assert.match(local.logs(localHandle), /bad C/);
    assert.equal(onRay.kind, 'failed');
    assert.equal(onRay.exitCode, 2);
    assert.equal(onRay.badParams, true);
    assert.equal(onRay.message, onLocal.message);
    assert.equal(onRay.message, `training job ${opts.jobId} rejected its params (exit code 2): param C must be positive, got -1`);
    assert.ok(failureOf(onRay) instanceof JobParamsError);
    assert.ok(failureOf(onLocal) instanceof JobParamsError);
  });

  test('a job failing with exit 1 is retryable and relaunched as run 2 under its own submission id', async () => {
    const opts = launch('flaky', 'import sys; print("disk full", file=sys.stderr); sys.exit(1)');
    const first = await ray.launchOrAttach(opts);
    const failed = (await finish(ray, first)) as Extract<JobState, { kind: 'failed' }>;
    assert.equal(failed.exitCode, 1);
    assert.equal(failed.badParams, false);
    assert.match(failed.message, /exited with code 1; last stderr lines:\n[\s\S]*disk full/);
    const error = failureOf(failed);
    assert.ok(!(error instanceof RelearnError), 'a plain Error: Temporal retries it');
    assert.match(await ray.logs(first), /disk full/, 'logs reads the run\'s log from Ray');
    await ray.cleanUp(first);
    assert.equal(existsSync(path.join(first.runDir, 'home')), false, 'clean-up removes the finished run\'s HOME');
    assert.equal(existsSync(first.runDir), true, 'and keeps the run folder');
    const second = await ray.launchOrAttach(opts);
    assert.equal(second.run, 2);
    assert.equal(second.submissionId, submissionIdOf(opts.jobId, 2));
    await finish(ray, second);
    assert.deepEqual((await ray.launches(opts.jobId)).map((l) => l.run), [1, 2]);
  });

  test('an unreachable dashboard is a retryable error that names its URL', async () => {
    const port = await freePort();
    const gone = new RayLauncher({ address: `http://127.0.0.1:${port}`, jobsDir });
    await assert.rejects(gone.launchOrAttach(launch('unreachable', 'pass')), (err: unknown) => {
      assert.ok(!(err instanceof RelearnError), 'retryable, not a final failure');
      assert.match((err as Error).message, new RegExp(`Ray dashboard http://127\\.0\\.0\\.1:${port} is unreachable \\(GET /api/jobs/unreachable-[^:]+: ECONNREFUSED\\)`));
      return true;
    });
  });
});
