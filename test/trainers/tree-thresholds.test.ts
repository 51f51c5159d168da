// Tree thresholds in float32: a tree's threshold is the midpoint of two training values (0.1 and 0.5 → 0.3 in float64),
// and the ONNX model holds it as a float32 and is fed float32 inputs. A value unseen in training that sits right on the
// threshold (0.3) must go down the same branch in ONNX as in scikit-learn, for every tree estimator; it did not for
// hist_gradient_boosting, whose thresholds skl2onnx rounded to the nearest float32 (0.3f, above the float64 0.3).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { Float64, Int32, Int8, Table, tableFromIPC, tableToIPC, vectorFromArray } from 'apache-arrow';
import * as ort from 'onnxruntime-node';
import { type JobSpec, jobStatusSchema, probeSchema } from '../../src/jobs/contract';
import { checkParity } from '../../src/onnx/parity';
import { RELEARN_ROOT, VENV_PYTHON } from '../../src/paths';

const run = promisify(execFile);
const TRAIN_PY = path.join(RELEARN_ROOT, 'trainers', 'sklearn', 'train.py');
const TOLERANCE = 1e-4;
// Training values come in pairs (low, high); the probe value is on the pair's midpoint, which the float32 nearest to it
// lies above: float32(0.3) > (float32(0.1) + float32(0.5)) / 2 computed in float64 (scripts would find many such).
const PAIRS: Array<[low: number, high: number, between: number]> = [
  [0.1, 0.5, 0.3],
  [2.2, 2.8, 2.5],
];
const TRAIN_ROWS = 400;
const PROBES = 40;

describe('tree thresholds: a value on a threshold takes the same branch in ONNX as in scikit-learn', { concurrency: 2 }, () => {
  let dir: string;
  let table: Table;

  before(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'relearn-tree-thresholds-'));
    const x: number[] = [];
    const pair: number[] = [];
    const high: number[] = [];
    const target: number[] = [];
    for (let i = 0; i < TRAIN_ROWS + PROBES; i++) {
      const k = i % PAIRS.length;
      const [lo, hi, mid] = PAIRS[k]!;
      const isHigh = Math.floor(i / PAIRS.length) % 2;
      const value = i < TRAIN_ROWS ? (isHigh ? hi : lo) : mid;
      x.push(value);
      pair.push(k);
      high.push(value > mid ? 1 : 0);
      target.push(10 * value);
    }
    table = new Table({
      x: vectorFromArray(x, new Float64()),
      pair: vectorFromArray(pair, new Int32()),
      high: vectorFromArray(high, new Int32()),
      target: vectorFromArray(target, new Float64()),
    });
    writeFileSync(path.join(dir, 'snapshot.arrow'), tableToIPC(table, 'file'));
    table = tableFromIPC(readFileSync(path.join(dir, 'snapshot.arrow')));
    const folds = Array.from({ length: TRAIN_ROWS + PROBES }, (_, i) => (i < TRAIN_ROWS ? i % 5 : -1));
    writeFileSync(path.join(dir, 'split.arrow'), tableToIPC(new Table({ fold: vectorFromArray(folds, new Int8()) }), 'file'));
  });

  after(() => rmSync(dir, { recursive: true, force: true }));

  const probeRows = Array.from({ length: PROBES }, (_, i) => TRAIN_ROWS + i);
  for (const estimator of ['random_forest', 'gradient_boosting', 'hist_gradient_boosting']) {
    for (const task of ['binary', 'regression'] as const) {
      it(`${estimator} ${task}`, async () => {
        const outputDir = path.join(dir, `${estimator}-${task}`);
        const features = { numeric: ['x', 'pair'], categorical: [] };
        const spec: JobSpec = {
          jobId: `tree-thresholds-${estimator}-${task}`,
          role: 'final',
          task,
          snapshotPath: path.join(dir, 'snapshot.arrow'),
          splitPath: path.join(dir, 'split.arrow'),
          trainFolds: [0, 1, 2, 3, 4],
          features,
          label: task === 'binary' ? 'high' : 'target',
          estimator,
          params: {},
          seed: 42,
          probeRows,
          outputDir,
        };
        const specPath = path.join(dir, `${estimator}-${task}.json`);
        writeFileSync(specPath, JSON.stringify(spec));
        await run(VENV_PYTHON, [TRAIN_PY, specPath], { env: { ...process.env, OMP_NUM_THREADS: '1' } });
        const status = jobStatusSchema.parse(JSON.parse(readFileSync(path.join(outputDir, 'status.json'), 'utf8')));
        assert.equal(status.status, 'succeeded');
        const probe = probeSchema.parse(JSON.parse(readFileSync(path.join(outputDir, 'probe.json'), 'utf8')));
        const session = await ort.InferenceSession.create(path.join(outputDir, 'model.onnx'));
        try {
          const parity = await checkParity({ session, table, probeRows, features, task, expected: probe, tolerance: TOLERANCE });
          assert.ok(parity.maxAbsDiff <= TOLERANCE);
        } finally {
          await session.release();
        }
      });
    }
  }
});
