// Benchmark 1, evaluation throughput: the same ONNX model scored on the same rows of an Arrow IPC file by Relearn's
// scoring path (bench/eval-child.ts) and by Python onnxruntime fed from pyarrow/numpy (bench/py/score.py), each in its
// own process, with one intra-op thread and with all cores. Models: the demo's flights classifier (3 numeric + 2
// string features), a 100-feature logistic regression, and a graph that ignores the flights model's inputs, which
// measures what handing those inputs (string arrays included) to onnxruntime costs on each side by itself.
// Ratios: of median wall times (the goal), of the best runs, and of median process CPU times, which a machine shared
// with other work disturbs least.
import os from 'node:os';
import path from 'node:path';
import {
  type BenchMode,
  type BenchOutcome,
  CACHE_DIR,
  type SummaryRow,
  fmt,
  machine,
  round,
  runNodeChild,
  runPythonChild,
  timing,
} from './lib';

/** Rows scored per mode. */
export const EVAL_ROWS: Record<BenchMode, number> = { full: 1_000_000, quick: 200_000, smoke: 20_000 };
const REPS: Record<BenchMode, number> = { full: 5, quick: 3, smoke: 1 };
/** Rows per onnxruntime run on both sides (Relearn's scoreRows default). */
const BATCH = 8192;

const MODELS = {
  flights: {
    file: 'flights.onnx',
    data: 'flights',
    features: { numeric: ['distance', 'hour', 'weekday'], categorical: ['origin', 'destination'] },
  },
  'synthetic-100': {
    file: 'synthetic-100.onnx',
    data: 'synthetic',
    features: { numeric: Array.from({ length: 100 }, (_, i) => `f${i}`), categorical: [] as string[] },
  },
  'flights inputs only': {
    file: 'flights-inputs-only.onnx',
    data: 'flights',
    features: { numeric: ['distance', 'hour', 'weekday'], categorical: ['origin', 'destination'] },
  },
};
/** Cases that are diagnostics, not goals: the inputs-only graph shows where a model's time goes. */
const DIAGNOSTIC = new Set(['flights inputs only']);
/** Goals (issue 18): rows/s at least Python's; Arrow → tensors at most this share of the scoring time. */
const GOAL_RATIO = 1;
const GOAL_CONVERT_SHARE = 0.05;

interface ChildResult {
  rows: number;
  coldMs: number;
  runsMs: number[];
  cpuRunsMs: number[];
  convertMs: number[];
}

function side(r: ChildResult) {
  const t = timing(r.runsMs);
  const c = timing(r.convertMs);
  const cpu = timing(r.cpuRunsMs);
  return {
    rows: r.rows,
    coldMs: round(r.coldMs, 1),
    ...t,
    cpuMedianMs: cpu.medianMs,
    cpuRunsMs: cpu.runsMs,
    rowsPerSecond: Math.round(r.rows / (t.medianMs / 1000)),
    convertMedianMs: c.medianMs,
    convertShare: round(c.medianMs / t.medianMs, 3),
  };
}

const load1m = () => round(os.loadavg()[0]!, 2);

/** Runs benchmark 1 and returns its report and summary rows. */
export async function runEval(mode: BenchMode): Promise<BenchOutcome> {
  const rows = EVAL_ROWS[mode];
  const reps = REPS[mode];
  const cores = os.cpus().length;
  const cases = [];
  const summary: SummaryRow[] = [];
  for (const [model, spec] of Object.entries(MODELS)) {
    const modelFile = path.join(CACHE_DIR, spec.file);
    const dataFile = path.join(CACHE_DIR, `${spec.data}-${rows}.arrow`);
    const features = JSON.stringify(spec.features);
    for (const threads of [...new Set([1, cores])]) {
      const args = [modelFile, dataFile, features, String(threads), String(BATCH), String(reps)];
      const loadBefore = load1m();
      const relearn = side(await runNodeChild<ChildResult>('eval-child.ts', args));
      const python = side(await runPythonChild<ChildResult>('score.py', args));
      const loadAfter = load1m();
      const ratio = round(relearn.rowsPerSecond / python.rowsPerSecond, 2);
      const bestRatio = round(python.minMs / relearn.minMs, 2);
      const cpuRatio = round(python.cpuMedianMs / relearn.cpuMedianMs, 2);
      cases.push({ model, threads, relearn, python, ratio, bestRatio, cpuRatio, loadAverage1m: [loadBefore, loadAfter] });
      const convert = `convert ${Math.round(relearn.convertShare * 100)}%`;
      const goal = DIAGNOSTIC.has(model)
        ? 'diagnostic'
        : `≥ ${GOAL_RATIO}× ${ratio >= GOAL_RATIO ? '✓' : '✗'}, convert ≤ ${GOAL_CONVERT_SHARE * 100}% ${relearn.convertShare <= GOAL_CONVERT_SHARE ? '✓' : '✗'}`;
      summary.push({
        bench: 'eval',
        case: `${model}, ${threads === 1 ? '1 thread' : `${threads} threads`} (load ${loadBefore}→${loadAfter})`,
        relearn: `${fmt(relearn.rowsPerSecond)} rows/s (${convert})`,
        peer: `${fmt(python.rowsPerSecond)} rows/s (convert ${Math.round(python.convertShare * 100)}%)`,
        ratio: `${ratio}× (best ${bestRatio}×, CPU ${cpuRatio}×)`,
        goal,
      });
    }
  }
  return {
    name: 'eval',
    title: 'Evaluation throughput',
    report: {
      bench: 'eval',
      mode,
      machine: machine(),
      method:
        `${fmt(rows)} rows from an Arrow IPC file, batches of ${BATCH} rows; each side in its own process: 1 warm-up pass, ` +
        `then ${reps} timed passes (median, min, max; coldMs is the warm-up, Relearn's first pass over the snapshot, ` +
        'which dictionary-encodes its string columns). Relearn: snapshot table → scoreRows (Arrow columns → tensors → ' +
        'onnxruntime-node). Python: pyarrow table → numpy [n,1] arrays → onnxruntime.InferenceSession.run. ' +
        'convertShare: time building the inputs alone (a separate pass on the Relearn side, timed inside the loop on the Python side) over the scoring time. ' +
        'ratio: Relearn rows/s over Python rows/s at the median wall time; bestRatio: of the fastest passes; cpuRatio: of the median ' +
        'process CPU times (all threads; with 2 threads it includes onnxruntime\'s spinning workers). ' +
        "'flights inputs only' feeds the flights rows to a graph that ignores them: the cost of handing the inputs over, on each side.",
      goal: `Relearn rows/s ≥ ${GOAL_RATIO} × Python rows/s; Arrow → tensors ≤ ${GOAL_CONVERT_SHARE * 100}% of the scoring time`,
      rows,
      batchSize: BATCH,
      cases,
    },
    rows: summary,
  };
}
