// Overlap and backfill of Schedules on the real dev server, without training anything: a run of the model that is
// "still going" is a `retrain/<model>` started on a task queue no worker polls, so it stays RUNNING for as long as
// the test needs; the Schedule's own actions are held RUNNING the same way by starting the worker only when wanted.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, it } from 'node:test';
import type { Client } from '@temporalio/client';
import { RELEARN_ROOT } from '../../src/paths';
import { connectClient } from '../../src/temporal/connection';
import { scheduleIdOf, syncSchedules } from '../../src/temporal/schedules';
import { createRelearnWorker } from '../../src/temporal/worker';
import { smallFlightsModel, testConfig, uniqueModelName } from '../helpers/pipeline-env';
import { waitFor } from '../helpers/wait';
import type { ScheduledRetrainResult } from '../../src/contracts';

const CLI = path.join(RELEARN_ROOT, 'src/cli/main.ts');

function relearn(configPath: string, ...args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', CLI, '--config', configPath, ...args], { cwd: RELEARN_ROOT, encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, `relearn ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

async function listIds(client: Client, query: string): Promise<Array<{ workflowId: string; runId: string; status: string }>> {
  const out: Array<{ workflowId: string; runId: string; status: string }> = [];
  for await (const wf of client.workflow.list({ query })) out.push({ workflowId: wf.workflowId, runId: wf.runId, status: wf.status.name });
  return out;
}

describe('schedule overlap and backfill on the real dev server', { timeout: 300_000 }, () => {
  it('a trigger while a run of the model is going starts no second run; backfill takes its slots, SKIP drops those due while actions run', async () => {
    const model = uniqueModelName('sched-ovl');
    // Paused: only trigger and backfill start actions, never the interval itself.
    const loaded = await testConfig({ [model]: { ...smallFlightsModel(), schedule: { every: '1h', paused: true } } });
    const { client, target, close } = await connectClient(loaded);
    const schedule = client.schedule.getHandle(scheduleIdOf(model));
    // A run "still going": retrain/<model> waiting on a task queue nobody polls.
    const blocked = await client.workflow.start('retrain', {
      taskQueue: `${target.taskQueue}-nobody`,
      workflowId: `retrain/${model}`,
      args: [{ model, trigger: 'manual' }],
    });
    try {
      assert.deepEqual((await syncSchedules(client, target, loaded)).map((c) => c.action), ['created']);

      // Backfill three hourly slots with ALLOW_ALL: three scheduledRetrain actions (no worker yet, so they stay
      // running; ALLOW_ALL does not track them as running, nothing to overlap with).
      const from = '2026-01-05T00:00:00Z';
      assert.match(relearn(loaded.configPath, 'schedule', 'backfill', model, '--from', from, '--to', '2026-01-05T02:30:00Z', '--overlap', 'allow_all'), /backfill of relearn\//);
      const taken = await waitFor('three backfilled actions', async () => {
        const info = (await schedule.describe()).info;
        return info.numActionsTaken >= 3 ? info : undefined;
      }, 60_000, 250);
      assert.equal(taken.numActionsTaken, 3);
      assert.deepEqual(taken.recentActions.map((a) => a.scheduledAt.toISOString()), ['2026-01-05T00:00:00.000Z', '2026-01-05T01:00:00.000Z', '2026-01-05T02:00:00.000Z']);

      // Three more slots with SKIP: the first is taken and, still running, makes the Schedule skip the other two.
      relearn(loaded.configPath, 'schedule', 'backfill', model, '--from', '2026-01-06T00:00:00Z', '--to', '2026-01-06T02:30:00Z', '--overlap', 'skip');
      // Settled once all six backfilled slots are accounted for, taken or skipped: these backfills add nothing more.
      const settled = await waitFor('the three SKIP slots to be taken or skipped', async () => {
        const info = (await schedule.describe()).info;
        return info.numActionsTaken + info.numActionsSkippedOverlap >= 6 ? info : undefined;
      }, 60_000, 250);
      assert.equal(settled.numActionsTaken, 4, 'one of the SKIP slots taken');
      assert.equal(settled.numActionsSkippedOverlap, 2, 'the two others skipped while it runs');
      assert.equal(settled.runningActions.length, 1);
      assert.equal(settled.recentActions.at(-1)?.scheduledAt.toISOString(), '2026-01-06T00:00:00.000Z');

      // Now a worker runs the actions: each finds retrain/<model> going and is absorbed; no second retrain starts.
      const { worker, close: closeWorker } = await createRelearnWorker(loaded, target);
      try {
        await worker.runUntil(async () => {
          const actions = settled.recentActions.map((a) => client.workflow.getHandle(a.action.workflow.workflowId, a.action.workflow.firstExecutionRunId));
          const results = (await Promise.all(actions.map((h) => h.result()))) as ScheduledRetrainResult[];
          assert.deepEqual(results.map((r) => r.action), ['absorbed', 'absorbed', 'absorbed', 'absorbed']);
          assert.match(results[0]!.reason, new RegExp(`a run of ${model} is already going`));
          // A trigger now (the Schedule's own SKIP policy, nothing of its own running) is absorbed the same way.
          relearn(loaded.configPath, 'schedule', 'trigger', model);
          const triggered = await waitFor('the triggered action to end', async () => {
            const info = (await schedule.describe()).info;
            const last = info.recentActions.at(-1);
            return info.numActionsTaken >= 5 && last && info.runningActions.length === 0 ? { info, last } : undefined;
          }, 60_000, 250);
          // Exactly one more action than the backfills left: nothing else started meanwhile.
          assert.equal(triggered.info.numActionsTaken, 5);
          assert.equal(triggered.info.numActionsSkippedOverlap, 2);
          const r4 = (await client.workflow.getHandle(triggered.last.action.workflow.workflowId, triggered.last.action.workflow.firstExecutionRunId).result()) as ScheduledRetrainResult;
          assert.equal(r4.action, 'absorbed');
        });
      } finally {
        await closeWorker();
      }
      const retrains = await waitFor('the list to show the run', async () => {
        const l = await listIds(client, `WorkflowId = 'retrain/${model}'`);
        return l.length > 0 ? l : undefined;
      }, 60_000, 250);
      assert.equal(retrains.length, 1, 'only the run that was already going');
      assert.equal(retrains[0]!.runId, blocked.firstExecutionRunId);
      assert.equal(retrains[0]!.status, 'RUNNING');
    } finally {
      await blocked.terminate('test over').catch(() => undefined);
      await schedule.delete().catch(() => undefined);
      await close();
    }
  });
});
