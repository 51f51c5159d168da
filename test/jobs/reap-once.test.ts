// One look of the reaper over a real local job, with the question "is its run open?" answered by the test: a job of
// an open run, or of a run the server cannot be asked about now, is left running; a job of a closed run is stopped.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import type { JobOwner, LaunchOptions } from '../../src/jobs/launcher';
import { LocalLauncher } from '../../src/jobs/local';
import { reapOnce } from '../../src/jobs/reaper';
import { RELEARN_ROOT, VENV_PYTHON } from '../../src/paths';
import { processesWith } from '../helpers/processes';
import { waitFor } from '../helpers/wait';

const OWNER: JobOwner = { namespace: 'default', workflowId: 'retrain/reap-once', runId: 'run-1' };

function sleeper(jobId: string, marker: string, owner?: JobOwner): LaunchOptions {
  return { jobId, command: [VENV_PYTHON, '-c', 'import time; time.sleep(600)', '{spec}', marker], cwd: RELEARN_ROOT, spec: {} as LaunchOptions['spec'], ...(owner ? { owner } : {}) };
}

describe('reapOnce on the local launcher', () => {
  test('leaves the jobs of an open run and of a run it cannot ask about; stops the jobs of a closed run', async () => {
    const launcher = new LocalLauncher(mkdtempSync(path.join(os.tmpdir(), 'relearn-reap-')));
    const marker = `relearn-reap-once-${process.pid}-${Date.now()}`;
    const owned = launcher.launchOrAttach(sleeper('owned', marker, OWNER));
    const ownerless = launcher.launchOrAttach(sleeper('ownerless', `${marker}-ownerless`));
    try {
      await waitFor('both jobs to run', () => (processesWith(marker).length >= 2 && launcher.poll(owned).kind === 'running' ? true : undefined), 30_000, 50);
      assert.deepEqual(
        launcher.activeJobs().map((job) => [job.handle.jobId, job.owner]),
        [['owned', OWNER]],
        'only a job whose owner was recorded at launch is checked',
      );

      const asked: JobOwner[] = [];
      const open = await reapOnce([launcher], async (owner) => (asked.push(owner), true));
      assert.deepEqual(open, { reaped: [], errors: [] });
      assert.deepEqual(asked, [OWNER]);
      const unknown = await reapOnce([launcher], async () => {
        throw new Error('server unreachable');
      });
      assert.deepEqual(unknown.reaped, []);
      assert.deepEqual(unknown.errors, ['local job owned: server unreachable']);
      assert.equal(launcher.poll(owned).kind, 'running', 'still running after both looks');

      const closed = await reapOnce([launcher], async () => false);
      assert.deepEqual(closed.reaped.map((job) => [job.handle.jobId, job.launcher]), [['owned', 'local']]);
      await waitFor('the owned job to be gone', () => (launcher.poll(owned).kind === 'failed' ? true : undefined), 10_000, 50);
      assert.equal(readFileSync(path.join(owned.runDir, 'killed'), 'utf8').trim(), 'its workflow run retrain/reap-once/run-1 is closed');
      assert.equal(launcher.poll(ownerless).kind, 'running', 'a job without an owner is never reaped');
    } finally {
      launcher.cancel(owned, 'test over');
      launcher.cancel(ownerless, 'test over');
    }
  });
});
