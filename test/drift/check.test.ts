import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type Table, type Vector, vectorFromArray, Utf8, makeTable } from 'apache-arrow';
import { checkDrift, defaultMethod } from '../../src/drift/check';
import { mulberry32 } from '../../src/contracts';

function normal(rng: () => number, n: number, mean = 0, sd = 1): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = mean + sd * Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng());
  return out;
}

function table(columns: Record<string, Float64Array | Array<string | null>>): Table {
  const vectors: Record<string, Vector> = {};
  for (const [name, values] of Object.entries(columns)) {
    vectors[name] = values instanceof Float64Array ? vectorFromArray(values) : vectorFromArray(values, new Utf8());
  }
  return makeTable(vectors as never) as unknown as Table;
}

describe('drift check: method choice, thresholds, correction, verdicts', () => {
  it("defaults follow Evidently's rule by reference size and cardinality", () => {
    assert.equal(defaultMethod('numeric', 1000, 50), 'ks');
    assert.equal(defaultMethod('numeric', 1000, 5), 'chisquare');
    assert.equal(defaultMethod('numeric', 1000, 2), 'ztest');
    assert.equal(defaultMethod('categorical', 500, 2), 'ztest');
    assert.equal(defaultMethod('categorical', 500, 7), 'chisquare');
    assert.equal(defaultMethod('numeric', 1001, 50), 'wasserstein');
    assert.equal(defaultMethod('numeric', 1001, 4), 'jensenshannon');
    assert.equal(defaultMethod('categorical', 5000, 40), 'jensenshannon');
  });

  it('flags a shifted numeric feature and keeps a stable one, with Bonferroni-corrected p thresholds', () => {
    const rng = mulberry32(7);
    const reference = table({ a: normal(rng, 500), b: normal(rng, 500), c: Array.from({ length: 500 }, (_, i) => (i % 3 === 0 ? 'x' : 'y')) });
    const current = table({ a: normal(rng, 400, 1), b: normal(rng, 400), c: Array.from({ length: 400 }, (_, i) => (i % 3 === 0 ? 'x' : 'y')) });
    const report = checkDrift(reference, current, { numeric: ['a', 'b'], categorical: ['c'] });
    const byName = Object.fromEntries(report.features.map((f) => [f.feature, f]));
    assert.equal(byName.a!.method, 'ks');
    assert.equal(byName.a!.drifted, true);
    assert.equal(byName.b!.drifted, false);
    assert.equal(byName.c!.method, 'ztest');
    assert.equal(byName.c!.drifted, false);
    assert.ok(Math.abs(byName.a!.effectiveThreshold - 0.05 / 3) < 1e-15);
    assert.equal(report.checked, 3);
    assert.equal(report.drifted, 1);
    assert.equal(report.datasetDrift, false, 'one of three is below the default share 0.5');
    const strict = checkDrift(reference, current, { numeric: ['a', 'b'], categorical: ['c'], driftShare: 0.3 });
    assert.equal(strict.datasetDrift, true);
  });

  it('per-feature method and threshold override the defaults; distances drift at ≥ threshold', () => {
    const rng = mulberry32(3);
    const reference = table({ a: normal(rng, 2000) });
    const current = table({ a: normal(rng, 2000, 0.5) });
    const report = checkDrift(reference, current, { numeric: ['a'], categorical: [], features: { a: { method: 'psi', threshold: 0.2 } } });
    const a = report.features[0]!;
    assert.equal(a.method, 'psi');
    assert.equal(a.threshold, 0.2);
    assert.equal(a.effectiveThreshold, 0.2, 'no correction for a distance');
    assert.equal(a.drifted, a.statistic! >= 0.2);
    const auto = checkDrift(reference, current, { numeric: ['a'], categorical: [] }).features[0]!;
    assert.equal(auto.method, 'wasserstein');
    assert.equal(auto.drifted, true);
  });

  it('gives no verdict below the minimum sample size, and reports missing values as their own share', () => {
    const values = Float64Array.from({ length: 100 }, (_, i) => (i < 80 ? Number.NaN : i));
    const reference = table({ a: values, c: Array.from({ length: 100 }, (_, i) => (i % 4 === 0 ? null : 'k')) });
    const current = table({ a: values, c: Array.from({ length: 100 }, (_, i) => (i % 2 === 0 ? null : 'k')) });
    const report = checkDrift(reference, current, { numeric: ['a'], categorical: ['c'], minSampleSize: 30 });
    const [a, c] = report.features;
    assert.equal(a!.drifted, null);
    assert.match(a!.note!, /fewer than 30/);
    assert.equal(a!.reference.missingShare, 0.8);
    assert.equal(c!.reference.missingShare, 0.25);
    assert.equal(c!.current.missingShare, 0.5);
    assert.equal(report.checked, 1);
  });

  it('counts unseen categories instead of dropping them', () => {
    const reference = table({ c: Array.from({ length: 300 }, (_, i) => ['a', 'b', 'c'][i % 3]!) });
    const current = table({ c: Array.from({ length: 300 }, (_, i) => ['a', 'b', 'c', 'NEW'][i % 4]!) });
    const report = checkDrift(reference, current, { numeric: [], categorical: ['c'] });
    const c = report.features[0]!;
    assert.equal(c.method, 'chisquare');
    assert.ok(c.histogram!.labels.includes('NEW'));
    assert.equal(c.drifted, true);
  });
});

