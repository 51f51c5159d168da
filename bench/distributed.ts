// Benchmark 8, distributed: the orchestration benchmark's no-op pipeline (bench/orchestration.ts's model, every job
// bench/py/noop_trainer.py) run one after the other on the one-machine parts (artifact store in a folder, SQLite
// registry, local jobs) and on the parts for many machines (an S3 server, PostgreSQL, Ray jobs), in one run. The
// benchmark starts its own S3 server (Versity's gateway), PostgreSQL server and Ray head on free ports and stops them at
// the end; each side has its own dev server and state folder. Overhead = a run's wall time minus the union of its
// jobs' own intervals (which the jobs log themselves), as in benchmark 2.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { loadConfig } from '../src/config';
import { installPostgres, installRayEnv } from '../src/setup';
import { stopDevServer } from '../src/temporal/dev-server';
import { connectClient } from '../src/temporal/connection';
import { startRetrain } from '../src/temporal/runs';
import { createRelearnWorker } from '../src/temporal/worker';
import { createDatabase, startPostgresServer, stopPostgresServer } from '../test/helpers/postgres';
import { startRayHead, stopRayHead } from '../test/helpers/ray';
import { freshBucket, s3Env, startS3Server, stopS3Server } from '../test/helpers/s3';
import { type BenchMode, type BenchOutcome, CACHE_DIR, fmt, freePorts, machine, percentile, round } from './lib';
import { modelConfig, readJobLog, unionMs } from './orchestration';

const RUNS: Record<BenchMode, number> = { full: 10, quick: 5, smoke: 2 };

interface SideSetting {
  name: string;
  store?: Record<string, unknown>;
  registry?: Record<string, unknown>;
  ray?: string;
}

interface RunMeasure {
  wallMs: number;
  jobsMs: number;
  overheadMs: number;
  jobs: number;
  outcome: string;
}

const stats = (values: number[]) => {
  const s = [...values].sort((a, b) => a - b);
  return { p50: Math.round(percentile(s, 50)), p95: Math.round(percentile(s, 95)), min: Math.round(s[0] ?? Number.NaN), max: Math.round(s.at(-1) ?? Number.NaN) };
};

async function runSide(side: SideSetting, runs: number, work: string): Promise<{ runs: RunMeasure[]; loadAverage: number[] }> {
  const dir = path.join(work, side.name);
  mkdirSync(dir, { recursive: true });
  const jobLog = path.join(dir, 'jobs.jsonl');
  const base = modelConfig({ BENCH_JOB_LOG: jobLog }) as { trainer: Record<string, unknown> };
  const model = { ...base, trainer: { ...base.trainer, ...(side.ray ? { launcher: { ray: { address: side.ray } } } : {}) } };
  const [port, uiPort] = (await freePorts(2)) as [number, number];
  const file = path.join(dir, 'temporal.yaml');
  writeFileSync(
    file,
    stringify({
      temporal: { namespace: 'default', taskQueue: `relearn-bench-${side.name}`, devServer: { port, uiPort } },
      stateDir: path.join(dir, 'state'),
      dataRoot: '/',
      ...(side.store ? { store: side.store } : {}),
      ...(side.registry ? { registry: side.registry } : {}),
      models: { 'bench-distributed': model },
    }),
  );
  const loaded = loadConfig(file);
  const { client, target, close } = await connectClient(loaded);
  const measured: RunMeasure[] = [];
  try {
    const finished: Array<{ runId: string; wallMs: number; outcome: string }> = [];
    const { worker, close: closeWorker } = await createRelearnWorker(loaded, target);
    try {
      await worker.runUntil(async () => {
        // Round 0 warms bundles, sessions and clients; it is not counted.
        for (let i = 0; i <= runs; i++) {
          const t0 = Date.now();
          const started = await startRetrain(client, target, loaded, 'bench-distributed');
          let outcome = 'completed';
          try {
            const r = (await client.workflow.getHandle(started.workflowId, started.runId).result()) as { decision?: string; outcome?: string };
            outcome = String(r.decision ?? r.outcome ?? 'completed');
          } catch (err) {
            outcome = `failed: ${(err as Error).message}${err instanceof Error && err.cause instanceof Error ? ` ← ${err.cause.message}` : ''}`;
          }
          if (i > 0) finished.push({ runId: started.runId, wallMs: Date.now() - t0, outcome });
        }
      });
    } finally {
      await closeWorker();
    }
    const jobs = readJobLog(jobLog);
    for (const run of finished) {
      const mine = jobs.filter((j) => j.jobId.includes(run.runId));
      const jobsMs = unionMs(mine.map((j) => [j.startMs, j.endMs]));
      measured.push({ wallMs: run.wallMs, jobsMs: Math.round(jobsMs), overheadMs: Math.round(run.wallMs - jobsMs), jobs: mine.length, outcome: run.outcome });
    }
  } finally {
    await close();
    await stopDevServer(path.join(dir, 'state'));
  }
  return { runs: measured, loadAverage: os.loadavg().map((l) => round(l, 2)) };
}

/** Runs benchmark 8 and returns its report and summary rows. */
export async function runDistributed(mode: BenchMode): Promise<BenchOutcome> {
  const runs = RUNS[mode];
  const work = path.join(CACHE_DIR, 'distributed');
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  const loadAtStart = os.loadavg().map((l) => round(l, 2));
  await installPostgres(() => undefined);
  await installRayEnv(() => undefined);
  const s3 = await startS3Server({ dataDir: path.join(work, 's3') });
  // The worker (store client) and the Ray head (its jobs upload their outputs) take the S3 keys from the environment.
  Object.assign(process.env, s3Env(s3));
  const started: { pg?: Awaited<ReturnType<typeof startPostgresServer>>; ray?: Awaited<ReturnType<typeof startRayHead>> } = {};
  try {
    started.pg = await startPostgresServer({ record: false });
    started.ray = await startRayHead({ record: false });
    const bucket = await freshBucket(s3, 'bench');
    const db = await createDatabase(started.pg, 'bench_distributed');
    const sides: SideSetting[] = [
      { name: 'local' },
      {
        name: 'distributed',
        store: { url: `s3://${bucket}/relearn`, endpoint: s3.endpoint, region: 'us-east-1', forcePathStyle: true },
        registry: { postgres: db.url, passwordFile: db.passwordFile },
        ray: started.ray.address,
      },
    ];
    const results: Record<string, { runs: RunMeasure[]; loadAverage: number[] }> = {};
    for (const side of sides) {
      console.log(`  distributed: ${runs} pipelines on ${side.name === 'local' ? 'folder + SQLite + local jobs' : 'S3 + PostgreSQL + Ray'}`);
      results[side.name] = await runSide(side, runs, work);
    }
    const summaryOf = (r: RunMeasure[]) => ({
      runs: r.length,
      failed: r.filter((x) => x.outcome.startsWith('failed')).length,
      wallMs: stats(r.map((x) => x.wallMs)),
      jobsMs: stats(r.map((x) => x.jobsMs)),
      overheadMs: stats(r.map((x) => x.overheadMs)),
      jobsPerRun: stats(r.map((x) => x.jobs)),
      outcomes: [...new Set(r.map((x) => x.outcome))],
    });
    const local = summaryOf(results.local!.runs);
    const distributed = summaryOf(results.distributed!.runs);
    const ratio = round(distributed.overheadMs.p50 / local.overheadMs.p50, 2);
    const rows = [
      {
        bench: 'distributed',
        case: `overhead per pipeline, ${runs} one after the other (p50)`,
        relearn: `S3 + PostgreSQL + Ray ${fmt(distributed.overheadMs.p50, 0)} ms`,
        peer: `folder + SQLite + local ${fmt(local.overheadMs.p50, 0)} ms`,
        ratio: `${ratio}×`,
        goal: 'information',
      },
    ];
    return {
      name: 'distributed',
      title: 'Distributed parts',
      report: {
        bench: 'distributed',
        mode,
        machine: machine(),
        method:
          "bench/orchestration.ts's no-op pipeline (pull → split → 3 fold jobs + final job → export/check → evaluate → gate → register → promote; every job bench/py/noop_trainer.py) run one after the other with one in-process worker, after one uncounted warm-up run, on each side: the store in a folder, the SQLite registry and local jobs; then an S3 store (Versity's gateway on loopback), a PostgreSQL registry and Ray jobs (a Ray head on this machine, jobs through its Jobs REST API; the no-op job uploads its outputs to the store as the real trainer does). Every service is started by the benchmark on free ports. overheadMs = wall time minus the union of the jobs' own intervals.",
        services: { s3: 'versitygw v1.8.0 (posix backend)', postgres: 'Debian postgresql, fsync off', ray: 'ray[default] 2.60.0, head only, 2 CPUs' },
        // Not `loadAverage`: bench/run.ts writes the 1/5/15-minute load at the end under that key.
        loadDuring: { atStart: loadAtStart, afterLocal: results.local!.loadAverage, afterDistributed: results.distributed!.loadAverage },
        sides: { local, distributed },
        ratio,
        runs: results,
        summary: rows,
      },
      rows,
    };
  } finally {
    if (started.ray) await stopRayHead(started.ray).catch((err: Error) => console.error(`  could not stop the bench's Ray head: ${err.message}`));
    if (started.pg) {
      try {
        stopPostgresServer(started.pg);
      } catch (err) {
        console.error(`  could not stop the bench's PostgreSQL server: ${(err as Error).message}`);
      }
    }
    await stopS3Server(s3);
  }
}
