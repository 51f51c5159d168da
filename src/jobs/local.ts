import { closeSync, constants as fsConstants, existsSync, fstatSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { JobSpec } from './contract';
import { jobEnvironment } from './job-env';
import {
  type ActiveJob,
  failureOf,
  finishedState,
  type JobHandle,
  type JobLauncher,
  jobOwnerSchema,
  type JobState,
  type LaunchOptions,
  type LaunchRecord,
  launchRecordSchema,
  runFolders,
  safeJobId,
} from './launcher';
import { scrubJobText } from './scrub-secrets';
import { DetachedSpawner } from './spawn-helper';
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

// One per worker process, shared by its launchers: jobs are started by a small helper process (see spawn-helper.ts).
const jobSpawner = new DetachedSpawner();

/** How long a run folder may exist without a pid before it counts as never started. */
const PID_GRACE_MS = 15_000;

export { failureOf, launchRecordSchema, safeJobId, scrubJobText };
export type { JobHandle, JobState, LaunchOptions, LaunchRecord };

/** Bytes of a job's stderr read for a failure message: its end, never the whole file. */
export const STDERR_TAIL_BYTES = 4096;

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

/**
 * Starts training jobs as detached processes under `jobsDir/<jobId>/runs/<n>/`, and finds them again.
 * A job id is derived from the workflow and the job's role, so a retried or restarted activity attaches to the run
 * that is still going (or already finished) instead of starting a second one; only a failed run is launched again.
 */
export class LocalLauncher implements JobLauncher {
  readonly description = 'local';

  constructor(readonly jobsDir: string) {
    mkdirSync(jobsDir, { recursive: true });
  }

  private runsDir(jobId: string): string {
    return path.join(this.jobsDir, jobId, 'runs');
  }

  private handle(jobId: string, run: number, attached: boolean): JobHandle {
    return { jobId, run, ...runFolders(this.jobsDir, jobId, run), attached };
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
    if (opts.owner) writeFileSync(path.join(handle.runDir, 'owner.json'), `${JSON.stringify(opts.owner)}\n`);
    const specPath = path.join(handle.runDir, 'spec.json');
    writeFileSync(specPath, `${JSON.stringify(spec, null, 2)}\n`);
    const command = opts.command.map((part) => part.replaceAll('{spec}', specPath));
    // A spawn failure surfaces as a run without pid; poll() reports it.
    jobSpawner.spawnDetached({
      command: 'sh',
      args: ['-c', WRAPPER, `relearn-job:${jobId}`, ...command],
      ...(opts.cwd !== undefined ? { cwd: opts.cwd } : {}),
      env: {
        ...jobEnvironment({ workerEnv: process.env, home, threads: opts.threads, passEnv: opts.passEnv, env: opts.env }),
        RELEARN_JOB_ID: jobId,
        RELEARN_JOB_RUN: String(run),
        RELEARN_RUN_DIR: handle.runDir,
        RELEARN_JOBS_DIR: this.jobsDir,
      },
    });
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
    return finishedState(handle, exitCode, () => tail(path.join(handle.runDir, 'stderr.log')));
  }

  /** Kills the run's whole process group and notes why, so a later poll can say so. */
  cancel(handle: JobHandle, reason: string): void {
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

  /** The run's stderr as the job wrote it. */
  logs(handle: JobHandle): string {
    try {
      return readFileSync(path.join(handle.runDir, 'stderr.log'), 'utf8');
    } catch {
      return '';
    }
  }

  /** Removes the finished run's HOME (whatever the job cached there); its outputs, log and ledger line stay. */
  cleanUp(handle: JobHandle): void {
    if (this.poll(handle).kind === 'running') return;
    rmSync(path.join(handle.runDir, 'home'), { recursive: true, force: true });
  }

  /** The newest run of every job whose process is alive and whose owner was recorded at launch. */
  activeJobs(): ActiveJob[] {
    const active: ActiveJob[] = [];
    for (const jobId of readdirSync(this.jobsDir)) {
      if (jobId === 'launches.jsonl') continue;
      const handle = this.latest(jobId);
      if (!handle) continue;
      const pid = readInt(path.join(handle.runDir, 'pid'));
      if (pid === null || readInt(path.join(handle.runDir, 'exit_code')) !== null || !isAlive(pid, jobId)) continue;
      const owner = readOwner(path.join(handle.runDir, 'owner.json'));
      if (owner) active.push({ handle, owner });
    }
    return active;
  }
}

function readOwner(file: string): ActiveJob['owner'] | undefined {
  try {
    const parsed = jobOwnerSchema.safeParse(JSON.parse(readFileSync(file, 'utf8')));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
