import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';

// Why a pool: starting Node.js and onnxruntime-node costs a few hundred ms of CPU, more than checking a small model,
// and a run checks 4 models. A sealed checker process now checks one model at a time, many in its life, and is
// thrown away after any failure, any timeout, a change of memory limit, or `checksPerProcess` checks.

const CHILD_SCRIPT = path.join(import.meta.dirname, 'check-model-child.mjs');
const MAX_STDOUT_BYTES = 1024 * 1024;
const MAX_STDERR_BYTES = 64 * 1024;
/** Exit code of the shell when `ulimit` itself fails: an environment problem, not the model's. */
export const EXIT_LIMIT_NOT_APPLIED = 125;

/** One input or output as the check child reports it (onnxruntime-node's metadata). */
export interface ChildValue {
  name: string;
  isTensor: boolean;
  type?: string;
  shape?: Array<number | string>;
}

/** One line of the check child's report. */
export type ChildEvent =
  | { event: 'loaded'; loadMs: number; inputs: ChildValue[]; outputs: ChildValue[] }
  | { event: 'ran'; firstRunMs: number; medianMs: number; runs: number }
  | { event: 'error'; stage: 'load' | 'run'; message: string };

/** What one check in a check process came to: its events, and how the process ended if it did. */
export interface ChildOutcome {
  events: ChildEvent[];
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  /** The process's stderr during this check. */
  stderr: string;
  /** Whether the process had checked other models before this one. */
  reused: boolean;
}

/** One check for a pooled process: the model, its limits and the child's config (latency runs, sample row). */
export interface CheckRequest {
  modelPath: string;
  /** RLIMIT_DATA of the process; a process only ever serves checks of one limit. */
  memoryLimitBytes: number;
  /** From sending the request to the child's last line; a fresh process's start-up counts in it, as it always did. */
  timeoutMs: number;
  config: Record<string, unknown>;
}

/** Sizes of a check pool. */
export interface CheckPoolOptions {
  /** Check processes alive at once, idle or busy; checks beyond it wait their turn. */
  size?: number;
  /** A process is replaced after this many checks, passed or not. */
  checksPerProcess?: number;
  /** An idle process exits after this long, giving its memory back. */
  idleMs?: number;
}

/** ≤ the machine's cores, and at least 1. */
export const DEFAULT_CHECK_POOL_SIZE = Math.max(1, Math.min(os.availableParallelism(), 4));
const DEFAULT_CHECKS_PER_PROCESS = 20;
const DEFAULT_IDLE_MS = 30_000;

/** The check child's environment: the search path, the locale and the temp folder, nothing else. */
export function checkChildEnvironment(workerEnv: Readonly<Record<string, string | undefined>>): Record<string, string> {
  const env: Record<string, string> = { PATH: workerEnv.PATH ?? '/usr/local/bin:/usr/bin:/bin' };
  for (const [name, value] of Object.entries(workerEnv)) {
    if (value !== undefined && (name === 'LANG' || name === 'TZ' || name === 'TMPDIR' || name.startsWith('LC_'))) env[name] = value;
  }
  return env;
}

/** A line of the child's report, or undefined for what is no event (a line cut short by a crash, stray output). */
function parseEvent(line: string): ChildEvent | { event: 'done' } | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    return JSON.parse(line) as ChildEvent | { event: 'done' };
  } catch {
    return undefined;
  }
}

/**
 * A sealed check process: the child script under `ulimit -d` (RLIMIT_DATA: heap and private writable mappings, which
 * is where onnxruntime's tensors live). RLIMIT_AS is useless here: Node.js reserves ~0.8 GB of address space at
 * start-up before any model is read.
 */
class CheckProcess {
  readonly memoryLimitBytes: number;
  checksDone = 0;
  private readonly child: ChildProcessWithoutNullStreams;
  private exited: { exitCode: number | null; signal: NodeJS.Signals | null } | undefined;
  private pending = '';
  private stderr = '';
  private current: ((line: string | undefined) => void) | undefined;
  private idleTimer: NodeJS.Timeout | undefined;

  constructor(memoryLimitBytes: number) {
    this.memoryLimitBytes = memoryLimitBytes;
    const limitKb = Math.ceil(memoryLimitBytes / 1024);
    // Only what the child needs to start Node.js: the worker's credentials, and the parent's loader flags (tsx,
    // inspectors, NODE_OPTIONS), have no business in a sealed checker.
    this.child = spawn(
      '/bin/sh',
      ['-c', `ulimit -d "$1" || exit ${EXIT_LIMIT_NOT_APPLIED}; shift; exec "$@"`, 'relearn-model-check', String(limitKb), process.execPath, CHILD_SCRIPT],
      { stdio: ['pipe', 'pipe', 'pipe'], env: checkChildEnvironment(process.env) },
    );
    this.child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      this.pending += chunk;
      for (let nl = this.pending.indexOf('\n'); nl >= 0; nl = this.pending.indexOf('\n')) {
        const line = this.pending.slice(0, nl);
        this.pending = this.pending.slice(nl + 1);
        this.current?.(line);
      }
      // A report line longer than this is no report of ours; dropped rather than kept growing.
      if (this.pending.length > MAX_STDOUT_BYTES) this.pending = '';
    });
    this.child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      this.stderr = (this.stderr + chunk).slice(-MAX_STDERR_BYTES);
    });
    // A child gone before it read its request: the write fails, and 'close' reports how it ended.
    this.child.stdin.on('error', () => {});
    this.child.on('error', () => {});
    this.child.on('close', (exitCode, signal) => {
      this.exited = { exitCode, signal };
      this.current?.(undefined);
    });
  }

  get alive(): boolean {
    return this.exited === undefined;
  }

  /** Sends one check and collects its events until the child's `done` line, its exit or the timeout. */
  check(request: CheckRequest): Promise<ChildOutcome> {
    const reused = this.checksDone > 0;
    this.checksDone += 1;
    this.stderr = '';
    this.hold();
    return new Promise((resolve) => {
      const events: ChildEvent[] = [];
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        this.kill();
      }, request.timeoutMs);
      const finish = (exited: boolean) => {
        clearTimeout(timer);
        this.current = undefined;
        resolve({
          events,
          exitCode: exited ? (this.exited?.exitCode ?? null) : null,
          signal: exited ? (this.exited?.signal ?? null) : null,
          timedOut,
          stderr: this.stderr,
          reused,
        });
      };
      this.current = (line) => {
        if (line === undefined) return finish(true);
        const event = parseEvent(line);
        if (event === undefined) return;
        if (event.event === 'done') return finish(false);
        events.push(event);
      };
      if (!this.alive) return finish(true);
      this.child.stdin.write(`${JSON.stringify({ modelPath: request.modelPath, config: request.config })}\n`);
    });
  }

  /** Lets the worker exit while this process waits for work, and ends it after `idleMs` of waiting. */
  idle(idleMs: number, onExpired: () => void): void {
    this.child.unref();
    for (const stream of [this.child.stdin, this.child.stdout, this.child.stderr]) (stream as unknown as { unref?: () => void }).unref?.();
    this.idleTimer = setTimeout(onExpired, idleMs);
    this.idleTimer.unref();
  }

  private hold(): void {
    clearTimeout(this.idleTimer);
    this.child.ref();
    for (const stream of [this.child.stdin, this.child.stdout, this.child.stderr]) (stream as unknown as { ref?: () => void }).ref?.();
  }

  kill(): void {
    clearTimeout(this.idleTimer);
    // SIGKILL reaches the check itself: the shell has exec'd into it.
    if (this.alive) this.child.kill('SIGKILL');
  }
}

/**
 * A small pool of sealed check processes (src/onnx/check-model-child.mjs), each under its memory limit, each checking
 * one model at a time. A process is reused only after a check that passed without an error line; any failure, timeout
 * or crash ends it, so the next check starts clean.
 */
export class ModelCheckPool {
  private readonly size: number;
  private readonly checksPerProcess: number;
  private readonly idleMs: number;
  private readonly idleProcesses: CheckProcess[] = [];
  private busy = 0;
  private readonly waiting: Array<() => void> = [];
  private spawned = 0;

  constructor(options: CheckPoolOptions = {}) {
    this.size = Math.max(1, options.size ?? DEFAULT_CHECK_POOL_SIZE);
    this.checksPerProcess = Math.max(1, options.checksPerProcess ?? DEFAULT_CHECKS_PER_PROCESS);
    this.idleMs = options.idleMs ?? DEFAULT_IDLE_MS;
  }

  /** Check processes started so far (for tests and benchmarks). */
  get processesStarted(): number {
    return this.spawned;
  }

  /**
   * Runs one check in a process of the request's memory limit. A check that fails in a reused process is run again
   * in a fresh one, so nothing an earlier check left behind (memory held by the allocator) is ever blamed on a model.
   */
  async check(request: CheckRequest): Promise<ChildOutcome> {
    if (process.platform === 'win32') throw new Error('checkModelIsolated needs a POSIX shell to limit the check process memory');
    await this.acquire();
    try {
      const outcome = await this.checkIn(this.processFor(request.memoryLimitBytes), request);
      if (!outcome.reused || !failed(outcome) || outcome.timedOut) return outcome;
      return await this.checkIn(this.start(request.memoryLimitBytes), request);
    } finally {
      this.release();
    }
  }

  /** Ends every idle process; busy ones end when their check does. */
  close(): void {
    for (const p of this.idleProcesses.splice(0)) p.kill();
  }

  private async checkIn(proc: CheckProcess, request: CheckRequest): Promise<ChildOutcome> {
    const outcome = await proc.check(request);
    if (failed(outcome) || !proc.alive || proc.checksDone >= this.checksPerProcess) {
      proc.kill();
    } else {
      this.idleProcesses.push(proc);
      proc.idle(this.idleMs, () => this.retire(proc));
    }
    return outcome;
  }

  private processFor(memoryLimitBytes: number): CheckProcess {
    const index = this.idleProcesses.findIndex((p) => p.memoryLimitBytes === memoryLimitBytes && p.alive);
    if (index >= 0) return this.idleProcesses.splice(index, 1)[0]!;
    // Room for a new process: one that died while idle, then an idle one of another limit, gives up its place.
    for (let i = this.idleProcesses.length - 1; i >= 0; i--) if (!this.idleProcesses[i]!.alive) this.idleProcesses.splice(i, 1);
    while (this.idleProcesses.length + this.busy > this.size) this.idleProcesses.shift()!.kill();
    return this.start(memoryLimitBytes);
  }

  private start(memoryLimitBytes: number): CheckProcess {
    this.spawned += 1;
    return new CheckProcess(memoryLimitBytes);
  }

  private retire(proc: CheckProcess): void {
    const index = this.idleProcesses.indexOf(proc);
    if (index >= 0) this.idleProcesses.splice(index, 1);
    proc.kill();
  }

  private async acquire(): Promise<void> {
    if (this.busy < this.size) {
      this.busy += 1;
      return;
    }
    // The slot is handed over by release(), busy count unchanged, so no newcomer can take it in between.
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  private release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.busy -= 1;
  }
}

/** A check that reported an error, timed out, or ended without its `done` line (a crash). */
function failed(outcome: ChildOutcome): boolean {
  return outcome.timedOut || outcome.exitCode !== null || outcome.signal !== null || outcome.events.some((e) => e.event === 'error');
}
