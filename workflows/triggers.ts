// Workflows that start retraining on their own: a Temporal Schedule's action (`scheduledRetrain`) and the drift
// monitor (monitor.ts). Both start `retrain/<model>` as an abandoned child, the id a manual run uses, so a run
// already in progress absorbs the trigger instead of running twice.
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { ParentClosePolicy, startChild, workflowInfo } from '@temporalio/workflow';
import {
  RelearnModel,
  RelearnStage,
  RelearnTrigger,
  retrainWorkflowId,
  type RetrainInput,
  type RetrainResult,
  type ScheduledRetrainInput,
  type ScheduledRetrainResult,
  type Trigger,
  type TriggerOutcome,
} from '../src/contracts';

/** Starts `retrain/<model>` as a child that outlives its parent; a run already going absorbs the trigger. */
export async function startRetrainChild(
  input: Omit<RetrainInput, 'trigger'> & { trigger: Trigger; reason: string },
): Promise<{ outcome: TriggerOutcome; result?: Promise<RetrainResult> }> {
  const workflowId = retrainWorkflowId(input.model);
  try {
    const child = await startChild('retrain', {
      workflowId,
      args: [input satisfies RetrainInput],
      parentClosePolicy: ParentClosePolicy.ABANDON,
      workflowIdReusePolicy: 'ALLOW_DUPLICATE',
      taskQueue: workflowInfo().taskQueue,
      typedSearchAttributes: [
        { key: RelearnModel, value: input.model },
        { key: RelearnTrigger, value: input.trigger },
        { key: RelearnStage, value: 'queued' },
      ],
      memo: { reason: input.reason, configDigest: input.configDigest },
      staticSummary: `retrain ${input.model} (${input.trigger}): ${input.reason}`.slice(0, 400),
    });
    return {
      outcome: { action: 'started', workflowId, runId: child.firstExecutionRunId, reason: input.reason },
      result: child.result() as Promise<RetrainResult>,
    };
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) {
      return { outcome: { action: 'absorbed', workflowId, reason: `a run of ${input.model} is already going; ${input.reason}` } };
    }
    throw err;
  }
}

/**
 * A Temporal Schedule's action: starts `retrain/<model>` with trigger=schedule and waits for it, so the Schedule's
 * overlap policy (SKIP by default) sees a run as going until the retrain itself ends.
 */
export async function scheduledRetrain(input: ScheduledRetrainInput): Promise<ScheduledRetrainResult> {
  const { outcome, result } = await startRetrainChild({
    model: input.model,
    modelConfig: input.modelConfig,
    configDigest: input.configDigest,
    ...(input.modelDigest !== undefined ? { modelDigest: input.modelDigest } : {}),
    window: input.window,
    trigger: 'schedule',
    reason: `schedule ${input.scheduleId}`,
  });
  if (!result) return outcome;
  try {
    const done = await result;
    return { ...outcome, decision: done.decision, version: done.version };
  } catch (err) {
    // The retrain's own failure is visible in its own history; the trigger only reports it.
    return { ...outcome, decision: 'failed', error: err instanceof Error ? (err.cause instanceof Error ? err.cause.message : err.message) : String(err) };
  }
}
