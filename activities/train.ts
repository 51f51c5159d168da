import { CancelledFailure, Context } from '@temporalio/activity';
import { assertWorkerPart, workerModelConfig } from '../src/config/run-config';
import type { ModelConfig } from '../src/config/schema';
import { ConfigError, failFast } from '../src/errors';
import { awaitJob, expandCommand } from '../src/jobs/await-job';
import { safeJobId } from '../src/jobs/launcher';
import { jobStoreSpec } from '../src/store';
import type { ActivityDeps } from './deps';
import type { ArtifactRef, TrainedJob } from '../src/contracts';

function storeInputs(deps: ActivityDeps, input: { snapshot: ArtifactRef; split: ArtifactRef }) {
  const store = jobStoreSpec(deps.config.config.store);
  if (store === undefined) return {};
  return { store, snapshot: { uri: input.snapshot.uri, sha256: input.snapshot.sha256 }, split: { uri: input.split.uri, sha256: input.split.sha256 } };
}

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
      /** The model whose trainer runs: its command, estimator, seed and limits come from the worker's config. */
      model: string;
      configDigest?: string;
      modelDigest?: string;
      jobKey: string;
      role: string;
      task: ModelConfig['task'];
      snapshot: ArtifactRef;
      split: ArtifactRef;
      trainFolds: number[];
      features: ModelConfig['features'];
      label: string;
      /** Must be the worker's trainer block; only `params` may differ, in keys of the worker's search space. */
      trainer: ModelConfig['trainer'];
      probeRows: number[];
      /** Share of the training rows the job fits on (default all). */
      rowShare?: number;
    }): Promise<TrainedJob> {
      return failFast(async () => {
        const ctx = Context.current();
        const cfg = workerModelConfig(deps.config, input);
        // Runs started before trainer.launcher existed carry no launcher: theirs was the local one.
        const { params, launcher = 'local', ...given } = input.trainer as Omit<ModelConfig['trainer'], 'launcher'> & Partial<Pick<ModelConfig['trainer'], 'launcher'>>;
        const { params: ownParams, ...own } = cfg.trainer;
        assertWorkerPart(deps.config, input.model, 'trainer', { ...given, launcher }, own);
        // A search trial (or the run after a search) trains with params the search drew from its space.
        const searchable = new Set(Object.keys(cfg.search?.space ?? {}));
        for (const [name, value] of Object.entries(params)) {
          if (JSON.stringify(value) === JSON.stringify(ownParams[name]) || searchable.has(name)) continue;
          throw new ConfigError(
            `models.${input.model}.trainer.params.${name}: this run's value ${JSON.stringify(value)} is not the worker's temporal.yaml's ` +
              `(${JSON.stringify(ownParams[name] ?? null)}) and the model's search space has no '${name}'; start the run from the worker's config`,
          );
        }
        const snapshotPath = await deps.store.verifiedPath(input.snapshot);
        const splitPath = await deps.store.verifiedPath(input.split);
        const { workflowExecution, workflowNamespace } = ctx.info;
        const { handle, status } = await awaitJob({
          launcher: deps.launcher.for(cfg.trainer.launcher),
          launch: {
            jobId: safeJobId(input.jobKey),
            command: expandCommand(cfg.trainer.command, deps.commandVars),
            cwd: deps.baseDir,
            // The job's environment: an allow-list plus these, from the worker's own config (docs/security.md).
            env: cfg.trainer.env,
            passEnv: cfg.trainer.passEnv,
            threads: cfg.trainer.threads,
            // The reaper stops the job once this run is closed (terminated, reset, timed out).
            ...(workflowExecution && workflowNamespace
              ? { owner: { namespace: workflowNamespace, workflowId: workflowExecution.workflowId, runId: workflowExecution.runId } }
              : {}),
            spec: {
              role: input.role,
              task: cfg.task,
              snapshotPath,
              splitPath,
              trainFolds: input.trainFolds,
              features: cfg.features,
              label: cfg.label,
              estimator: cfg.trainer.estimator,
              params: { ...ownParams, ...params },
              seed: cfg.trainer.seed,
              probeRows: input.probeRows,
              ...(input.rowShare !== undefined && input.rowShare < 1 ? { rowShare: input.rowShare } : {}),
              // On an S3 store the inputs are named by URI too, so a job on another machine can fetch them.
              ...storeInputs(deps, input),
            },
          },
          timeoutMs: cfg.trainer.timeoutMs,
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
