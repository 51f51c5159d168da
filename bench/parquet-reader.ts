// Parquet reader side by side on flights-3m: parquet-wasm (whole file, or row groups pruned by
// a first pass over the time column) against DuckDB's Node API as Relearn uses it
// (src/data/read-source.ts: SQL scan with the window pushed down, chunks copied into Arrow).
// Every case returns the same normalised Arrow table (Int64 narrowed, strings as Utf8). Each
// case runs in its own child process so its peak RSS is its own: one cold run (first use in a
// fresh process, as in a worker that pulls once per pipeline run), then three timed runs.
//
//   npx tsx bench/parquet-reader.ts
//
// parquet-wasm is only needed here; if it is not installed, its cases are reported as skipped:
//   npm install --no-save parquet-wasm@0.8.0
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { tableFromIPC } from 'apache-arrow';
import type { Table } from 'apache-arrow';
import { normalizeTable, takeTable, timeKeysMs } from '../src/data/columns';
import { readSource } from '../src/data/read-source';
import { peakRssMB } from './peak-rss';

const here = path.dirname(fileURLToPath(import.meta.url));
const projectRoot = path.resolve(here, '..');
const dataFile = path.join(projectRoot, 'node_modules', 'vega-datasets', 'data', 'flights-3m.parquet');
const resultFile = path.join(here, 'results', 'parquet-reader.json');
const timeColumn = 'date';
const windowFrom = '2001-03-01T00:00:00Z';
const windowTo = '2001-04-01T00:00:00Z';
const runs = 3;
const batchSize = 65_536;

type Task = 'read' | 'window';
type Candidate = 'parquet-wasm' | 'parquet-wasm-pruned' | 'duckdb';
const candidates: Candidate[] = ['parquet-wasm', 'parquet-wasm-pruned', 'duckdb'];
const tasks: Task[] = ['read', 'window'];

/** What one child process reports. */
interface CaseResult {
  candidate: Candidate;
  task: Task;
  rows?: number;
  runsMs?: number[];
  medianMs?: number;
  /** The warm-up run: first use in a fresh process, as in a worker that reads once per pipeline run. */
  coldMs?: number;
  peakRssMB?: number;
  skipped?: string;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

function windowRows(table: Table): Int32Array {
  const keys = timeKeysMs(table.getChild(timeColumn)!);
  const from = Date.parse(windowFrom);
  const to = Date.parse(windowTo);
  const rows: number[] = [];
  for (let i = 0; i < keys.length; i++) if (keys[i]! >= from && keys[i]! < to) rows.push(i);
  return Int32Array.from(rows);
}

/** The part of parquet-wasm's API used here (imported lazily: it is not a dependency). */
interface ParquetWasm {
  readParquet(bytes: Uint8Array, options?: { batchSize?: number; rowGroups?: number[]; columns?: string[] }): { intoIPCStream(): Uint8Array };
  ParquetFile: { fromFile(blob: Blob): Promise<{ metadata(): { rowGroups(): Array<{ numRows(): number }> } }> };
}

const loadParquetWasm = () => import('parquet-wasm' as string) as Promise<ParquetWasm>;

function readWasm(wasm: ParquetWasm, bytes: Uint8Array, options: { rowGroups?: number[]; columns?: string[] } = {}): Table {
  return tableFromIPC(wasm.readParquet(bytes, { batchSize, ...options }).intoIPCStream());
}

async function parquetWasm(task: Task): Promise<Table> {
  const wasm = await loadParquetWasm();
  const bytes = readFileSync(dataFile);
  const table = readWasm(wasm, bytes);
  return task === 'read' ? normalizeTable(table) : takeTable(table, windowRows(table));
}

async function parquetWasmPruned(task: Task): Promise<Table> {
  const wasm = await loadParquetWasm();
  const bytes = readFileSync(dataFile);
  if (task === 'read') return normalizeTable(readWasm(wasm, bytes));
  // parquet-wasm does not expose column statistics, so the time column is read first to
  // find the row groups that overlap the window; only those are then read in full.
  const file = await wasm.ParquetFile.fromFile(new Blob([bytes]));
  const groupRows = file.metadata().rowGroups().map((g) => g.numRows());
  const keys = timeKeysMs(readWasm(wasm, bytes, { columns: [timeColumn] }).getChild(timeColumn)!);
  const from = Date.parse(windowFrom);
  const to = Date.parse(windowTo);
  const selected: number[] = [];
  let start = 0;
  groupRows.forEach((count, group) => {
    for (let i = start; i < start + count; i++) {
      if (keys[i]! >= from && keys[i]! < to) {
        selected.push(group);
        break;
      }
    }
    start += count;
  });
  const table = readWasm(wasm, bytes, { rowGroups: selected });
  return takeTable(table, windowRows(table));
}

async function duckdb(task: Task): Promise<Table> {
  return readSource({
    path: dataFile,
    timeColumn,
    ...(task === 'window' ? { window: { from: windowFrom, to: windowTo } } : {}),
  });
}

const implementations: Record<Candidate, (task: Task) => Promise<Table>> = {
  'parquet-wasm': parquetWasm,
  'parquet-wasm-pruned': parquetWasmPruned,
  duckdb,
};

async function runChild(candidate: Candidate, task: Task): Promise<CaseResult> {
  const run = implementations[candidate];
  let coldMs: number;
  try {
    const t0 = performance.now();
    await run(task);
    coldMs = Math.round(performance.now() - t0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND') {
      return { candidate, task, skipped: `not installed: ${(err as Error).message.split('\n')[0]}` };
    }
    throw err;
  }
  const runsMs: number[] = [];
  let rows = 0;
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    const table = await run(task);
    rows = table.numRows;
    runsMs.push(Math.round(performance.now() - t0));
  }
  return {
    candidate,
    task,
    rows,
    runsMs,
    medianMs: median(runsMs),
    coldMs,
    peakRssMB: peakRssMB(),
  };
}

function packageVersion(name: string): string | null {
  try {
    return (JSON.parse(readFileSync(path.join(projectRoot, 'node_modules', name, 'package.json'), 'utf8')) as { version: string })
      .version;
  } catch {
    return null;
  }
}

async function main(): Promise<void> {
  const childIndex = process.argv.indexOf('--child');
  if (childIndex >= 0) {
    const result = await runChild(process.argv[childIndex + 1] as Candidate, process.argv[childIndex + 2] as Task);
    process.stdout.write(`${JSON.stringify(result)}\n`);
    return;
  }
  const loadAverageAtStart = os.loadavg().map((l) => Math.round(l * 100) / 100);
  const results: CaseResult[] = [];
  for (const candidate of candidates) {
    for (const task of tasks) {
      const child = spawnSync(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--child', candidate, task], {
        cwd: projectRoot,
        encoding: 'utf8',
        maxBuffer: 16 * 1024 * 1024,
      });
      if (child.status !== 0) throw new Error(`${candidate}/${task} failed:\n${child.stderr}`);
      const result = JSON.parse(child.stdout.trim().split('\n').at(-1)!) as CaseResult;
      results.push(result);
      const summary = result.skipped ?? `${result.medianMs} ms (runs ${result.runsMs!.join(', ')}; cold ${result.coldMs}), ${result.rows} rows, peak RSS ${result.peakRssMB} MB`;
      console.log(`${candidate.padEnd(20)} ${task.padEnd(7)} ${summary}`);
    }
  }
  const report = {
    dataset: 'vega-datasets flights-3m.parquet (3,000,000 rows, 11 row groups, zstd)',
    window: { column: timeColumn, from: windowFrom, to: windowTo },
    method: `one child process per case; 1 warm-up run (coldMs: first use in a fresh process) + ${runs} timed runs (medianMs is their median); peakRssMB is the child process max RSS`,
    loadAverageAtStart,
    machine: { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model ?? 'unknown', memoryGB: Math.round(os.totalmem() / 2 ** 30), node: process.version },
    versions: {
      'apache-arrow': packageVersion('apache-arrow'),
      'parquet-wasm': packageVersion('parquet-wasm'),
      '@duckdb/node-api': packageVersion('@duckdb/node-api'),
    },
    results,
  };
  mkdirSync(path.dirname(resultFile), { recursive: true });
  writeFileSync(resultFile, `${JSON.stringify(report, null, 2)}\n`);
  console.log(`wrote ${path.relative(projectRoot, resultFile)}`);
}

await main();
