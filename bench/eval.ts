// Benchmark 1, evaluation throughput: the same ONNX model scored on the same rows of an Arrow IPC file by Relearn's
// scoring path (bench/eval-child.ts) and by Python onnxruntime fed from pyarrow/numpy (bench/py/score.py), each in its
// own process, with one intra-op thread and with all cores. Models: the demo's flights classifier (3 numeric + 2
// string features) and a 100-feature logistic regression.
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
};

interface ChildResult {
  rows: number;
  runsMs: number[];
  convertMs: number[];
}

function side(r: ChildResult) {
  const t = timing(r.runsMs);
  const c = timing(r.convertMs);
  return {
    rows: r.rows,
    ...t,
    rowsPerSecond: Math.round(r.rows / (t.medianMs / 1000)),
    convertMedianMs: c.medianMs,
    convertShare: round(c.medianMs / t.medianMs, 3),
  };
}

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
      const relearn = side(await runNodeChild<ChildResult>('eval-child.ts', args));
      const python = side(await runPythonChild<ChildResult>('score.py', args));
      const ratio = round(relearn.rowsPerSecond / python.rowsPerSecond, 2);
      cases.push({ model, threads, relearn, python, ratio });
      summary.push({
        bench: 'eval',
        case: `${model}, ${threads === 1 ? '1 thread' : `${threads} threads`}`,
        relearn: `${fmt(relearn.rowsPerSecond)} rows/s (convert ${Math.round(relearn.convertShare * 100)}%)`,
        peer: `${fmt(python.rowsPerSecond)} rows/s (convert ${Math.round(python.convertShare * 100)}%)`,
        ratio: `${ratio}×`,
        goal: ratio >= 0.9 ? '≥ 0.9× ✓' : '≥ 0.9× ✗',
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
        `then ${reps} timed passes (median, min, max). Relearn: snapshot table → scoreRows (Arrow columns → tensors → ` +
        'onnxruntime-node). Python: pyarrow table → numpy [n,1] arrays → onnxruntime.InferenceSession.run. ' +
        'convertShare: time building the inputs alone (a separate pass on the Relearn side, timed inside the loop on the Python side) over the scoring time.',
      goal: 'Relearn rows/s ≥ 0.9 × Python rows/s',
      rows,
      batchSize: BATCH,
      cases,
    },
    rows: summary,
  };
}
