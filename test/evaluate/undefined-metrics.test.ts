// Cross-validation records why a metric has no value on a fold or on the holdout, from real ONNX models scored by
// onnxruntime on the fixture table (scripts/make-onnx-fixtures.py); the rules themselves are checked against
// scikit-learn in test/metrics/undefined.test.ts.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { tableFromIPC } from 'apache-arrow';
import type { ArtifactRef } from '../../src/contracts';
import { crossValidate } from '../../src/evaluate';
import { releaseSessions } from '../../src/onnx';

const FIXTURES = path.join(import.meta.dirname, '..', 'fixtures', 'onnx');
const expected = JSON.parse(readFileSync(path.join(FIXTURES, 'expected.json'), 'utf8')) as { numeric: string[]; categorical: string[]; rows: number };
const table = tableFromIPC(readFileSync(path.join(FIXTURES, 'tiny.arrow')));
const features = { numeric: expected.numeric, categorical: expected.categorical };
const readModel = async (r: ArtifactRef) => new Uint8Array(readFileSync(path.join(FIXTURES, r.uri)));

after(releaseSessions);

function ref(name: string): ArtifactRef {
  const bytes = readFileSync(path.join(FIXTURES, name));
  return { uri: name, sha256: createHash('sha256').update(bytes).digest('hex'), sizeBytes: bytes.length };
}

const label3 = table.getChild('label3')!;
const classOf = (row: number) => Number(label3.get(row));

describe('crossValidate explains undefined metrics', () => {
  test('a class missing from one fold and from the holdout: ROC AUC undefined there, with the class and the rows', async () => {
    // Rows 0-239 in three round-robin folds, except that fold 2 (index 1) and the holdout (rows 240-299) keep no row
    // of class 2; the rows of class 2 dropped from them sit outside every set (fold value 9).
    const fold = Int8Array.from({ length: expected.rows }, (_, i) => {
      const set = i >= 240 ? -1 : i % 3;
      return (set === -1 || set === 1) && classOf(i) === 2 ? 9 : set;
    });
    const holdoutRows = [...fold].filter((f) => f === -1).length;
    const fold2Rows = [...fold].filter((f) => f === 1).length;
    const model = ref('classifier-3class.onnx');
    const evaluation = await crossValidate({
      table,
      fold,
      folds: [0, 1, 2].map((f) => ({ fold: f, artifact: model })),
      candidate: model,
      champion: { artifact: model, classes: [0, 1, 2] },
      task: 'multiclass',
      features,
      label: 'label3',
      classes: [0, 1, 2],
      readModel,
    });
    const missingInHoldout = `class '2' never occurs in the ${holdoutRows} rows of the holdout`;
    const missingInFold2 = `class '2' never occurs in the ${fold2Rows} rows of fold 2`;
    assert.deepEqual(evaluation.undefined, {
      perFold: [{}, { roc_auc: missingInFold2 }, {}],
      summary: { roc_auc: missingInFold2 },
      holdout: { candidate: { roc_auc: missingInHoldout }, champion: { roc_auc: missingInHoldout } },
    });
    assert.ok(Number.isNaN(evaluation.holdout.candidate.roc_auc!), 'the number stays NaN, as scikit-learn returns it');
    assert.ok(Number.isNaN(evaluation.summary.roc_auc!.mean));
    assert.ok(Number.isFinite(evaluation.holdout.candidate.log_loss!), 'log loss over the model’s classes is defined');
    assert.ok(Number.isFinite(evaluation.perFold[0]!.roc_auc!), 'fold 1 has every class');
  });

  test('everything defined: the evaluation has no undefined field at all, as before', async () => {
    const fold = Int8Array.from({ length: expected.rows }, (_, i) => (i >= 240 ? -1 : i % 3));
    const model = ref('classifier-binary.onnx');
    const evaluation = await crossValidate({
      table,
      fold,
      folds: [0, 1, 2].map((f) => ({ fold: f, artifact: model })),
      candidate: model,
      task: 'binary',
      features,
      label: 'label',
      classes: [0, 1],
      readModel,
    });
    assert.equal('undefined' in evaluation, false);
  });

  test('a holdout of one row: R² undefined on it, RMSE and MAE defined', async () => {
    const fold = Int8Array.from({ length: expected.rows }, (_, i) => (i === 299 ? -1 : i % 3));
    const model = ref('regressor.onnx');
    const evaluation = await crossValidate({
      table,
      fold,
      folds: [0, 1, 2].map((f) => ({ fold: f, artifact: model })),
      candidate: model,
      task: 'regression',
      features,
      label: 'target',
      classes: undefined,
      readModel,
    });
    assert.deepEqual(evaluation.undefined, { holdout: { candidate: { r2: 'R² needs at least two rows, and the holdout has only one' } } });
  });
});
