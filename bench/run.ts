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
import { latestResultsMarkdown, recordResult, writeBenchDocs } from './history';
import {
  BENCH_DIR,
  BENCH_TITLES,
  BENCHES,
  type BenchMode,
  type BenchName,
  type BenchOutcome,
  CACHE_DIR,
  DEFAULT_RESULTS_DIR,
  RESULTS_DIR,
  ROOT,
  type SummaryRow,
  VENV_PYTHON,
  machine,
  provenance,
  rememberPythonVersion,
  runPythonChild,
  setResultsDir,
  writeResult,
} from './lib';


// Loaded when run: the orchestration benchmark pulls in the whole worker, which the others do not need.
const RUNNERS: Record<Exclude<BenchName, 'drift'>, (mode: BenchMode) => Promise<BenchOutcome>> = {
  eval: async (mode) => (await import('./eval')).runEval(mode),
  orchestration: async (mode) => (await import('./orchestration')).runOrchestration(mode),
  'data-pull': async (mode) => (await import('./data-pull')).runDataPull(mode),
  serving: async (mode) => (await import('./serving')).runServing(mode),
  estimated: async (mode) => (await import('./estimated')).runEstimated(mode),
  store: async (mode) => (await import('./store')).runStore(mode),
  distributed: async (mode) => (await import('./distributed')).runDistributed(mode),
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

/** bench/results/summary.md from every results file present (so `--only` refreshes its part only). */
function writeSummary(): string {
  const intro = ['# Benchmark results', '', 'Written by `npm run bench`; see docs/benchmarks.md for what each benchmark measures.', ''];
  const file = path.join(RESULTS_DIR, 'summary.md');
  writeFileSync(file, `${intro.join('\n')}\n${latestResultsMarkdown('##')}`);
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
    console.log(`▸ ${BENCH_TITLES[name]} …`);
    if (name === 'drift') {
      await runDrift(mode);
    } else {
      const outcome = await RUNNERS[name](mode);
      writeResult(name, { ...outcome.report, finishedAt: new Date().toISOString(), summary: outcome.rows });
    }
    // Every results file (drift.ts writes its own) gets the commit and load, and a line in history.jsonl.
    recordResult(name, provenance());
    for (const row of summaryOf(name) ?? []) printed.push([name, row.case, row.relearn, row.peer, row.ratio, row.goal]);
    console.log(`  done in ${((performance.now() - started) / 1000).toFixed(0)} s`);
  }
  console.log(printed.toString());
  const summary = writeSummary();
  console.log(`wrote ${path.relative(ROOT, RESULTS_DIR)}/{${only.join(',')}}.json, history.jsonl and ${path.relative(ROOT, summary)} in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
  // The docs show bench/results/, not a folder given with --results.
  if (RESULTS_DIR === DEFAULT_RESULTS_DIR) console.log(`rewrote the generated parts of ${path.relative(ROOT, writeBenchDocs())}`);
}

await main();
