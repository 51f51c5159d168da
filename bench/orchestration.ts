// Benchmark 2, orchestration overhead: whole retrain pipelines (pull → split → train → export/check → evaluate →
// gate → register → promote) whose training job is a no-op honouring the job contract (bench/py/noop_trainer.py), on
// the embedded Temporal dev server (its own ports and state under bench/.cache), N runs one after the other and N at
// once, each on its own model. Overhead = a run's wall time minus the time its jobs' processes spent inside the job
// (union of their intervals); per stage from the run's Temporal history (first scheduled → last completed activity
// of each type); history length in events.
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';
import proto from '@temporalio/proto';
import { loadConfig } from '../src/config';
import { stopDevServer } from '../src/temporal/dev-server';
import { connectClient } from '../src/temporal/connection';
import { startRetrain } from '../src/temporal/runs';
import { createRelearnWorker } from '../src/temporal/worker';
import {
  type BenchMode,
  type BenchOutcome,
  BENCH_DIR,
  CACHE_DIR,
  type SummaryRow,
  fmt,
  freePorts,
  machine,
  percentile,
  round,
} from './lib';

const RUNS: Record<BenchMode, number> = { full: 50, quick: 10, smoke: 2 };
const EventType = proto.temporal.api.enums.v1.EventType;


function modelConfig(): Record<string, unknown> {
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
    trainer: {
      command: ['{python}', path.join(BENCH_DIR, 'py', 'noop_trainer.py'), '{spec}'],
      estimator: 'logistic_regression',
      maxParallel: 4,
      maxAttempts: 1,
      probeRows: 20,
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
function unionMs(intervals: Array<[number, number]>): number {
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

interface RunMeasure {
  model: string;
  wallMs: number;
  jobsMs: number;
  overheadMs: number;
  jobs: number;
  historyEvents: number;
  stagesMs: Record<string, number>;
  outcome: string;
}

const toMs = (t: { seconds?: unknown; nanos?: number | null } | null | undefined): number =>
  Number(t?.seconds ?? 0) * 1000 + (t?.nanos ?? 0) / 1e6;

/** Runs benchmark 2 and returns its report and summary rows. */
export async function runOrchestration(mode: BenchMode): Promise<BenchOutcome> {
  const n = RUNS[mode];
  const dir = path.join(CACHE_DIR, 'orchestration');
  rmSync(dir, { recursive: true, force: true });
  const jobLog = path.join(CACHE_DIR, 'orchestration-jobs.jsonl');
  rmSync(jobLog, { force: true });
  process.env.BENCH_JOB_LOG = jobLog;
  const models = Object.fromEntries(
    [...Array.from({ length: n }, (_, i) => `bench-seq-${i}`), ...Array.from({ length: n }, (_, i) => `bench-conc-${i}`)].map((m) => [m, modelConfig()]),
  );
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
  const { worker, close: closeWorker } = await createRelearnWorker(loaded, target);
  const measures: { sequential: RunMeasure[]; concurrent: RunMeasure[] } = { sequential: [], concurrent: [] };
  let concurrentWallMs = 0;
  let sequentialWallMs = 0;
  try {
    const runOne = async (model: string) => {
      const t0 = Date.now();
      const started = await startRetrain(client, target, loaded, model);
      const handle = client.workflow.getHandle(started.workflowId, started.runId);
      let outcome = 'completed';
      try {
        const result = (await handle.result()) as { decision?: string; outcome?: string };
        outcome = String(result.decision ?? result.outcome ?? 'completed');
      } catch (err) {
        const chain: string[] = [];
        for (let e: unknown = err; e instanceof Error; e = e.cause) chain.push(e.message);
        outcome = `failed: ${chain.join(' ← ')}`;
      }
      return { model, runId: started.runId, workflowId: started.workflowId, wallMs: Date.now() - t0, outcome };
    };
    const finished: Array<Awaited<ReturnType<typeof runOne>> & { kind: 'sequential' | 'concurrent' }> = [];
    await worker.runUntil(async () => {
      // Warm-up: the first run pays for bundles, sessions and module loads; it is not counted.
      await runOne('bench-seq-0');
      let t0 = Date.now();
      for (let i = 1; i < n; i++) finished.push({ ...(await runOne(`bench-seq-${i}`)), kind: 'sequential' });
      finished.push({ ...(await runOne('bench-seq-0')), kind: 'sequential' });
      sequentialWallMs = Date.now() - t0;
      t0 = Date.now();
      const all = await Promise.all(Array.from({ length: n }, (_, i) => runOne(`bench-conc-${i}`)));
      concurrentWallMs = Date.now() - t0;
      for (const r of all) finished.push({ ...r, kind: 'concurrent' });
    });
    const jobs: JobInterval[] = existsSync(jobLog)
      ? readFileSync(jobLog, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as JobInterval)
      : [];
    for (const run of finished) {
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
      const stagesMs = Object.fromEntries([...spans].map(([type, [a, b]]) => [type, Math.round(b - a)]));
      measures[run.kind].push({
        model: run.model,
        wallMs: run.wallMs,
        jobsMs: Math.round(jobsMs),
        overheadMs: Math.round(run.wallMs - jobsMs),
        jobs: mine.length,
        historyEvents: events.length,
        stagesMs,
        outcome: run.outcome,
      });
    }
  } finally {
    await closeWorker();
    await close();
    await stopDevServer(dir);
    delete process.env.BENCH_JOB_LOG;
  }

  const stats = (values: number[]) => {
    const s = [...values].sort((a, b) => a - b);
    return { p50: round(percentile(s, 50), 0), p95: round(percentile(s, 95), 0), min: s[0] ?? null, max: s.at(-1) ?? null };
  };
  const describe = (runs: RunMeasure[]) => {
    const stageNames = [...new Set(runs.flatMap((r) => Object.keys(r.stagesMs)))];
    return {
      runs: runs.length,
      failed: runs.filter((r) => r.outcome.startsWith('failed')).length,
      wallMs: stats(runs.map((r) => r.wallMs)),
      jobsMs: stats(runs.map((r) => r.jobsMs)),
      overheadMs: stats(runs.map((r) => r.overheadMs)),
      historyEvents: stats(runs.map((r) => r.historyEvents)),
      jobsPerRun: stats(runs.map((r) => r.jobs)),
      stagesMs: Object.fromEntries(stageNames.map((s) => [s, stats(runs.map((r) => r.stagesMs[s] ?? 0))])),
    };
  };
  const failed = [...measures.sequential, ...measures.concurrent].find((r) => r.outcome.startsWith('failed'));
  if (failed) throw new Error(`orchestration: run of ${failed.model} ${failed.outcome}`);
  const sequential = describe(measures.sequential);
  const concurrent = describe(measures.concurrent);
  const row = (label: string, d: ReturnType<typeof describe>, extra: string): SummaryRow => ({
    bench: 'orchestration',
    case: `${d.runs} runs ${label}`,
    relearn: `overhead p50 ${fmt(d.overheadMs.p50)} ms, p95 ${fmt(d.overheadMs.p95)} ms (wall p50 ${fmt(d.wallMs.p50)} ms; ${d.historyEvents.p50} events/run${d.failed ? `; ${d.failed} failed` : ''})${extra}`,
    peer: 'Airflow / Kubeflow: seconds per task (not run)',
    ratio: '',
    goal: `median < 2 s ${d.overheadMs.p50 < 2000 ? '✓' : '✗'}`,
  });
  return {
    name: 'orchestration',
    title: 'Orchestration overhead',
    report: {
      bench: 'orchestration',
      mode,
      machine: machine(),
      method:
        `${n} pipelines one after the other (after 1 uncounted warm-up run) and ${n} at once, each on its own model, on the embedded Temporal ` +
        'dev server (own ports, state in bench/.cache/orchestration) with one in-process Relearn worker. The model reads a 2,000-row Parquet ' +
        'file; 3 folds + holdout, so 4 training jobs per run, each a no-op process (bench/py/noop_trainer.py). overheadMs = wall time ' +
        '(start → result, client side) minus the union of the jobs\' own intervals; stagesMs per activity type = first scheduled → last ' +
        'completed in the run\'s history.',
      goal: 'median overhead per whole pipeline < 2 s',
      sequentialWallMs,
      concurrentWallMs,
      sequential,
      concurrent,
      runs: measures,
    },
    rows: [
      row('sequentially', sequential, ''),
      {
        // Started together on one worker (8 activity slots) and 2 cores, each run's wall time is mostly queueing: the
        // figure that matters is how long all of them took.
        bench: 'orchestration',
        case: `${concurrent.runs} runs at once`,
        relearn:
          `all done in ${fmt(concurrentWallMs / 1000, 1)} s = ${fmt(concurrentWallMs / concurrent.runs / 1000, 2)} s per run ` +
          `(${concurrent.historyEvents.p50} events/run; jobs' own time p50 ${concurrent.jobsMs.p50} ms per run)`,
        peer: 'Airflow / Kubeflow: seconds per task (not run)',
        ratio: '',
        goal: `per run < 2 s ${concurrentWallMs / concurrent.runs < 2000 ? '✓' : '✗'}`,
      },
    ],
  };
}
