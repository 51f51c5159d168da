// bench/estimated: confidence-based performance estimation (CBPE), Relearn's (src/drift/estimated.ts) side by side
// with NannyML 0.13.1's on the same data: a January flights champion's scores on its holdout (the calibration rows)
// and on later weeks (the windows), cached by scripts/make-cbpe-fixtures.py. One run = fit on the holdout, then
// estimate ROC AUC, accuracy and F1 on every window. Each side in its own process, timed after one untimed warm-up
// (imports and JIT outside the timing); the answers are compared too. NannyML lives in its own virtual environment
// (.relearn/nannyml-venv from scripts/requirements-nannyml.txt), made here when missing.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { RELEARN_ROOT } from '../src/paths';
import { BENCH_DIR, type BenchMode, type BenchOutcome, fmt, machine, round, runJsonChild, runNodeChild, timing } from './lib';

const NANNYML_VENV = path.join(RELEARN_ROOT, '.relearn', 'nannyml-venv');
const NANNYML_PYTHON = path.join(NANNYML_VENV, 'bin', 'python');
const REQUIREMENTS = path.join(RELEARN_ROOT, 'scripts', 'requirements-nannyml.txt');
const STAMP = path.join(NANNYML_VENV, '.requirements.sha256');
export const CBPE_SCORES = path.join(RELEARN_ROOT, '.relearn', 'cache', 'cbpe', 'flights-weeks-scores.json');

/** Windows (weekly samples of 3,000 rows) and timed repetitions per mode. */
const SIZES: Record<BenchMode, { weeks: number; repetitions: number }> = {
  full: { weeks: 21, repetitions: 7 },
  quick: { weeks: 8, repetitions: 5 },
  smoke: { weeks: 2, repetitions: 2 },
};

function run(cmd: string, args: string[], what: string): void {
  const r = spawnSync(cmd, args, { cwd: RELEARN_ROOT, stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`bench estimated: ${what} failed (exit ${r.status ?? r.signal})`);
}

/** Makes NannyML's environment when it is missing or its requirements changed, and the cached scores when missing. */
function ensurePeer(): void {
  const digest = createHash('sha256').update(readFileSync(REQUIREMENTS)).digest('hex');
  if (!existsSync(NANNYML_PYTHON) || !existsSync(STAMP) || readFileSync(STAMP, 'utf8').trim() !== digest) {
    console.log('▸ bench: installing NannyML (scripts/requirements-nannyml.txt) into .relearn/nannyml-venv');
    if (!existsSync(NANNYML_PYTHON)) run('python3', ['-m', 'venv', NANNYML_VENV], 'python3 -m venv .relearn/nannyml-venv');
    run(NANNYML_PYTHON, ['-m', 'pip', 'install', '--disable-pip-version-check', '--progress-bar', 'off', '-q', '-r', REQUIREMENTS], 'pip install -r scripts/requirements-nannyml.txt');
    writeFileSync(STAMP, `${digest}\n`);
  }
  if (!existsSync(CBPE_SCORES)) {
    console.log('▸ bench: scoring the flights weeks with the January champion (scripts/make-cbpe-fixtures.py --cache-only)');
    run(NANNYML_PYTHON, [path.join(RELEARN_ROOT, 'scripts', 'make-cbpe-fixtures.py'), '--cache-only'], 'scripts/make-cbpe-fixtures.py --cache-only');
  }
}

interface SideResult {
  runsMs: number[];
  rocAuc: number[];
}

/** Runs the estimated-performance benchmark and returns its report and summary row. */
export async function runEstimated(mode: BenchMode): Promise<BenchOutcome> {
  ensurePeer();
  const { weeks, repetitions } = SIZES[mode];
  const args = [CBPE_SCORES, String(weeks), String(repetitions)];
  const relearnRaw = await runNodeChild<SideResult>('estimated-child.ts', args);
  const nannymlRaw = await runJsonChild<SideResult & { nannyml: string }>(NANNYML_PYTHON, [path.join(BENCH_DIR, 'py', 'cbpe_peer.py'), ...args]);
  const relearn = timing(relearnRaw.runsMs);
  const nannyml = timing(nannymlRaw.runsMs);
  const speedup = round(nannyml.medianMs / relearn.medianMs, 1);
  const maxDiff = Math.max(...relearnRaw.rocAuc.map((v, i) => Math.abs(v - nannymlRaw.rocAuc[i]!)));
  const rows = weeks * 3000;
  return {
    name: 'estimated',
    title: 'Estimated performance (CBPE)',
    report: {
      bench: 'estimated',
      mode,
      machine: machine(),
      method:
        `CBPE fit on 3,000 holdout rows, then ROC AUC, accuracy and F1 estimated on ${weeks} weekly windows of 3,000 rows (flights, a January champion's scores). ` +
        `Each side in its own process; one untimed warm-up, then ${repetitions} timed runs (median, min, max). speedup: NannyML median over Relearn median.`,
      weeks,
      rowsEstimated: rows,
      relearn,
      nannyml: { ...nannyml, version: nannymlRaw.nannyml },
      speedup,
      maxRocAucDifference: maxDiff,
    },
    rows: [
      {
        bench: 'estimated',
        case: `fit on 3,000 rows + ${weeks} windows (${fmt(rows)} rows)`,
        relearn: `${fmt(relearn.medianMs, 1)} ms (${fmt(relearn.minMs, 1)}–${fmt(relearn.maxMs, 1)})`,
        peer: `NannyML ${nannymlRaw.nannyml}: ${fmt(nannyml.medianMs, 1)} ms (${fmt(nannyml.minMs, 1)}–${fmt(nannyml.maxMs, 1)})`,
        ratio: `${speedup}× faster; ROC AUC equal within ${maxDiff.toExponential(1)}`,
        goal: `estimates within 0.005 ${maxDiff <= 0.005 ? '✓' : '✗'}`,
      },
    ],
  };
}
