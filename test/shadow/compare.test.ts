import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { bootstrapIndices, compareShadow, mcnemarTest } from '../../src/shadow/compare';
import type { McNemarResult } from '../../src/contracts';
import { type Fixture, fixtures } from './fixtures';

/** |actual − expected| ≤ 1e-9 · max(1, |expected|): relative for large values, absolute near 0. */
function close(actual: number | null, expected: number, what: string): void {
  assert.ok(actual !== null, `${what}: null, expected ${expected}`);
  assert.ok(Math.abs(actual - expected) <= 1e-9 * Math.max(1, Math.abs(expected)), `${what}: ${actual} vs ${expected}`);
}

function outputs(f: Fixture, values: number[]) {
  return f.task === 'regression' ? { predicted: values } : { probabilities: values };
}

function inputOf(f: Fixture) {
  return {
    task: f.task,
    metric: f.metric,
    labels: f.labels,
    champion: outputs(f, f.champion),
    shadow: outputs(f, f.shadow),
    classes: f.classes,
    margin: f.margin,
    confidence: f.confidence,
  };
}

describe('compareShadow against scikit-learn / numpy / scipy', () => {
  assert.ok(fixtures.length >= 8, `${fixtures.length} fixtures; run scripts/make-shadow-fixtures.py`);
  for (const f of fixtures) {
    test(`${f.name}: ${f.metric} values, paired-bootstrap interval and p on the fixture's indices, McNemar, verdict ${f.expected.verdict}`, () => {
      const result = compareShadow({ ...inputOf(f), resampleIndices: f.resampleIndices });
      const e = f.expected;
      assert.equal(result.rows, e.rows);
      close(result.championValue, e.championValue, 'championValue');
      close(result.shadowValue, e.shadowValue, 'shadowValue');
      close(result.diff, e.diff, 'diff');
      close(result.ciLow, e.ciLow, 'ciLow');
      close(result.ciHigh, e.ciHigh, 'ciHigh');
      close(result.pValue, e.pValue, 'pValue');
      assert.equal(result.resamples, e.resamples);
      if (e.mcnemar === null) {
        assert.equal(result.mcnemar, null);
      } else {
        assert.ok(result.mcnemar !== null);
        assert.deepEqual([result.mcnemar.b, result.mcnemar.c, result.mcnemar.exact], [e.mcnemar.b, e.mcnemar.c, e.mcnemar.exact]);
        close(result.mcnemar.statistic, e.mcnemar.statistic, 'mcnemar.statistic');
        close(result.mcnemar.pValue, e.mcnemar.pValue, 'mcnemar.pValue');
      }
      assert.equal(result.verdict, e.verdict);
      assert.match(result.reason, new RegExp(`^${f.metric}: shadow .* on ${e.rows} labeled rows; .* → ${e.verdict}$`));
    });
  }

  test("the seeded draw yields the fixture's indices (the script ports mulberry32), so the default path gives the same result", () => {
    for (const f of fixtures) {
      const drawn = bootstrapIndices(f.labels.length, f.resampleIndices.length, f.seed);
      assert.deepEqual(drawn.map((a) => Array.from(a)), f.resampleIndices, f.name);
    }
    const f = fixtures.find((x) => x.name === 'good-shadow')!;
    const seeded = compareShadow({ ...inputOf(f), seed: f.seed, resamples: f.resampleIndices.length });
    const explicit = compareShadow({ ...inputOf(f), resampleIndices: f.resampleIndices });
    assert.deepEqual(seeded, explicit);
  });
});

describe('compareShadow: verdicts and inputs', () => {
  const f = fixtures.find((x) => x.name === 'ties')!;

  test('same inputs and seed → the same result; another seed → another interval', () => {
    const a = compareShadow({ ...inputOf(f), resamples: 300, seed: 7 });
    const b = compareShadow({ ...inputOf(f), resamples: 300, seed: 7 });
    const c = compareShadow({ ...inputOf(f), resamples: 300, seed: 8 });
    assert.deepEqual(a, b);
    assert.notEqual(a.ciLow, c.ciLow);
    assert.equal(a.resamples, 300);
  });

  test('a wider margin turns worse into not-worse, the verdict follows ciLow ≥ −margin', () => {
    const worse = fixtures.find((x) => x.name === 'mcnemar-chi2')!;
    const strict = compareShadow({ ...inputOf(worse), resampleIndices: worse.resampleIndices });
    assert.equal(strict.verdict, 'worse');
    const loose = compareShadow({ ...inputOf(worse), margin: -strict.ciLow! + 1e-6, resampleIndices: worse.resampleIndices });
    assert.equal(loose.verdict, 'not-worse');
  });

  test('fewer rows than the minimum → insufficient, with the metric values still reported', () => {
    const n = 20;
    const result = compareShadow({ ...inputOf(f), labels: f.labels.slice(0, n), champion: { probabilities: f.champion.slice(0, 2 * n) }, shadow: { probabilities: f.shadow.slice(0, 2 * n) } });
    assert.equal(result.verdict, 'insufficient');
    assert.match(result.reason, /20 labeled rows, fewer than the minimum of 30/);
    assert.equal(result.ciLow, null);
    assert.equal(result.pValue, null);
    assert.ok(result.championValue !== null && result.diff !== null);
  });

  test('roc_auc with one class missing from the labels → insufficient', () => {
    const ones = f.labels.map(() => 1);
    const result = compareShadow({ ...inputOf(f), labels: ones });
    assert.equal(result.verdict, 'insufficient');
    assert.match(result.reason, /class index 0 never occurs/);
    assert.equal(result.championValue, null);
  });

  test('predicted labels, when given, are what McNemar counts; a metric of the wrong task is a config error', () => {
    const n = f.labels.length;
    const allWrong = f.labels.map((y) => 1 - y);
    const result = compareShadow({ ...inputOf(f), champion: { probabilities: f.champion, predicted: f.labels }, shadow: { probabilities: f.shadow, predicted: allWrong } });
    assert.deepEqual([result.mcnemar!.b, result.mcnemar!.c], [n, 0]);
    assert.throws(() => compareShadow({ ...inputOf(f), metric: 'rmse' }), { name: 'ConfigError', message: /metric 'rmse' needs a regressor/ });
    assert.throws(() => compareShadow({ ...inputOf(f), champion: { probabilities: f.champion.slice(1) } }), /champion: expected 200 × 2 probabilities/);
  });

  test('McNemar: exact two-sided binomial below b + c = 25, corrected chi-square from 25 on', () => {
    assert.deepEqual(mcnemarTest(0, 0), { b: 0, c: 0, statistic: 0, pValue: 1, exact: true });
    // scipy.stats.binomtest(1, 10, 0.5).pvalue = 0.021484375
    close(mcnemarTest(1, 9).pValue, 0.021484375, 'exact p');
    assert.equal(mcnemarTest(12, 12).pValue, 1);
    const chi = mcnemarTest(10, 15);
    assert.equal(chi.exact, false);
    close(chi.statistic, 16 / 25, 'chi-square statistic');
  });
});
