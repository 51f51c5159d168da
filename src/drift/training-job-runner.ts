// The drift check's training jobs (the domain classifier's folds) run as the training stage's do: through the
// worker's launcher for the model, under a job id derived from the check (a retried check re-attaches), with the
// worker's own command, environment and deadline, awaited with heartbeats.
import path from 'node:path';
import type { LoadedConfig } from '../config';
import type { ModelConfig } from '../config/schema';
import { awaitJob, expandCommand, type AwaitJobOptions } from '../jobs/await-job';
import { safeJobId, type LaunchOptions } from '../jobs/launcher';
import { RELEARN_ROOT, VENV_PYTHON } from '../paths';
import type { RunTrainingJob } from './domain-classifier';

/** A RunTrainingJob over `launcher` with the model's trainer block. */
export function trainingJobRunner(opts: {
  launcher: AwaitJobOptions['launcher'];
  cfg: ModelConfig;
  baseDir: string;
  commandVars: Record<string, string>;
  pollMs?: number;
  onHeartbeat?: (beat: unknown) => void;
  sleep?: (ms: number) => Promise<void>;
  killOnInterrupt?: (err: unknown) => boolean;
  /** The workflow run the jobs belong to: the worker's reaper stops them once that run is closed. */
  owner?: LaunchOptions['owner'];
}): RunTrainingJob {
  const { cfg } = opts;
  return async ({ jobKey, spec }) => {
    const { handle } = await awaitJob({
      launcher: opts.launcher,
      launch: {
        jobId: safeJobId(jobKey),
        command: expandCommand(cfg.trainer.command, opts.commandVars),
        cwd: opts.baseDir,
        env: cfg.trainer.env,
        passEnv: cfg.trainer.passEnv,
        threads: cfg.trainer.threads,
        ...(opts.owner ? { owner: opts.owner } : {}),
        spec,
      },
      timeoutMs: cfg.trainer.timeoutMs,
      pollMs: opts.pollMs ?? 1000,
      onHeartbeat: (beat) => opts.onHeartbeat?.({ job: beat }),
      sleep: opts.sleep ?? ((ms) => new Promise<void>((resolve) => setTimeout(resolve, ms))),
      killOnInterrupt: opts.killOnInterrupt ?? (() => false),
    });
    return { jobId: handle.jobId, outputDir: handle.outputDir };
  };
}

/** `{python}` and `{relearn}` of job commands as a worker fills them in (for a check run outside a worker). */
export function jobCommandVars(loaded: Pick<LoadedConfig, 'config' | 'baseDir'>): Record<string, string> {
  return { python: loaded.config.python ? path.resolve(loaded.baseDir, loaded.config.python) : VENV_PYTHON, relearn: RELEARN_ROOT };
}
