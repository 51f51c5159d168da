import { CancelledFailure, Context } from '@temporalio/activity';
import type { ModelConfig } from '../src/config/schema';
import { failFast } from '../src/errors';
import { awaitJob, expandCommand } from '../src/jobs/await-job';
import { safeJobId } from '../src/jobs/local';
import type { ActivityDeps } from './deps';
import type { ArtifactRef, TrainedJob } from '../src/contracts';

/** Training activities: launch (or re-attach to) an external job and await it with heartbeats. */
export function createTrainingActivities(deps: ActivityDeps) {
  const pollMs = deps.jobPollMs ?? 1000;
  return {
    /**
     * Launches the job for this role unless a run of it is already going or done, then waits for it, heartbeating the
     * job's state. A deadline kills the job's process group; a worker shutdown leaves the job running for the next
     * attempt to re-attach; a cancelled run kills it.
     */
    async runTrainingJob(input: {
      jobKey: string;
      role: string;
      task: ModelConfig['task'];
      snapshot: ArtifactRef;
      split: ArtifactRef;
      trainFolds: number[];
      features: ModelConfig['features'];
      label: string;
      trainer: ModelConfig['trainer'];
      probeRows: number[];
      /** Share of the training rows the job fits on (default all). */
      rowShare?: number;
    }): Promise<TrainedJob> {
      return failFast(async () => {
        const ctx = Context.current();
        const snapshotPath = await deps.store.verifiedPath(input.snapshot);
        const splitPath = await deps.store.verifiedPath(input.split);
        const { handle, status } = await awaitJob({
          launcher: deps.launcher,
          launch: {
            jobId: safeJobId(input.jobKey),
            command: expandCommand(input.trainer.command, deps.commandVars),
            cwd: deps.baseDir,
            spec: {
              role: input.role,
              task: input.task,
              snapshotPath,
              splitPath,
              trainFolds: input.trainFolds,
              features: input.features,
              label: input.label,
              estimator: input.trainer.estimator,
              params: input.trainer.params,
              seed: input.trainer.seed,
              probeRows: input.probeRows,
              ...(input.rowShare !== undefined && input.rowShare < 1 ? { rowShare: input.rowShare } : {}),
            },
          },
          timeoutMs: input.trainer.timeoutMs,
          pollMs,
          onLaunched: (h) =>
            ctx.log.info(h.attached ? 'attached to training job' : 'launched training job', { jobId: h.jobId, run: h.run, attempt: ctx.info.attempt }),
          onHeartbeat: (beat) => ctx.heartbeat(beat),
          sleep: (ms) => ctx.sleep(ms),
          // Only a cancel the workflow asked for (run cancelled, or another job failed for good) kills the job. A
          // shutting-down worker, a timed-out attempt, or an attempt the server no longer knows (it timed out while
          // the server restarted, and a newer attempt has re-attached) leaves the job for the attempt that follows.
          killOnInterrupt: (err) => {
            const details = ctx.cancellationDetails;
            return err instanceof CancelledFailure && !!details?.cancelRequested && !details.workerShutdown && !details.timedOut && !details.notFound;
          },
        });
        return {
          role: input.role,
          jobId: handle.jobId,
          run: handle.run,
          outputDir: handle.outputDir,
          trainRows: status.trainRows,
          classes: status.classes,
          durationMs: status.durationMs,
          selfReportedMetrics: status.selfReportedMetrics,
          params: status.params,
        };
      });
    },
  };
}
