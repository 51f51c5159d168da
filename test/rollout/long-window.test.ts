// A week-long shadow window runs inside one activity: the run's history stays small however many times the window
// looks at the prediction log. The window's clock runs fast here (a week in about half a minute); the workflow, the
// activity, the dev server and the registry are the real ones.
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import type { RetrainResult } from '../../src/contracts';
import { CHAMPION_ALIAS, openRegistry } from '../../src/registry';
import { connectClient } from '../../src/temporal/connection';
import { runPipeline, smallFlightsModel, testConfig, uniqueModelName } from '../helpers/pipeline-env';

const WEEK_MS = 7 * 86_400_000;
/** A week of window time in about 25 s of real time. */
const CLOCK_SPEED = WEEK_MS / 25_000;

test('a 7-day shadow window with no traffic ends inconclusive, takes its default, and keeps the history under 1,000 events', { timeout: 600_000 }, async (t) => {
  const model = uniqueModelName('week');
  const loaded = await testConfig(
    {
      [model]: smallFlightsModel({
        rollout: { shadow: { minDuration: '1d', maxDuration: '7d', pollInterval: '1h', minLabeledRows: 200, labelWait: '6h' } },
      }),
    },
    { prefix: 'week' },
  );
  // The first run has no champion: no shadow window, promoted as v1.
  const first = await runPipeline(loaded, model, { worker: { windowClockSpeed: CLOCK_SPEED } });
  assert.equal(first.result?.decision, 'promoted', first.failure);

  const second = await runPipeline(loaded, model, { worker: { windowClockSpeed: CLOCK_SPEED } });
  const r = second.result as RetrainResult;
  assert.ok(r, second.failure);
  assert.equal(r.gate.verdict, 'PASS');
  assert.equal(r.decision, 'rejected');
  const shadow = r.rollout?.find((s) => s.phase === 'shadow');
  assert.ok(shadow, 'the run has a shadow step');
  assert.equal(shadow.outcome, 'inconclusive');
  assert.equal(shadow.decidedBy, 'default');
  assert.equal(shadow.decision, 'reject');
  assert.match(shadow.reason, /inconclusive/);
  assert.doesNotMatch(shadow.reason, /worse/);
  // The window looked every hour for a week (168 looks) and once more after waiting 6 h for late labels.
  assert.equal(shadow.evidence?.until, new Date(Date.parse(shadow.evidence!.since) + WEEK_MS + 6 * 3_600_000).toISOString());

  const { client, close } = await connectClient(loaded);
  try {
    const history = await client.workflow.getHandle(second.workflowId, second.runId).fetchHistory();
    const events = history.events?.length ?? 0;
    assert.ok(events < 1000, `the run's history has ${events} events`);
    t.diagnostic(`history of the run with a 7-day shadow window: ${events} events`);
    // One activity for the whole window, not one per look.
    const windowActivities = (history.events ?? []).filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'runLiveWindow');
    assert.equal(windowActivities.length, 1);
  } finally {
    await close();
  }

  const registry = openRegistry(loaded);
  try {
    assert.equal((await registry.getAlias(model, CHAMPION_ALIAS))?.version, 1);
    const shadowRecord = (await registry.listEvaluations(model)).find((e) => e.phase === 'shadow');
    assert.equal(shadowRecord?.decision, 'reject');
  } finally {
    await registry.close();
  }
});
