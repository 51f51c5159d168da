// The report's curves against scikit-learn's own (scripts/make-curve-fixtures.py): roc_curve, precision_recall_curve,
// calibration_curve, confusion_matrix and numpy.histogram on seeded scores, then the thinning to a bounded size.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { tableFromIPC } from 'apache-arrow';
import type { ArtifactRef } from '../../src/contracts';
import { crossValidate } from '../../src/evaluate';
import {
  MAX_CURVE_POINTS,
  calibrationCurve,
  confusionMatrix,
  histogram,
  holdoutCurves,
  precisionRecallCurve,
  rocCurve,
  thinIndices,
  type EvaluationCurves,
} from '../../src/evaluate/curves';
import { releaseSessions } from '../../src/onnx';
import { LocalArtifactStore } from '../../src/store';

interface Roc { fpr: number[]; tpr: number[]; thresholds: Array<number | null> }
interface Pr { precision: number[]; recall: number[]; thresholds: number[] }
const fixture = JSON.parse(readFileSync(path.join(import.meta.dirname, '..', 'fixtures', 'evaluate', 'curves.json'), 'utf8')) as {
  binary: Array<{ name: string; y: number[]; proba: number[]; roc: Roc; pr: Pr; calibration: { probTrue: number[]; probPred: number[] }; confusion: number[][] }>;
  multiclass: { y: number[]; proba: number[]; classes: number; oneVsRest: Array<{ roc: Roc; pr: Pr }>; confusion: number[][] };
  regression: { actual: number[]; predicted: number[]; residualHistogram: { counts: number[]; edges: number[] } };
};

/** Equal element by element within `tol` (scikit-learn divides in the same order, so 1e-12 is plenty). */
function close(actual: ReadonlyArray<number | null>, expected: ReadonlyArray<number | null>, what: string, tol = 1e-12): void {
  assert.equal(actual.length, expected.length, `${what}: ${actual.length} points, scikit-learn has ${expected.length}`);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    if (e === null || a === null) assert.equal(a, e, `${what}[${i}]`);
    else assert.ok(Math.abs(a - e) <= tol, `${what}[${i}]: ${a} vs scikit-learn ${e}`);
  }
}

/** The positive class's scores, as the evaluation reads them from the float32 probability matrix. */
function column(proba: number[], nClasses: number, c: number): Float64Array {
  const p = Float32Array.from(proba);
  return Float64Array.from({ length: p.length / nClasses }, (_, i) => p[i * nClasses + c]!);
}

describe('curves match scikit-learn', () => {
  for (const c of fixture.binary) {
    test(`${c.name}: roc_curve, precision_recall_curve, calibration_curve, confusion_matrix`, () => {
      const truth = Uint8Array.from(c.y);
      const score = column(c.proba, 2, 1);
      const roc = rocCurve(truth, score);
      assert.ok(typeof roc !== 'string', String(roc));
      close(roc.fpr, c.roc.fpr, 'fpr');
      close(roc.tpr, c.roc.tpr, 'tpr');
      close(roc.thresholds, c.roc.thresholds, 'roc thresholds');
      const pr = precisionRecallCurve(truth, score);
      assert.ok(typeof pr !== 'string', String(pr));
      close(pr.precision, c.pr.precision, 'precision');
      close(pr.recall, c.pr.recall, 'recall');
      close(pr.thresholds, c.pr.thresholds, 'pr thresholds');
      const cal = calibrationCurve(truth, score);
      close(cal.probTrue, c.calibration.probTrue, 'prob_true');
      close(cal.probPred, c.calibration.probPred, 'prob_pred');
      assert.equal(cal.count.reduce((a, b) => a + b, 0), c.y.length, 'every row is in one bin');
      assert.deepEqual(confusionMatrix(Int32Array.from(c.y), Float32Array.from(c.proba), 2).counts, c.confusion);
    });
  }

  test('three classes: one-vs-rest ROC and precision-recall per class, confusion matrix of the argmax', () => {
    const m = fixture.multiclass;
    for (let k = 0; k < m.classes; k++) {
      const truth = Uint8Array.from(m.y, (v) => (v === k ? 1 : 0));
      const roc = rocCurve(truth, column(m.proba, m.classes, k));
      const pr = precisionRecallCurve(truth, column(m.proba, m.classes, k));
      assert.ok(typeof roc !== 'string' && typeof pr !== 'string');
      close(roc.fpr, m.oneVsRest[k]!.roc.fpr, `class ${k} fpr`);
      close(roc.tpr, m.oneVsRest[k]!.roc.tpr, `class ${k} tpr`);
      close(pr.precision, m.oneVsRest[k]!.pr.precision, `class ${k} precision`);
      close(pr.recall, m.oneVsRest[k]!.pr.recall, `class ${k} recall`);
    }
    assert.deepEqual(confusionMatrix(Int32Array.from(m.y), Float32Array.from(m.proba), m.classes).counts, m.confusion);
  });

  test('residuals in numpy.histogram bins', () => {
    const r = fixture.regression;
    const predicted = Float32Array.from(r.predicted);
    const residuals = Float64Array.from(r.actual, (a, i) => a - predicted[i]!);
    const h = histogram(residuals, 20);
    close(h.edges, r.residualHistogram.edges, 'edges');
    assert.deepEqual(h.counts, r.residualHistogram.counts);
  });
});

describe('holdoutCurves', () => {
  test('a binary holdout: curves of class 1 named by the model, thinned to the bound with both ends kept', () => {
    const c = fixture.binary.find((b) => b.name === 'binary-distinct')!;
    const curves = holdoutCurves({ task: 'binary', y: Int32Array.from(c.y), probabilities: Float32Array.from(c.proba), nClasses: 2, classes: [false, true] });
    const roc = curves.roc![0]!;
    assert.equal(roc.label, 'true');
    assert.ok(c.roc.fpr.length > MAX_CURVE_POINTS, 'the fixture is longer than the bound');
    assert.ok(roc.curve.fpr.length <= MAX_CURVE_POINTS && roc.curve.fpr.length >= MAX_CURVE_POINTS - 2);
    assert.deepEqual([roc.curve.fpr[0], roc.curve.tpr[0], roc.curve.fpr.at(-1), roc.curve.tpr.at(-1)], [0, 0, 1, 1]);
    // Every kept point is one of scikit-learn's.
    const exact = new Set(c.roc.fpr.map((f, i) => `${f},${c.roc.tpr[i]}`));
    for (let i = 0; i < roc.curve.fpr.length; i++) assert.ok(exact.has(`${roc.curve.fpr[i]},${roc.curve.tpr[i]}`));
    const pr = curves.pr![0]!.curve;
    assert.ok(pr.precision.length <= MAX_CURVE_POINTS);
    assert.equal(pr.recall.at(-1), 0);
    assert.equal(pr.precision.at(-1), 1);
    assert.equal(curves.calibration?.bins, 10);
    assert.deepEqual(curves.confusion?.counts, c.confusion);
    assert.deepEqual(curves.confusion?.actual, ['false', 'true']);
  });

  test('a holdout without positives: the curves that need them are left out with the reason', () => {
    const curves = holdoutCurves({ task: 'binary', y: Int32Array.from([0, 0, 0]), probabilities: Float32Array.from([0.9, 0.1, 0.4, 0.6, 0.7, 0.3]), nClasses: 2, classes: [0, 1] });
    assert.deepEqual(curves.roc, []);
    assert.deepEqual(curves.notes, ['ROC of 1: the holdout has no positive rows', 'precision-recall of 1: the holdout has no positive rows']);
    assert.deepEqual(curves.confusion?.counts, [[2, 1], [0, 0]]);
  });

  test('a label the model never saw: its own confusion row, a negative in the curves', () => {
    const curves = holdoutCurves({ task: 'binary', y: Int32Array.from([0, 1, -1]), probabilities: Float32Array.from([0.8, 0.2, 0.3, 0.7, 0.4, 0.6]), nClasses: 2, classes: ['no', 'yes'] });
    assert.deepEqual(curves.confusion, { actual: ['no', 'yes', 'a label the model never saw'], predicted: ['no', 'yes'], counts: [[1, 0], [0, 1], [0, 1]] });
    assert.deepEqual(curves.roc![0]!.curve.fpr.at(-1), 1);
  });

  test('regression: an evenly spaced (actual, predicted) sample and every residual in the histogram', () => {
    const r = fixture.regression;
    const curves = holdoutCurves({ task: 'regression', y: Float64Array.from(r.actual), predictions: Float32Array.from(r.predicted) }, 100);
    assert.equal(curves.predictedVsActual?.rows, r.actual.length);
    assert.equal(curves.predictedVsActual?.actual.length, 100);
    assert.equal(curves.predictedVsActual?.actual[0], r.actual[0]);
    assert.equal(curves.predictedVsActual?.actual.at(-1), r.actual.at(-1));
    assert.deepEqual(curves.residuals?.counts, r.residualHistogram.counts);
  });

  test('thinIndices keeps short curves whole and long ones within the bound', () => {
    assert.deepEqual(thinIndices(3, 5), [0, 1, 2]);
    assert.deepEqual(thinIndices(11, 6), [0, 2, 4, 6, 8, 10]);
    const many = thinIndices(100_000, 200);
    assert.equal(many.length, 200);
    assert.equal(many.at(-1), 99_999);
  });
});

describe('crossValidate stores the holdout curves from the outputs its metrics came from', () => {
  // Models and data of scripts/make-onnx-fixtures.py, as in cross-validate.test.ts.
  const dir = path.join(import.meta.dirname, '..', 'fixtures', 'onnx');
  const expected = JSON.parse(readFileSync(path.join(dir, 'expected.json'), 'utf8')) as { numeric: string[]; categorical: string[]; rows: number; classifierBinary: { classes: number[] } };
  const table = tableFromIPC(readFileSync(path.join(dir, 'tiny.arrow')));
  const fold = Int8Array.from({ length: expected.rows }, (_, i) => (i >= 240 ? -1 : i % 3));
  const storeDir = mkdtempSync(path.join(os.tmpdir(), 'relearn-curves-'));
  const store = new LocalArtifactStore(storeDir);
  after(async () => {
    await releaseSessions();
    rmSync(storeDir, { recursive: true, force: true });
  });
  const ref = (name: string): ArtifactRef => {
    const bytes = readFileSync(path.join(dir, name));
    return { uri: name, sha256: createHash('sha256').update(bytes).digest('hex'), sizeBytes: bytes.length };
  };
  const common = {
    table,
    fold,
    features: { numeric: expected.numeric, categorical: expected.categorical },
    readModel: async (r: ArtifactRef) => new Uint8Array(readFileSync(path.join(dir, r.uri))),
    storeCurves: (curves: EvaluationCurves) => store.putJson('curves', 'holdout-curves.json', curves),
  };

  test('binary: the area under the ROC curve is the holdout ROC AUC, the confusion matrix gives its accuracy', async () => {
    const model = ref('classifier-binary.onnx');
    const evaluation = await crossValidate({
      ...common,
      folds: [0, 1, 2].map((f) => ({ fold: f, artifact: model })),
      candidate: model,
      champion: { artifact: model, classes: expected.classifierBinary.classes },
      task: 'binary',
      label: 'label',
      classes: expected.classifierBinary.classes,
    });
    const stored = evaluation.holdout.curves;
    assert.ok(stored, 'the evaluation names its curves');
    assert.match(stored.uri, /^store:\/\/curves\//);
    const curves = JSON.parse((await store.readVerified(stored)).toString('utf8')) as EvaluationCurves;
    assert.equal(curves.task, 'binary');
    assert.equal(curves.holdoutRows, 60);
    const roc = curves.candidate.roc![0]!.curve;
    let area = 0;
    for (let i = 1; i < roc.fpr.length; i++) area += ((roc.fpr[i]! - roc.fpr[i - 1]!) * (roc.tpr[i]! + roc.tpr[i - 1]!)) / 2;
    assert.ok(Math.abs(area - evaluation.holdout.candidate.roc_auc!) < 1e-9, `area ${area} vs roc_auc ${evaluation.holdout.candidate.roc_auc}`);
    const counts = curves.candidate.confusion!.counts;
    const total = counts.flat().reduce((a, b) => a + b, 0);
    assert.equal(total, 60);
    assert.ok(Math.abs((counts[0]![0]! + counts[1]![1]!) / total - evaluation.holdout.candidate.accuracy!) < 1e-12);
    assert.deepEqual(curves.champion, curves.candidate, 'the champion (the same model here) is scored on the same rows');
  });

  test('regression: every holdout row in the residual histogram, a sample of its predictions', async () => {
    const model = ref('regressor.onnx');
    const evaluation = await crossValidate({ ...common, folds: [0, 1, 2].map((f) => ({ fold: f, artifact: model })), candidate: model, task: 'regression', label: 'target', classes: undefined });
    const curves = JSON.parse((await store.readVerified(evaluation.holdout.curves!)).toString('utf8')) as EvaluationCurves;
    assert.equal(curves.candidate.residuals!.counts.reduce((a, b) => a + b, 0), 60);
    assert.equal(curves.candidate.predictedVsActual!.actual.length, 60);
    assert.equal(curves.champion, undefined);
  });
});
