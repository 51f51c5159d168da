import { spawn } from 'node:child_process';
import { closeSync, constants as fsConstants, existsSync, fstatSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { JobContractError, JobParamsError } from '../errors';
import { EXIT_BAD_PARAMS, type JobSpec, type JobStatus, jobStatusSchema, readJsonFile, STATUS_MAX_BYTES } from './contract';
import { jobEnvironment } from './job-env';
import { scrubSecrets, secretValuesOf } from './scrub-secrets';
import { processAlive } from '../processes';

/**
 * The wrapper every job runs under. It records the launch itself (so a launch is counted even if the launcher dies
 * right after spawning), writes its own pid, and records the job's exit code atomically when the job ends. Being a
 * process-group leader (spawned detached) lets a deadline kill the job and all its children at once.
 */
const WRAPPER = [
  'echo $$ > "$RELEARN_RUN_DIR/pid.tmp" && mv "$RELEARN_RUN_DIR/pid.tmp" "$RELEARN_RUN_DIR/pid"',
  'printf \'{"jobId":"%s","run":%s,"pid":%s,"at":"%s"}\\n\' "$RELEARN_JOB_ID" "$RELEARN_JOB_RUN" "$$" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" >> "$RELEARN_JOBS_DIR/launches.jsonl"',
  '"$@" > "$RELEARN_RUN_DIR/stdout.log" 2> "$RELEARN_RUN_DIR/stderr.log"',
  'code=$?',
  'echo $code > "$RELEARN_RUN_DIR/exit_code.tmp" && mv "$RELEARN_RUN_DIR/exit_code.tmp" "$RELEARN_RUN_DIR/exit_code"',
  'exit $code',
].join('\n');

/** How long a run folder may exist without a pid before it counts as never started. */
const PID_GRACE_MS = 15_000;

/** One launch of a job, as recorded by the wrapper. */
export const launchRecordSchema = z.object({ jobId: z.string(), run: z.number().int(), pid: z.number().int(), at: z.string() });
export type LaunchRecord = z.infer<typeof launchRecordSchema>;

/** A handle to one run (launch) of a job: enough to find it again from another process. */
export interface JobHandle {
  jobId: string;
  run: number;
  runDir: string;
  outputDir: string;
  /** True when this call found a run already in progress or finished and did not launch. */
  attached: boolean;
}

/** What a job run is doing now. */
export type JobState =
  | { kind: 'starting' }
  | { kind: 'running'; pid: number; elapsedMs: number }
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
}

/** Bytes of a job's stderr read for a failure message: its end, never the whole file. */
export const STDERR_TAIL_BYTES = 4096;
/** Cap on the job-written text (status.json's error) a failure message quotes. */
const QUOTED_ERROR_MAX_CHARS = 2000;

/** Job ids become folder names: keep them to a safe alphabet. */
export function safeJobId(raw: string): string {
  return raw.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 200);
}

function isAlive(pid: number, jobId: string): boolean {
  if (!processAlive(pid)) return false;
  // Guards against pid reuse and zombies: the wrapper carries the job id in its argv[0].
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(jobId);
  } catch {
    return true;
  }
}

// pid and exit_code sit in a folder the job can write to: read only their first bytes.
function readInt(file: string): number | null {
  let fd: number | undefined;
  try {
    fd = openSync(file, fsConstants.O_RDONLY | (fsConstants.O_NOFOLLOW ?? 0));
    const buffer = Buffer.alloc(32);
    const n = Number.parseInt(buffer.toString('utf8', 0, readSync(fd, buffer, 0, buffer.length, 0)).trim(), 10);
    return Number.isFinite(n) ? n : null;
  } catch {
    return null;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * The last `lines` lines of a job's log for a failure message, which Temporal keeps in the run's history: only the
 * last `maxBytes` are read (from the end of the file), and secrets are scrubbed (see scrub-secrets.ts).
 */
export function tail(file: string, lines = 15, maxBytes = STDERR_TAIL_BYTES): string {
  let fd: number;
  try {
    fd = openSync(file, fsConstants.O_RDONLY | (fsConstants.O_NOFOLLOW ?? 0));
  } catch {
    return '';
  }
  try {
    const info = fstatSync(fd);
    if (!info.isFile()) return '';
    const length = Math.min(info.size, maxBytes);
    const buffer = Buffer.alloc(length);
    let read = 0;
    while (read < length) {
      const n = readSync(fd, buffer, read, length - read, info.size - length + read);
      if (n === 0) break;
      read += n;
    }
    let text = buffer.toString('utf8', 0, read);
    // Cut in the middle of a line: drop the partial first line (unless it is all there is).
    if (info.size > maxBytes && text.includes('\n')) text = text.slice(text.indexOf('\n') + 1);
    return scrubJobText(text.trimEnd().split('\n').slice(-lines).join('\n'));
  } catch {
    return '';
  } finally {
    closeSync(fd);
  }
}

/** Job-written text made fit for a failure message: secrets scrubbed, including the worker's own credentials. */
export function scrubJobText(text: string, maxChars = QUOTED_ERROR_MAX_CHARS): string {
  const scrubbed = scrubSecrets(text, secretValuesOf(process.env));
  return scrubbed.length > maxChars ? `…${scrubbed.slice(-maxChars)}` : scrubbed;
}

/**
 * Starts training jobs as detached processes under `jobsDir/<jobId>/runs/<n>/`, and finds them again.
 * A job id is derived from the workflow and the job's role, so a retried or restarted activity attaches to the run
 * that is still going (or already finished) instead of starting a second one; only a failed run is launched again.
 */
export class LocalLauncher {
  constructor(readonly jobsDir: string) {
    mkdirSync(jobsDir, { recursive: true });
  }

  private runsDir(jobId: string): string {
    return path.join(this.jobsDir, jobId, 'runs');
  }

  private handle(jobId: string, run: number, attached: boolean): JobHandle {
    const runDir = path.join(this.runsDir(jobId), String(run));
    return { jobId, run, runDir, outputDir: path.join(runDir, 'out'), attached };
  }

  /** The newest run of a job, if any. */
  latest(jobId: string): JobHandle | undefined {
    const dir = this.runsDir(jobId);
    if (!existsSync(dir)) return undefined;
    const runs = readdirSync(dir)
      .map((n) => Number.parseInt(n, 10))
      .filter((n) => Number.isInteger(n))
      .sort((a, b) => a - b);
    const last = runs.at(-1);
    return last === undefined ? undefined : this.handle(jobId, last, true);
  }

  /** Attaches to a running or succeeded run of the job, or launches a new run when there is none or the last failed. */
  launchOrAttach(opts: LaunchOptions): JobHandle {
    const jobId = safeJobId(opts.jobId);
    const last = this.latest(jobId);
    if (last) {
      const state = this.poll(last);
      if (state.kind !== 'failed') return last;
    }
    const run = (last?.run ?? 0) + 1;
    const handle = this.handle(jobId, run, false);
    mkdirSync(this.runsDir(jobId), { recursive: true });
    try {
      // mkdir without `recursive` fails if another attempt created this run first: then we attach to it.
      mkdirSync(handle.runDir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') return { ...handle, attached: true };
      throw err;
    }
    mkdirSync(handle.outputDir);
    const home = path.join(handle.runDir, 'home');
    mkdirSync(home);
    const spec: JobSpec = { ...opts.spec, jobId, outputDir: handle.outputDir };
    const specPath = path.join(handle.runDir, 'spec.json');
    writeFileSync(specPath, `${JSON.stringify(spec, null, 2)}\n`);
    const command = opts.command.map((part) => part.replaceAll('{spec}', specPath));
    const child = spawn('sh', ['-c', WRAPPER, `relearn-job:${jobId}`, ...command], {
      cwd: opts.cwd,
      detached: true,
      stdio: 'ignore',
      env: {
        ...jobEnvironment({ workerEnv: process.env, home, threads: opts.threads, passEnv: opts.passEnv, env: opts.env }),
        RELEARN_JOB_ID: jobId,
        RELEARN_JOB_RUN: String(run),
        RELEARN_RUN_DIR: handle.runDir,
        RELEARN_JOBS_DIR: this.jobsDir,
      },
    });
    child.on('error', () => {
      // A spawn failure surfaces as a run without pid; poll() reports it.
    });
    child.unref();
    writeFileSync(path.join(handle.runDir, 'started_at'), String(Date.now()));
    return handle;
  }

  /** Reads a run's state from its folder; works from any process. */
  poll(handle: JobHandle): JobState {
    const { runDir, jobId } = handle;
    const exitCode = readInt(path.join(runDir, 'exit_code'));
    if (exitCode !== null) return this.finished(handle, exitCode);
    const pid = readInt(path.join(runDir, 'pid'));
    const startedAt = readInt(path.join(runDir, 'started_at')) ?? statSync(runDir).mtimeMs;
    if (pid === null) {
      if (Date.now() - startedAt < PID_GRACE_MS) return { kind: 'starting' };
      // Its launcher died before the job ran (no ledger line either): launching it again is not a second launch.
      return { kind: 'failed', exitCode: null, message: `training job ${jobId} run ${handle.run} never started`, badParams: false, neverStarted: true };
    }
    if (isAlive(pid, jobId)) return { kind: 'running', pid, elapsedMs: Date.now() - startedAt };
    // The wrapper writes exit_code as its last step; re-read once in case it just finished.
    const late = readInt(path.join(runDir, 'exit_code'));
    if (late !== null) return this.finished(handle, late);
    const killed = existsSync(path.join(runDir, 'killed')) ? ` (${readFileSync(path.join(runDir, 'killed'), 'utf8').trim()})` : '';
    return {
      kind: 'failed',
      exitCode: null,
      message: `training job ${jobId} run ${handle.run} died without an exit code${killed}; last stderr lines:\n${tail(path.join(runDir, 'stderr.log'))}`,
      badParams: false,
    };
  }

  private finished(handle: JobHandle, exitCode: number): JobState {
    const { runDir, jobId } = handle;
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
    const detail =
      status?.status === 'failed' ? scrubJobText(status.error) : tail(path.join(runDir, 'stderr.log')) || '(no stderr output)';
    return {
      kind: 'failed',
      exitCode,
      badParams: exitCode === EXIT_BAD_PARAMS,
      message:
        exitCode === EXIT_BAD_PARAMS
          ? `training job ${jobId} rejected its params (exit code 2): ${detail}`
          : `training job ${jobId} run ${handle.run} exited with code ${exitCode}; last stderr lines:\n${tail(path.join(runDir, 'stderr.log'))}`,
    };
  }

  /** Kills the run's whole process group and notes why, so a later poll can say so. */
  kill(handle: JobHandle, reason: string): void {
    const pid = readInt(path.join(handle.runDir, 'pid'));
    writeFileSync(path.join(handle.runDir, 'killed'), `${reason}\n`);
    if (pid === null) return;
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }

  /** Every launch recorded under this jobs folder (optionally of one job), oldest first. */
  launches(jobId?: string): LaunchRecord[] {
    const ledger = path.join(this.jobsDir, 'launches.jsonl');
    if (!existsSync(ledger)) return [];
    return readFileSync(ledger, 'utf8')
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => launchRecordSchema.parse(JSON.parse(line)))
      .filter((r) => jobId === undefined || r.jobId === jobId);
  }
}

/** Raises the right failure for a failed run: bad params are final, everything else is worth a retry. */
export function failureOf(state: Extract<JobState, { kind: 'failed' }>): Error {
  return state.badParams ? new JobParamsError(state.message) : new Error(state.message);
}
