import type { WorkflowHandle } from '@temporalio/client';
import cliProgress from 'cli-progress';
import pc from 'picocolors';
import type { RetrainStatus } from '../contracts';
import { type WaitingTask, waitingForWorker } from '../temporal/task-queue';

/**
 * Follows a run through its `status` query, printing each change of stage or detail, until it closes. On a TTY, a
 * stage with several steps (training K folds + final) shows a progress bar instead of one line per step.
 */
export async function followRun(handle: WorkflowHandle, opts: { prefix?: string; intervalMs?: number; tty?: boolean } = {}): Promise<void> {
  const prefix = opts.prefix ?? '  ';
  const tty = opts.tty ?? Boolean(process.stdout.isTTY);
  const started = Date.now();
  let last = '';
  let barStage: string | undefined;
  let bar: cliProgress.SingleBar | undefined;
  let done = false;
  const result = handle.result().finally(() => {
    done = true;
  });
  result.catch(() => undefined);
  const stamp = () => pc.dim(`[${((Date.now() - started) / 1000).toFixed(1).padStart(6)}s]`);
  const stopBar = () => {
    bar?.stop();
    bar = undefined;
    barStage = undefined;
  };
  while (!done) {
    try {
      const status = await handle.query<RetrainStatus>('status');
      const progress = status.progress;
      if (tty && progress && progress.total > 1) {
        if (barStage !== status.stage) {
          stopBar();
          console.log(`${prefix}${stamp()} ${status.stage}: ${status.detail}`);
          bar = new cliProgress.SingleBar(
            { format: `${prefix}${' '.repeat(9)} {bar} {value}/{total} ${progress.unit}  {detail}`, hideCursor: true, clearOnComplete: false },
            cliProgress.Presets.shades_classic,
          );
          bar.start(progress.total, progress.done, { detail: '' });
          barStage = status.stage;
        }
        bar?.update(progress.done, { detail: pc.dim(status.detail) });
        last = `${status.stage}: ${status.detail}`;
      } else {
        const line = `${status.stage}: ${status.detail}`;
        if (line !== last) {
          stopBar();
          console.log(`${prefix}${stamp()} ${line}`);
          last = line;
        }
      }
    } catch {
      // The run may not have had its first workflow task yet, or just closed.
    }
    await Promise.race([result.catch(() => undefined), new Promise((r) => setTimeout(r, opts.intervalMs ?? 1000))]);
  }
  stopBar();
}

/**
 * Watches a run for a task no worker picks up: every `intervalMs` it describes the run, and the first time a task has
 * waited `afterMs` or longer it calls `onNoWorker` once (to say so, and start a worker). Returns a function that stops
 * the watch.
 */
export function watchForWorker(
  handle: WorkflowHandle,
  opts: { afterMs: number; intervalMs?: number; onNoWorker: (waiting: WaitingTask) => Promise<void> | void },
): () => Promise<void> {
  let stopped = false;
  let wake: (() => void) | undefined;
  const loop = (async () => {
    while (!stopped) {
      try {
        const waiting = waitingForWorker(await handle.describe(), Date.now(), opts.afterMs);
        if (waiting && !stopped) {
          await opts.onNoWorker(waiting);
          return;
        }
      } catch {
        // The server may be busy for a moment; the next round asks again.
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, opts.intervalMs ?? 1000);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  })();
  return async () => {
    stopped = true;
    wake?.();
    await loop;
  };
}
