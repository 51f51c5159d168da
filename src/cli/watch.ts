import type { WorkflowHandle } from '@temporalio/client';
import pc from 'picocolors';
import type { RetrainStatus } from '../../workflows/types';

/** Follows a run through its `status` query, printing each change of stage or detail, until it closes. */
export async function followRun(handle: WorkflowHandle, opts: { prefix?: string; intervalMs?: number } = {}): Promise<void> {
  const prefix = opts.prefix ?? '  ';
  const started = Date.now();
  let last = '';
  let done = false;
  const result = handle.result().finally(() => {
    done = true;
  });
  result.catch(() => undefined);
  while (!done) {
    try {
      const status = await handle.query<RetrainStatus>('status');
      const line = `${status.stage}: ${status.detail}`;
      if (line !== last) {
        const elapsed = ((Date.now() - started) / 1000).toFixed(1).padStart(6);
        console.log(`${prefix}${pc.dim(`[${elapsed}s]`)} ${line}`);
        last = line;
      }
    } catch {
      // The run may not have had its first workflow task yet, or just closed.
    }
    await Promise.race([result.catch(() => undefined), new Promise((r) => setTimeout(r, opts.intervalMs ?? 1000))]);
  }
}
