// Temporal Schedules for the `schedule` blocks of temporal.yaml. Each model's Schedule (id `relearn/<model>`) starts
// the `scheduledRetrain` workflow, which starts `retrain/<model>` with trigger=schedule. Sync compares a digest of
// the wanted Schedule (kept in the action's memo) and the paused flag, so a second sync changes nothing.
import { createHash } from 'node:crypto';
import {
  type Client,
  type ScheduleDescription,
  type ScheduleOptions,
  ScheduleNotFoundError,
  ScheduleOverlapPolicy,
} from '@temporalio/client';
import type { LoadedConfig } from '../config';
import { modelConfig, modelDigest } from '../config';
import type { ScheduleConfig } from '../config/triggers';
import { ConfigError } from '../errors';
import type { TemporalTarget } from './connection';
import { RelearnModel, RelearnTrigger, type ScheduledRetrainInput } from '../contracts';

const PREFIX = 'relearn/';

/** The Schedule id of a model. */
export function scheduleIdOf(model: string): string {
  return `${PREFIX}${model}`;
}

const OVERLAP: Record<ScheduleConfig['overlap'], ScheduleOverlapPolicy> = {
  skip: ScheduleOverlapPolicy.SKIP,
  buffer_one: ScheduleOverlapPolicy.BUFFER_ONE,
  buffer_all: ScheduleOverlapPolicy.BUFFER_ALL,
  cancel_other: ScheduleOverlapPolicy.CANCEL_OTHER,
  terminate_other: ScheduleOverlapPolicy.TERMINATE_OTHER,
  allow_all: ScheduleOverlapPolicy.ALLOW_ALL,
};

/** The Schedule a model's config asks for, and the digest that identifies it. */
export function wantedSchedule(loaded: LoadedConfig, target: TemporalTarget, model: string) {
  const cfg = modelConfig(loaded, model);
  const s = cfg.schedule;
  if (!s) throw new ConfigError(`temporal.yaml: models.${model}.schedule: the model has no schedule`);
  const scheduleId = scheduleIdOf(model);
  const input: ScheduledRetrainInput = { model, modelConfig: cfg, configDigest: loaded.digest, modelDigest: modelDigest(loaded, model), window: s.window, scheduleId };
  // The file digest changes with every edit of any model; the Schedule only changes when this model's config does.
  // `paused` is left out: it is state, synced by pause/unpause rather than by an update.
  const digest = createHash('sha256')
    .update(JSON.stringify({ cfg: { ...cfg, schedule: { ...s, paused: undefined } }, taskQueue: target.taskQueue, modelDigest: input.modelDigest }))
    .digest('hex')
    .slice(0, 16);
  const when = s.cron ? `cron '${s.cron}'${s.timeZone ? ` (${s.timeZone})` : ''}` : `every ${s.every} ms`;
  const options: ScheduleOptions = {
    scheduleId,
    spec: {
      ...(s.cron ? { cronExpressions: [s.cron], timezone: s.timeZone } : { intervals: [{ every: s.every!, offset: s.offset }] }),
      jitter: s.jitter,
    },
    action: {
      type: 'startWorkflow',
      workflowType: 'scheduledRetrain',
      workflowId: `scheduled/${model}`,
      taskQueue: target.taskQueue,
      args: [input],
      memo: { relearnScheduleDigest: digest },
      typedSearchAttributes: [
        { key: RelearnModel, value: model },
        { key: RelearnTrigger, value: 'schedule' },
      ],
      staticSummary: `scheduled retrain of ${model}`,
    },
    policies: { overlap: OVERLAP[s.overlap], catchupWindow: s.catchupWindow },
    state: { paused: s.paused, note: `retrain ${model} ${when}; managed by relearn schedule sync` },
    memo: { relearnTaskQueue: target.taskQueue },
  };
  return { options, digest, paused: s.paused, when };
}

/** One change `sync` made (or found unnecessary). */
export interface ScheduleChange {
  model: string;
  scheduleId: string;
  action: 'created' | 'updated' | 'deleted' | 'paused' | 'unpaused' | 'unchanged';
  detail: string;
}

/** Relearn's Schedules on this task queue (so configs sharing a server do not touch each other's). */
export async function listRelearnSchedules(client: Client, target: TemporalTarget): Promise<string[]> {
  const ids: string[] = [];
  for await (const s of client.schedule.list()) {
    if (!s.scheduleId.startsWith(PREFIX)) continue;
    const queue = s.memo?.relearnTaskQueue;
    if (queue === target.taskQueue) ids.push(s.scheduleId);
  }
  return ids;
}

function actionDigest(d: ScheduleDescription): unknown {
  return d.action.type === 'startWorkflow' ? d.action.memo?.relearnScheduleDigest : undefined;
}

/** Makes the server's Schedules equal to the config: creates, updates, pauses/unpauses and deletes; idempotent. */
export async function syncSchedules(client: Client, target: TemporalTarget, loaded: LoadedConfig): Promise<ScheduleChange[]> {
  const changes: ScheduleChange[] = [];
  const wantedModels = Object.entries(loaded.config.models).filter(([, m]) => m.schedule).map(([name]) => name);
  for (const model of wantedModels) {
    const wanted = wantedSchedule(loaded, target, model);
    const handle = client.schedule.getHandle(wanted.options.scheduleId);
    let current: ScheduleDescription | undefined;
    try {
      current = await handle.describe();
    } catch (err) {
      if (!(err instanceof ScheduleNotFoundError)) throw err;
    }
    if (!current) {
      await client.schedule.create(wanted.options);
      changes.push({ model, scheduleId: wanted.options.scheduleId, action: 'created', detail: `${wanted.when}${wanted.paused ? ', paused' : ''}` });
      continue;
    }
    if (actionDigest(current) !== wanted.digest) {
      const { spec, action, policies, state } = wanted.options;
      await handle.update(() => ({ spec, action, policies, state: { ...state, paused: wanted.paused } }));
      changes.push({ model, scheduleId: wanted.options.scheduleId, action: 'updated', detail: wanted.when });
      continue;
    }
    if (current.state.paused !== wanted.paused) {
      if (wanted.paused) await handle.pause('paused in temporal.yaml');
      else await handle.unpause('unpaused in temporal.yaml');
      changes.push({ model, scheduleId: wanted.options.scheduleId, action: wanted.paused ? 'paused' : 'unpaused', detail: 'as temporal.yaml says' });
      continue;
    }
    changes.push({ model, scheduleId: wanted.options.scheduleId, action: 'unchanged', detail: wanted.when });
  }
  const wantedIds = new Set(wantedModels.map(scheduleIdOf));
  for (const id of await listRelearnSchedules(client, target)) {
    if (wantedIds.has(id)) continue;
    await client.schedule.getHandle(id).delete();
    changes.push({ model: id.slice(PREFIX.length), scheduleId: id, action: 'deleted', detail: 'no schedule in temporal.yaml' });
  }
  return changes;
}

/** A Schedule's state for `schedule list`. */
export interface ScheduleState {
  model: string;
  scheduleId: string;
  paused: boolean;
  note?: string;
  overlap: string;
  nextRuns: string[];
  recentRuns: Array<{ scheduledAt: string; workflowId: string }>;
  actions: number;
  skippedOverlap: number;
  running: number;
}

/** Describes a model's Schedule. */
export async function describeSchedule(client: Client, model: string): Promise<ScheduleState> {
  const scheduleId = scheduleIdOf(model);
  let d: ScheduleDescription;
  try {
    d = await client.schedule.getHandle(scheduleId).describe();
  } catch (err) {
    if (err instanceof ScheduleNotFoundError) throw new ConfigError(`no Schedule for ${model} on the server (run \`relearn schedule sync\`)`);
    throw err;
  }
  return {
    model,
    scheduleId,
    paused: d.state.paused,
    note: d.state.note,
    overlap: String(d.policies.overlap),
    nextRuns: d.info.nextActionTimes.slice(0, 3).map((t) => t.toISOString()),
    recentRuns: d.info.recentActions.slice(-5).map((a) => ({ scheduledAt: a.scheduledAt.toISOString(), workflowId: a.action.workflow.workflowId })),
    actions: d.info.numActionsTaken,
    skippedOverlap: d.info.numActionsSkippedOverlap,
    running: d.info.runningActions.length,
  };
}
