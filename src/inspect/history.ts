// Reads a retrain run's event history the way a person reads the data flow: which activity ran, under which summary,
// for how long, how often it was attempted, and how the run ended.
import { defaultPayloadConverter } from '@temporalio/common';
import proto from '@temporalio/proto';

const { EventType } = proto.temporal.api.enums.v1;
type History = proto.temporal.api.history.v1.IHistory;
type Payload = proto.temporal.api.common.v1.IPayload;

/** One activity of a run, from schedule to close. */
export interface ActivityRow {
  activityType: string;
  /** The pipeline stage the activity belongs to. */
  stage: string;
  summary: string | null;
  scheduledAt: string | null;
  closedAt: string | null;
  durationMs: number | null;
  attempts: number;
  state: 'scheduled' | 'running' | 'completed' | 'failed' | 'timed-out' | 'canceled';
}

/** Wall time of one stage: first schedule to last close of its activities. */
export interface StageRow {
  stage: string;
  startedAt: string | null;
  durationMs: number | null;
  activities: number;
}

/** What a run's history says, decoded. */
export interface RunHistory {
  events: number;
  staticSummary: string | null;
  activities: ActivityRow[];
  stages: StageRow[];
  /** The workflow's result when it completed. */
  result?: unknown;
  /** The failure message chain when it failed. */
  failure?: string;
}

const STAGE_OF_ACTIVITY: Record<string, string> = {
  pullData: 'pull',
  splitData: 'split',
  runTrainingJob: 'train',
  exportOnnx: 'train',
  getChampion: 'evaluate',
  crossValidate: 'evaluate',
  registerVersion: 'register',
  promoteVersion: 'promote',
  setShadowAlias: 'rollout',
  runLiveWindow: 'rollout',
  measureLiveWindow: 'rollout',
  recordEvaluation: 'rollout',
  rollbackChampion: 'rollout',
  writeRunReport: 'report',
};

/** The stage of an activity type; activities Relearn does not know keep their own name. */
export function stageOfActivity(activityType: string): string {
  return STAGE_OF_ACTIVITY[activityType] ?? activityType;
}

function decode(payload: Payload | null | undefined): unknown {
  if (!payload) return undefined;
  try {
    return defaultPayloadConverter.fromPayload(payload as never);
  } catch {
    return undefined;
  }
}

// Event times come as protobuf Timestamps whose seconds may be a Long, a number or a string (JSON histories).
function timestampMs(ts: { seconds?: unknown; nanos?: number | null } | null | undefined): number | undefined {
  if (!ts) return undefined;
  return Number(String(ts.seconds ?? 0)) * 1000 + Math.floor((ts.nanos ?? 0) / 1e6);
}

function iso(ms: number | undefined): string | null {
  return ms === undefined ? null : new Date(ms).toISOString();
}

function idOf(value: unknown): string {
  return value === null || value === undefined ? '' : String(value);
}

function failureChain(failure: proto.temporal.api.failure.v1.IFailure | null | undefined): string {
  const parts: string[] = [];
  let current = failure;
  while (current) {
    if (current.message) parts.push(current.message);
    current = current.cause;
  }
  return parts.join(' ← ');
}

/** Decodes a run's history into activities, stages and its outcome. */
export function readRunHistory(history: History): RunHistory {
  const events = history.events ?? [];
  const byScheduledId = new Map<string, ActivityRow & { startMs?: number; endMs?: number }>();
  const rows: Array<ActivityRow & { startMs?: number; endMs?: number }> = [];
  const out: RunHistory = { events: events.length, staticSummary: null, activities: [], stages: [] };
  for (const e of events) {
    const at = timestampMs(e.eventTime);
    switch (e.eventType) {
      case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED: {
        const summary = decode(e.userMetadata?.summary);
        out.staticSummary = typeof summary === 'string' ? summary : null;
        break;
      }
      case EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED: {
        const type = e.activityTaskScheduledEventAttributes?.activityType?.name ?? '?';
        const summary = decode(e.userMetadata?.summary);
        const row = {
          activityType: type,
          stage: stageOfActivity(type),
          summary: typeof summary === 'string' ? summary : null,
          scheduledAt: iso(at),
          closedAt: null,
          durationMs: null,
          attempts: 0,
          state: 'scheduled' as ActivityRow['state'],
          startMs: at,
        };
        byScheduledId.set(idOf(e.eventId), row);
        rows.push(row);
        break;
      }
      case EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED: {
        const row = byScheduledId.get(idOf(e.activityTaskStartedEventAttributes?.scheduledEventId));
        if (row) {
          row.state = 'running';
          row.attempts = e.activityTaskStartedEventAttributes?.attempt ?? 1;
        }
        break;
      }
      case EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
      case EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED:
      case EventType.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT:
      case EventType.EVENT_TYPE_ACTIVITY_TASK_CANCELED: {
        const attrs =
          e.activityTaskCompletedEventAttributes ??
          e.activityTaskFailedEventAttributes ??
          e.activityTaskTimedOutEventAttributes ??
          e.activityTaskCanceledEventAttributes;
        const row = byScheduledId.get(idOf(attrs?.scheduledEventId));
        if (row) {
          row.state =
            e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED
              ? 'completed'
              : e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED
                ? 'failed'
                : e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT
                  ? 'timed-out'
                  : 'canceled';
          row.endMs = at;
          row.closedAt = iso(at);
          if (row.startMs !== undefined && at !== undefined) row.durationMs = at - row.startMs;
          // Attempts before the last one are not in the history; the failed/completed event's attempt is in STARTED.
          if (row.attempts === 0) row.attempts = 1;
        }
        break;
      }
      case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED:
        out.result = decode(e.workflowExecutionCompletedEventAttributes?.result?.payloads?.[0]);
        break;
      case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED:
        out.failure = failureChain(e.workflowExecutionFailedEventAttributes?.failure);
        break;
      case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT:
        out.failure = 'the run timed out';
        break;
      case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED:
        out.failure = `terminated: ${e.workflowExecutionTerminatedEventAttributes?.reason ?? ''}`.trim();
        break;
      case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED:
        out.failure = 'canceled';
        break;
      default:
        break;
    }
  }
  out.activities = rows.map(({ startMs: _s, endMs: _e, ...row }) => row);
  const stages = new Map<string, { start?: number; end?: number; count: number }>();
  for (const row of rows) {
    const s = stages.get(row.stage) ?? { count: 0 };
    s.count += 1;
    if (row.startMs !== undefined) s.start = Math.min(s.start ?? row.startMs, row.startMs);
    if (row.endMs !== undefined) s.end = Math.max(s.end ?? row.endMs, row.endMs);
    stages.set(row.stage, s);
  }
  out.stages = [...stages].map(([stage, s]) => ({
    stage,
    startedAt: iso(s.start),
    durationMs: s.start !== undefined && s.end !== undefined ? s.end - s.start : null,
    activities: s.count,
  }));
  return out;
}
