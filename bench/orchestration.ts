// Benchmark 2, orchestration overhead: the same no-op pipeline (pull → split → 3 fold jobs + final job →
// export/check → evaluate → gate → register → promote; every job the no-op process bench/py/noop_trainer.py) on
// Relearn (the embedded Temporal dev server, its own ports and state under bench/.cache), on Prefect 3 with its local
// server and on Apache Airflow 3 with a PostgreSQL metadata database and the LocalExecutor (bench/py/orch_prefect.py,
// bench/py/orch_airflow.py, each in its own pinned virtual environment made here; the PostgreSQL server is started
// here on a free port and stopped at the end), in one run: N pipelines one after the other, 10 and 50 at
// once, and one pipeline whose worker is SIGKILLed while its first job runs. Overhead = a run's wall time minus the
// time its jobs' processes spent inside the job (union of their intervals, which the jobs log themselves).
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';
import proto from '@temporalio/proto';
import { loadConfig } from '../src/config';
import { RELEARN_ROOT } from '../src/paths';
import { findPostgresBin, installPostgres } from '../src/setup';
import { stopDevServer } from '../src/temporal/dev-server';
import { connectClient } from '../src/temporal/connection';
import { startRetrain } from '../src/temporal/runs';
import { createRelearnWorker } from '../src/temporal/worker';
import { WorkerProcess } from '../test/faults/harness';
import { createDatabase, startPostgresServer, stopPostgresServer } from '../test/helpers/postgres';
import { waitFor } from '../test/helpers/wait';
import {
  type BenchMode,
  type BenchOutcome,
  BENCH_DIR,
  CACHE_DIR,
  type SummaryRow,
  VENV_PYTHON,
  fmt,
  freePorts,
  machine,
  percentile,
  round,
  runJsonChild,
} from './lib';

/** What one invocation runs: pipelines one after the other, batches started at once, the crash, and the peers. */
interface Plan {
  sequential: number;
  concurrent: number[];
  crash: boolean;
  peers: boolean;
  crashTimeoutS: number;
  /** The cap of each timed phase on Airflow, whose driver reports a phase that reaches it as failed and goes on. */
  peerPhaseTimeoutS: Record<string, number>;
}

const PLANS: Record<BenchMode, Plan> = {
  full: {
    sequential: 20,
    concurrent: [10, 50],
    crash: true,
    peers: true,
    crashTimeoutS: 180,
    peerPhaseTimeoutS: { sequential: 1200, 'concurrent-10': 900, 'concurrent-50': 2400 },
  },
  quick: { sequential: 5, concurrent: [10], crash: true, peers: true, crashTimeoutS: 120, peerPhaseTimeoutS: { sequential: 600, 'concurrent-10': 900 } },
  // The test suite's size: Relearn only, so `npm test` never installs a peer.
  smoke: { sequential: 2, concurrent: [2], crash: false, peers: false, crashTimeoutS: 60, peerPhaseTimeoutS: { sequential: 120, 'concurrent-2': 300 } },
};

/** The peers, each a driver in bench/py and a pinned requirements file in bench/peers. */
export const PEERS = ['prefect', 'airflow'] as const;
type Peer = (typeof PEERS)[number];
const PEER_NAMES: Record<Peer, string> = { prefect: 'Prefect', airflow: 'Airflow' };

/** The detection time of a dead worker's task, the same on each side that has one: Relearn's heartbeat timeouts, Airflow's task heartbeat timeout. */
const CRASH_HEARTBEAT_TIMEOUT_MS = 10_000;
/** How long the crash run's jobs wait after starting, so the worker is killed while one runs. */
const CRASH_JOB_HOLD_MS = 3000;

const EventType = proto.temporal.api.enums.v1.EventType;

export function modelConfig(jobEnv: Record<string, string>, crash = false): Record<string, unknown> {
  return {
    task: 'binary',
    source: {
      format: 'parquet',
      path: path.join(CACHE_DIR, 'orchestration.parquet'),
      timeColumn: 'date',
      derive: [
        { name: 'hour', from: 'date', op: 'hour' },
        { name: 'delayed', from: 'delay', op: 'greaterThan', value: 15 },
      ],
    },
    features: { numeric: ['distance', 'hour'], categorical: ['origin'] },
    label: 'delayed',
    contract: { minRows: 500, columns: { date: { type: 'timestamp' }, delay: { type: 'int' }, distance: { type: 'int' }, origin: { type: 'string' } } },
    split: { folds: 3, strategy: 'stratified', holdoutFraction: 0.2, seed: 1 },
    ...(crash ? { heartbeatTimeoutMs: CRASH_HEARTBEAT_TIMEOUT_MS } : {}),
    trainer: {
      command: ['{python}', path.join(BENCH_DIR, 'py', 'noop_trainer.py'), '{spec}'],
      estimator: 'logistic_regression',
      maxParallel: 4,
      maxAttempts: crash ? 3 : 1,
      probeRows: 20,
      // The job's environment is an allow-list: the bench's variables are given to it by name.
      env: jobEnv,
      ...(crash ? { heartbeatTimeoutMs: CRASH_HEARTBEAT_TIMEOUT_MS, retryInitialIntervalMs: 500 } : {}),
    },
    gate: { primaryMetric: 'roc_auc', maxDropVsChampion: 1 },
  };
}

interface JobInterval {
  jobId: string;
  startMs: number;
  endMs: number;
}

/** Total length of the union of intervals. */
export function unionMs(intervals: Array<[number, number]>): number {
  const sorted = [...intervals].sort((a, b) => a[0] - b[0]);
  let total = 0;
  let end = Number.NEGATIVE_INFINITY;
  let start = Number.NEGATIVE_INFINITY;
  for (const [s, e] of sorted) {
    if (s > end) {
      if (end > start) total += end - start;
      start = s;
      end = e;
    } else end = Math.max(end, e);
  }
  if (end > start) total += end - start;
  return total;
}

export function readJobLog(file: string): JobInterval[] {
  return existsSync(file)
    ? readFileSync(file, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as JobInterval)
    : [];
}

/** One pipeline run as measured, on any side. */
interface RunMeasure {
  key: string;
  wallMs: number | null;
  jobsMs: number;
  overheadMs: number | null;
  jobs: number;
  outcome: string;
  historyEvents?: number;
  stagesMs?: Record<string, number>;
}

/** A phase's runs with the whole phase's wall time, and why it stopped when it failed (a peer's phase). */
interface Phase {
  wallMs: number;
  runs: RunMeasure[];
  error?: string;
}

/** The crash measurement: SIGKILL of the worker while the run's first job runs → the run's end. */
interface CrashMeasure {
  killed: string;
  state: string;
  recoveryMs: number | null;
  runWallMs: number | null;
}

interface SideResult {
  version?: string;
  /** The peer's metadata database, when it has one the benchmark starts. */
  database?: string;
  startupMs?: number;
  /** API calls the driver had to make again (Airflow's SQLite-backed API server answering 5xx under load). */
  apiRetries?: number;
  phases: Record<string, Phase>;
  crash?: CrashMeasure;
}

const toMs = (t: { seconds?: unknown; nanos?: number | null } | null | undefined): number =>
  Number(t?.seconds ?? 0) * 1000 + (t?.nanos ?? 0) / 1e6;

/** Runs the plan on Relearn: an in-process worker for the timed phases, a worker process for the crash. */
async function runRelearn(plan: Plan): Promise<SideResult> {
  const dir = path.join(CACHE_DIR, 'orchestration');
  rmSync(dir, { recursive: true, force: true });
  const jobLog = path.join(CACHE_DIR, 'orchestration-jobs.jsonl');
  rmSync(jobLog, { force: true });
  const startedDir = path.join(dir, 'started');
  const jobEnv = { BENCH_JOB_LOG: jobLog };
  const keys = [
    ...Array.from({ length: plan.sequential }, (_, i) => `bench-seq-${i}`),
    ...plan.concurrent.flatMap((n) => Array.from({ length: n }, (_, i) => `bench-conc${n}-${i}`)),
  ];
  const models: Record<string, unknown> = Object.fromEntries(keys.map((m) => [m, modelConfig(jobEnv)]));
  if (plan.crash) {
    models['bench-crash'] = modelConfig({ ...jobEnv, BENCH_JOB_HOLD_MS: String(CRASH_JOB_HOLD_MS), BENCH_JOB_STARTED_DIR: startedDir }, true);
  }
  const file = path.join(CACHE_DIR, 'orchestration.yaml');
  // A port found free can be taken again before the dev server binds it (the server also binds ports of its own),
  // so a start that fails is retried on new ports.
  let connected: Awaited<ReturnType<typeof connectClient>> | undefined;
  let loaded!: ReturnType<typeof loadConfig>;
  for (let attempt = 1; connected === undefined; attempt++) {
    // Found together, so the two are never the same port.
    const [port, uiPort] = (await freePorts(2)) as [number, number];
    writeFileSync(
      file,
      stringify({ temporal: { namespace: 'default', taskQueue: 'relearn-bench', devServer: { port, uiPort } }, stateDir: dir, dataRoot: '/', models }),
    );
    loaded = loadConfig(file);
    try {
      connected = await connectClient(loaded);
    } catch (err) {
      if (attempt >= 3) throw err;
      console.log(`  the bench dev server did not start on ports ${port}/${uiPort} (${(err as Error).message.split('\n').at(-1)}); trying other ports`);
      rmSync(dir, { recursive: true, force: true });
    }
  }
  const { client, target, close } = connected;
  const result: SideResult = { phases: {} };
  try {
    const runOne = async (model: string) => {
      const t0 = Date.now();
      const started = await startRetrain(client, target, loaded, model);
      const handle = client.workflow.getHandle(started.workflowId, started.runId);
      let outcome = 'completed';
      try {
        const r = (await handle.result()) as { decision?: string; outcome?: string };
        outcome = String(r.decision ?? r.outcome ?? 'completed');
      } catch (err) {
        const chain: string[] = [];
        for (let e: unknown = err; e instanceof Error; e = e.cause) chain.push(e.message);
        outcome = `failed: ${chain.join(' ← ')}`;
      }
      return { model, runId: started.runId, workflowId: started.workflowId, wallMs: Date.now() - t0, outcome };
    };
    type Finished = Awaited<ReturnType<typeof runOne>>;
    const finished: Record<string, { wallMs: number; runs: Finished[] }> = {};
    const { worker, close: closeWorker } = await createRelearnWorker(loaded, target);
    try {
      await worker.runUntil(async () => {
        // Warm-up: the first run pays for bundles, sessions and module loads; it is not counted.
        await runOne('bench-seq-0');
        let t0 = Date.now();
        const seq: Finished[] = [];
        for (let i = 1; i < plan.sequential; i++) seq.push(await runOne(`bench-seq-${i}`));
        seq.push(await runOne('bench-seq-0'));
        finished.sequential = { wallMs: Date.now() - t0, runs: seq };
        for (const n of plan.concurrent) {
          t0 = Date.now();
          const all = await Promise.all(Array.from({ length: n }, (_, i) => runOne(`bench-conc${n}-${i}`)));
          finished[`concurrent-${n}`] = { wallMs: Date.now() - t0, runs: all };
        }
      });
    } finally {
      await closeWorker();
    }
    const jobs = readJobLog(jobLog);
    for (const [phase, { wallMs, runs }] of Object.entries(finished)) {
      const measured: RunMeasure[] = [];
      for (const run of runs) {
        const mine = jobs.filter((j) => j.jobId.includes(run.runId));
        const jobsMs = unionMs(mine.map((j) => [j.startMs, j.endMs]));
        const history = await client.workflow.getHandle(run.workflowId, run.runId).fetchHistory();
        const events = history.events ?? [];
        const scheduled = new Map<string, { type: string; at: number }>();
        const spans = new Map<string, [number, number]>();
        for (const e of events) {
          const at = toMs(e.eventTime);
          if (e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED) {
            scheduled.set(String(e.eventId), { type: e.activityTaskScheduledEventAttributes?.activityType?.name ?? '?', at });
          } else if (e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED) {
            const s = scheduled.get(String(e.activityTaskCompletedEventAttributes?.scheduledEventId));
            if (!s) continue;
            const span = spans.get(s.type);
            spans.set(s.type, span ? [Math.min(span[0], s.at), Math.max(span[1], at)] : [s.at, at]);
          }
        }
        measured.push({
          key: run.model,
          wallMs: run.wallMs,
          jobsMs: Math.round(jobsMs),
          overheadMs: Math.round(run.wallMs - jobsMs),
          jobs: mine.length,
          outcome: run.outcome,
          historyEvents: events.length,
          stagesMs: Object.fromEntries([...spans].map(([type, [a, b]]) => [type, Math.round(b - a)])),
        });
      }
      result.phases[phase] = { wallMs, runs: measured };
    }
    if (plan.crash) {
      // A crash measurement that cannot be made is reported as such; the timed phases still stand.
      result.crash = await relearnCrash(loaded, client, target, startedDir, plan.crashTimeoutS).catch((err: Error) => ({
        killed: 'the `relearn worker` process',
        state: `not measured: ${err.message.split('\n')[0]}`,
        recoveryMs: null,
        runWallMs: null,
      }));
    }
  } finally {
    await close();
    await stopDevServer(dir);
  }
  return result;
}

/** The crash on Relearn: `relearn worker` in its own process, SIGKILLed while the run's first job runs, started again. */
async function relearnCrash(
  loaded: ReturnType<typeof loadConfig>,
  client: Awaited<ReturnType<typeof connectClient>>['client'],
  target: Awaited<ReturnType<typeof connectClient>>['target'],
  startedDir: string,
  timeoutS: number,
): Promise<CrashMeasure> {
  const workers = [await WorkerProcess.start(loaded)];
  try {
    const t0 = Date.now();
    const started = await startRetrain(client, target, loaded, 'bench-crash');
    await waitFor(
      'the crash run\'s first job to start',
      () => (existsSync(startedDir) && readdirSync(startedDir).some((f) => f.includes(started.runId)) ? true : undefined),
      120_000,
    );
    const killedAt = Date.now();
    await workers[0]!.signal('SIGKILL');
    workers.push(await WorkerProcess.start(loaded));
    const handle = client.workflow.getHandle(started.workflowId, started.runId);
    let state = 'completed';
    const deadline = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), timeoutS * 1000).unref());
    try {
      if ((await Promise.race([handle.result(), deadline])) === 'timeout') state = `not finished within ${timeoutS} s`;
    } catch (err) {
      state = `failed: ${(err as Error).message}`;
    }
    const endedAt = Date.now();
    return {
      killed: 'the `relearn worker` process (SIGKILL to its pid; the detached jobs it launched keep running)',
      state,
      recoveryMs: state === 'completed' ? endedAt - killedAt : null,
      runWallMs: state === 'completed' ? endedAt - t0 : null,
    };
  } finally {
    for (const w of workers) await w.stop();
  }
}

/** The peer's virtual environment under .relearn/, installed from bench/peers/<peer>-requirements.txt when it changed. */
function ensurePeerVenv(peer: Peer): string {
  const venv = path.join(RELEARN_ROOT, '.relearn', `bench-${peer}-venv`);
  const python = path.join(venv, 'bin', 'python');
  const requirements = path.join(BENCH_DIR, 'peers', `${peer}-requirements.txt`);
  const stamp = path.join(venv, '.bench-requirements.sha256');
  const digest = createHash('sha256').update(readFileSync(requirements)).digest('hex');
  if (existsSync(stamp) && readFileSync(stamp, 'utf8').trim() === digest) return python;
  console.log(`  installing ${PEER_NAMES[peer]} (bench/peers/${peer}-requirements.txt) into .relearn/bench-${peer}-venv`);
  const steps: Array<[string, string[]]> = [
    ...(existsSync(python) ? [] : [[VENV_PYTHON, ['-m', 'venv', venv]] as [string, string[]]]),
    [python, ['-m', 'pip', 'install', '--disable-pip-version-check', '--progress-bar', 'off', '-q', '-r', requirements]],
  ];
  for (const [cmd, args] of steps) {
    const r = spawnSync(cmd, args, { stdio: 'inherit' });
    if (r.status !== 0) throw new Error(`installing ${PEER_NAMES[peer]} failed: ${path.basename(cmd)} ${args.slice(0, 3).join(' ')} … exited ${r.status}`);
  }
  writeFileSync(stamp, `${digest}\n`);
  return python;
}

/** What a peer's driver answers: per phase its runs' client-side wall times and final states. */
interface PeerAnswer extends Omit<SideResult, 'phases'> {
  phases: Record<string, { wallMs: number; error?: string; runs: Array<{ key: string; wallMs: number | null; state: string }> }>;
}

/**
 * Airflow's metadata database: a PostgreSQL server of the benchmark's own on a free port (Airflow's production set-up;
 * with standalone's SQLite its components failed on "database is locked" under 10 runs at once), and the driver's
 * environment naming it. The URL carries no password: the driver reads it from the server's password file.
 */
async function startAirflowDatabase(): Promise<{ env: Record<string, string>; database: string; stop: () => void }> {
  await installPostgres(() => undefined);
  const server = await startPostgresServer({ record: false });
  try {
    const db = await createDatabase(server, 'bench_airflow');
    return {
      env: { BENCH_AIRFLOW_DB_URL: db.url.replace(/^postgres:/, 'postgresql+psycopg2:'), BENCH_AIRFLOW_DB_PASSWORD_FILE: db.passwordFile },
      database: `PostgreSQL ${path.basename(path.dirname(findPostgresBin() ?? '?'))} (Debian's, fsync off, max_connections 100)`,
      stop: () => stopPostgresServer(server),
    };
  } catch (err) {
    stopPostgresServer(server);
    throw err;
  }
}

/** Runs the plan on one peer through its driver (bench/py/orch_<peer>.py) and measures its runs' overheads. */
async function runPeer(peer: Peer, plan: Plan): Promise<SideResult> {
  const python = ensurePeerVenv(peer);
  const work = path.join(CACHE_DIR, `orchestration-${peer}`);
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  const jobLog = path.join(work, 'jobs.jsonl');
  const planFile = path.join(work, 'plan.json');
  writeFileSync(planFile, JSON.stringify(plan));
  const database = peer === 'airflow' ? await startAirflowDatabase() : undefined;
  // Past its phases' caps, the crash's and start-up, a driver that still has not answered is stopped.
  const capS = Object.values(plan.peerPhaseTimeoutS).reduce((a, b) => a + b, 0) + plan.crashTimeoutS + 1200;
  let answer: PeerAnswer;
  try {
    answer = await runJsonChild<PeerAnswer>(python, [path.join(BENCH_DIR, 'py', `orch_${peer}.py`), 'driver', work, planFile], {
      env: {
        ...process.env,
        ...database?.env,
        BENCH_JOB_LOG: jobLog,
        BENCH_NOOP_PYTHON: VENV_PYTHON,
        BENCH_CRASH_JOB_HOLD_MS: String(CRASH_JOB_HOLD_MS),
        BENCH_CRASH_HEARTBEAT_TIMEOUT_S: String(CRASH_HEARTBEAT_TIMEOUT_MS / 1000),
      },
      timeoutMs: capS * 1000,
    });
  } finally {
    try {
      database?.stop();
    } catch (err) {
      console.error(`  could not stop the bench's PostgreSQL server: ${(err as Error).message}`);
    }
  }
  const jobs = readJobLog(jobLog);
  const phases: Record<string, Phase> = {};
  for (const [name, phase] of Object.entries(answer.phases)) {
    phases[name] = {
      wallMs: phase.wallMs,
      runs: phase.runs.map((r) => {
        const mine = jobs.filter((j) => j.jobId.startsWith(`${r.key}/`));
        const jobsMs = Math.round(unionMs(mine.map((j) => [j.startMs, j.endMs])));
        const ok = r.state === 'COMPLETED' || r.state === 'success';
        return {
          key: r.key,
          wallMs: r.wallMs,
          jobsMs,
          overheadMs: r.wallMs === null ? null : r.wallMs - jobsMs,
          jobs: mine.length,
          outcome: ok ? 'completed' : `failed: ${r.state}`,
        };
      }),
      ...(phase.error !== undefined ? { error: phase.error } : {}),
    };
  }
  return { ...answer, ...(database ? { database: database.database } : {}), phases };
}

const stats = (values: number[]) => {
  const s = [...values].sort((a, b) => a - b);
  return { p50: round(percentile(s, 50), 0), p95: round(percentile(s, 95), 0), min: s[0] ?? null, max: s.at(-1) ?? null };
};

/** A phase's statistics: overhead and wall time per run (p50, p95, min, max), and the whole phase per run. */
function describe(phase: Phase) {
  const runs = phase.runs.filter((r) => r.overheadMs !== null && !r.outcome.startsWith('failed'));
  const stageNames = [...new Set(runs.flatMap((r) => Object.keys(r.stagesMs ?? {})))];
  return {
    runs: phase.runs.length,
    failed: phase.runs.length - runs.length,
    ...(phase.error !== undefined ? { error: phase.error } : {}),
    phaseWallMs: phase.wallMs,
    phaseMsPerRun: round(phase.wallMs / Math.max(1, phase.runs.length), 0),
    wallMs: stats(runs.map((r) => r.wallMs!)),
    jobsMs: stats(runs.map((r) => r.jobsMs)),
    overheadMs: stats(runs.map((r) => r.overheadMs!)),
    jobsPerRun: stats(runs.map((r) => r.jobs)),
    ...(runs[0]?.historyEvents !== undefined ? { historyEvents: stats(runs.map((r) => r.historyEvents!)) } : {}),
    ...(stageNames.length > 0 ? { stagesMs: Object.fromEntries(stageNames.map((s) => [s, stats(runs.map((r) => r.stagesMs?.[s] ?? 0))])) } : {}),
  };
}

type PhaseStats = ReturnType<typeof describe>;

const phaseLabel = (name: string, d: PhaseStats) =>
  name === 'sequential' ? `${d.runs} runs one after the other` : `${d.runs} runs at once`;

/** A peer's phase in the summary: its overheads, or why it has none. */
function peerPhaseText(name: string, version: string, d: PhaseStats): string {
  if (d.failed === d.runs) return `${name} ${version}: phase failed (${(d.error ?? 'every run failed').slice(0, 160)})`;
  const failed = d.failed ? `; ${d.failed} failed${d.error ? `: ${d.error.slice(0, 120)}` : ''}` : '';
  return `${name} ${version}: overhead p50 ${fmt(d.overheadMs.p50)} ms, p95 ${fmt(d.overheadMs.p95)} ms (all in ${fmt(d.phaseWallMs / 1000, 1)} s${failed})`;
}

const crashText = (c: CrashMeasure | undefined) =>
  c === undefined ? 'not run' : c.recoveryMs !== null ? `${fmt(c.recoveryMs / 1000, 1)} s kill → done` : c.state;

/** Runs benchmark 2 and returns its report and summary rows. */
export async function runOrchestration(mode: BenchMode): Promise<BenchOutcome> {
  const plan = PLANS[mode];
  const loadAtStart = machine().loadAverage1m;
  console.log(`  Relearn: ${plan.sequential} one after the other, ${plan.concurrent.join(' and ')} at once${plan.crash ? ', a crash' : ''}`);
  const relearn = await runRelearn(plan);
  const peers: Partial<Record<Peer, SideResult & { loadAverage1m: unknown }>> = {};
  const peerErrors: Partial<Record<Peer, string>> = {};
  if (plan.peers) {
    for (const peer of PEERS) {
      console.log(`  ${PEER_NAMES[peer]}: the same plan`);
      const load = machine().loadAverage1m;
      try {
        peers[peer] = { ...(await runPeer(peer, plan)), loadAverage1m: load };
      } catch (err) {
        // A peer that cannot run is reported as such; Relearn's figures still stand.
        peerErrors[peer] = (err as Error).message;
        console.log(`  ${PEER_NAMES[peer]} failed: ${(err as Error).message}`);
      }
    }
  }
  const failed = Object.values(relearn.phases).flatMap((p) => p.runs).find((r) => r.outcome.startsWith('failed'));
  if (failed) throw new Error(`orchestration: Relearn's run of ${failed.key} ${failed.outcome}`);

  const phaseNames = Object.keys(relearn.phases);
  const relearnStats = Object.fromEntries(phaseNames.map((p) => [p, describe(relearn.phases[p]!)]));
  const peerStats: Partial<Record<Peer, Record<string, PhaseStats>>> = {};
  for (const peer of PEERS) {
    const side = peers[peer];
    if (side) peerStats[peer] = Object.fromEntries(Object.entries(side.phases).map(([p, phase]) => [p, describe(phase)]));
  }
  /** Peer p50 overhead / Relearn p50 overhead, per peer and phase: above 1 means Relearn's overhead is smaller. */
  const ratios: Record<string, Record<string, number | null>> = {};
  for (const peer of PEERS) {
    const s = peerStats[peer];
    if (!s) continue;
    ratios[peer] = Object.fromEntries(
      phaseNames.map((p) => {
        const mine = relearnStats[p]!.overheadMs.p50;
        const theirs = s[p]?.overheadMs.p50;
        return [p, theirs === undefined || s[p]!.failed > 0 || !(mine > 0) ? null : round(theirs / mine, 2)];
      }),
    );
  }

  const rows: SummaryRow[] = [];
  for (const p of phaseNames) {
    const mine = relearnStats[p]!;
    const relearnText = `overhead p50 ${fmt(mine.overheadMs.p50)} ms, p95 ${fmt(mine.overheadMs.p95)} ms (all in ${fmt(mine.phaseWallMs / 1000, 1)} s)`;
    const sides = PEERS.filter((peer) => plan.peers);
    if (sides.length === 0) {
      rows.push({ bench: 'orchestration', case: phaseLabel(p, mine), relearn: relearnText, peer: 'peers not run in this mode', ratio: '', goal: '' });
    }
    for (const peer of sides) {
      const theirs = peerStats[peer]?.[p];
      const ratio = ratios[peer]?.[p];
      rows.push({
        bench: 'orchestration',
        case: `${phaseLabel(p, mine)}, vs ${PEER_NAMES[peer]}`,
        relearn: relearnText,
        peer: theirs
          ? peerPhaseText(PEER_NAMES[peer], peers[peer]!.version ?? '', theirs)
          : `${PEER_NAMES[peer]}: ${peerErrors[peer] ? 'failed to run' : 'not run'}`,
        ratio: ratio ? `${fmt(ratio, 2)}×` : '',
        goal: ratio ? `Relearn p50 below ${ratio > 1 ? '✓' : '✗'}` : '',
      });
    }
  }
  if (plan.crash) {
    for (const peer of PEERS.filter(() => plan.peers)) {
      rows.push({
        bench: 'orchestration',
        case: `worker SIGKILLed mid-job, vs ${PEER_NAMES[peer]}`,
        relearn: crashText(relearn.crash),
        peer: `${PEER_NAMES[peer]}: ${peers[peer] ? crashText(peers[peer].crash) : 'not run'}`,
        ratio:
          relearn.crash?.recoveryMs && peers[peer]?.crash?.recoveryMs ? `${fmt(peers[peer].crash.recoveryMs / relearn.crash.recoveryMs, 2)}×` : '',
        goal: '',
      });
    }
  }

  return {
    name: 'orchestration',
    title: 'Orchestration overhead',
    report: {
      bench: 'orchestration',
      mode,
      machine: machine(),
      loadAverage1mAtStart: loadAtStart,
      plan,
      method:
        'The same no-op pipeline on each side: pull → split → 3 fold jobs + final job (at once) → export/check → evaluate → gate → register → ' +
        'promote, every job the no-op process bench/py/noop_trainer.py (same interpreter). Relearn: the embedded Temporal dev server (own ' +
        'ports), one in-process worker for the timed phases, its real stages on a 2,000-row Parquet file. Prefect: its local server and a ' +
        'flow.serve() worker; Airflow: API server, DAG processor, triggerer and scheduler (LocalExecutor) as `airflow standalone` sets them ' +
        'up, on a PostgreSQL metadata database the benchmark starts (Airflow\'s production set-up); on the peers every stage but the jobs is an empty task. One uncounted warm-up run per side. overheadMs = wall time (start → ' +
        'seen finished, client side) minus the union of the jobs\' own intervals. Crash: one run whose worker process is SIGKILLed while ' +
        `its first job runs (jobs hold ${CRASH_JOB_HOLD_MS} ms), a new worker started at once; recoveryMs = kill → run seen finished. ` +
        `Dead-task detection ${CRASH_HEARTBEAT_TIMEOUT_MS / 1000} s on Relearn (heartbeat timeouts) and Airflow (task heartbeat timeout) in the crash; Prefect has none. ` +
        'Each Airflow phase is capped (plan.peerPhaseTimeoutS): a phase that fails or reaches its cap is reported with its reason and the next one runs.',
      goal: "Relearn's p50 overhead below each peer's",
      ratios,
      relearn: { phases: relearnStats, crash: relearn.crash ?? null },
      peers: Object.fromEntries(
        PEERS.filter(() => plan.peers).map((peer) => [
          peer,
          peers[peer]
            ? {
                version: peers[peer].version,
                ...(peers[peer].database !== undefined ? { database: peers[peer].database } : {}),
                startupMs: peers[peer].startupMs,
                loadAverage1mAtStart: peers[peer].loadAverage1m,
                ...(peers[peer].apiRetries !== undefined ? { apiRetries: peers[peer].apiRetries } : {}),
                phases: peerStats[peer],
                crash: peers[peer].crash ?? null,
              }
            : { error: peerErrors[peer] ?? 'not run' },
        ]),
      ),
      runs: {
        relearn: relearn.phases,
        ...Object.fromEntries(PEERS.filter((peer) => peers[peer]).map((peer) => [peer, peers[peer]!.phases])),
      },
    },
    rows,
  };
}
