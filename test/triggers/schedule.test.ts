import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { stringify } from 'yaml';
import { loadConfig } from '../../src/config';
import { connectClient } from '../../src/temporal/connection';
import { scheduleIdOf, syncSchedules } from '../../src/temporal/schedules';
import { createRelearnWorker } from '../../src/temporal/worker';
import { smallFlightsModel, testConfig, uniqueModelName } from '../helpers/pipeline-env';
import { waitFor } from '../helpers/wait';
import type { RetrainInput } from '../../src/contracts';

describe('schedules on the real dev server', { timeout: 600_000 }, () => {
  it('sync creates, finds nothing to change, pauses, updates and deletes to match temporal.yaml', async () => {
    const model = uniqueModelName('sched');
    const loaded = await testConfig({ [model]: { ...smallFlightsModel(), schedule: { every: '6h', jitter: '1m' } } });
    const { client, target, close } = await connectClient(loaded);
    const rewrite = (schedule: unknown) => {
      const raw = { ...loaded.config, models: { [model]: { ...smallFlightsModel(), ...(schedule ? { schedule } : {}) } } };
      writeFileSync(loaded.configPath, stringify(raw));
      return loadConfig(loaded.configPath);
    };
    try {
      assert.deepEqual((await syncSchedules(client, target, loaded)).map((c) => c.action), ['created']);
      assert.deepEqual((await syncSchedules(client, target, loaded)).map((c) => c.action), ['unchanged']);
      const d = await client.schedule.getHandle(scheduleIdOf(model)).describe();
      assert.equal(d.policies.overlap, 'SKIP');
      assert.equal(d.spec.intervals?.[0]?.every, 6 * 3_600_000);
      assert.equal(d.state.paused, false);

      const paused = rewrite({ every: '6h', jitter: '1m', paused: true });
      assert.deepEqual((await syncSchedules(client, target, paused)).map((c) => c.action), ['paused']);
      assert.equal((await client.schedule.getHandle(scheduleIdOf(model)).describe()).state.paused, true);

      const cron = rewrite({ cron: '0 3 * * 1', timeZone: 'Europe/Berlin', paused: true });
      assert.deepEqual((await syncSchedules(client, target, cron)).map((c) => c.action), ['updated']);
      const d2 = await client.schedule.getHandle(scheduleIdOf(model)).describe();
      assert.equal(d2.spec.timezone, 'Europe/Berlin');
      assert.equal(d2.state.paused, true);
      assert.deepEqual((await syncSchedules(client, target, cron)).map((c) => c.action), ['unchanged']);

      // Deleting needs the Schedule to be visible in the list, which the server indexes shortly after creation.
      const removed = rewrite(undefined);
      const changes = await waitFor('the Schedule to be listed and deleted', async () => {
        const c = await syncSchedules(client, target, removed);
        return c.length > 0 ? c : undefined;
      }, 60_000, 250);
      assert.deepEqual(changes.map((c) => c.action), ['deleted']);
      await assert.rejects(client.schedule.getHandle(scheduleIdOf(model)).describe());
    } finally {
      await close();
    }
  });

  it('a Schedule fires retrain/<model> with trigger=schedule; SKIP drops the starts due while that run is going', async () => {
    const model = uniqueModelName('sched-run');
    const loaded = await testConfig({ [model]: { ...smallFlightsModel(), schedule: { every: '2s', catchupWindow: '1m' } } });
    const { client, target, close } = await connectClient(loaded);
    const { worker, close: closeWorker } = await createRelearnWorker(loaded, target);
    try {
      await syncSchedules(client, target, loaded);
      const schedule = client.schedule.getHandle(scheduleIdOf(model));
      await worker.runUntil(async () => {
        const retrain = client.workflow.getHandle(`retrain/${model}`);
        const described = await waitFor('the scheduled retrain to start', async () => {
          try {
            return await retrain.describe();
          } catch {
            return undefined;
          }
        }, 60_000, 250);
        // Starts due every 2 s while the run goes on are skipped, not queued and not run in parallel.
        await waitFor('a start skipped for overlap', async () => ((await schedule.describe()).info.numActionsSkippedOverlap >= 1 ? true : undefined), 60_000, 250);
        await schedule.pause('test: stop after the first run');
        const result = (await retrain.result()) as { version: number; decision: string };
        assert.equal(result.version, 1);
        assert.equal(described.typedSearchAttributes.get({ name: 'RelearnTrigger', type: 'KEYWORD' }), 'schedule');
        const history = await retrain.fetchHistory();
        const started = history.events?.[0]?.workflowExecutionStartedEventAttributes;
        const input = JSON.parse(Buffer.from(started!.input!.payloads![0]!.data!).toString()) as RetrainInput;
        assert.equal(input.trigger, 'schedule');
        assert.match(input.reason ?? '', new RegExp(`schedule relearn/${model}`));
        assert.ok(started?.parentWorkflowExecution?.workflowId?.startsWith(`scheduled/${model}`), 'started by the Schedule’s workflow');
        const info = (await schedule.describe()).info;
        assert.equal(info.numActionsTaken, 1, 'one scheduled start while the run was going');
        assert.ok(info.numActionsSkippedOverlap >= 1);
      });
      await schedule.delete();
    } finally {
      await closeWorker();
      await close();
    }
  });
});
