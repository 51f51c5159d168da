import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import type { ArtifactRef } from '../../src/contracts';
import { DataContractError } from '../../src/errors';
import { type CrossValidateProgress, crossValidate } from '../../src/evaluate';
import { computeMetrics, summarizeFolds } from '../../src/metrics';
import { releaseSessions } from '../../src/onnx';
import { FIXTURES, expected, features, table } from '../helpers/onnx-fixtures';

// ONNX (float32) against scikit-learn (float64): metrics of the same rows agree to this much.
const TOLERANCE = 1e-5;

after(releaseSessions);

/** A reference to a fixture model, as the store would hand it out. */
function ref(name: string): ArtifactRef {
  const bytes = readFileSync(path.join(FIXTURES, name));
  return { uri: name, sha256: createHash('sha256').update(bytes).digest('hex'), sizeBytes: bytes.length };
}

/** Reads fixture models by their reference, and remembers which were read. */
function modelReader() {
  const read: string[] = [];
  return {
    read,
    readModel: async (r: ArtifactRef): Promise<Uint8Array> => {
      read.push(r.uri);
      return new Uint8Array(readFileSync(path.join(FIXTURES, r.uri)));
    },
  };
}

// Three folds dealt round-robin over the first 240 rows; the last 60 are the holdout.
const HOLDOUT_FROM = 240;
const FOLDS = 3;
const fold = Int8Array.from({ length: expected.rows }, (_, i) => (i >= HOLDOUT_FROM ? -1 : i % FOLDS));
const rowsOf = (value: number): number[] => [...fold.keys()].filter((i) => fold[i] === value);

function labels(column: string, rows: number[]): Int32Array {
  const values = table.getChild(column)!;
  return Int32Array.from(rows, (r) => Number(values.get(r)));
}

function assertMetricsClose(actual: Record<string, number> | undefined, reference: Record<string, number>, what: string): void {
  assert.ok(actual !== undefined, `${what}: missing`);
  assert.deepEqual(Object.keys(actual).sort(), Object.keys(reference).sort(), `${what}: metric names`);
  for (const [name, value] of Object.entries(reference)) {
    if (Number.isNaN(value)) {
      assert.ok(Number.isNaN(actual[name]), `${what} ${name}: onnx ${actual[name]} vs sklearn NaN`);
      continue;
    }
    const diff = Math.abs(actual[name]! - value);
    assert.ok(diff <= TOLERANCE * Math.max(1, Math.abs(value)), `${what} ${name}: onnx ${actual[name]} vs sklearn ${value} (|diff| ${diff})`);
  }
}

describe('crossValidate', () => {
  test('binary: per-fold and holdout metrics are those of scikit-learn outputs on the same rows, the summary is summarizeFolds', async () => {
    const reader = modelReader();
    const progress: CrossValidateProgress[] = [];
    const model = ref('classifier-binary.onnx');
    const evaluation = await crossValidate({
      table,
      fold,
      folds: Array.from({ length: FOLDS }, (_, f) => ({ fold: f, artifact: model })),
      candidate: model,
      champion: { artifact: model, classes: expected.classifierBinary.classes },
      task: 'binary',
      features,
      label: 'label',
      classes: expected.classifierBinary.classes,
      readModel: reader.readModel,
      onProgress: (p) => progress.push(p),
    });
    const reference = (rows: number[]): Record<string, number> => ({
      ...computeMetrics('binary', labels('label', rows), Float64Array.from(rows.flatMap((r) => expected.classifierBinary.probabilities[r]!)), 2),
    });

    assert.equal(evaluation.perFold.length, FOLDS);
    for (let f = 0; f < FOLDS; f++) assertMetricsClose(evaluation.perFold[f], reference(rowsOf(f)), `fold ${f}`);
    for (const [metric, s] of Object.entries(evaluation.summary)) {
      const { mean, std, ciLow, ciHigh } = summarizeFolds(evaluation.perFold.map((m) => m[metric]!));
      assert.deepEqual(s, { mean, std, ciLow, ciHigh }, metric);
    }
    assert.deepEqual(Object.keys(evaluation.summary).sort(), Object.keys(evaluation.perFold[0]!).sort());

    const holdout = rowsOf(-1);
    assert.equal(evaluation.holdout.rows, holdout.length);
    assertMetricsClose(evaluation.holdout.candidate, reference(holdout), 'holdout candidate');
    assert.deepEqual(evaluation.holdout.champion, evaluation.holdout.candidate);
    assert.equal(evaluation.rowsScored, HOLDOUT_FROM + 2 * holdout.length);

    assert.equal(reader.read.length, FOLDS + 2, 'every model is read through the reader');
    assert.deepEqual(
      progress.filter((p) => p.stage.endsWith('done')),
      [
        { stage: 'fold 0 done', rows: 80 },
        { stage: 'fold 1 done', rows: 160 },
        { stage: 'fold 2 done', rows: 240 },
      ],
    );
    assert.ok(progress.every((p, i) => i === 0 || p.rows >= progress[i - 1]!.rows), 'progress never goes back');
  });

  test('regression without a candidate (a search trial): folds only, the holdout left unscored', async () => {
    const reader = modelReader();
    const model = ref('regressor.onnx');
    const evaluation = await crossValidate({
      table,
      fold,
      folds: Array.from({ length: FOLDS }, (_, f) => ({ fold: f, artifact: model })),
      task: 'regression',
      features,
      label: 'target',
      classes: undefined,
      readModel: reader.readModel,
    });
    const targets = table.getChild('target')!;
    for (let f = 0; f < FOLDS; f++) {
      const rows = rowsOf(f);
      const reference = computeMetrics(
        'regression',
        Float64Array.from(rows, (r) => targets.get(r) as number),
        Float64Array.from(rows, (r) => expected.regressor.predictions[r]!),
      );
      assertMetricsClose(evaluation.perFold[f], { ...reference }, `fold ${f}`);
    }
    assert.deepEqual(evaluation.holdout, { rows: 0, candidate: {} });
    assert.equal(evaluation.rowsScored, HOLDOUT_FROM);
    assert.equal(reader.read.length, FOLDS);
  });

  test('a label the model never saw is a wrong answer in every row it appears in (class -1), binary and multiclass', async () => {
    // label3 holds 0, 1 and 2: a binary model of classes [0, 1] never saw 2; a 3-class model told its classes are
    // [0, 1, 5] never saw 2 either (and its third class never occurs).
    const holdout = rowsOf(-1);
    const y3 = labels('label3', holdout);
    const unseen = y3.filter((v) => v === 2).length;
    assert.ok(unseen > 0 && unseen < holdout.length, 'the holdout has seen and unseen labels');
    const argmax = (p: number[]): number => p.indexOf(Math.max(...p));
    const evaluate = (model: string, task: 'binary' | 'multiclass', classes: number[]) =>
      crossValidate({ table, fold, folds: [], candidate: ref(model), task, features, label: 'label3', classes, readModel: modelReader().readModel });

    const binary = (await evaluate('classifier-binary.onnx', 'binary', [0, 1])).holdout.candidate;
    const pBinary = holdout.map((r) => expected.classifierBinary.probabilities[r]!);
    const rightBinary = holdout.filter((_, i) => y3[i] !== 2 && argmax(pBinary[i]!) === y3[i]).length;
    assert.ok(Math.abs(binary.accuracy! - rightBinary / holdout.length) <= TOLERANCE, `accuracy ${binary.accuracy} vs ${rightBinary}/${holdout.length}`);
    // Class 1 stays the positive class: for precision, recall, F1 and ROC AUC the unseen label is a negative.
    const positive = computeMetrics('binary', y3.map((v) => (v === 1 ? 1 : 0)), Float64Array.from(pBinary.flat()), 2);
    assertMetricsClose({ precision: binary.precision!, recall: binary.recall!, f1: binary.f1!, roc_auc: binary.roc_auc! }, {
      precision: positive.precision,
      recall: positive.recall,
      f1: positive.f1,
      roc_auc: positive.roc_auc,
    }, 'binary, unseen label');
    // The true class of an unseen row has probability 0, clipped to machine epsilon.
    assert.ok(binary.log_loss! >= (unseen / holdout.length) * -Math.log(Number.EPSILON), `log_loss ${binary.log_loss}`);

    const multi = (await evaluate('classifier-3class.onnx', 'multiclass', [0, 1, 5])).holdout.candidate;
    const p3 = holdout.map((r) => expected.classifier3Class.probabilities[r]!);
    const right3 = holdout.filter((_, i) => y3[i] !== 2 && argmax(p3[i]!) === y3[i]).length;
    assert.ok(Math.abs(multi.accuracy! - right3 / holdout.length) <= TOLERANCE, `accuracy ${multi.accuracy} vs ${right3}/${holdout.length}`);
    // scikit-learn's numbers for the problem widened by the unseen class, which the model gives probability 0.
    const widened = Float64Array.from(p3.flatMap((p) => [...p, 0]));
    assertMetricsClose(multi, { ...computeMetrics('multiclass', y3.map((v) => (v === 2 ? 3 : v)), widened, 4) }, 'multiclass, unseen label');
  });

  test('a split of another length than the snapshot is a data contract error, before any model is read', async () => {
    const reader = modelReader();
    await assert.rejects(
      crossValidate({
        table,
        fold: fold.subarray(1),
        folds: [{ fold: 0, artifact: ref('classifier-binary.onnx') }],
        task: 'binary',
        features,
        label: 'label',
        classes: [0, 1],
        readModel: reader.readModel,
      }),
      (err: unknown) => err instanceof DataContractError && err.message === `split has ${expected.rows - 1} rows but the snapshot has ${expected.rows}`,
    );
    assert.equal(reader.read.length, 0);
  });
});
