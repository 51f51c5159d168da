// `relearn run --wait` as a user runs it, against the shared dev server: it never waits silently on a worker that has
// gone, and a failed run ends with its stage and reason and exit code 1.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { describe, it } from 'node:test';
import { RELEARN_ROOT } from '../../src/paths';
import { connectClient } from '../../src/temporal/connection';
import { taskQueuePollers } from '../../src/temporal/task-queue';
import { createRelearnWorker } from '../../src/temporal/worker';
import { smallFlightsModel, testConfig, uniqueModelName } from '../helpers/pipeline-env';
import { waitFor } from '../helpers/wait';

const CLI = path.join(RELEARN_ROOT, 'src/cli/main.ts');

/** Runs `relearn <args>` in a child process; a run that hangs is killed after `timeoutMs` (code null). */
function relearn(config: string, args: string[], timeoutMs = 300_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CLI, '--config', config, ...args], {
      env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('relearn run --wait', { timeout: 900_000 }, () => {
  it('a worker that has just exited is still listed; --wait says nobody picks the run up and runs one itself', async () => {
    const model = uniqueModelName('wait-gone');
    const loaded = await testConfig({ [model]: smallFlightsModel() }, { prefix: 'wait' });
    const { client, target, close } = await connectClient(loaded);
    try {
      // A worker polls the task queue, then stops: the server keeps listing it as a poller.
      const gone = await createRelearnWorker(loaded, target);
      const running = gone.worker.run();
      await waitFor('the worker listed as a poller', async () => ((await taskQueuePollers(client, target)).live.length > 0 ? true : undefined), 60_000, 250);
      gone.worker.shutdown();
      await running;
      await gone.close();
      const listed = await taskQueuePollers(client, target);
      assert.ok(listed.live.length >= 1, `the exited worker still looks live: ${JSON.stringify(listed)}`);

      const started = Date.now();
      const r = await relearn(loaded.configPath, ['run', model, '--wait']);
      assert.notEqual(r.code, null, `run --wait hung and was killed:\n${r.stdout}\n${r.stderr}`);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.match(r.stdout, /no worker has picked up its workflow task in \d+ s \(task queue '[^']+' lists \d+@[^,]+, last poll \d+ s ago\)/);
      assert.match(r.stdout, /running one in this process until the run ends — to keep one running, start `npx relearn worker`/);
      assert.match(r.stdout, /decision\s+PROMOTED: registered v1/);
      console.log(`run --wait after an exited worker: ${((Date.now() - started) / 1000).toFixed(1)} s`);
    } finally {
      await close();
    }
  });

  it('a failed run prints the stage, the failed activity and the reason like `relearn show`, and exits 1', async () => {
    const badParams = uniqueModelName('wait-params');
    const badColumn = uniqueModelName('wait-column');
    const base = smallFlightsModel() as { trainer: Record<string, unknown> };
    const loaded = await testConfig(
      {
        [badParams]: smallFlightsModel({ trainer: { ...base.trainer, params: { C: 1.0, not_a_param: 3 }, maxAttempts: 3 } }),
        [badColumn]: smallFlightsModel({ features: { numeric: ['distance', 'air_time'], categorical: ['origin'] } }),
      },
      { prefix: 'wait' },
    );

    const r = await relearn(loaded.configPath, ['run', badParams, '--wait']);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /failed in {2}stage train: train (fold \d\/3|final model) \(runTrainingJob, failed after 1 attempt\)/);
    assert.match(r.stdout, /decision {3}FAILED: .*not_a_param/);
    assert.match(r.stdout, new RegExp(`details {4}relearn show ${badParams} [0-9a-f-]{36}`));
    assert.doesNotMatch(r.stderr, /Workflow execution failed/);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
    // `relearn show` gives the same two lines for the run.
    const runId = /details {4}relearn show \S+ (\S+)/.exec(r.stdout)![1]!;
    const show = await relearn(loaded.configPath, ['show', badParams, runId]);
    assert.equal(show.code, 0, show.stderr);
    for (const line of r.stdout.split('\n').filter((l) => /^ {2}(failed in|decision) /.test(l))) assert.ok(show.stdout.includes(line.trim()), `show lacks '${line.trim()}':\n${show.stdout}`);

    const json = await relearn(loaded.configPath, ['run', badColumn, '--wait', '--json']);
    assert.equal(json.code, 1, json.stdout + json.stderr);
    const out = JSON.parse(json.stdout) as { failure: { stage: string; reason: string } };
    assert.equal(out.failure.stage, 'pull');
    assert.match(out.failure.reason, /'air_time'/);
  });
});
