import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  REGRESSION_METRIC_NAMES,
  meanAbsoluteError,
  r2Score,
  regressionMetrics,
  rootMeanSquaredError,
} from '../../src/metrics/regression';
import type { RegressionMetricName } from '../../src/metrics/regression';
import { assertMatches, readMetricFixture } from './helpers';

interface RegressionCase {
  name: string;
  predDtype: 'float32' | 'float64';
  yTrue: number[];
  yPred: number[];
  expected: Record<RegressionMetricName, number | null>;
}

const fixture = readMetricFixture<{ cases: RegressionCase[] }>('regression.json');

describe('regression metrics match scikit-learn', () => {
  for (const c of fixture.cases) {
    it(c.name, () => {
      const yTrue = Float64Array.from(c.yTrue);
      const yPred = c.predDtype === 'float32' ? Float32Array.from(c.yPred) : Float64Array.from(c.yPred);
      const got = regressionMetrics(yTrue, yPred);
      assert.deepEqual(Object.keys(got).sort(), [...REGRESSION_METRIC_NAMES].sort());
      for (const name of REGRESSION_METRIC_NAMES) assertMatches(got[name], c.expected[name], `${c.name} ${name}`);
      assertMatches(rootMeanSquaredError(yTrue, yPred), c.expected.rmse, `${c.name} rmse alone`);
      assertMatches(meanAbsoluteError(yTrue, yPred), c.expected.mae, `${c.name} mae alone`);
      assertMatches(r2Score(yTrue, yPred), c.expected.r2, `${c.name} r2 alone`);
    });
  }

  it('treats a constant target as constant even when its float mean is off by an ulp', () => {
    // 0.1 summed 3 times and divided by 3 is not 0.1 in floating point; R² must still be 0, not a huge negative number.
    const yTrue = Float64Array.from([0.1, 0.1, 0.1]);
    assert.equal(r2Score(yTrue, Float64Array.from([0.1, 0.1, 0.2])), 0);
    assert.equal(r2Score(yTrue, Float64Array.from([0.1, 0.1, 0.1])), 1);
  });
});

describe('regression input checks', () => {
  it('rejects yTrue and yPred of different lengths', () => {
    assert.throws(
      () => regressionMetrics(Float64Array.from([1, 2, 3]), Float32Array.from([1, 2])),
      (err: unknown) => err instanceof RangeError && err.message === 'yTrue has 3 rows but yPred has 2; they must describe the same rows',
    );
    assert.throws(() => rootMeanSquaredError(Float64Array.from([1]), Float64Array.from([1, 2])), RangeError);
  });

  it('rejects empty and non-finite input', () => {
    assert.throws(() => regressionMetrics(new Float64Array(0), new Float64Array(0)), /yTrue is empty/);
    assert.throws(() => regressionMetrics(Float64Array.from([1, NaN]), Float64Array.from([1, 2])), /yTrue\[1\] is NaN/);
    assert.throws(() => regressionMetrics(Float64Array.from([1, 2]), Float32Array.from([1, Infinity])), /yPred\[1\] is Infinity/);
  });
});
