import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { WorkflowExecutionDescription } from '@temporalio/client';
import proto from '@temporalio/proto';
import { POLL_FRESH_MS, classifyPollers, waitingForWorker } from '../../src/temporal/task-queue';

const { PendingActivityState, PendingWorkflowTaskState } = proto.temporal.api.enums.v1;
const NOW = Date.parse('2026-05-01T12:00:00Z');
const at = (msAgo: number) => ({ seconds: Math.floor((NOW - msAgo) / 1000), nanos: ((NOW - msAgo) % 1000) * 1e6 });

function running(raw: Record<string, unknown>): WorkflowExecutionDescription {
  return { status: { name: 'RUNNING' }, raw } as unknown as WorkflowExecutionDescription;
}

describe('which listed workers are alive', () => {
  it('a poll within one long poll is live; a listed worker silent for longer has gone', () => {
    const r = classifyPollers(
      [
        { identity: 'idle@a', lastAccessTime: at(55_000) },
        { identity: 'gone@b', lastAccessTime: at(POLL_FRESH_MS + 1000) },
        { identity: 'now@c', lastAccessTime: at(0) },
        { identity: 'unknown@d' },
      ],
      NOW,
    );
    assert.deepEqual(r.live.map((p) => p.identity), ['idle@a', 'now@c']);
    assert.deepEqual(r.stale.map((p) => p.identity), ['gone@b', 'unknown@d']);
    assert.equal(r.live[0]!.lastPollAgeMs, 55_000);
  });
});

describe('what a run waits on a worker for', () => {
  it('a workflow task scheduled and not started for longer than the limit', () => {
    const d = running({ pendingWorkflowTask: { state: PendingWorkflowTaskState.PENDING_WORKFLOW_TASK_STATE_SCHEDULED, scheduledTime: at(6000) } });
    assert.deepEqual(waitingForWorker(d, NOW, 5000), { task: 'its workflow task', waitingMs: 6000 });
    assert.equal(waitingForWorker(d, NOW, 7000), undefined);
  });

  it('a started workflow task and started activities are picked up', () => {
    const d = running({
      pendingWorkflowTask: { state: PendingWorkflowTaskState.PENDING_WORKFLOW_TASK_STATE_STARTED, scheduledTime: at(60_000) },
      pendingActivities: [{ state: PendingActivityState.PENDING_ACTIVITY_STATE_STARTED, activityType: { name: 'runTrainingJob' }, attempt: 1, scheduledTime: at(60_000) }],
    });
    assert.equal(waitingForWorker(d, NOW, 5000), undefined);
  });

  it('an activity scheduled and not started, but not one waiting out its retry backoff', () => {
    const waiting = running({
      pendingActivities: [{ state: PendingActivityState.PENDING_ACTIVITY_STATE_SCHEDULED, activityType: { name: 'pullData' }, attempt: 1, scheduledTime: at(9000) }],
    });
    assert.deepEqual(waitingForWorker(waiting, NOW, 5000), { task: 'activity pullData', waitingMs: 9000 });
    const backoff = running({
      pendingActivities: [
        { state: PendingActivityState.PENDING_ACTIVITY_STATE_SCHEDULED, activityType: { name: 'runTrainingJob' }, attempt: 2, scheduledTime: at(60_000), nextAttemptScheduleTime: at(-30_000) },
      ],
    });
    assert.equal(waitingForWorker(backoff, NOW, 5000), undefined);
    const retryDue = running({
      pendingActivities: [
        { state: PendingActivityState.PENDING_ACTIVITY_STATE_SCHEDULED, activityType: { name: 'runTrainingJob' }, attempt: 2, scheduledTime: at(60_000), nextAttemptScheduleTime: at(8000) },
      ],
    });
    assert.deepEqual(waitingForWorker(retryDue, NOW, 5000), { task: 'activity runTrainingJob (attempt 2)', waitingMs: 8000 });
  });

  it('a closed run waits for nothing', () => {
    const d = { status: { name: 'FAILED' }, raw: { pendingWorkflowTask: { state: 1, scheduledTime: at(60_000) } } } as unknown as WorkflowExecutionDescription;
    assert.equal(waitingForWorker(d, NOW, 5000), undefined);
  });
});
