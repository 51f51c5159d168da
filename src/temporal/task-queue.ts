// Is a worker there to run a run? The task queue lists the workers that polled it, but the server keeps a worker
// listed for minutes after it has gone (seen: still listed 5 min after it stopped), so a listing proves nothing. An
// idle worker starts a new long poll about every minute, so a poll within the last POLL_FRESH_MS is a live one. A
// worker that left seconds ago still looks fresh: the run's own state tells the rest (`waitingForWorker`).
import type { Client, WorkflowExecutionDescription } from '@temporalio/client';
import proto from '@temporalio/proto';
import type { TemporalTarget } from './connection';

const { PendingActivityState, PendingWorkflowTaskState, TaskQueueType } = proto.temporal.api.enums.v1;
// Protobuf Timestamps whose seconds may be a Long, a number or a string.
type Timestamp = { seconds?: unknown; nanos?: number | null };

/** One long poll (the server answers an idle poll after about a minute) plus slack for a busy machine. */
export const POLL_FRESH_MS = 75_000;

/** A worker the task queue lists, with the age of its last poll. */
export interface PollerSeen {
  identity: string;
  /** Milliseconds since its last poll began; Infinity when the server gave no time. */
  lastPollAgeMs: number;
}

/** The workers a task queue lists, split by whether they polled recently. */
export interface TaskQueuePollers {
  live: PollerSeen[];
  /** Listed, but silent for longer than POLL_FRESH_MS: gone. */
  stale: PollerSeen[];
}

function timestampMs(ts: Timestamp | null | undefined): number | undefined {
  if (!ts) return undefined;
  return Number(String(ts.seconds ?? 0)) * 1000 + Math.floor((ts.nanos ?? 0) / 1e6);
}

/** Splits the pollers of a DescribeTaskQueue answer into live and stale ones, by their last access time. */
export function classifyPollers(
  pollers: ReadonlyArray<{ identity?: string | null; lastAccessTime?: Timestamp | null }>,
  nowMs: number,
  freshMs: number = POLL_FRESH_MS,
): TaskQueuePollers {
  const out: TaskQueuePollers = { live: [], stale: [] };
  for (const p of pollers) {
    const at = timestampMs(p.lastAccessTime);
    const seen = { identity: p.identity ?? '?', lastPollAgeMs: at === undefined ? Infinity : Math.max(0, nowMs - at) };
    (seen.lastPollAgeMs <= freshMs ? out.live : out.stale).push(seen);
  }
  return out;
}

/** The workers polling the target's task queue for workflow tasks (every Relearn worker does), live and stale. */
export async function taskQueuePollers(client: Client, target: TemporalTarget, nowMs: number = Date.now()): Promise<TaskQueuePollers> {
  const res = await client.workflowService.describeTaskQueue({
    namespace: target.namespace,
    taskQueue: { name: target.taskQueue },
    taskQueueType: TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
  });
  return classifyPollers(res.pollers ?? [], nowMs);
}

/** What a run waits for a worker to pick up, and since when. */
export interface WaitingTask {
  /** "its workflow task", "activity runTrainingJob (attempt 2)". */
  task: string;
  waitingMs: number;
}

/**
 * The task of a run that no worker has picked up for at least `afterMs`, from its description: a workflow task still
 * scheduled, or an activity scheduled (not waiting out a retry backoff) and not started. Undefined when every task
 * that is due has a worker on it, or the run has closed.
 */
export function waitingForWorker(description: WorkflowExecutionDescription, nowMs: number, afterMs: number): WaitingTask | undefined {
  if (description.status.name !== 'RUNNING') return undefined;
  const candidates: WaitingTask[] = [];
  const wft = description.raw.pendingWorkflowTask;
  if (wft && wft.state === PendingWorkflowTaskState.PENDING_WORKFLOW_TASK_STATE_SCHEDULED) {
    const since = timestampMs(wft.scheduledTime) ?? timestampMs(wft.originalScheduledTime);
    if (since !== undefined) candidates.push({ task: 'its workflow task', waitingMs: nowMs - since });
  }
  for (const a of description.raw.pendingActivities ?? []) {
    if (a.state !== PendingActivityState.PENDING_ACTIVITY_STATE_SCHEDULED) continue;
    const attempt = a.attempt ?? 1;
    // A retry is due at nextAttemptScheduleTime; before then the activity waits on its backoff, not on a worker.
    const since = attempt > 1 ? timestampMs(a.nextAttemptScheduleTime) ?? timestampMs(a.lastAttemptCompleteTime) : timestampMs(a.scheduledTime);
    if (since === undefined || since > nowMs) continue;
    candidates.push({ task: `activity ${a.activityType?.name ?? '?'}${attempt > 1 ? ` (attempt ${attempt})` : ''}`, waitingMs: nowMs - since });
  }
  const longest = candidates.sort((x, y) => y.waitingMs - x.waitingMs)[0];
  return longest && longest.waitingMs >= afterMs ? longest : undefined;
}
