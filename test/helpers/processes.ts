// Finding a test's own processes by what their command line holds (a unique folder, a marker argument): a job that
// should have been stopped is looked for by its markers, not by a pid the test may never have seen.
import { readdirSync, readFileSync } from 'node:fs';

/** Pids of the processes (other than this one) whose command line holds `marker`. */
export function processesWith(marker: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(marker)) pids.push(Number(entry));
    } catch {
      // Gone meanwhile.
    }
  }
  return pids;
}
