// Every estimator the reference trainer offers × every task it supports, on real tables that npm packages ship: each
// cell pulls its snapshot with the project's own data code (src/data), splits it as a run does (src/split), trains the
// final model through the real trainer (trainers/sklearn/train.py with a job spec) and checks its model.onnx against
// the trainer's native probe outputs with onnxruntime-node (src/onnx checkParity) within the default parity tolerance
// of temporal.yaml. The results go to .relearn-test/estimator-matrix.json; scripts/estimator-matrix-report.ts renders
// them into docs/estimators.md.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import type { Table } from 'apache-arrow';
import * as ort from 'onnxruntime-node';
import { ESTIMATOR_PARAMS } from '../../src/config/estimator-params';
import { type ModelConfig, modelSchema } from '../../src/config/schema';
import { pullSnapshot, readSnapshot } from '../../src/data';
import { type JobSpec, jobStatusSchema, probeSchema } from '../../src/jobs/contract';
import { checkParity, openSession, releaseSessions } from '../../src/onnx';
import { RELEARN_ROOT, VENV_PYTHON } from '../../src/paths';
import { trainFoldsOf } from '../../src/contracts';
import { splitTable } from '../../src/split/split-table';

const run = promisify(execFile);
const TRAIN_PY = path.join(RELEARN_ROOT, 'trainers', 'sklearn', 'train.py');
const DATA = path.join(RELEARN_ROOT, 'node_modules', 'vega-datasets', 'data');
/** Where the results go for scripts/estimator-matrix-report.ts. */
const MATRIX_RESULTS = process.env.RELEARN_ESTIMATOR_MATRIX ?? path.join(RELEARN_ROOT, '.relearn-test', 'estimator-matrix.json');

type Task = ModelConfig['task'];
const TASKS: readonly Task[] = ['binary', 'multiclass', 'regression'];

/** One dataset: a source as a user would write it in temporal.yaml, and a label and features per task. */
interface MatrixDataset {
  name: string;
  source: Record<string, unknown>;
  /** What the task predicts, in words, for the report. */
  tasks: Record<Task, { label: string; numeric: string[]; categorical: string[]; what: string }>;
}

const DATASETS: MatrixDataset[] = [
  {
    // Daily weather: decimal measurements on a 0.1 grid, where tree thresholds (midpoints of two values) often fall
    // exactly on a third value; the case float64 scikit-learn and float32 ONNX used to split differently.
    name: 'seattle-weather.csv',
    source: {
      path: path.join(DATA, 'seattle-weather.csv'),
      timeColumn: 'date',
      derive: [
        { name: 'month', from: 'date', op: 'month' },
        { name: 'wet', from: 'precipitation', op: 'greaterThan', value: 0 },
      ],
    },
    tasks: {
      binary: { label: 'wet', numeric: ['temp_max', 'temp_min', 'wind', 'month'], categorical: [], what: 'precipitation > 0' },
      multiclass: { label: 'weather', numeric: ['precipitation', 'temp_max', 'temp_min', 'wind', 'month'], categorical: [], what: '5 kinds of weather' },
      regression: { label: 'temp_max', numeric: ['precipitation', 'temp_min', 'wind', 'month'], categorical: [], what: 'daily high, °C' },
    },
  },
  {
    // Bird strikes on aircraft: column names with spaces and `$`, integer columns with nulls (imputed), many
    // categories (one-hot, sparse). A seeded sample of 4,000 of its 10,000 rows keeps the forests quick.
    name: 'birdstrikes.csv',
    source: {
      path: path.join(DATA, 'birdstrikes.csv'),
      timeColumn: 'Flight Date',
      sample: { maxRows: 4000, seed: 1 },
      derive: [
        { name: 'month', from: 'Flight Date', op: 'month' },
        { name: 'costly', from: 'Cost Total $', op: 'greaterThan', value: 0 },
      ],
    },
    tasks: {
      binary: {
        label: 'costly',
        numeric: ['Speed IAS in knots', 'month'],
        categorical: ['Wildlife Size', 'Phase of flight', 'Time of day', 'Origin State', 'Aircraft Airline Operator'],
        what: 'Cost Total $ > 0',
      },
      multiclass: {
        label: 'Wildlife Size',
        numeric: ['Speed IAS in knots', 'Cost Total $', 'month'],
        categorical: ['Phase of flight', 'Time of day', 'Origin State', 'Aircraft Airline Operator'],
        what: 'Small, Medium, Large',
      },
      regression: {
        label: 'Cost Total $',
        numeric: ['Speed IAS in knots', 'month'],
        categorical: ['Wildlife Size', 'Phase of flight', 'Time of day', 'Origin State', 'Effect Amount of damage'],
        what: 'cost of the strike, $',
      },
    },
  },
  {
    // Car models 1970–1982 from a JSON array: numeric columns with nulls, a three-class origin, weights in pounds.
    name: 'cars.json',
    source: {
      path: path.join(DATA, 'cars.json'),
      timeColumn: 'Year',
      derive: [{ name: 'over_4_cylinders', from: 'Cylinders', op: 'greaterThan', value: 4 }],
    },
    tasks: {
      binary: {
        label: 'over_4_cylinders',
        numeric: ['Miles_per_Gallon', 'Horsepower', 'Weight_in_lbs', 'Acceleration'],
        categorical: ['Origin'],
        what: 'Cylinders > 4',
      },
      multiclass: {
        label: 'Origin',
        numeric: ['Miles_per_Gallon', 'Cylinders', 'Displacement', 'Horsepower', 'Weight_in_lbs', 'Acceleration'],
        categorical: [],
        what: 'USA, Europe, Japan',
      },
      regression: {
        label: 'Weight_in_lbs',
        numeric: ['Miles_per_Gallon', 'Cylinders', 'Displacement', 'Horsepower', 'Acceleration'],
        categorical: ['Origin'],
        what: 'weight, lb',
      },
    },
  },
];

/** The tasks an estimator supports, from the trainer's own list (a classifier does binary and multiclass). */
function tasksOf(estimator: string): Task[] {
  const kinds = ESTIMATOR_PARAMS[estimator] ?? {};
  return TASKS.filter((task) => (task === 'regression' ? kinds.regressor : kinds.classifier) !== undefined);
}

/** A dataset's task as a model block of temporal.yaml, parsed with the config's own schema (so its defaults apply). */
function modelConfig(dataset: MatrixDataset, task: Task): ModelConfig {
  const { label, numeric, categorical } = dataset.tasks[task];
  return modelSchema.parse({ task, source: dataset.source, features: { numeric, categorical }, label });
}

/** A dataset × task made ready for its jobs: the snapshot and split files, probe rows, the config it came from. */
interface Prepared {
  config: ModelConfig;
  table: Table;
  snapshotPath: string;
  splitPath: string;
  folds: number[];
  probeRows: number[];
}

async function prepare(dir: string, dataset: MatrixDataset, task: Task): Promise<Prepared> {
  const config = modelConfig(dataset, task);
  const pulled = await pullSnapshot({
    source: config.source,
    contract: config.contract,
    requiredColumns: [...config.features.numeric, ...config.features.categorical, config.label],
  });
  const folder = path.join(dir, `${dataset.name}-${task}`);
  mkdirSync(folder, { recursive: true });
  const snapshotPath = path.join(folder, 'snapshot.arrow');
  writeFileSync(snapshotPath, pulled.bytes);
  const table = readSnapshot(snapshotPath);
  const split = splitTable(table, { split: config.split, task, label: config.label, probeRows: config.trainer.probeRows });
  const splitPath = path.join(folder, 'split.arrow');
  writeFileSync(splitPath, split.bytes);
  // The final model's folds, as the retrain workflow picks them: every row before the holdout.
  const folds = trainFoldsOf({ folds: config.split.folds, forwardChaining: split.assignment.firstBlockRows !== undefined }, 'final');
  return { config, table, snapshotPath, splitPath, folds, probeRows: split.assignment.probeRows };
}

/** One cell's outcome, as the report shows it (scripts/estimator-matrix-report.ts reads it). */
interface MatrixCell {
  dataset: string;
  task: Task;
  estimator: string;
  label: string;
  what: string;
  snapshotRows: number;
  trainRows: number;
  probeRows: number;
  features: { numeric: number; categorical: number };
  maxAbsDiff: number | null;
  /** max |Δ| / max(1, |native|), what the tolerance bounds (the same as maxAbsDiff for probabilities). */
  maxScaledDiff: number | null;
  /** max(1, largest |native| output on the probe rows): the tolerance is relative to it. */
  scale: number | null;
  tolerance: number;
  passed: boolean;
  error?: string;
  trainSeconds: number;
}

describe('estimator matrix: every estimator × task × real dataset exports with ONNX parity', { concurrency: 2, timeout: 600_000 }, () => {
  let dir: string;
  const prepared = new Map<string, Promise<Prepared>>();
  const cells: MatrixCell[] = [];
  const versions: Record<string, string> = {};

  before(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'relearn-estimator-matrix-'));
  });

  after(async () => {
    await releaseSessions();
    rmSync(dir, { recursive: true, force: true });
    const order = (c: MatrixCell) => [DATASETS.findIndex((d) => d.name === c.dataset), TASKS.indexOf(c.task), Object.keys(ESTIMATOR_PARAMS).indexOf(c.estimator)];
    cells.sort((a, b) => {
      const [x, y] = [order(a), order(b)];
      return x[0]! - y[0]! || x[1]! - y[1]! || x[2]! - y[2]!;
    });
    mkdirSync(path.dirname(MATRIX_RESULTS), { recursive: true });
    writeFileSync(MATRIX_RESULTS, `${JSON.stringify({ at: new Date().toISOString(), versions, cells }, null, 2)}\n`);
  });

  /** Prepared once per dataset × task, by the first of its cells to run. */
  function preparedFor(dataset: MatrixDataset, task: Task): Promise<Prepared> {
    const key = `${dataset.name}/${task}`;
    let p = prepared.get(key);
    if (p === undefined) prepared.set(key, (p = prepare(dir, dataset, task)));
    return p;
  }

  for (const dataset of DATASETS) {
    for (const estimator of Object.keys(ESTIMATOR_PARAMS)) {
      for (const task of tasksOf(estimator)) {
        it(`${dataset.name} · ${task} (${dataset.tasks[task].label}) · ${estimator}`, async () => {
          const p = await preparedFor(dataset, task);
          const outputDir = path.join(dir, `${dataset.name}-${task}`, estimator);
          const spec: JobSpec = {
            jobId: `estimator-matrix-${dataset.name}-${task}-${estimator}-final`,
            role: 'final',
            task,
            snapshotPath: p.snapshotPath,
            splitPath: p.splitPath,
            trainFolds: p.folds,
            features: p.config.features,
            label: p.config.label,
            estimator,
            params: {},
            seed: p.config.trainer.seed,
            probeRows: p.probeRows,
            outputDir,
          };
          mkdirSync(outputDir, { recursive: true });
          const specPath = path.join(outputDir, '..', `${estimator}.spec.json`);
          writeFileSync(specPath, JSON.stringify(spec));
          const started = Date.now();
          // Two jobs at a time on two cores: one OpenMP thread each (hist_gradient_boosting's default of one thread per
          // core made each job ten times slower while the other ran).
          const job = await run(VENV_PYTHON, [TRAIN_PY, specPath], { env: { ...process.env, OMP_NUM_THREADS: '1' }, timeout: 300_000 }).catch(
            (err: { code?: number; stdout?: string; stderr?: string }) => {
              assert.fail(`trainer exited ${err.code}:\n${err.stdout ?? ''}\n${err.stderr ?? ''}`);
            },
          );
          const trainSeconds = (Date.now() - started) / 1000;
          const status = jobStatusSchema.parse(JSON.parse(readFileSync(path.join(outputDir, 'status.json'), 'utf8')));
          assert.equal(status.status, 'succeeded', job.stdout);
          if (status.status !== 'succeeded') return;
          Object.assign(versions, status.versions, { 'onnxruntime-node': ort.env.versions.node ?? '?' });
          const probe = probeSchema.parse(JSON.parse(readFileSync(path.join(outputDir, 'probe.json'), 'utf8')));
          const tolerance = p.config.export.parityTolerance;
          const cell: MatrixCell = {
            dataset: dataset.name,
            task,
            estimator,
            label: p.config.label,
            what: dataset.tasks[task].what,
            snapshotRows: p.table.numRows,
            trainRows: status.trainRows,
            probeRows: p.probeRows.length,
            features: { numeric: p.config.features.numeric.length, categorical: p.config.features.categorical.length },
            maxAbsDiff: null,
            maxScaledDiff: null,
            scale: null,
            tolerance,
            passed: false,
            trainSeconds,
          };
          cells.push(cell);
          // Opened as Relearn opens a model: the session knows which ONNX input each feature feeds.
          const session = await openSession(path.join(outputDir, 'model.onnx'));
          try {
            const parity = await checkParity({
              session,
              table: p.table,
              probeRows: p.probeRows,
              features: p.config.features,
              task,
              expected: probe,
              tolerance,
              modelName: `${dataset.name} ${task} ${estimator}`,
            });
            cell.maxAbsDiff = parity.maxAbsDiff;
            cell.maxScaledDiff = parity.maxScaledDiff;
            cell.scale = parity.scale;
            cell.passed = true;
          } catch (err) {
            cell.error = (err as Error).message;
            throw err;
          }
        });
      }
    }
  }
});
