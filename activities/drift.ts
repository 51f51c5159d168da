import { CancelledFailure, Context } from '@temporalio/activity';
import { workerModelConfig } from '../src/config/run-config';
import type { ModelConfig } from '../src/config/schema';
import { runDriftCheck } from '../src/drift/run-check';
import { trainingJobRunner } from '../src/drift/training-job-runner';
import { failFast } from '../src/errors';
import type { ActivityDeps } from './deps';
import type { DriftCheckSummary } from '../src/contracts';

/** Drift activities: one check of a recent window against the champion's training snapshot. */
export function createDriftActivities(deps: ActivityDeps) {
  return {
    /**
     * Computes every feature's drift test, stores the JSON and HTML report, returns a small summary. The check runs
     * on the worker's own model config (source, drift path) once the run's digests and config are found to be it.
     */
    async checkDriftWindow(input: {
      model: string;
      modelConfig: ModelConfig;
      window: { from: string; to: string };
      checkedAt: string;
      configDigest?: string;
      modelDigest?: string;
    }): Promise<DriftCheckSummary> {
      return failFast(async () => {
        const ctx = Context.current();
        const modelConfig = workerModelConfig(deps.config, input);
        // The domain classifier's fold jobs (drift.multivariate) run on the model's launcher, as training jobs do.
        const { workflowExecution, workflowNamespace } = ctx.info;
        const runJob = trainingJobRunner({
          launcher: deps.launcher.for(modelConfig.trainer.launcher),
          cfg: modelConfig,
          baseDir: deps.baseDir,
          commandVars: deps.commandVars,
          pollMs: deps.jobPollMs,
          onHeartbeat: (beat) => ctx.heartbeat(beat),
          sleep: (ms) => ctx.sleep(ms),
          // As in the training stage: only a cancel the workflow asked for kills a job; a retry re-attaches to it.
          killOnInterrupt: (err) => err instanceof CancelledFailure && !!ctx.cancellationDetails?.cancelRequested && !ctx.cancellationDetails.workerShutdown,
          // A terminated monitor leaves no fold job running: the reaper stops jobs whose run is closed.
          ...(workflowExecution && workflowNamespace
            ? { owner: { namespace: workflowNamespace, workflowId: workflowExecution.workflowId, runId: workflowExecution.runId } }
            : {}),
        });
        const { summary } = await runDriftCheck({ ...deps, runJob }, {
          model: input.model,
          modelConfig,
          window: input.window,
          checkedAt: input.checkedAt,
          onProgress: (p) => ctx.heartbeat(p),
        });
        ctx.log.info('drift check', { model: input.model, drift: summary.datasetDrift, skipped: summary.skipped, report: summary.report?.json });
        return summary;
      });
    },
  };
}
