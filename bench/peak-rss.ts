// Peak memory of a benchmark's child process, in a module of its own so that measuring it loads nothing else.
import { readFileSync } from 'node:fs';

/**
 * Peak resident memory of this process image in MB: Linux's VmHWM, which starts afresh at exec. getrusage's maxRSS
 * does not: a child inherits its parent's high-water mark through fork and exec, so a child of a large bench process
 * would report the parent's peak. Falls back to maxRSS where /proc is missing.
 */
export function peakRssMB(): number {
  try {
    const hwm = /^VmHWM:\s+(\d+)\s+kB/m.exec(readFileSync('/proc/self/status', 'utf8'));
    if (hwm) return Math.round(Number(hwm[1]) / 1024);
  } catch {
    // Not Linux: maxRSS below.
  }
  return Math.round(process.resourceUsage().maxRSS / 1024);
}
