import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { METRIC_NAMES, computeMetrics, isMetricName, metricDirection, metricNamesFor } from '../../src/metrics/index';
import { assertMatches, readMetricFixture } from './helpers';

interface Case {
  name: string;
  task?: 'binary' | 'multiclass';
  nClasses?: number;
  yTrue: number[];
  proba?: number[];
  yPred?: number[];
  expected: Record<string, number | null>;
}

describe('computeMetrics', () => {
  it('returns exactly the classification keys, with the values of the fixtures', () => {
    const { cases } = readMetricFixture<{ cases: Case[] }>('classification.json');
    for (const c of cases) {
      const got: Record<string, number> = computeMetrics(c.task ?? 'binary', Int32Array.from(c.yTrue), Float64Array.from(c.proba ?? []), c.nClasses ?? 2);
      assert.deepEqual(Object.keys(got), ['accuracy', 'precision', 'recall', 'f1', 'roc_auc', 'log_loss']);
      for (const [k, v] of Object.entries(got)) assertMatches(v, c.expected[k] ?? null, `${c.name} ${k}`);
    }
  });

  it('returns exactly the regression keys, with the values of the fixtures', () => {
    const { cases } = readMetricFixture<{ cases: Case[] }>('regression.json');
    for (const c of cases) {
      const got: Record<string, number> = computeMetrics('regression', Float64Array.from(c.yTrue), Float64Array.from(c.yPred ?? []));
      assert.deepEqual(Object.keys(got), ['rmse', 'mae', 'r2']);
      for (const [k, v] of Object.entries(got)) assertMatches(v, c.expected[k] ?? null, `${c.name} ${k}`);
    }
  });

  it('rejects mismatched lengths and the wrong label type for the task', () => {
    assert.throws(() => computeMetrics('binary', Int32Array.from([0, 1]), Float64Array.from([0.5, 0.5]), 2), /proba has 2 values but yTrue has 2 rows/);
    assert.throws(() => computeMetrics('binary', Int32Array.from([0, 1, 2]), Float64Array.from([1, 0, 0, 1, 0, 0, 0, 0, 1]), 3), /binary averaging needs nClasses = 2/);
    assert.throws(() => computeMetrics('regression', Float64Array.from([1, 2]), Float64Array.from([1])), /yTrue has 2 rows but yPred has 1/);
    // A caller without types (JSON, CLI) can still hand over the wrong array kind.
    const untyped = computeMetrics as (...args: unknown[]) => unknown;
    assert.throws(() => untyped('regression', Int32Array.from([1]), Float64Array.from([1])), TypeError);
    assert.throws(() => untyped('multiclass', Float64Array.from([1]), Float64Array.from([1, 0, 0]), 3), TypeError);
  });
});

describe('metric names and directions', () => {
  it('lists every metric once and knows its direction', () => {
    assert.deepEqual([...METRIC_NAMES], ['accuracy', 'precision', 'recall', 'f1', 'roc_auc', 'log_loss', 'rmse', 'mae', 'r2']);
    const lower = METRIC_NAMES.filter((m) => metricDirection(m) === 'lower');
    assert.deepEqual(lower, ['log_loss', 'rmse', 'mae']);
    assert.ok(isMetricName('roc_auc'));
    assert.ok(!isMetricName('auc'));
    assert.deepEqual(metricNamesFor('regression'), ['rmse', 'mae', 'r2']);
    assert.deepEqual(metricNamesFor('multiclass'), metricNamesFor('binary'));
    assert.throws(() => metricDirection('auc' as never), /unknown metric 'auc'/);
  });
});
