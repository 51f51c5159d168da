import { CancelledFailure, Context } from '@temporalio/activity';
import type { ModelConfig } from '../src/config/schema';
import { failFast } from '../src/errors';
import { failureOf, type JobHandle, safeJobId } from '../src/jobs/local';
import type { ActivityDeps } from './deps';
import type { ArtifactRef, TrainedJob } from '../src/contracts';

/** Heartbeat details of the await loop: enough for a retry to find the same run. */
interface TrainHeartbeat {
  jobId: string;
  run: number;
  state: string;
  pid?: number;
  elapsedMs?: number;
}

/** Delay before the first look at a freshly launched job. */
const FIRST_POLL_MS = 25;

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
        const command = input.trainer.command.map((part) =>
          part.replace(/\{(python|relearn)\}/g, (_, name: string) => deps.commandVars[name] ?? `{${name}}`),
        );
        const launch = (): JobHandle => deps.launcher.launchOrAttach({
          jobId: safeJobId(input.jobKey),
          command,
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
        });
        let handle = launch();
        // Short jobs are seen finishing soon after they do: the first polls come quickly, then the interval doubles
        // up to pollMs (a no-op job used to cost a whole second of waiting).
        let sleepMs = Math.min(FIRST_POLL_MS, pollMs);
        ctx.log.info(handle.attached ? 'attached to training job' : 'launched training job', {
          jobId: handle.jobId,
          run: handle.run,
          attempt: ctx.info.attempt,
        });
        for (;;) {
          const state = deps.launcher.poll(handle);
          const beat: TrainHeartbeat = { jobId: handle.jobId, run: handle.run, state: state.kind };
          if (state.kind === 'running') {
            beat.pid = state.pid;
            beat.elapsedMs = state.elapsedMs;
            if (state.elapsedMs > input.trainer.timeoutMs) {
              deps.launcher.kill(handle, `exceeded the job deadline of ${input.trainer.timeoutMs} ms`);
              throw new Error(`training job ${handle.jobId} exceeded its deadline of ${input.trainer.timeoutMs} ms and was killed`);
            }
          }
          if (state.kind === 'succeeded') {
            return {
              role: input.role,
              jobId: handle.jobId,
              run: handle.run,
              outputDir: handle.outputDir,
              trainRows: state.status.trainRows,
              classes: state.status.classes,
              durationMs: state.status.durationMs,
              selfReportedMetrics: state.status.selfReportedMetrics,
              params: state.status.params,
            };
          }
          // A worker killed between creating a run's folder and starting its job leaves a run that never ran: this
          // attempt launches the job (the first real launch) instead of failing on it.
          if (state.kind === 'failed' && state.neverStarted) {
            handle = launch();
            continue;
          }
          if (state.kind === 'failed') throw failureOf(state);
          ctx.heartbeat(beat);
          try {
            await ctx.sleep(sleepMs);
            sleepMs = Math.min(pollMs, sleepMs * 2);
          } catch (err) {
            if (err instanceof CancelledFailure) {
              const details = ctx.cancellationDetails;
              // Only a cancel the workflow asked for (run cancelled, or another job failed for good) kills the job. A
              // shutting-down worker, a timed-out attempt, or an attempt the server no longer knows (it timed out while
              // the server restarted, and a newer attempt has re-attached) leaves the job for the attempt that follows.
              if (details?.cancelRequested && !details.workerShutdown && !details.timedOut && !details.notFound) {
                deps.launcher.kill(handle, 'run cancelled');
              }
            }
            throw err;
          }
        }
      });
    },
  };
}
