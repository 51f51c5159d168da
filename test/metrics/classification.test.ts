import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  CLASSIFICATION_METRIC_NAMES,
  accuracyScore,
  classificationMetrics,
  logLoss,
  precisionRecallF1,
  predictedClasses,
  rocAucScore,
} from '../../src/metrics/classification';
import type { ClassificationMetricName } from '../../src/metrics/classification';
import { assertMatches, readMetricFixture } from './helpers';

interface ClassificationCase {
  name: string;
  task: 'binary' | 'multiclass';
  nClasses: number;
  dtype: 'float32' | 'float64';
  yTrue: number[];
  proba: number[];
  expected: Record<ClassificationMetricName, number | null>;
}

const fixture = readMetricFixture<{ cases: ClassificationCase[] }>('classification.json');

function inputsOf(c: ClassificationCase) {
  const proba = c.dtype === 'float32' ? Float32Array.from(c.proba) : Float64Array.from(c.proba);
  return { yTrue: Int32Array.from(c.yTrue), proba };
}

describe('classification metrics match scikit-learn', () => {
  it('covers the cases the fixture script promises', () => {
    const names = fixture.cases.map((c) => c.name);
    for (const expected of ['binary-ties', 'binary-hard-zero-one', 'multiclass-5-ties', 'multiclass-never-predicted']) {
      assert.ok(names.includes(expected), `fixture lacks ${expected}`);
    }
  });

  for (const c of fixture.cases) {
    it(`${c.name}: every metric from classificationMetrics`, () => {
      const { yTrue, proba } = inputsOf(c);
      const got = classificationMetrics(yTrue, proba, c.nClasses, c.task === 'binary' ? 'binary' : 'macro');
      assert.deepEqual(Object.keys(got).sort(), [...CLASSIFICATION_METRIC_NAMES].sort());
      for (const name of CLASSIFICATION_METRIC_NAMES) assertMatches(got[name], c.expected[name], `${c.name} ${name}`);
    });

    it(`${c.name}: the single-metric functions agree`, () => {
      const { yTrue, proba } = inputsOf(c);
      const averaging = c.task === 'binary' ? 'binary' : 'macro';
      const prf = precisionRecallF1(yTrue, proba, c.nClasses, averaging);
      assertMatches(accuracyScore(yTrue, proba, c.nClasses), c.expected.accuracy, `${c.name} accuracy`);
      assertMatches(prf.precision, c.expected.precision, `${c.name} precision`);
      assertMatches(prf.recall, c.expected.recall, `${c.name} recall`);
      assertMatches(prf.f1, c.expected.f1, `${c.name} f1`);
      assertMatches(rocAucScore(yTrue, proba, c.nClasses), c.expected.roc_auc, `${c.name} roc_auc`);
      assertMatches(logLoss(yTrue, proba, c.nClasses), c.expected.log_loss, `${c.name} log_loss`);
    });
  }

  it('float32 input gives the same numbers as its float64 widening', () => {
    for (const c of fixture.cases.filter((x) => x.dtype === 'float32')) {
      const yTrue = Int32Array.from(c.yTrue);
      const averaging = c.task === 'binary' ? 'binary' : 'macro';
      const a = classificationMetrics(yTrue, Float32Array.from(c.proba), c.nClasses, averaging);
      const b = classificationMetrics(yTrue, Float64Array.from(c.proba), c.nClasses, averaging);
      assert.deepEqual(a, b);
    }
  });
});

describe('classification details', () => {
  it('argmax ties go to the lowest class index', () => {
    const pred = predictedClasses(Float64Array.from([0.5, 0.5, 0.2, 0.4, 0.4, 0.1, 0.45, 0.45]), 2);
    assert.deepEqual([...pred], [0, 1, 0, 0]);
    const pred3 = predictedClasses(Float64Array.from([0.2, 0.4, 0.4, 0.3, 0.3, 0.4]), 3);
    assert.deepEqual([...pred3], [1, 2]);
  });

  it('AUC matches a brute-force pair count on random tied scores', () => {
    let seed = 12345;
    const next = () => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed / 2147483648;
    };
    for (let trial = 0; trial < 20; trial++) {
      const n = 50 + trial * 7;
      const yTrue = new Int32Array(n);
      const proba = new Float64Array(2 * n);
      for (let i = 0; i < n; i++) {
        yTrue[i] = next() < 0.4 ? 1 : 0;
        const p1 = Math.round(next() * 8) / 8;
        proba[2 * i] = 1 - p1;
        proba[2 * i + 1] = p1;
      }
      let wins = 0;
      let pairs = 0;
      for (let i = 0; i < n; i++) {
        if (yTrue[i] !== 1) continue;
        for (let j = 0; j < n; j++) {
          if (yTrue[j] !== 0) continue;
          pairs++;
          const si = proba[2 * i + 1] as number;
          const sj = proba[2 * j + 1] as number;
          wins += si > sj ? 1 : si === sj ? 0.5 : 0;
        }
      }
      const brute = pairs === 0 ? NaN : wins / pairs;
      assert.equal(rocAucScore(yTrue, proba, 2), brute, `trial ${trial}`);
    }
  });

  it('tolerates float32 probabilities a few ulps above 1 and clips them for the log loss', () => {
    const overOne = Math.fround(1 + 2 ** -22);
    const proba = Float32Array.from([overOne, 0, 0, overOne]);
    const got = logLoss(Int32Array.from([0, 1]), proba, 2);
    assert.equal(got, -Math.log(1 - Number.EPSILON));
  });
});

describe('classification input checks', () => {
  it('rejects a probability matrix whose length is not rows × classes', () => {
    assert.throws(
      () => classificationMetrics(Int32Array.from([0, 1, 1]), Float64Array.from([0.3, 0.7, 0.6, 0.4]), 2, 'binary'),
      (err: unknown) => err instanceof RangeError && /proba has 4 values but yTrue has 3 rows/.test(err.message),
    );
    assert.throws(() => rocAucScore(Int32Array.from([0, 1]), Float32Array.from([0.5, 0.5, 0.5]), 2), RangeError);
    assert.throws(() => logLoss(Int32Array.from([0]), Float64Array.from([0.2, 0.3, 0.5]), 2), RangeError);
  });

  it('rejects class ids outside 0..C-1, non-probabilities, empty input and a bad class count', () => {
    assert.throws(() => accuracyScore(Int32Array.from([0, 2]), Float64Array.from([1, 0, 0, 1]), 2), /yTrue\[1\] is 2; expected a class index in 0\.\.1/);
    assert.throws(() => accuracyScore(Int32Array.from([0, 1]), Float64Array.from([NaN, 0, 0, 1]), 2), /proba\[row 0, class 0\] is NaN/);
    assert.throws(() => accuracyScore(Int32Array.from([0, 1]), Float64Array.from([2.5, -1.5, 0, 1]), 2), /proba\[row 0, class 0\] is 2\.5/);
    assert.throws(() => accuracyScore(new Int32Array(0), new Float64Array(0), 2), /yTrue is empty/);
    assert.throws(() => accuracyScore(Int32Array.from([0]), Float64Array.from([1]), 1), /nClasses must be an integer >= 2/);
    assert.throws(() => precisionRecallF1(Int32Array.from([0]), Float64Array.from([1, 0, 0]), 3, 'binary'), /binary averaging needs nClasses = 2/);
  });
});
