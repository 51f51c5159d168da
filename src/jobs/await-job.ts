// Launching a training job and waiting for it, without Temporal: the activity passes its heartbeat, its
// cancellation-aware sleep and the rule for when an interrupted wait kills the job.
import type { JobStatus } from './contract';
import { failureOf, type JobHandle, type JobLauncher, type LaunchOptions } from './launcher';

/** What the wait reports each poll: enough for a retry to find the same run. */
export interface JobHeartbeat {
  jobId: string;
  run: number;
  state: string;
  pid?: number;
  elapsedMs?: number;
  /** The cluster's id of the run (Ray's submission id). */
  submissionId?: string;
}

/** Inputs of awaitJob. */
export interface AwaitJobOptions {
  launcher: Pick<JobLauncher, 'launchOrAttach' | 'poll' | 'cancel'>;
  launch: LaunchOptions;
  /** Past this much running time the job's process group is killed and the wait fails (retryable). */
  timeoutMs: number;
  /** The longest pause between two polls. */
  pollMs: number;
  /** Called once the first launch (or attach) has happened. */
  onLaunched?: (handle: JobHandle) => void;
  /** Called after each poll that finds the job not finished. */
  onHeartbeat: (beat: JobHeartbeat) => void;
  /** Pauses between polls; throws when the wait is interrupted (an activity's sleep throws on cancellation). */
  sleep: (ms: number) => Promise<void>;
  /** Whether the interruption `sleep` threw kills the job; the error is rethrown either way. */
  killOnInterrupt: (err: unknown) => boolean;
}

/** A job run that finished with a valid status.json. */
export interface FinishedJob {
  handle: JobHandle;
  status: Extract<JobStatus, { status: 'succeeded' }>;
}

/** Delay before the first look at a freshly launched job. */
const FIRST_POLL_MS = 25;

/**
 * Launches the job unless a run of it is already going or done, then polls it until it finishes: a run that exceeds
 * `timeoutMs` is killed, a run that never started is launched again (the first real launch), a failed run raises
 * its failure (bad params are final, anything else is worth a retry).
 */
export async function awaitJob(opts: AwaitJobOptions): Promise<FinishedJob> {
  const { launcher, timeoutMs, pollMs } = opts;
  let handle = await launcher.launchOrAttach(opts.launch);
  opts.onLaunched?.(handle);
  // Short jobs are seen finishing soon after they do: the first polls come quickly, then the interval doubles up to
  // pollMs (a no-op job used to cost a whole second of waiting).
  let sleepMs = Math.min(FIRST_POLL_MS, pollMs);
  for (;;) {
    const state = await launcher.poll(handle);
    const beat: JobHeartbeat = { jobId: handle.jobId, run: handle.run, state: state.kind };
    if (handle.submissionId !== undefined) beat.submissionId = handle.submissionId;
    if (state.kind === 'running') {
      if (state.pid !== undefined) beat.pid = state.pid;
      beat.elapsedMs = state.elapsedMs;
      if (state.elapsedMs > timeoutMs) {
        await launcher.cancel(handle, `exceeded the job deadline of ${timeoutMs} ms`);
        throw new Error(`training job ${handle.jobId} exceeded its deadline of ${timeoutMs} ms and was killed`);
      }
    }
    if (state.kind === 'succeeded') return { handle, status: state.status };
    // A worker killed between creating a run's folder and starting its job leaves a run that never ran: launch the
    // job (the first real launch) instead of failing on it.
    if (state.kind === 'failed' && state.neverStarted) {
      handle = await launcher.launchOrAttach(opts.launch);
      continue;
    }
    if (state.kind === 'failed') throw failureOf(state);
    opts.onHeartbeat(beat);
    try {
      await opts.sleep(sleepMs);
      sleepMs = Math.min(pollMs, sleepMs * 2);
    } catch (err) {
      // A cancel that cannot reach the cluster must not hide why the wait ended: the reaper stops the job once its run
      // is closed.
      if (opts.killOnInterrupt(err)) await Promise.resolve(launcher.cancel(handle, 'run cancelled')).catch(() => undefined);
      throw err;
    }
  }
}

/** The job command with the worker's own `{python}` and `{relearn}` filled in; any other placeholder is left as written. */
export function expandCommand(command: readonly string[], vars: Readonly<Record<string, string>>): string[] {
  return command.map((part) => part.replace(/\{(python|relearn)\}/g, (_, name: string) => vars[name] ?? `{${name}}`));
}
