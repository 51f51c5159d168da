// `npm run bench [-- --quick] [-- --only eval,serving]`: installs the Python peers, builds the cached inputs, runs
// each benchmark side by side with its peer, prints a table and writes bench/results/<name>.json plus summary.md.
// `--smoke` is the seconds-long size the test suite uses to keep the benchmarks from rotting.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import Table from 'cli-table3';
import { VENV_DIR } from '../src/paths';
import { EVAL_ROWS } from './eval';
import {
  BENCH_DIR,
  type BenchMode,
  type BenchOutcome,
  CACHE_DIR,
  RESULTS_DIR,
  ROOT,
  type SummaryRow,
  VENV_PYTHON,
  machine,
  rememberPythonVersion,
  runPythonChild,
  setResultsDir,
  writeResult,
} from './lib';

/** Benchmarks in the order they run; drift is bench/drift.ts, run as its own script when it exists. */
export const BENCHES = ['eval', 'orchestration', 'drift', 'data-pull', 'serving'] as const;
type BenchName = (typeof BENCHES)[number];

// Loaded when run: the orchestration benchmark pulls in the whole worker, which the others do not need.
const RUNNERS: Record<Exclude<BenchName, 'drift'>, (mode: BenchMode) => Promise<BenchOutcome>> = {
  eval: async (mode) => (await import('./eval')).runEval(mode),
  orchestration: async (mode) => (await import('./orchestration')).runOrchestration(mode),
  'data-pull': async (mode) => (await import('./data-pull')).runDataPull(mode),
  serving: async (mode) => (await import('./serving')).runServing(mode),
};

const TITLES: Record<BenchName, string> = {
  eval: '1. Evaluation throughput',
  orchestration: '2. Orchestration overhead',
  drift: '3. Drift',
  'data-pull': '4. Data pull',
  serving: '5. Serving',
};

function usage(message: string): never {
  console.error(`bench: ${message} (usage: npm run bench [-- --quick] [-- --only ${BENCHES.join(',')}])`);
  process.exit(2);
}

function parseArgs(argv: string[]): { mode: BenchMode; only: BenchName[]; results?: string } {
  let results: string | undefined;
  let mode: BenchMode = 'full';
  let only: BenchName[] = [...BENCHES];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--quick') mode = 'quick';
    else if (arg === '--smoke') mode = 'smoke';
    else if (arg === '--results') {
      results = argv[++i];
      if (!results) usage('--results needs a folder');
    }
    else if (arg === '--only') {
      const names = (argv[++i] ?? '').split(',').filter(Boolean);
      const unknown = names.filter((n) => !(BENCHES as readonly string[]).includes(n));
      if (names.length === 0 || unknown.length > 0) usage(`unknown benchmark '${unknown.join(',') || '(none)'}'`);
      only = names as BenchName[];
    } else usage(`unknown argument '${arg}'`);
  }
  return { mode, only, ...(results ? { results } : {}) };
}

const STAMP = path.join(VENV_DIR, '.bench-requirements.sha256');

/** Installs bench/requirements.txt into the project venv when it changed since the last install. */
function installPythonPeers(): void {
  if (!existsSync(VENV_PYTHON)) usage('the Python environment is missing: run `npm run setup` first');
  const requirements = path.join(BENCH_DIR, 'requirements.txt');
  const digest = createHash('sha256').update(readFileSync(requirements)).digest('hex');
  if (existsSync(STAMP) && readFileSync(STAMP, 'utf8').trim() === digest) return;
  console.log('▸ bench: installing the Python peers (bench/requirements.txt) into .relearn/venv');
  const r = spawnSync(VENV_PYTHON, ['-m', 'pip', 'install', '--disable-pip-version-check', '--progress-bar', 'off', '-q', '-r', requirements], {
    stdio: 'inherit',
  });
  if (r.status !== 0) {
    console.error('bench: pip install -r bench/requirements.txt failed (see above)');
    process.exit(1);
  }
  writeFileSync(STAMP, `${digest}\n`);
}

/** Runs bench/drift.ts (its own module, writing its own results file) when it exists. */
async function runDrift(mode: BenchMode): Promise<boolean> {
  const script = path.join(BENCH_DIR, 'drift.ts');
  if (!existsSync(script)) {
    console.log('▸ drift: bench/drift.ts is not there; skipped');
    return false;
  }
  // Imported by URL, so the runner does not depend on the file at compile time; in-process, so --results applies.
  const drift = (await import(pathToFileURL(script).href)) as { main: (argv: string[]) => Promise<unknown> };
  await drift.main(mode === 'full' ? [] : ['--quick']);
  return true;
}

/** Summary rows of a results file: the runner's own `summary`, or a generic reading of bench/drift.ts's cases. */
function summaryOf(name: BenchName): SummaryRow[] | null {
  const file = path.join(RESULTS_DIR, `${name}.json`);
  if (!existsSync(file)) return null;
  const report = JSON.parse(readFileSync(file, 'utf8')) as { summary?: SummaryRow[] };
  return Array.isArray(report.summary) ? report.summary : null;
}

function markdownTable(rows: SummaryRow[]): string {
  const cell = (s: string) => s.replaceAll('|', '\\|');
  return [
    '| case | Relearn | peer | ratio | goal |',
    '|---|---|---|---|---|',
    ...rows.map((r) => `| ${cell(r.case)} | ${cell(r.relearn)} | ${cell(r.peer)} | ${cell(r.ratio)} | ${cell(r.goal)} |`),
  ].join('\n');
}

/** bench/results/summary.md from every results file present (so `--only` refreshes its part only). */
function writeSummary(): string {
  const parts = ['# Benchmark results', '', 'Written by `npm run bench`; see docs/benchmarks.md for what each benchmark measures.', ''];
  for (const name of BENCHES) {
    const file = path.join(RESULTS_DIR, `${name}.json`);
    if (!existsSync(file)) continue;
    const report = JSON.parse(readFileSync(file, 'utf8')) as { mode?: string; finishedAt?: string; machine?: Record<string, unknown> };
    parts.push(`## ${TITLES[name]}`, '');
    const m = report.machine ?? {};
    parts.push(
      `Mode ${report.mode ?? '?'}, ${report.finishedAt ?? ''}; ${String(m.cpuModel ?? '?')}, ${String(m.cores ?? '?')} cores, ` +
        `${String(m.memoryGB ?? '?')} GB, Node ${String(m.node ?? '?')}, Python ${String(m.python ?? '?')}, load ${String(m.loadAverage1m ?? '?')}.`,
      '',
    );
    const rows = summaryOf(name);
    parts.push(rows ? markdownTable(rows) : `See \`${name}.json\`.`, '');
  }
  const file = path.join(RESULTS_DIR, 'summary.md');
  writeFileSync(file, `${parts.join('\n')}\n`);
  return file;
}

async function main(): Promise<void> {
  const { mode, only, results } = parseArgs(process.argv.slice(2));
  if (results) setResultsDir(results);
  const t0 = performance.now();
  installPythonPeers();
  const prepared = await runPythonChild<{ made: string[]; seconds: number; python: string }>('prepare.py', [CACHE_DIR, String(EVAL_ROWS[mode])]);
  rememberPythonVersion(prepared.python);
  if (prepared.made.length > 0) console.log(`▸ bench: built ${prepared.made.join(', ')} in bench/.cache (${prepared.seconds} s)`);
  console.log(`▸ bench: ${mode} mode on ${JSON.stringify(machine())}`);

  const printed = new Table({ head: ['bench', 'case', 'Relearn', 'peer', 'ratio', 'goal'] });
  for (const name of only) {
    const started = performance.now();
    console.log(`▸ ${TITLES[name]} …`);
    if (name === 'drift') {
      await runDrift(mode);
    } else {
      const outcome = await RUNNERS[name](mode);
      writeResult(name, { ...outcome.report, finishedAt: new Date().toISOString(), summary: outcome.rows });
    }
    for (const row of summaryOf(name) ?? []) printed.push([name, row.case, row.relearn, row.peer, row.ratio, row.goal]);
    console.log(`  done in ${((performance.now() - started) / 1000).toFixed(0)} s`);
  }
  console.log(printed.toString());
  const summary = writeSummary();
  console.log(`wrote ${path.relative(ROOT, RESULTS_DIR)}/{${only.join(',')}}.json and ${path.relative(ROOT, summary)} in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
}

await main();
