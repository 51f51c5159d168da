// Determinism guard: every recorded history, of every workflow type, must replay on today's workflow code without a
// non-determinism error. Histories live in test/histories/<workflowType>/<name>.json and are made by
// scripts/record-histories.ts; a workflow type exported from workflows/ without a recorded history fails here.
// A change that alters the commands a workflow issues goes behind patched('<name>'); re-record only after that.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import type { temporal } from '@temporalio/proto';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { DeterminismViolationError } from '@temporalio/workflow';
import { Worker } from '@temporalio/worker';
import { RELEARN_ROOT } from '../../src/paths';
import { workflowBundle } from '../../src/temporal/worker';
import * as workflows from '../../workflows';

const DIR = path.join(RELEARN_ROOT, 'test', 'histories');

interface RecordedHistory {
  /** Path under test/histories, e.g. `retrain/first-promoted.json`. */
  name: string;
  /** The workflow type the history was recorded from (its first event says). */
  workflowType: string;
  history: temporal.api.history.v1.IHistory;
}

function recordedHistories(): RecordedHistory[] {
  return readdirSync(DIR, { recursive: true })
    .map(String)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((name) => {
      const json = JSON.parse(readFileSync(path.join(DIR, name), 'utf8')) as unknown;
      const history = historyFromJSON(json);
      const workflowType = history.events?.[0]?.workflowExecutionStartedEventAttributes?.workflowType?.name;
      assert.ok(workflowType, `${name}: the first event is not WorkflowExecutionStarted`);
      return { name, workflowType, history };
    });
}

/** Workflow types the worker registers: the functions workflows/index.ts exports (queries and signals are objects). */
const workflowTypes = Object.entries(workflows)
  .filter(([, value]) => typeof value === 'function')
  .map(([name]) => name)
  .sort();

const bundle = () => workflowBundle(path.join(os.tmpdir(), 'relearn-replay-cache'));

describe('replay of recorded histories', () => {
  const recorded = recordedHistories();

  it('every workflow type has at least one recorded history', () => {
    const missing = workflowTypes.filter((type) => !recorded.some((r) => r.workflowType === type));
    assert.deepEqual(
      missing,
      [],
      `no recorded history for ${missing.join(', ')}: run one, then save it with ` +
        '`npx tsx scripts/record-histories.ts --run <workflowId> --name <name>` (see README, Contributing)',
    );
  });

  it('each history sits in the folder of its workflow type, and that type still exists', () => {
    for (const r of recorded) {
      const folder = r.name.includes(path.sep) ? r.name.split(path.sep)[0] : undefined;
      assert.equal(folder, r.workflowType, `${r.name} records a ${r.workflowType} run; keep it in test/histories/${r.workflowType}/`);
      assert.ok(workflowTypes.includes(r.workflowType), `${r.name}: workflow type ${r.workflowType} is no longer exported by workflows/`);
    }
  });

  for (const r of recorded) {
    it(`replays ${r.name}`, { timeout: 180_000 }, async () => {
      const result = await Worker.runReplayHistory({ workflowBundle: await bundle() }, r.history, `replay-${r.name}`);
      assert.equal(result, undefined);
    });
  }

  it('the guard works: a history whose first activity was another one fails with a determinism error', { timeout: 180_000 }, async () => {
    const source = recorded.find((r) => r.workflowType === 'retrain');
    assert.ok(source, 'a retrain history to tamper with');
    const json = JSON.parse(readFileSync(path.join(DIR, source.name), 'utf8')) as { events: Array<Record<string, { activityType?: { name: string } }>> };
    const scheduled = json.events.find((e) => e.activityTaskScheduledEventAttributes)?.activityTaskScheduledEventAttributes;
    assert.ok(scheduled?.activityType);
    scheduled.activityType.name = 'someOtherActivity';
    const history = historyFromJSON(json);
    await assert.rejects(Worker.runReplayHistory({ workflowBundle: await bundle() }, history, 'replay-tampered'), DeterminismViolationError);
  });
});
