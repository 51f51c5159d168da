import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { summarizeFolds } from '../../src/metrics/summary';
import { assertMatches, readMetricFixture } from './helpers';

interface SummaryCase {
  name: string;
  values: number[];
  expected: { mean: number | null; std: number | null; ciLow: number | null; ciHigh: number | null };
}

const fixture = readMetricFixture<{ cases: SummaryCase[] }>('summary.json');

describe('fold summaries match numpy and scipy', () => {
  for (const c of fixture.cases) {
    it(c.name, () => {
      const got = summarizeFolds(Float64Array.from(c.values));
      assert.equal(got.k, c.values.length);
      assert.equal(got.confidence, 0.95);
      assertMatches(got.mean, c.expected.mean, `${c.name} mean`);
      assertMatches(got.std, c.expected.std, `${c.name} std`);
      assertMatches(got.ciLow, c.expected.ciLow, `${c.name} ciLow`);
      assertMatches(got.ciHigh, c.expected.ciHigh, `${c.name} ciHigh`);
    });
  }

  it('accepts a plain array and a narrower confidence gives a narrower interval', () => {
    const values = [0.81, 0.83, 0.79, 0.85, 0.8];
    const wide = summarizeFolds(values);
    const narrow = summarizeFolds(values, 0.8);
    assert.ok(narrow.ciLow > wide.ciLow && narrow.ciHigh < wide.ciHigh);
    assertMatches(narrow.mean, wide.mean, 'mean does not depend on confidence');
  });

  it('rejects no folds and a confidence outside (0, 1)', () => {
    assert.throws(() => summarizeFolds([]), /fold values is empty/);
    assert.throws(() => summarizeFolds([1, 2], 1), /confidence must be strictly between 0 and 1/);
  });
});
