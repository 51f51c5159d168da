// Runs the real reference trainer (trainers/sklearn/train.py, in the project's venv) on a small synthetic snapshot,
// then opens its model.onnx with onnxruntime-node and checks it against the trainer's own native probe outputs.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  Float64,
  Int32,
  Int8,
  Table,
  TimestampMillisecond,
  Utf8,
  tableFromIPC,
  tableToIPC,
  vectorFromArray,
} from 'apache-arrow';
import * as ort from 'onnxruntime-node';
import { z } from 'zod';
import { mulberry32 } from '../../src/contracts';
import { EXIT_BAD_PARAMS, type JobSpec, jobStatusSchema, probeSchema } from '../../src/jobs/contract';
import { VENV_PYTHON } from '../../src/paths';

const PROJECT_ROOT = path.resolve(import.meta.dirname, '../..');
const TRAIN_PY = path.join(PROJECT_ROOT, 'trainers', 'sklearn', 'train.py');
// The real trainer with one step made to raise (test/fixtures/trainers/fault-in-trainer.py).
const FAULT_IN_TRAINER = path.join(PROJECT_ROOT, 'test', 'fixtures', 'trainers', 'fault-in-trainer.py');
const EXIT_RETRYABLE = 1;
const ROWS = 2000;
const HOLDOUT_FROM = 1800;
const PARITY_TOLERANCE = 1e-4;
const COLORS = ['red', 'green', 'blue', 'amber'] as const;
const COLOR_EFFECT: Record<string, number> = { red: 1.2, green: -0.8, blue: 0.3, amber: -1.5 };
const SHAPES = ['square', 'circle', 'star'] as const;
const SHAPE_EFFECT: Record<string, number> = { square: 0.4, circle: 0, star: -0.6 };
const NUMERIC = ['x1', 'x2'];
const CATEGORICAL = ['color', 'shape'];
// Rows from a training fold, from the fold left out (2), from the holdout, and rows holding nulls (every 97th x1,
// every 53rd color), so the parity check covers imputation and unseen-by-training rows.
const PROBE_ROWS = [0, 1, 2, 3, 5, 7, 53, 97, 106, 194, 1000, 1001, 1002, 1799, 1800, 1850, 1999];

interface Workspace {
  dir: string;
  snapshotPath: string;
  splitPath: string;
  snapshot: Table;
}

function writeSnapshot(dir: string): Workspace {
  const rand = mulberry32(7);
  const x1: (number | null)[] = [];
  const x2: number[] = [];
  const color: (string | null)[] = [];
  const shape: string[] = [];
  const delayed: number[] = [];
  const kind: string[] = [];
  const amount: number[] = [];
  const time: number[] = [];
  for (let i = 0; i < ROWS; i++) {
    const a = rand() * 4 - 2;
    const b = Math.floor(rand() * 24);
    const c = COLORS[Math.floor(rand() * COLORS.length)] ?? 'red';
    const d = SHAPES[Math.floor(rand() * SHAPES.length)] ?? 'square';
    const noise = (rand() - 0.5) * 1.5;
    const effect = (COLOR_EFFECT[c] ?? 0) + (SHAPE_EFFECT[d] ?? 0);
    const score = 1.5 * a + 0.15 * (b - 12) + effect + noise;
    x1.push(i % 97 === 0 ? null : a);
    x2.push(b);
    color.push(i % 53 === 0 ? null : c);
    shape.push(d);
    delayed.push(score > 0 ? 1 : 0);
    kind.push(score < -1 ? 'low' : score < 1 ? 'mid' : 'high');
    amount.push(3 * a - 0.2 * b + 2 * effect + noise);
    time.push(Date.UTC(2024, 0, 1) + i * 60_000);
  }
  const snapshot = new Table({
    event_time: vectorFromArray(time, new TimestampMillisecond()),
    x1: vectorFromArray(x1, new Float64()),
    x2: vectorFromArray(x2, new Int32()),
    color: vectorFromArray(color, new Utf8()),
    shape: vectorFromArray(shape, new Utf8()),
    delayed: vectorFromArray(delayed, new Int32()),
    kind: vectorFromArray(kind, new Utf8()),
    amount: vectorFromArray(amount, new Float64()),
  });
  const folds = Array.from({ length: ROWS }, (_, i) => (i >= HOLDOUT_FROM ? -1 : i % 5));
  const split = new Table({ fold: vectorFromArray(folds, new Int8()) });
  const snapshotPath = path.join(dir, 'snapshot.arrow');
  const splitPath = path.join(dir, 'split.arrow');
  writeFileSync(snapshotPath, tableToIPC(snapshot, 'file'));
  writeFileSync(splitPath, tableToIPC(split, 'file'));
  // Read back, so the test feeds ORT exactly what the trainer read.
  return { dir, snapshotPath, splitPath, snapshot: tableFromIPC(readFileSync(snapshotPath)) };
}

interface TrainerRun {
  exitCode: number | null;
  stdout: string;
  stderr: string;
  outputDir: string;
  status: unknown;
}

let jobCounter = 0;
/** Runs train.py (or `job`, a wrapper of it, followed by the spec path) on a spec made of the defaults and `overrides`. */
function runTrainer(ws: Workspace, overrides: Partial<JobSpec>, env: Record<string, string> = {}, job: string[] = [TRAIN_PY]): TrainerRun {
  jobCounter += 1;
  const outputDir = path.join(ws.dir, `out-${jobCounter}`);
  const spec: JobSpec = {
    jobId: `retrain-synthetic-test-${jobCounter}-fold-2`,
    role: 'fold-2',
    task: 'binary',
    snapshotPath: ws.snapshotPath,
    splitPath: ws.splitPath,
    trainFolds: [0, 1, 3, 4],
    features: { numeric: NUMERIC, categorical: CATEGORICAL },
    label: 'delayed',
    estimator: 'logistic_regression',
    params: { C: 1.0, max_iter: 200 },
    seed: 42,
    probeRows: PROBE_ROWS,
    outputDir,
    ...overrides,
  };
  const specPath = path.join(ws.dir, `spec-${jobCounter}.json`);
  writeFileSync(specPath, JSON.stringify(spec));
  const result = spawnSync(VENV_PYTHON, [...job, specPath], {
    encoding: 'utf8',
    timeout: 120_000,
    env: { ...process.env, ...env },
  });
  let status: unknown = null;
  try {
    status = JSON.parse(readFileSync(path.join(outputDir, 'status.json'), 'utf8'));
  } catch {
    status = null;
  }
  return { exitCode: result.status, stdout: result.stdout, stderr: result.stderr, outputDir, status };
}

function succeeded(run: TrainerRun) {
  assert.equal(run.exitCode, 0, `trainer failed:\n${run.stdout}\n${run.stderr}`);
  const status = jobStatusSchema.parse(run.status);
  assert.equal(status.status, 'succeeded');
  if (status.status !== 'succeeded') throw new Error('unreachable');
  return status;
}

function failedWithBadParams(run: TrainerRun): string {
  assert.equal(run.exitCode, EXIT_BAD_PARAMS, `expected exit 2:\n${run.stdout}\n${run.stderr}`);
  const status = jobStatusSchema.parse(run.status);
  assert.equal(status.status, 'failed');
  if (status.status !== 'failed') throw new Error('unreachable');
  assert.equal(status.exitCode, EXIT_BAD_PARAMS);
  return status.error;
}

/** The probe rows as ORT feeds, following the contract: NaN for numeric nulls, "" for categorical nulls. */
function probeFeeds(snapshot: Table, rows: number[], numeric: string[], categorical: string[]): Record<string, ort.Tensor> {
  const feeds: Record<string, ort.Tensor> = {};
  for (const name of numeric) {
    const column = snapshot.getChild(name);
    assert.ok(column, `snapshot column ${name}`);
    const values = Float32Array.from(rows, (r) => {
      const v: unknown = column.get(r);
      return v === null ? Number.NaN : Number(v);
    });
    feeds[name] = new ort.Tensor('float32', values, [rows.length, 1]);
  }
  for (const name of categorical) {
    const column = snapshot.getChild(name);
    assert.ok(column, `snapshot column ${name}`);
    const values = rows.map((r) => {
      const v: unknown = column.get(r);
      return v === null ? '' : String(v);
    });
    feeds[name] = new ort.Tensor('string', values, [rows.length, 1]);
  }
  return feeds;
}

function assertClose(actual: ArrayLike<number>, expected: number[], what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i] ?? Number.NaN;
    const e = expected[i] ?? Number.NaN;
    assert.ok(Math.abs(a - e) <= PARITY_TOLERANCE, `${what}[${i}]: ORT ${a} vs native ${e}`);
  }
}

function metadataOf(values: readonly ort.InferenceSession.ValueMetadata[]): { name: string; type: string; shape: unknown[] }[] {
  return values.map((m) => {
    assert.ok(m.isTensor, `${m.name} is a tensor`);
    return { name: m.name, type: m.type, shape: m.shape.map((d) => (typeof d === 'number' ? d : 'N')) };
  });
}

async function classifierParity(ws: Workspace, run: TrainerRun, numeric: string[], categorical: string[], classCount: number) {
  const probe = probeSchema.parse(JSON.parse(readFileSync(path.join(run.outputDir, 'probe.json'), 'utf8')));
  assert.ok('probabilities' in probe, 'classifier probe.json has probabilities');
  assert.deepEqual(probe.rows, PROBE_ROWS);
  const session = await ort.InferenceSession.create(path.join(run.outputDir, 'model.onnx'));
  try {
    assert.deepEqual(metadataOf(session.inputMetadata), [
      ...numeric.map((name) => ({ name, type: 'float32', shape: ['N', 1] })),
      ...categorical.map((name) => ({ name, type: 'string', shape: ['N', 1] })),
    ]);
    assert.deepEqual(metadataOf(session.outputMetadata), [
      { name: 'label', type: 'int64', shape: ['N'] },
      { name: 'probabilities', type: 'float32', shape: ['N', classCount] },
    ]);
    const out = await session.run(probeFeeds(ws.snapshot, PROBE_ROWS, numeric, categorical));
    const probabilities = out.probabilities;
    const label = out.label;
    assert.ok(probabilities && label);
    assert.deepEqual(probabilities.dims, [PROBE_ROWS.length, classCount]);
    assertClose(probabilities.data as Float32Array, probe.probabilities.flat(), 'probabilities');
    // `label` is the column of `classes` with the highest probability.
    const labels = Array.from(label.data as BigInt64Array, Number);
    probe.probabilities.forEach((row, i) => {
      const best = row.indexOf(Math.max(...row));
      assert.equal(labels[i], best, `label of probe row ${PROBE_ROWS[i]}`);
    });
  } finally {
    await session.release();
  }
}

describe('sklearn reference trainer', () => {
  let ws: Workspace;

  before(() => {
    ws = writeSnapshot(mkdtempSync(path.join(os.tmpdir(), 'relearn-sklearn-trainer-')));
  });

  after(() => {
    rmSync(ws.dir, { recursive: true, force: true });
  });

  test('binary logistic regression: outputs, status.json and ONNX parity on the probe rows', async () => {
    const run = runTrainer(ws, {});
    const status = succeeded(run);
    assert.equal(status.role, 'fold-2');
    assert.equal(status.task, 'binary');
    assert.equal(status.estimator, 'logistic_regression');
    assert.deepEqual(status.classes, [0, 1]);
    assert.equal(status.params.C, 1.0);
    assert.equal(status.params.max_iter, 200);
    assert.equal(status.params.random_state, 42, 'seed becomes random_state');
    const expectedTrainRows = Array.from({ length: HOLDOUT_FROM }, (_, i) => i % 5).filter((f) => f !== 2).length;
    assert.equal(status.trainRows, expectedTrainRows);
    assert.deepEqual(status.featureNames, ['x1', 'x2', 'color', 'shape']);
    const accuracy = status.selfReportedMetrics.trainAccuracy;
    assert.ok(accuracy !== undefined && accuracy > 0.8 && accuracy <= 1, `train accuracy ${accuracy}`);
    for (const key of ['sklearn', 'skl2onnx', 'onnx', 'numpy', 'pyarrow']) {
      assert.match(status.versions[key] ?? '', /^\d+\.\d+/, `versions.${key}`);
    }
    assert.ok((status.durationMs ?? 0) > 0);
    assert.match(run.stdout, new RegExp(`loaded ${ROWS} rows`));
    assert.match(run.stdout, /exported model\.onnx \(\d+ (kB|B)\)/);
    assert.ok(readFileSync(path.join(run.outputDir, 'model.joblib')).length > 0, 'model.joblib written');
    await classifierParity(ws, run, NUMERIC, CATEGORICAL, 2);
  });

  test('multiclass with string labels and hist_gradient_boosting: classes in probability-column order', async () => {
    const run = runTrainer(ws, {
      task: 'multiclass',
      label: 'kind',
      estimator: 'hist_gradient_boosting',
      params: { max_iter: 30, learning_rate: 0.2 },
    });
    const status = succeeded(run);
    assert.deepEqual(status.classes, ['high', 'low', 'mid']);
    await classifierParity(ws, run, NUMERIC, CATEGORICAL, 3);
  });

  test('regression with ridge: `variable` output matches the native predictions', async () => {
    const run = runTrainer(ws, { task: 'regression', label: 'amount', estimator: 'ridge', params: { alpha: 0.5 } });
    const status = succeeded(run);
    assert.equal(status.classes, undefined);
    const r2 = status.selfReportedMetrics.trainR2;
    assert.ok(r2 !== undefined && r2 > 0.8, `train r2 ${r2}`);
    const probe = probeSchema.parse(JSON.parse(readFileSync(path.join(run.outputDir, 'probe.json'), 'utf8')));
    assert.ok('predictions' in probe, 'regression probe.json has predictions');
    const session = await ort.InferenceSession.create(path.join(run.outputDir, 'model.onnx'));
    try {
      assert.deepEqual(metadataOf(session.outputMetadata), [{ name: 'variable', type: 'float32', shape: ['N', 1] }]);
      const out = await session.run(probeFeeds(ws.snapshot, PROBE_ROWS, NUMERIC, CATEGORICAL));
      assert.ok(out.variable);
      assert.deepEqual(out.variable.dims, [PROBE_ROWS.length, 1]);
      assertClose(out.variable.data as Float32Array, probe.predictions, 'variable');
    } finally {
      await session.release();
    }
  });

  test('the same spec gives byte-identical model.onnx whatever the Python hash seed', () => {
    // With two string inputs, hash seeds 10 and 11 made skl2onnx list the opset imports in different orders (so
    // different bytes) before the trainer sorted them.
    const digests = ['10', '11'].map((hashSeed) => {
      const status = succeeded(runTrainer(ws, {}, { PYTHONHASHSEED: hashSeed }));
      const artifacts = z.record(z.string(), z.object({ sha256: z.string() })).parse(status.artifacts);
      return artifacts['model.onnx']?.sha256;
    });
    assert.match(digests[0] ?? '', /^[0-9a-f]{64}$/);
    assert.equal(digests[0], digests[1]);
  });

  test('an unknown param exits 2 and status.json names it', () => {
    const error = failedWithBadParams(runTrainer(ws, { params: { C: 1.0, max_itr: 50 } }));
    assert.match(error, /params\.max_itr/);
    assert.match(error, /unknown parameter/);
  });

  test('an invalid param value exits 2 and status.json names it', () => {
    const error = failedWithBadParams(runTrainer(ws, { params: { C: -3 } }));
    assert.match(error, /params\.C\b/);
  });

  // Exit 2 means "never retried", so it is kept for input a retry cannot fix; a fault of the machine or of the code
  // exits 1 and the launcher tries again. Each case names the step that raises, the exception, and what must follow.
  const faults: Array<{ step: string; exception: string; exitCode: number; errorKind: string; error: RegExp; what: string }> = [
    { step: 'export', exception: 'MemoryError', exitCode: EXIT_RETRYABLE, errorKind: 'resource', error: /^MemoryError: out of memory$/, what: 'export running out of memory' },
    { step: 'export', exception: 'ENOSPC', exitCode: EXIT_RETRYABLE, errorKind: 'resource', error: /^OSError: \[Errno 28\] No space left on device$/, what: 'a full disk during export' },
    { step: 'snapshot', exception: 'EIO', exitCode: EXIT_RETRYABLE, errorKind: 'resource', error: /^OSError: \[Errno 5\] Input\/output error$/, what: 'an I/O error reading the snapshot' },
    { step: 'export', exception: 'KeyError', exitCode: EXIT_RETRYABLE, errorKind: 'internal', error: /^KeyError: 'n_features_in_'$/, what: 'an unexpected exception in export' },
    {
      step: 'export',
      exception: 'NotImplementedError',
      exitCode: EXIT_BAD_PARAMS,
      errorKind: 'export',
      error: /^estimator 'logistic_regression': skl2onnx cannot convert the fitted model with these params: NotImplementedError: Loss 'made_up' is not supported yet\.$/,
      what: 'a model skl2onnx does not support',
    },
  ];
  for (const fault of faults) {
    test(`${fault.what} exits ${fault.exitCode}${fault.exitCode === EXIT_RETRYABLE ? ' (retryable)' : ' (never retried)'}, the error in status.json and on stderr`, () => {
      const run = runTrainer(ws, {}, {}, [FAULT_IN_TRAINER, fault.step, fault.exception]);
      assert.equal(run.exitCode, fault.exitCode, `exit code:\n${run.stdout}\n${run.stderr}`);
      const status = z
        .object({ status: z.literal('failed'), error: z.string(), errorKind: z.string(), exitCode: z.number(), role: z.string() })
        .parse(run.status);
      assert.equal(status.exitCode, fault.exitCode);
      assert.equal(status.errorKind, fault.errorKind);
      assert.equal(status.role, 'fold-2');
      assert.match(status.error, fault.error);
      // The launcher shows the last stderr lines of a retryable failure: the last one names the error.
      const lastLine = run.stderr.trimEnd().split('\n').at(-1) ?? '';
      assert.ok(lastLine.includes(status.error), `last stderr line ${lastLine}`);
      assert.ok(!existsSync(path.join(run.outputDir, 'model.onnx')), 'no model.onnx after a failed export');
    });
  }

  test('an unknown estimator exits 2', () => {
    const error = failedWithBadParams(runTrainer(ws, { estimator: 'support_vector_machine' }));
    assert.match(error, /estimator/);
    assert.match(error, /support_vector_machine/);
  });
});
