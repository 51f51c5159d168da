// Benchmark 4, data pull: flights-3m Parquet → one time window → Arrow IPC snapshot file with statistics, by Relearn's
// pullSnapshot (bench/data-pull-child.ts) and by pyarrow (bench/py/pull.py), each in its own process so the peak RSS
// (VmHWM of /proc/self/status on both sides, which starts afresh at exec, unlike getrusage's maxRSS) is its own.
import os from 'node:os';
import path from 'node:path';
import {
  type BenchMode,
  type BenchOutcome,
  CACHE_DIR,
  FLIGHTS_PARQUET,
  fmt,
  machine,
  round,
  runNodeChild,
  runPythonChild,
  timing,
} from './lib';

const WINDOWS: Record<BenchMode, { from: string; to: string }> = {
  full: { from: '2001-03-01T00:00:00Z', to: '2001-04-01T00:00:00Z' },
  quick: { from: '2001-03-01T00:00:00Z', to: '2001-04-01T00:00:00Z' },
  smoke: { from: '2001-03-01T00:00:00Z', to: '2001-03-08T00:00:00Z' },
};
const REPS: Record<BenchMode, number> = { full: 5, quick: 3, smoke: 1 };

/** Goals (issue 18): Relearn's time and peak memory at most these multiples of pyarrow's. */
const GOAL_TIME = 1.5;
const GOAL_MEMORY = 1.2;

interface ChildResult {
  rows: number;
  coldMs: number;
  runsMs: number[];
  cpuRunsMs: number[];
  peakRssMB: number;
  lastRunStagesMs?: Record<string, number>;
}

/** Runs benchmark 4 and returns its report and summary rows. */
export async function runDataPull(mode: BenchMode): Promise<BenchOutcome> {
  const window = WINDOWS[mode];
  const reps = String(REPS[mode]);
  const loadBefore = round(os.loadavg()[0]!, 2);
  const relearnRaw = await runNodeChild<ChildResult>('data-pull-child.ts', [FLIGHTS_PARQUET, window.from, window.to, path.join(CACHE_DIR, 'pull-relearn.arrow'), reps]);
  const pythonRaw = await runPythonChild<ChildResult>('pull.py', [FLIGHTS_PARQUET, window.from, window.to, path.join(CACHE_DIR, 'pull-pyarrow.arrow'), reps]);
  const loadAfter = round(os.loadavg()[0]!, 2);
  const side = (raw: ChildResult) => ({ ...raw, coldMs: round(raw.coldMs, 1), ...timing(raw.runsMs), cpuMedianMs: timing(raw.cpuRunsMs).medianMs });
  const relearn = side(relearnRaw);
  const python = side(pythonRaw);
  const slowdown = round(relearn.medianMs / python.medianMs, 2);
  const bestSlowdown = round(relearn.minMs / python.minMs, 2);
  const cpuSlowdown = round(relearn.cpuMedianMs / python.cpuMedianMs, 2);
  const memory = round(relearn.peakRssMB / python.peakRssMB, 2);
  return {
    name: 'data-pull',
    title: 'Data pull',
    report: {
      bench: 'data-pull',
      mode,
      machine: machine(),
      method:
        `flights-3m.parquet (3,000,000 rows), window [${window.from}, ${window.to}) on 'date'; each side in its own process: ` +
        `1 cold run (first use in the process) then ${reps} timed runs (median, min, max); peak RSS of the whole process. ` +
        'Relearn: pullSnapshot (DuckDB scan with the window pushed down, contract checks, time order, Arrow IPC bytes, statistics) + file write. ' +
        'pyarrow: read_table with the window as filters, null check, time order, IPC file write, the same statistics via pyarrow.compute/numpy. ' +
        'slowdown: Relearn median over pyarrow median (wall); bestSlowdown: of the fastest runs; cpuSlowdown: of the median process CPU times (all threads); memory: peak RSS over peak RSS.',
      goal: `Relearn time ≤ ${GOAL_TIME} × pyarrow time, peak memory ≤ ${GOAL_MEMORY} × pyarrow's`,
      window,
      relearn,
      pyarrow: python,
      slowdown,
      bestSlowdown,
      cpuSlowdown,
      memory,
      loadAverage1m: [loadBefore, loadAfter],
    },
    rows: [
      {
        bench: 'data-pull',
        case: `${fmt(relearn.rows)} rows → snapshot + stats (load ${loadBefore}→${loadAfter})`,
        relearn: `${fmt(relearn.medianMs)} ms (${fmt(relearn.minMs)}–${fmt(relearn.maxMs)}), peak ${relearn.peakRssMB} MB`,
        peer: `${fmt(python.medianMs)} ms (${fmt(python.minMs)}–${fmt(python.maxMs)}), peak ${python.peakRssMB} MB`,
        ratio: `${slowdown}× the time (best ${bestSlowdown}×, CPU ${cpuSlowdown}×), ${memory}× the memory`,
        goal: `time ≤ ${GOAL_TIME}× ${slowdown <= GOAL_TIME ? '✓' : '✗'}, memory ≤ ${GOAL_MEMORY}× ${memory <= GOAL_MEMORY ? '✓' : '✗'}`,
      },
    ],
  };
}
