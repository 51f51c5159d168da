import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import path from 'node:path';

const HELPER_SCRIPT = path.join(import.meta.dirname, 'spawn-helper-child.mjs');

/** What to start detached: a command, its arguments, folder and whole environment. */
export interface DetachedCommand {
  command: string;
  args: string[];
  cwd?: string;
  env: Record<string, string>;
}

/**
 * Starts detached processes (stdio ignored, a session of their own) through a small long-lived helper process, so the
 * caller's event loop is not blocked by forking itself: fork copies the page tables, and a worker of a few hundred MB
 * spent 30–40 ms of its main thread per job launched (more under load) against a few ms from the helper. When the
 * helper cannot be used (it died, or never started), the process is spawned directly, as before.
 */
export class DetachedSpawner {
  private helper: ChildProcessWithoutNullStreams | undefined;
  private helperExited = false;

  /** Hands the command to the helper and returns at once; a failed start surfaces as a job that never wrote its pid. */
  spawnDetached(cmd: DetachedCommand): void {
    const helper = this.ensureHelper();
    if (helper === undefined) return spawnDirectly(cmd);
    helper.stdin.write(`${JSON.stringify(cmd)}\n`);
  }

  /** Pid of the helper process, while it runs (for tests). */
  get helperPid(): number | undefined {
    return this.helper !== undefined && !this.helperExited ? this.helper.pid : undefined;
  }

  /** Ends the helper once it has started what it was given (its stdin closes). */
  close(): void {
    this.helper?.stdin.end();
    this.helper = undefined;
  }

  private ensureHelper(): ChildProcessWithoutNullStreams | undefined {
    if (this.helper !== undefined && !this.helperExited) return this.helper;
    this.helperExited = false;
    let helper: ChildProcessWithoutNullStreams;
    try {
      // The helper needs nothing of the worker's environment: every request carries the job's own.
      helper = spawn(process.execPath, [HELPER_SCRIPT], {
        stdio: ['pipe', 'pipe', 'pipe'],
        env: { PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin' },
      });
    } catch {
      return undefined;
    }
    if (helper.pid === undefined) return undefined;
    helper.on('error', () => {
      this.helperExited = true;
    });
    helper.on('exit', () => {
      this.helperExited = true;
    });
    helper.stdin.on('error', () => {
      // The helper died: the next launch starts another one (or spawns directly).
      this.helperExited = true;
    });
    // Answers are read and dropped: the launcher learns a job's pid from the pid file its wrapper writes.
    helper.stdout.resume();
    helper.stderr.resume();
    // Lets the worker exit while the helper waits for work; the helper exits when its stdin closes.
    helper.unref();
    for (const stream of [helper.stdin, helper.stdout, helper.stderr]) (stream as unknown as { unref?: () => void }).unref?.();
    this.helper = helper;
    return helper;
  }
}

function spawnDirectly(cmd: DetachedCommand): void {
  const child = spawn(cmd.command, cmd.args, { cwd: cmd.cwd, env: cmd.env, detached: true, stdio: 'ignore' });
  child.on('error', () => {
    // A spawn failure surfaces as a run without pid; poll() reports it.
  });
  child.unref();
}
