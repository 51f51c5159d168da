// One interface for every place a training job can run: the worker's own machine (local.ts) or a Ray cluster (ray.ts).
// The activity that awaits a job (await-job.ts) and the reaper (reaper.ts) see only this interface, so a new launcher
// (a Kubernetes Job, docs/scaling.md) is one new file.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { JobContractError, JobParamsError } from '../errors';
import { EXIT_BAD_PARAMS, type JobSpec, type JobStatus, jobStatusSchema, readJsonFile, STATUS_MAX_BYTES } from './contract';
import { scrubJobText } from './scrub-secrets';

/** One launch of a job, as its launcher recorded it (the local ledger, or Ray's own job list). */
export const launchRecordSchema = z.object({ jobId: z.string(), run: z.number().int(), pid: z.number().int().optional(), at: z.string() });
export type LaunchRecord = z.infer<typeof launchRecordSchema>;

/** The Temporal run a job was launched for: the reaper stops the job once that run is closed. */
export const jobOwnerSchema = z.object({ namespace: z.string().min(1), workflowId: z.string().min(1), runId: z.string().min(1) });
export type JobOwner = z.infer<typeof jobOwnerSchema>;

/** A handle to one run (launch) of a job: enough to find it again from another process. */
export interface JobHandle {
  jobId: string;
  run: number;
  runDir: string;
  outputDir: string;
  /** True when this call found a run already in progress or finished and did not launch. */
  attached: boolean;
  /** The id the cluster knows the run by (Ray's submission id); absent for local runs. */
  submissionId?: string;
}

/** What a job run is doing now. */
export type JobState =
  | { kind: 'starting' }
  | { kind: 'running'; pid?: number; elapsedMs: number }
  | { kind: 'succeeded'; status: Extract<JobStatus, { status: 'succeeded' }> }
  | { kind: 'failed'; exitCode: number | null; message: string; badParams: boolean; neverStarted?: boolean };

/** Options for one job launch. */
export interface LaunchOptions {
  jobId: string;
  /** Full command; `{spec}` is replaced by the path of the spec file written for this run. */
  command: string[];
  cwd: string;
  spec: Omit<JobSpec, 'outputDir' | 'jobId'>;
  /** The job's own variables (`trainer.env`); the rest of its environment is an allow-list (see job-env.ts). */
  env?: Record<string, string>;
  /** Worker variables the job gets as they are (`trainer.passEnv`). */
  passEnv?: readonly string[];
  /** Threads per numeric library (OMP_NUM_THREADS and kin); 1 by default. */
  threads?: number;
  /** The run the job is launched for, recorded beside it for the reaper. */
  owner?: JobOwner;
}

/** A job run that is still going, with the Temporal run it belongs to. */
export interface ActiveJob {
  handle: JobHandle;
  owner: JobOwner;
}

type MaybePromise<T> = T | Promise<T>;

/**
 * Where training jobs run. Launches are keyed by job id: `launchOrAttach` finds a run that is going or done before it
 * launches, so a retried activity or a restarted worker never starts a job twice.
 */
export interface JobLauncher {
  /** Names the launcher in messages and records (`local`, `ray http://host:8265`). */
  readonly description: string;
  /** Attaches to a running or succeeded run of the job, or launches a new run when there is none or the last failed. */
  launchOrAttach(opts: LaunchOptions): MaybePromise<JobHandle>;
  /** What the run is doing now; a finished run's outputs are checked against the job contract here. */
  poll(handle: JobHandle): MaybePromise<JobState>;
  /** Stops the run (all its processes) and notes why, so a later poll can say so. */
  cancel(handle: JobHandle, reason: string): MaybePromise<void>;
  /** The run's log (its stderr), for people; secrets are not scrubbed here. */
  logs(handle: JobHandle): MaybePromise<string>;
  /** Removes what a finished run keeps besides its outputs (the job's HOME); the record of the launch stays. */
  cleanUp(handle: JobHandle): MaybePromise<void>;
  /** Every launch this launcher made (optionally of one job), oldest first. */
  launches(jobId?: string): MaybePromise<LaunchRecord[]>;
  /** Runs still going whose owner is known: what the reaper checks. */
  activeJobs(): MaybePromise<ActiveJob[]>;
}

/** Job ids become folder names and Ray submission ids: keep them to a safe alphabet. */
export function safeJobId(raw: string): string {
  return raw.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 200);
}

/** The folders of run `run` of a job under a jobs folder: the layout both launchers share. */
export function runFolders(jobsDir: string, jobId: string, run: number): { runDir: string; outputDir: string } {
  const runDir = path.join(jobsDir, jobId, 'runs', String(run));
  return { runDir, outputDir: path.join(runDir, 'out') };
}

/**
 * The state of a run that ended with `exitCode`, by the job contract: exit 0 needs a valid status.json that says
 * succeeded; exit 2 is bad params (never retried); anything else is a retryable fault. `stderrTail` gives the end of
 * the run's log (already scrubbed) for the message.
 */
export function finishedState(handle: JobHandle, exitCode: number, stderrTail: () => string): JobState {
  const { jobId } = handle;
  const statusPath = path.join(handle.outputDir, 'status.json');
  let status: JobStatus | undefined;
  if (existsSync(statusPath)) {
    const parsed = readJsonFile(statusPath, jobStatusSchema, STATUS_MAX_BYTES);
    if (parsed.ok) status = parsed.data;
    // A failed job's status.json is only a better message; a broken one must not hide the exit code.
    else if (exitCode === 0) throw new JobContractError(`${statusPath}: not a valid status.json: ${scrubJobText(parsed.error)}`);
  }
  if (exitCode === 0) {
    if (!status) throw new JobContractError(`training job ${jobId} exited 0 but wrote no status.json in ${handle.outputDir}`);
    if (status.status !== 'succeeded') {
      throw new JobContractError(`training job ${jobId} exited 0 but its status.json says '${scrubJobText(status.status, 100)}'`);
    }
    return { kind: 'succeeded', status };
  }
  const detail = status?.status === 'failed' ? scrubJobText(status.error) : stderrTail() || '(no stderr output)';
  return {
    kind: 'failed',
    exitCode,
    badParams: exitCode === EXIT_BAD_PARAMS,
    message:
      exitCode === EXIT_BAD_PARAMS
        ? `training job ${jobId} rejected its params (exit code 2): ${detail}`
        : `training job ${jobId} run ${handle.run} exited with code ${exitCode}; last stderr lines:\n${stderrTail()}`,
  };
}

/** Raises the right failure for a failed run: bad params are final, everything else is worth a retry. */
export function failureOf(state: Extract<JobState, { kind: 'failed' }>): Error {
  return state.badParams ? new JobParamsError(state.message) : new Error(state.message);
}
