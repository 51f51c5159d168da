import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { type Table, type Vector, vectorFromArray, Utf8, makeTable } from 'apache-arrow';
import { checkDrift, defaultMethod } from '../../src/drift/check';
import { mulberry32 } from '../../src/contracts';
import { RELEARN_ROOT } from '../../src/paths';

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
    const report = checkDrift(reference, current, { numeric: ['a', 'b'], categorical: ['c'], decision: 'size-based' });
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
    const strict = checkDrift(reference, current, { numeric: ['a', 'b'], categorical: ['c'], driftShare: 0.3, decision: 'size-based' });
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
    const report = checkDrift(reference, current, { numeric: [], categorical: ['c'], decision: 'size-based' });
    const c = report.features[0]!;
    assert.equal(c.method, 'chisquare');
    assert.ok(c.histogram!.labels.includes('NEW'));
    assert.equal(c.drifted, true);
  });
});


// Effect sizes and the p-values beside them, against scipy's numbers (scripts/make-drift-fixtures.py).
const fixtures = JSON.parse(readFileSync(path.join(RELEARN_ROOT, 'test/fixtures/drift/expected.json'), 'utf8')) as {
  numeric: Array<{ name: string; reference: Array<number | null>; current: Array<number | null>; expected: Record<string, any> }>;
  effectSize: { name: string; reference: number[]; current: number[]; expected: Record<string, any> };
};
const floats = (xs: Array<number | null>) => Float64Array.from(xs, (x) => (x === null ? Number.NaN : x));
function close(actual: number | undefined, expected: number, rel: number, what: string) {
  assert.ok(actual !== undefined && Math.abs(actual - expected) <= rel * Math.abs(expected) + 1e-300, `${what}: got ${actual}, scipy ${expected}`);
}
const fixtureCase = (name: string) => fixtures.numeric.find((c) => c.name.startsWith(name))!;

describe('drift check: effect sizes decide, the p-value is reported beside', () => {
  it('a harmless shift at production size (tiny effect, tiny p) drifts under p-values, not under effect sizes', () => {
    const c = fixtures.effectSize;
    const reference = table({ x: floats(c.reference) });
    const current = table({ x: floats(c.current) });
    const byEffect = checkDrift(reference, current, { numeric: ['x'], categorical: [] }).features[0]!;
    assert.equal(byEffect.method, 'wasserstein');
    close(byEffect.effectSize?.value, c.expected.wasserstein.statistic, 1e-9, 'normed Wasserstein');
    assert.equal(byEffect.pValue?.method, 'ks');
    close(byEffect.pValue?.value, c.expected.ks.pValue, 1e-6, 'KS p-value beside');
    close(byEffect.pValue?.statistic, c.expected.ks.statistic, 1e-9, 'KS D beside');
    assert.ok(byEffect.pValue!.value < 1e-5, 'the shift is significant');
    assert.equal(byEffect.drifted, false, 'an effect of 0.06 sd is below the 0.1 threshold');
    const byP = checkDrift(reference, current, { numeric: ['x'], categorical: [], decision: 'p-value' }).features[0]!;
    assert.equal(byP.method, 'ks');
    close(byP.statistic!, c.expected.ks.pValue, 1e-6, 'KS p-value');
    close(byP.effectSize?.value, c.expected.wasserstein.statistic, 1e-9, 'normed Wasserstein beside');
    assert.equal(byP.drifted, true);
    const psi = checkDrift(reference, current, { numeric: ['x'], categorical: [], effects: { numeric: 'psi' } }).features[0]!;
    assert.equal(psi.method, 'psi');
    close(psi.statistic!, c.expected.psi.statistic, 1e-9, 'PSI');
    assert.equal(psi.drifted, false);
  });

  it('a large effect from noise in a small sample does not count unless its p-value agrees; Evidently’s rule counts it', () => {
    const c = fixtureCase('lognormal vs lognormal scaled');
    const reference = table({ x: floats(c.reference) });
    const current = table({ x: floats(c.current) });
    const effect = checkDrift(reference, current, { numeric: ['x'], categorical: [] }).features[0]!;
    close(effect.statistic!, c.expected.wasserstein.statistic, 1e-9, 'normed Wasserstein');
    assert.ok(effect.statistic! >= 0.1, 'over its threshold');
    close(effect.pValue?.value, c.expected.ks.pValue, 1e-6, 'KS p-value');
    assert.equal(effect.alpha, 0.05);
    assert.equal(effect.drifted, false, `p ${effect.pValue?.value} is not below 0.05`);
    const evidently = checkDrift(reference, current, { numeric: ['x'], categorical: [], decision: 'size-based' }).features[0]!;
    assert.equal(evidently.method, 'wasserstein', 'over 1,000 reference rows');
    assert.equal(evidently.drifted, true);
    const shifted = fixtureCase('normal vs shifted');
    const both = checkDrift(table({ x: floats(shifted.reference) }), table({ x: floats(shifted.current) }), { numeric: ['x'], categorical: [] }).features[0]!;
    close(both.statistic!, shifted.expected.wasserstein.statistic, 1e-9, 'normed Wasserstein');
    assert.equal(both.drifted, true, 'a real shift: effect 0.32, p 0.007');
  });

  it('categorical features: Jensen–Shannon decides, chi-square beside; a corrected alpha over several features', () => {
    const rng = mulberry32(11);
    const pick = (n: number, cut: number) => Array.from({ length: n }, () => (rng() < cut ? 'a' : rng() < 0.5 ? 'b' : 'c'));
    const report = checkDrift(table({ c: pick(20_000, 0.5), d: pick(20_000, 0.5) }), table({ c: pick(20_000, 0.53), d: pick(20_000, 0.9) }), { numeric: [], categorical: ['c', 'd'] });
    const [c, d] = report.features;
    assert.equal(c!.method, 'jensenshannon');
    assert.equal(c!.pValue?.method, 'chisquare');
    assert.ok(c!.pValue!.value < 0.001 && c!.statistic! < 0.1);
    assert.equal(c!.drifted, false);
    assert.equal(d!.drifted, true);
    assert.equal(d!.alpha, 0.025, 'Bonferroni over two features');
    assert.equal(report.decision, 'effect-size');
  });
});
