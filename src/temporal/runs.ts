import { type Client, WorkflowNotFoundError } from '@temporalio/client';
import type { LoadedConfig } from '../config';
import { modelConfig, modelDigest } from '../config';
import type { TemporalTarget } from './connection';
import { RelearnModel, RelearnStage, RelearnTrigger, retrainWorkflowId, type RetrainInput, type Trigger } from '../contracts';

/** A started (or already running) retrain run. */
export interface StartedRun {
  workflowId: string;
  runId: string;
  /** True when a run for this model was already going and no new one was started. */
  existing: boolean;
}

/**
 * Starts `retrain/<model>`. A second start while a run is going returns the running one (conflict policy
 * USE_EXISTING), never a parallel run; once the run has closed, the id can be used again.
 */
export async function startRetrain(
  client: Client,
  target: TemporalTarget,
  loaded: LoadedConfig,
  model: string,
  opts: { trigger?: Trigger; window?: { from?: string; to?: string } } = {},
): Promise<StartedRun> {
  const cfg = modelConfig(loaded, model);
  const trigger = opts.trigger ?? 'manual';
  const workflowId = retrainWorkflowId(model);
  const input: RetrainInput = { model, modelConfig: cfg, trigger, window: opts.window, configDigest: loaded.digest, modelDigest: modelDigest(loaded, model) };
  const window = { ...cfg.source.window, ...opts.window };
  const windowText = window.from || window.to ? ` on ${window.from ?? '…'} → ${window.to ?? '…'}` : '';
  const before = await runningRetrain(client, model);
  const handle = await client.workflow.start('retrain', {
    taskQueue: target.taskQueue,
    workflowId,
    args: [input],
    workflowIdConflictPolicy: 'USE_EXISTING',
    workflowIdReusePolicy: 'ALLOW_DUPLICATE',
    typedSearchAttributes: [
      { key: RelearnModel, value: model },
      { key: RelearnTrigger, value: trigger },
      { key: RelearnStage, value: 'queued' },
    ],
    memo: { configDigest: loaded.digest, window },
    staticSummary: `retrain ${model} (${trigger})${windowText}`,
    staticDetails: `Retrain **${model}** (${cfg.task}, ${cfg.trainer.estimator}): pull → split (${cfg.split.folds} folds + holdout) → train → export ONNX → cross-validate → gate → register → promote.`,
  });
  const runId = handle.firstExecutionRunId;
  // With USE_EXISTING the server answers with the running run's id instead of starting another.
  return { workflowId, runId, existing: before?.runId === runId };
}

/** The running run of a model, if any. */
export async function runningRetrain(client: Client, model: string): Promise<{ runId: string } | undefined> {
  try {
    const d = await client.workflow.getHandle(retrainWorkflowId(model)).describe();
    return d.status.name === 'RUNNING' ? { runId: d.runId } : undefined;
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return undefined;
    throw err;
  }
}
