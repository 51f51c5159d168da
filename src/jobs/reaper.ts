// A job outlives the activity that awaits it on purpose (a restarted worker re-attaches to it), so nothing stops a
// job whose run was terminated or reset: no activity is left to be cancelled. The reaper looks at the jobs still
// running, asks Temporal about the run each was launched for, and stops the jobs whose run is closed.
import type { ActiveJob, JobLauncher, JobOwner } from './launcher';

/** Whether a workflow run is still open; throws when that cannot be told now (the server is unreachable). */
export type RunIsOpen = (owner: JobOwner) => Promise<boolean>;

/** What one look found: the jobs stopped, and the jobs (or launchers) that could not be checked. */
export interface ReapResult {
  reaped: Array<ActiveJob & { launcher: string }>;
  errors: string[];
}

/** Looks once at every running job of every launcher and stops those whose run is closed. */
export async function reapOnce(launchers: readonly JobLauncher[], runIsOpen: RunIsOpen): Promise<ReapResult> {
  const result: ReapResult = { reaped: [], errors: [] };
  for (const launcher of launchers) {
    let active: ActiveJob[];
    try {
      active = await launcher.activeJobs();
    } catch (err) {
      result.errors.push(`${launcher.description}: ${(err as Error).message}`);
      continue;
    }
    for (const job of active) {
      try {
        if (await runIsOpen(job.owner)) continue;
        await launcher.cancel(job.handle, `its workflow run ${job.owner.workflowId}/${job.owner.runId} is closed`);
        result.reaped.push({ ...job, launcher: launcher.description });
      } catch (err) {
        result.errors.push(`${launcher.description} job ${job.handle.jobId}: ${(err as Error).message}`);
      }
    }
  }
  return result;
}

/** Options of the worker's reaper. */
export interface JobReaperOptions {
  launchers: () => readonly JobLauncher[];
  runIsOpen: RunIsOpen;
  /** Pause between two looks; a look costs one listing per launcher and one describe per running job. */
  intervalMs: number;
  onResult?: (result: ReapResult) => void;
}

/** Runs reapOnce every `intervalMs` until stopped; a look that fails is reported and the next one tried. */
export function startJobReaper(opts: JobReaperOptions): { stop: () => Promise<void> } {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let current: Promise<void> = Promise.resolve();
  const look = () => {
    current = reapOnce(opts.launchers(), opts.runIsOpen)
      .then((result) => opts.onResult?.(result))
      .catch(() => undefined)
      .finally(() => {
        if (!stopped) timer = setTimeout(look, opts.intervalMs).unref();
      });
  };
  timer = setTimeout(look, 0).unref();
  return {
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await current;
    },
  };
}
