// Fault-suite harness: a real Temporal dev server, a worker in its own process (so a test can SIGKILL or SIGTERM it),
// real training jobs, probes that tell when a run is inside a given activity, and a ledger of injected faults that
// `npm run reliability-report` turns into docs/reliability.md.
import { type ChildProcess, spawn } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Client, WorkflowHandle } from '@temporalio/client';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { LoadedConfig } from '../../src/config';
import { LocalLauncher } from '../../src/jobs/local';
import { RELEARN_ROOT } from '../../src/paths';
import { openRegistry, type RegistryStore } from '../../src/registry';
import { openArtifactStore } from '../../src/store';
import { smallFlightsModel, TEST_SERVER_STATE, testConfig } from '../helpers/pipeline-env';
import { waitFor } from '../helpers/wait';
import type { RetrainResult, RetrainStatus } from '../../src/contracts';

export const TRAINERS = path.join(RELEARN_ROOT, 'test', 'fixtures', 'trainers');

/**
 * The small flights model tuned for fault tests: 2 folds, a dead worker noticed within 5 s, and 3 attempts (a kill uses
 * one; on a loaded 2-core machine a heartbeat can be late once more without failing the run).
 */
export function faultModel(overrides: Record<string, unknown> = {}, trainer: Record<string, unknown> = {}): Record<string, unknown> {
  const base = smallFlightsModel() as { trainer: Record<string, unknown>; split: Record<string, unknown> };
  return {
    ...base,
    split: { ...base.split, folds: 2 },
    heartbeatTimeoutMs: 5000,
    trainer: { ...base.trainer, heartbeatTimeoutMs: 5000, retryInitialIntervalMs: 500, maxAttempts: 3, ...trainer },
    ...overrides,
  };
}

/** A trainer command that sleeps `seconds` before running the real sklearn trainer (for kills while a job runs). */
export function slowTrainer(seconds: number): string[] {
  return ['{python}', '{relearn}/test/fixtures/trainers/slow.py', String(seconds), '{spec}'];
}

/** Writes a temporal.yaml into a fresh folder (the shared test server unless `address` is given) and loads it. */
export function faultConfig(models: Record<string, Record<string, unknown>>, opts: { address?: string } = {}): Promise<LoadedConfig> {
  return testConfig(models, { ...opts, prefix: 'fault' });
}

/** A `relearn worker` in its own process, with its output kept for assertions. */
export class WorkerProcess {
  output = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;

  private constructor(readonly child: ChildProcess) {
    child.stdout?.on('data', (d: Buffer) => (this.output += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (this.output += d.toString()));
    this.exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal, at: Date.now() })));
  }

  /** Starts a worker for `loaded` and resolves once it polls its task queue. */
  static async start(loaded: LoadedConfig, opts: { graceMs?: number } = {}): Promise<WorkerProcess> {
    const args = ['--import', 'tsx', path.join(RELEARN_ROOT, 'src/cli/main.ts'), '--config', loaded.configPath, 'worker'];
    if (opts.graceMs !== undefined) args.push('--grace-ms', String(opts.graceMs));
    const child = spawn(process.execPath, args, {
      cwd: RELEARN_ROOT,
      env: { ...process.env, RELEARN_LOG_LEVEL: 'info', FORCE_COLOR: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const worker = new WorkerProcess(child);
    // true once it polls, false if it died first; undefined (timed out) if neither within 90 s.
    const polling = await waitFor(
      'the worker to poll its task queue',
      () => (worker.output.includes('worker polling') ? true : worker.alive ? undefined : false),
      90_000,
      50,
    ).catch(() => undefined);
    if (polling === false) throw new Error(`worker exited during start-up:\n${worker.output}`);
    if (polling === undefined) {
      // Not left running: a worker that polls later would take the next test's tasks and keep the suite from ending.
      await worker.signal('SIGKILL');
      throw new Error(`worker did not start within 90 s:\n${worker.output}`);
    }
    return worker;
  }

  get pid(): number {
    return this.child.pid!;
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Sends a real signal; SIGKILL resolves once the process is gone. */
  async signal(sig: NodeJS.Signals): Promise<void> {
    this.child.kill(sig);
    if (sig === 'SIGKILL') await this.exited;
  }

  /** Stops the worker at the end of a test (SIGTERM, then SIGKILL). */
  async stop(): Promise<void> {
    if (!this.alive) return;
    this.child.kill('SIGTERM');
    const done = await Promise.race([this.exited, sleep(15_000).then(() => null)]);
    if (done === null) await this.signal('SIGKILL');
  }
}

// The one polling helper of the tests, re-exported for the fault tests that import it from here.
export { waitFor };

const PENDING_STARTED = 2;

/** The run's pending activities of one type: how many are started on a worker, and their attempts. */
export async function pendingActivities(handle: WorkflowHandle, type: string): Promise<{ started: number; pending: number; attempts: number[] }> {
  const d = await handle.describe();
  const mine = (d.raw.pendingActivities ?? []).filter((a) => a.activityType?.name === type);
  return {
    started: mine.filter((a) => Number(a.state) === PENDING_STARTED).length,
    pending: mine.length,
    attempts: mine.map((a) => a.attempt ?? 0),
  };
}

/** Resolves once an activity of `type` runs on a worker; fails if the run closed first. */
export async function whenActivityStarted(handle: WorkflowHandle, type: string, timeoutMs = 120_000): Promise<void> {
  await waitFor(`${type} to start`, async () => {
    const d = await handle.describe();
    if (d.status.name !== 'RUNNING') throw new Error(`run ${d.status.name} before ${type} started`);
    const started = (d.raw.pendingActivities ?? []).some((a) => a.activityType?.name === type && Number(a.state) === PENDING_STARTED);
    return started ? true : undefined;
  }, timeoutMs);
}

/** The run's `status` query (needs a live worker). */
export async function runStatus(handle: WorkflowHandle): Promise<RetrainStatus> {
  return handle.query<RetrainStatus>('status');
}

/** Attempt numbers of every completed activity, by activity type and summary-free order, from the run's history. */
export async function activityAttempts(handle: WorkflowHandle): Promise<Array<{ type: string; attempt: number; outcome: string }>> {
  const history = await handle.fetchHistory();
  const scheduled = new Map<string, string>();
  const started = new Map<string, number>();
  const out: Array<{ type: string; attempt: number; outcome: string }> = [];
  for (const e of history.events ?? []) {
    const id = String(e.eventId);
    if (e.activityTaskScheduledEventAttributes) scheduled.set(id, e.activityTaskScheduledEventAttributes.activityType?.name ?? '');
    if (e.activityTaskStartedEventAttributes) started.set(String(e.activityTaskStartedEventAttributes.scheduledEventId), e.activityTaskStartedEventAttributes.attempt ?? 0);
    const closed =
      (e.activityTaskCompletedEventAttributes && ['completed', e.activityTaskCompletedEventAttributes]) ||
      (e.activityTaskFailedEventAttributes && ['failed', e.activityTaskFailedEventAttributes]) ||
      (e.activityTaskTimedOutEventAttributes && ['timed out', e.activityTaskTimedOutEventAttributes]) ||
      (e.activityTaskCanceledEventAttributes && ['cancelled', e.activityTaskCanceledEventAttributes]);
    if (closed) {
      const [outcome, attrs] = closed as [string, { scheduledEventId?: unknown }];
      const sid = String(attrs.scheduledEventId);
      out.push({ type: scheduled.get(sid) ?? '?', attempt: started.get(sid) ?? 0, outcome });
    }
  }
  return out;
}

/** Waits for the run's end: its result, or the failure chain and root failure type. */
export async function outcomeOf(handle: WorkflowHandle): Promise<{ result?: RetrainResult; failure?: string; failureType?: string }> {
  try {
    return { result: (await handle.result()) as RetrainResult };
  } catch (err) {
    if (!(err instanceof WorkflowFailedError)) throw err;
    const parts: string[] = [];
    let type: string | undefined;
    for (let c: unknown = err; c instanceof Error; c = c.cause) {
      parts.push(c.message);
      if (c instanceof ApplicationFailure && c.type) type = c.type;
    }
    return { failure: parts.join(' ← '), failureType: type };
  }
}

/** Launches per job id, from the ledger every job's wrapper appends to. */
export function launchesPerJob(loaded: LoadedConfig): Map<string, number> {
  const counts = new Map<string, number>();
  for (const l of new LocalLauncher(path.join(loaded.stateDir, 'jobs')).launches()) counts.set(l.jobId, (counts.get(l.jobId) ?? 0) + 1);
  return counts;
}

/** Launches beyond the first of each job whose earlier run did not fail (a relaunch of a failed run is a retry). */
export function duplicateLaunches(loaded: LoadedConfig): number {
  const jobsDir = path.join(loaded.stateDir, 'jobs');
  let duplicates = 0;
  for (const [jobId, count] of launchesPerJob(loaded)) {
    const runsDir = path.join(jobsDir, jobId, 'runs');
    const runs = existsSync(runsDir) ? readdirSync(runsDir).map(Number).sort((a, b) => a - b) : [];
    // A run launched after an earlier run of the same job had succeeded is work done twice.
    for (const run of runs.slice(0, -1)) {
      const exitFile = path.join(runsDir, String(run), 'exit_code');
      if (existsSync(exitFile) && readFileSync(exitFile, 'utf8').trim() === '0') duplicates += 1;
    }
    duplicates += Math.max(0, count - runs.length);
  }
  return duplicates;
}

/** Live processes started under this config's jobs folder (wrappers, jobs and their children inherit its env). */
export function jobProcesses(loaded: LoadedConfig): number[] {
  const marker = `RELEARN_JOBS_DIR=${path.join(loaded.stateDir, 'jobs')}\0`;
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (readFileSync(`/proc/${name}/environ`, 'utf8').includes(marker)) {
        const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
        // A zombie is already dead; it only waits for its parent to read its exit status.
        if (!/\) Z /.test(stat)) pids.push(Number(name));
      }
    } catch {
      // Gone, or not ours to read.
    }
  }
  return pids;
}

/** The registry of a config, opened for a quick look. */
export async function withRegistry<T>(loaded: LoadedConfig, fn: (registry: RegistryStore) => Promise<T>): Promise<T> {
  const registry = openRegistry(loaded);
  try {
    return await fn(registry);
  } finally {
    await registry.close();
  }
}

/** Registered versions whose model or snapshot can no longer be read back with its recorded digest. */
export async function artifactsLost(loaded: LoadedConfig, model: string, except: string[] = []): Promise<number> {
  const store = openArtifactStore(loaded);
  const versions = await withRegistry(loaded, async (r) => await r.listVersions(model));
  let lost = 0;
  for (const v of versions) {
    for (const ref of [
      { uri: v.artifactUri, sha256: v.artifactSha256 },
      { uri: v.snapshotUri, sha256: v.snapshotSha256 },
    ]) {
      if (except.includes(ref.uri)) continue;
      try {
        await store.verifiedPath(ref);
      } catch {
        lost += 1;
      }
    }
  }
  return lost;
}

/** One line of the fault ledger: a fault the suite injected and what came of it. */
export interface FaultRecord {
  /** Issue 4's fault number (1–10) and a short name. */
  fault: number;
  name: string;
  /** Faults injected (kills, stops, hostile files, …). */
  injected: number;
  runs: number;
  /** Runs that ended as the fault case expects (completed, or failed cleanly with nothing promoted). */
  runsAsExpected: number;
  duplicateLaunches: number;
  artifactsLost: number;
  /** Seconds the case took. */
  seconds: number;
  notes?: string;
}

/** Where fault records go: $RELEARN_FAULT_RESULTS, else `.relearn-test/fault-results.jsonl`. */
export function faultResultsFile(): string {
  return process.env.RELEARN_FAULT_RESULTS ?? path.join(TEST_SERVER_STATE, 'fault-results.jsonl');
}

/** Appends a record; records of one suite run share `suite` (the test runner's pid unless the soak names it). */
export function recordFault(record: FaultRecord): void {
  const file = faultResultsFile();
  mkdirSync(path.dirname(file), { recursive: true });
  const suite = process.env.RELEARN_FAULT_SUITE ?? `npm-test-${process.ppid}`;
  appendFileSync(file, `${JSON.stringify({ suite, at: new Date().toISOString(), ...record })}\n`);
}

/** Starts a run of `model` with the config's settings, returning its handle. */
export async function startRun(client: Client, loaded: LoadedConfig, model: string, window?: { from?: string; to?: string }) {
  const { startRetrain } = await import('../../src/temporal/runs');
  const { resolveTemporalTarget } = await import('../../src/temporal/connection');
  const target = await resolveTemporalTarget(loaded);
  const started = await startRetrain(client, target, loaded, model, { window });
  return { started, handle: client.workflow.getHandle(started.workflowId, started.runId) };
}
