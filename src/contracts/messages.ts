// Queries, signals and updates: defined once, used by the workflows that handle them and the clients that send them
// (the same pattern as the Temporal samples' shared definitions).
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { ManualDecisionInput } from './live';
import type { RetrainStatus } from './run';
import type { MonitorStatus } from './triggers';

/** Query: where the run is, what it decided and why. */
export const statusQuery = defineQuery<RetrainStatus>('status');

/** Update: promote the candidate now (in its shadow window or while it waits for approval). */
export const approveUpdate = defineUpdate<string, [ManualDecisionInput]>('approve');
/** Update: reject the candidate now (in its shadow window or while it waits for approval). */
export const rejectUpdate = defineUpdate<string, [ManualDecisionInput]>('reject');
/** Update: roll the new champion back to the previous one now (in its guard window). */
export const rollbackUpdate = defineUpdate<string, [ManualDecisionInput]>('rollback');

/** Query: counters, the last check, the last trigger and the cooldown. */
export const monitorStatusQuery = defineQuery<MonitorStatus>('status');
/** Signal: check now instead of waiting for the next interval. */
export const checkNowSignal = defineSignal('checkNow');

