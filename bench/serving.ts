// Benchmark 5, serving: requests/s and p50/p99 latency of 1-row and 100-row JSON predict requests to the demo's flights
// classifier, driven by autocannon over loopback, against `relearn serve` (a child process, bearer auth, default
// settings) and a FastAPI + uvicorn + onnxruntime server (bench/py/fastapi_server.py); then Relearn again with a
// `shadow` alias set, so every request is also mirrored to a second version.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import { readSnapshot } from '../src/data/snapshot';
import { openSqliteRegistry, type RegistryStore } from '../src/registry';
import { LocalArtifactStore } from '../src/store';
import { registerModelFile } from '../test/helpers/registered-model';
import { EVAL_ROWS } from './eval';
import {
  type BenchMode,
  type BenchOutcome,
  CACHE_DIR,
  ROOT,
  type SummaryRow,
  VENV_PYTHON,
  fmt,
  freePort,
  machine,
  round,
} from './lib';

const MODEL = 'flights-delay';
const TOKEN = 'bench-serving-token-0123456789abcdef';
const SHADOW_ALIAS = 'shadow';
const SETTINGS: Record<BenchMode, { seconds: number; reps: number; warmupSeconds: number; connections: number }> = {
  full: { seconds: 10, reps: 3, warmupSeconds: 2, connections: 16 },
  quick: { seconds: 4, reps: 2, warmupSeconds: 1, connections: 16 },
  smoke: { seconds: 1, reps: 1, warmupSeconds: 1, connections: 4 },
};

type Server = { url: string; child: ChildProcess; output: () => string };

/**
 * CPU pinning where the machine allows it (taskset from util-linux, 2 or more CPUs): every server on CPU 0, this
 * process (autocannon, the load generator) on CPU 1, so client and server do not steal each other's core. `null`
 * runs unpinned (and says so in the results).
 */
const PINNING: { server: string; load: string; all: string } | null = (() => {
  if (os.cpus().length < 2) return null;
  try {
    execFileSync('taskset', ['-p', String(process.pid)], { stdio: 'ignore' });
  } catch {
    return null;
  }
  return { server: '0', load: '1', all: `0-${os.cpus().length - 1}` };
})();

/** Sets the CPUs of every thread of this process (new threads inherit them). */
function pinSelf(cpus: string): void {
  execFileSync('taskset', ['-a', '-p', '-c', cpus, String(process.pid)], { stdio: 'ignore' });
}

const loadAverage = () => os.loadavg().map((l) => round(l, 2));


function startChild(cmd: string, args: string[], env: NodeJS.ProcessEnv): { child: ChildProcess; output: () => string } {
  // Its own process group, so stopping it also stops uvicorn's worker processes.
  const [file, argv] = PINNING ? ['taskset', ['-c', PINNING.server, cmd, ...args]] : [cmd, args];
  const child = spawn(file, argv, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  return { child, output: () => out };
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.pid === undefined) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  process.kill(-child.pid, 'SIGTERM');
  const timer = setTimeout(() => child.pid !== undefined && process.kill(-child.pid, 'SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

async function waitUntil(what: string, server: { child: ChildProcess; output: () => string }, probe: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (server.child.exitCode !== null) throw new Error(`${what} exited ${server.child.exitCode}:\n${server.output().slice(-2000)}`);
    if (await probe().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${what} did not get ready in 60 s:\n${server.output().slice(-2000)}`);
}

/** A state folder with the flights model registered twice, v1 champion; the shadow alias is set later. */
async function prepareState(stateDir: string): Promise<{ config: string; registry: RegistryStore }> {
  rmSync(stateDir, { recursive: true, force: true });
  mkdirSync(stateDir, { recursive: true });
  const config = path.join(stateDir, 'temporal.yaml');
  writeFileSync(config, 'stateDir: .\nmodels: {}\n');
  const store = new LocalArtifactStore(path.join(stateDir, 'store'));
  const registry = openSqliteRegistry(path.join(stateDir, 'registry.db'));
  for (let v = 1; v <= 2; v++) {
    await registerModelFile(store, registry, { model: MODEL, file: path.join(CACHE_DIR, 'flights.onnx'), classes: [0, 1], runId: `bench-${v}` });
  }
  const promoted = await registry.promote({ model: MODEL, version: 1, expectedChampion: null, reason: 'bench', workflowId: 'bench', runId: 'bench-promote' });
  if (!promoted.promoted) throw new Error(`could not promote v1: ${promoted.reason}`);
  return { config, registry };
}

async function startRelearn(config: string): Promise<Server> {
  const started = startChild(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src/cli/main.ts'), '--config', config, 'serve', '--port', '0'], {
    RELEARN_SERVE_TOKEN: TOKEN,
  });
  let url = '';
  await waitUntil('relearn serve', started, async () => {
    url ||= /listening on (http:\/\/\S+)/.exec(started.output())?.[1] ?? '';
    return url !== '' && (await fetch(`${url}/v2/health/ready`)).status === 200;
  });
  return { url, ...started };
}

async function startFastApi(): Promise<Server> {
  const port = await freePort();
  const workers = os.cpus().length;
  const started = startChild(
    VENV_PYTHON,
    ['-m', 'uvicorn', 'fastapi_server:app', '--app-dir', path.join(ROOT, 'bench', 'py'), '--host', '127.0.0.1', '--port', String(port), '--workers', String(workers), '--log-level', 'warning', '--no-access-log'],
    { BENCH_MODEL: path.join(CACHE_DIR, 'flights.onnx'), BENCH_TOKEN: TOKEN },
  );
  const url = `http://127.0.0.1:${port}`;
  await waitUntil('uvicorn', started, async () => (await fetch(`${url}/openapi.json`)).status === 200);
  return { url, ...started };
}

interface LoadResult {
  /** 1, 5 and 15 minute load averages when the run ended. */
  loadAverage: number[];
  requestsPerSecond: number;
  latencyMs: { p50: number; p90: number; p99: number; max: number };
  requests: number;
  errors: number;
  non2xx: number;
}

async function load(url: string, body: string, seconds: number, connections: number): Promise<LoadResult> {
  const r = await autocannon({
    url: `${url}/models/${MODEL}/predict`,
    method: 'POST',
    connections,
    duration: seconds,
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    body,
  });
  return {
    loadAverage: loadAverage(),
    requestsPerSecond: Math.round(r.requests.total / r.duration),
    latencyMs: { p50: r.latency.p50, p90: r.latency.p90, p99: r.latency.p99, max: r.latency.max },
    requests: r.requests.total,
    errors: r.errors + r.timeouts,
    non2xx: r.non2xx,
  };
}

function medianOf(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

/** Median rps and latencies over repetitions, with the min and max rps. */
function summarize(runs: LoadResult[]) {
  return {
    requestsPerSecond: Math.round(medianOf(runs.map((r) => r.requestsPerSecond))),
    minRequestsPerSecond: Math.min(...runs.map((r) => r.requestsPerSecond)),
    maxRequestsPerSecond: Math.max(...runs.map((r) => r.requestsPerSecond)),
    p50Ms: medianOf(runs.map((r) => r.latencyMs.p50)),
    p99Ms: medianOf(runs.map((r) => r.latencyMs.p99)),
    errors: runs.reduce((s, r) => s + r.errors + r.non2xx, 0),
    loadAverage1m: round(medianOf(runs.map((r) => r.loadAverage[0]!)), 2),
    runs,
  };
}

type Summary = ReturnType<typeof summarize>;

/**
 * Measures the servers in turns: per case, a warm-up of each, then each repetition loads every server once, one
 * after the other, so a change in the machine's load during the case hits all of them alike.
 */
async function measureInTurns(
  servers: Server[],
  bodies: Record<string, string>,
  mode: BenchMode,
  mirror?: Server,
): Promise<{ summaries: Array<Record<string, Summary>>; mirrored: Record<string, MirrorCounts> }> {
  const { seconds, reps, warmupSeconds, connections } = SETTINGS[mode];
  const out: Array<Record<string, Summary>> = servers.map(() => ({}));
  const mirrored: Record<string, MirrorCounts> = {};
  for (const [name, body] of Object.entries(bodies)) {
    for (const server of servers) await load(server.url, body, warmupSeconds, connections);
    const before = mirror ? await mirrorCounts(mirror.url) : undefined;
    const runs: LoadResult[][] = servers.map(() => []);
    for (let i = 0; i < reps; i++) {
      for (const [j, server] of servers.entries()) runs[j]!.push(await load(server.url, body, seconds, connections));
    }
    for (const [j, r] of runs.entries()) out[j]![name] = summarize(r);
    if (mirror && before) {
      // Read once the mirror's queue has drained, so requests still waiting are not taken for drops.
      await new Promise((resolve) => setTimeout(resolve, 1000));
      const after = await mirrorCounts(mirror.url);
      mirrored[name] = { scored: after.scored - before.scored, dropped: after.dropped - before.dropped };
    }
  }
  return { summaries: out, mirrored };
}

/** Requests the shadow scored and dropped (its queue full), from the server's Prometheus counters. */
interface MirrorCounts {
  scored: number;
  dropped: number;
}

async function mirrorCounts(url: string): Promise<MirrorCounts> {
  const res = await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
  if (!res.ok) throw new Error(`GET ${url}/metrics answered ${res.status}`);
  const text = await res.text();
  const sum = (metric: string) =>
    text
      .split('\n')
      .filter((line) => line.startsWith(`${metric}{`) || line.startsWith(`${metric} `))
      .reduce((total, line) => total + Number(line.slice(line.lastIndexOf(' ') + 1)), 0);
  return { scored: sum('relearn_serve_shadow_requests_total'), dropped: sum('relearn_serve_shadow_dropped_total') };
}

const describe = (s: Summary) =>
  `${fmt(s.requestsPerSecond)} req/s, p50 ${round(s.p50Ms, 1)} ms, p99 ${round(s.p99Ms, 1)} ms (load ${s.loadAverage1m})`;

/** Runs benchmark 5 and returns its report and summary rows. */
export async function runServing(mode: BenchMode): Promise<BenchOutcome> {
  const table = readSnapshot(path.join(CACHE_DIR, `flights-${EVAL_ROWS[mode]}.arrow`));
  const rows = Array.from({ length: 100 }, (_, i) => ({
    distance: Number(table.getChild('distance')!.get(i)),
    hour: Number(table.getChild('hour')!.get(i)),
    weekday: Number(table.getChild('weekday')!.get(i)),
    origin: String(table.getChild('origin')!.get(i)),
    destination: String(table.getChild('destination')!.get(i)),
  }));
  const bodies = { '1 row': JSON.stringify({ rows: rows.slice(0, 1) }), '100 rows': JSON.stringify({ rows }) };
  // Two state folders: one without and one with a `shadow` alias (v2), so both Relearn servers run side by side.
  const { config, registry } = await prepareState(path.join(CACHE_DIR, 'serve-state'));
  const shadowState = await prepareState(path.join(CACHE_DIR, 'serve-state-shadow'));
  const servers: Server[] = [];
  if (PINNING) pinSelf(PINNING.load);
  try {
    const plain = await startRelearn(config);
    servers.push(plain);
    const peer = await startFastApi();
    servers.push(peer);

    // Shadow: v2 under the `shadow` alias; a server that mirrors says so when it starts.
    let shadow: Record<string, Summary> | { notAvailable: string };
    let mirroring: Server | undefined;
    const mirrorModule = existsSync(path.join(ROOT, 'src', 'serve', 'shadow-mirror.ts'));
    if (!mirrorModule) shadow = { notAvailable: 'src/serve/shadow-mirror.ts is not there' };
    else {
      await shadowState.registry.moveAlias({ model: MODEL, alias: SHADOW_ALIAS, toVersion: 2, expectedVersion: null, reason: 'bench', workflowId: 'bench', runId: 'bench-shadow' });
      const server = await startRelearn(shadowState.config);
      servers.push(server);
      if (!/shadow mirroring on/.test(server.output())) shadow = { notAvailable: 'relearn serve does not report shadow mirroring on' };
      else {
        mirroring = server;
        shadow = {};
      }
    }
    const { summaries: measured, mirrored } = await measureInTurns(mirroring ? [plain, peer, mirroring] : [plain, peer], bodies, mode, mirroring);
    const relearn = measured[0]!;
    const fastapi = measured[1]!;
    if (mirroring) shadow = measured[2]!;
    for (const server of servers) await stopChild(server.child);

    const summary: SummaryRow[] = [];
    const cases = Object.keys(bodies).map((name) => {
      const r = relearn[name]!;
      const f = fastapi[name]!;
      const ratio = round(r.requestsPerSecond / f.requestsPerSecond, 2);
      const ok = ratio >= 1.5 && r.p99Ms <= f.p99Ms;
      summary.push({ bench: 'serving', case: name, relearn: describe(r), peer: describe(f), ratio: `${ratio}× req/s`, goal: `≥ 1.5× at ≤ p99 ${ok ? '✓' : '✗'}` });
      let shadowCost: number | null = null;
      if (!('notAvailable' in shadow)) {
        const s = shadow[name]!;
        shadowCost = round(1 - s.requestsPerSecond / r.requestsPerSecond, 3);
        const counts = mirrored[name];
        // A mirror that drops requests under load costs less than one that scores them all: the share shows which.
        const droppedText = counts ? `; ${fmt(counts.dropped)} of ${fmt(counts.scored + counts.dropped)} mirrored requests dropped` : '';
        summary.push({
          bench: 'serving',
          case: `${name}, shadow on`,
          relearn: `${describe(s)}${droppedText}`,
          peer: `vs Relearn without shadow`,
          ratio: `${round(shadowCost * 100, 1)}% fewer req/s`,
          goal: `≤ 10% ${shadowCost <= 0.1 ? '✓' : '✗'}`,
        });
      }
      return {
        case: name,
        relearn: r,
        fastapi: f,
        ratio,
        shadow: 'notAvailable' in shadow ? null : shadow[name],
        shadowThroughputCost: shadowCost,
        shadowMirrored: mirrored[name] ?? null,
      };
    });
    if ('notAvailable' in shadow) {
      summary.push({ bench: 'serving', case: 'shadow on', relearn: `not available (${shadow.notAvailable})`, peer: '', ratio: '', goal: '≤ 10%' });
    }
    const { seconds, reps, connections } = SETTINGS[mode];
    return {
      name: 'serving',
      title: 'Serving',
      report: {
        bench: 'serving',
        mode,
        machine: machine(),
        pinning: PINNING ? { server: PINNING.server, loadGenerator: PINNING.load } : null,
        method:
          `autocannon (same process for every server) over loopback, ${connections} connections, ` +
          (PINNING ? `servers pinned to CPU ${PINNING.server} and autocannon to CPU ${PINNING.load} (taskset)` : 'unpinned (no taskset or one CPU)') +
          `, POST /models/${MODEL}/predict with ` +
          `1 or 100 JSON rows; all servers up at once and measured in turns: per case a warm-up run of each, then ${reps} rounds of one ${seconds} s run per server (median req/s and latencies; min/max req/s). ` +
          'Relearn: `relearn serve` with default settings (scoring threads = cores, 2 ms micro-batching, prediction log on), bearer token. ' +
          `FastAPI: uvicorn (uvloop, httptools) with ${os.cpus().length} workers, one onnxruntime thread each, HTTPBearer token. ` +
          'Shadow: the same Relearn server with version 2 under the `shadow` alias, every request mirrored to it.',
        goal: 'Relearn ≥ 1.5 × FastAPI req/s at equal or lower p99; shadow on costs ≤ 10% req/s',
        shadow: 'notAvailable' in shadow ? shadow : 'measured',
        cases,
      },
      rows: summary,
    };
  } finally {
    if (PINNING) pinSelf(PINNING.all);
    for (const s of servers) await stopChild(s.child);
    await registry.close();
    await shadowState.registry.close();
  }
}
