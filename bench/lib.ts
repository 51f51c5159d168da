// Shared pieces of the benchmarks: sizes per mode, timing statistics, the machine description, child processes
// that answer with one JSON line, and the results files.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { VENV_PYTHON } from '../src/paths';

/** The bench/ folder. */
export const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url));
/** The project root. */
export const ROOT = path.resolve(BENCH_DIR, '..');
/** Cached inputs (data files, models, the bench dev server's state); git-ignored. */
export const CACHE_DIR = path.join(BENCH_DIR, '.cache');
/** The committed results folder (the latest run of each benchmark, and the history). */
export const DEFAULT_RESULTS_DIR = path.join(BENCH_DIR, 'results');
/** Where results are written; the smoke test points it at a temp folder. */
export let RESULTS_DIR = DEFAULT_RESULTS_DIR;

/** Writes results somewhere else than bench/results (`--results <dir>`). */
export function setResultsDir(dir: string): void {
  RESULTS_DIR = path.resolve(dir);
}
/** The flights data the demo uses. */
export const FLIGHTS_PARQUET = path.join(ROOT, 'node_modules', 'vega-datasets', 'data', 'flights-3m.parquet');
export { VENV_PYTHON };

// One free-port helper for the benchmarks and the tests.
export { freePort, freePorts } from '../test/helpers/free-port';

/** Benchmarks in the order they run; drift is bench/drift.ts, run as its own script when it exists. */
export const BENCHES = ['eval', 'orchestration', 'drift', 'data-pull', 'serving', 'estimated', 'store', 'distributed'] as const;
/** One benchmark's name, also its results file's (bench/results/<name>.json). */
export type BenchName = (typeof BENCHES)[number];

/** Section titles in summary.md and docs/benchmarks.md. */
export const BENCH_TITLES: Record<BenchName, string> = {
  eval: '1. Evaluation throughput',
  orchestration: '2. Orchestration overhead',
  drift: '3. Drift',
  'data-pull': '4. Data pull',
  serving: '5. Serving',
  estimated: '6. Estimated performance (CBPE)',
  store: '7. Object store',
  distributed: '8. Distributed parts',
};

/** full: the published numbers; quick: minutes; smoke: seconds, for the test that keeps the benchmarks from rotting. */
export type BenchMode = 'full' | 'quick' | 'smoke';

/** Timing summary: median of the timed repetitions (after a warm-up) with min and max. */
export interface Timing {
  medianMs: number;
  minMs: number;
  maxMs: number;
  runsMs: number[];
}

/** Median/min/max of repeated timings, rounded to 0.1 ms. */
export function timing(runsMs: number[]): Timing {
  const sorted = [...runsMs].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  const r = (v: number) => Math.round(v * 10) / 10;
  return { medianMs: r(median), minMs: r(sorted[0]!), maxMs: r(sorted.at(-1)!), runsMs: runsMs.map(r) };
}

/** The p-th percentile (nearest rank) of ascending values. */
export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/** Rounds to `digits` decimals. */
export function round(value: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

const PYTHON_VERSION_FILE = path.join(CACHE_DIR, 'python-version.json');

/** The machine a result was measured on: no host names, no paths. */
export function machine(): Record<string, unknown> {
  const python = existsSync(PYTHON_VERSION_FILE) ? (JSON.parse(readFileSync(PYTHON_VERSION_FILE, 'utf8')) as string) : 'unknown';
  return {
    cpuModel: os.cpus()[0]?.model.trim() ?? 'unknown',
    cores: os.cpus().length,
    memoryGB: Math.round(os.totalmem() / 2 ** 30),
    os: `${os.type()} ${os.release()}`,
    node: process.version,
    python,
    loadAverage1m: round(os.loadavg()[0]!, 2),
  };
}

/** Where a result was measured: the git commit, whether the code under test differed from it, and the machine's load. */
export interface Provenance {
  commit: string;
  /** Tracked files under src/, workflows/, activities/ or bench/ (bench/results aside) differed from the commit (in a shared tree, anyone's edits). */
  dirty: boolean;
  /** 1, 5 and 15-minute load averages when the result was written (the machine's, not only the benchmark's). */
  loadAverage: [number, number, number];
}

/** The commit HEAD points at and the load now; 'unknown' outside a git checkout. */
export function provenance(): Provenance {
  const git = (args: string[]) => spawnSync('git', args, { cwd: ROOT, encoding: 'utf8' });
  const head = git(['rev-parse', 'HEAD']);
  // bench/results is what a run writes, not code under test: a run's own earlier results must not mark it dirty.
  const status = git(['status', '--porcelain', '--untracked-files=no', '--', 'src', 'workflows', 'activities', 'bench', ':(exclude)bench/results']);
  const [l1, l5, l15] = os.loadavg().map((l) => round(l, 2)) as [number, number, number];
  return {
    commit: head.status === 0 ? head.stdout.trim() : 'unknown',
    dirty: status.status === 0 && status.stdout.trim() !== '',
    loadAverage: [l1, l5, l15],
  };
}

/** Records the venv's Python version once (set-up), so machine() need not start a process. */
export function rememberPythonVersion(version: string): void {
  mkdirSync(CACHE_DIR, { recursive: true });
  writeFileSync(PYTHON_VERSION_FILE, JSON.stringify(version));
}

/** A child's exit: its stdout's last JSON line parsed, or an error with the tail of stderr. */
export async function runJsonChild<T>(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: ROOT, env: opts.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const timer = opts.timeoutMs ? setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs) : undefined;
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      const last = out.trim().split('\n').at(-1) ?? '';
      if (code === 0 && last.startsWith('{')) {
        resolve(JSON.parse(last) as T);
        return;
      }
      const name = `${path.basename(cmd)} ${args.map((a) => (a.startsWith(ROOT) ? path.relative(ROOT, a) : a)).join(' ')}`;
      reject(new Error(`${name} exited ${code ?? signal}:\n${err.trim().split('\n').slice(-15).join('\n')}`));
    });
  });
}

/** Runs a TypeScript child of the benchmarks (under tsx) and returns its JSON answer. */
export function runNodeChild<T>(script: string, args: string[], opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<T> {
  return runJsonChild<T>(process.execPath, ['--import', 'tsx', path.join(BENCH_DIR, script), ...args], opts);
}

/** Runs a Python child from bench/py with the venv's interpreter and returns its JSON answer. */
export function runPythonChild<T>(script: string, args: string[], opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<T> {
  return runJsonChild<T>(VENV_PYTHON, [path.join(BENCH_DIR, 'py', script), ...args], opts);
}

/** One row of the printed table and of summary.md. */
export interface SummaryRow {
  bench: string;
  case: string;
  relearn: string;
  peer: string;
  ratio: string;
  goal: string;
}

/** What a benchmark returns to the runner. */
export interface BenchOutcome {
  name: string;
  title: string;
  /** Everything measured, written as bench/results/<name>.json. */
  report: Record<string, unknown>;
  rows: SummaryRow[];
}

/**
 * Writes one benchmark's JSON result file. Paths inside the checkout are written relative to it (a peer's traceback
 * names its script's absolute path), so a committed result names no folder of the machine that measured it.
 */
export function writeResult(name: string, report: Record<string, unknown>): string {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const file = path.join(RESULTS_DIR, `${name}.json`);
  const json = JSON.stringify(report, (_key, value: unknown) => (typeof value === 'string' ? value.split(`${ROOT}${path.sep}`).join('') : value), 2);
  writeFileSync(file, `${json}\n`);
  return file;
}

/** "1,234,567". */
export function fmt(value: number, digits = 0): string {
  return value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}
