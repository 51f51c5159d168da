import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { kolmogorovSf, ks2SampleSorted } from '../../src/drift/ks';
import { sortedPresent, categoryCounts } from '../../src/drift/check';
import {
  alignCounts,
  chiSquareHomogeneity,
  jensenShannonDistance,
  jensenShannonNumeric,
  psiFromCounts,
  psiNumeric,
  psiNumericUnsorted,
  twoProportionZ,
  wassersteinNormed,
  wassersteinSorted,
} from '../../src/drift/stats';
import { RELEARN_ROOT } from '../../src/paths';
import { mulberry32 } from '../../src/contracts';

// Reference numbers from scripts/make-drift-fixtures.py (numpy/scipy); statistics to 1e-9 relative, p-values to 1e-6.
const fixtures = JSON.parse(readFileSync(path.join(RELEARN_ROOT, 'test/fixtures/drift/expected.json'), 'utf8')) as {
  numeric: Array<{ name: string; reference: Array<number | null>; current: Array<number | null>; expected: Record<string, any> }>;
  kstwo: Array<{ n: number; x: number; sf: number }>;
  categorical: Array<{ name: string; reference: Array<string | null>; current: Array<string | null>; expected: Record<string, any> }>;
};

function close(actual: number, expected: number, rel: number, what: string) {
  const ok = actual === expected || Math.abs(actual - expected) <= rel * Math.abs(expected) + 1e-300;
  assert.ok(ok, `${what}: got ${actual}, scipy ${expected} (rel diff ${Math.abs(actual - expected) / Math.abs(expected)})`);
}

const STAT = 1e-9;
const P = 1e-6;

const toFloat = (xs: Array<number | null>) => Float64Array.from(xs, (x) => (x === null ? Number.NaN : x));

describe('numeric drift statistics match scipy/numpy', () => {
  for (const c of fixtures.numeric) {
    it(c.name, () => {
      const ref = sortedPresent(toFloat(c.reference));
      const cur = sortedPresent(toFloat(c.current));
      const e = c.expected;
      const ks = ks2SampleSorted(ref.sorted, cur.sorted);
      assert.equal(ks.method, e.ks.method);
      close(ks.statistic, e.ks.statistic, STAT, 'KS statistic');
      close(ks.pValue, e.ks.pValue, P, 'KS p-value');
      const psi = psiNumeric(ref.sorted, cur.sorted);
      assert.deepEqual([...psi.reference], e.psi.reference);
      assert.deepEqual([...psi.current], e.psi.current);
      close(psi.statistic, e.psi.statistic, STAT, 'PSI');
      close(wassersteinSorted(ref.sorted, cur.sorted), e.wasserstein.distance, STAT, 'Wasserstein distance');
      const wd = wassersteinNormed(ref.sorted, cur.sorted);
      close(wd.referenceStd, e.wasserstein.referenceStd, STAT, 'reference std');
      close(wd.statistic, e.wasserstein.statistic, STAT, 'normed Wasserstein');
      const js = jensenShannonNumeric(ref.sorted, cur.sorted);
      assert.deepEqual([...js.reference], e.jensenShannon.reference);
      assert.deepEqual([...js.current], e.jensenShannon.current);
      close(js.statistic, e.jensenShannon.statistic, STAT, 'Jensen–Shannon');
      // The paths that skip the sort give the same bins and statistics on shuffled samples.
      // Raw columns, NaN and all, shuffled.
      const shuffled = (xs: Array<number | null>) => {
        const a = toFloat(xs);
        const rng = mulberry32(a.length);
        for (let i = a.length - 1; i > 0; i--) {
          const j = Math.floor(rng() * (i + 1));
          [a[i], a[j]] = [a[j]!, a[i]!];
        }
        return a;
      };
      const psiU = psiNumericUnsorted(shuffled(c.reference), shuffled(c.current));
      assert.deepEqual([...psiU.reference], e.psi.reference);
      assert.deepEqual([...psiU.current], e.psi.current);
      close(psiU.statistic, e.psi.statistic, STAT, 'PSI (unsorted)');
      const jsU = jensenShannonNumeric(shuffled(c.reference), shuffled(c.current), 30, false);
      assert.deepEqual([...jsU.reference], e.jensenShannon.reference);
      close(jsU.statistic, e.jensenShannon.statistic, STAT, 'Jensen–Shannon (unsorted)');
      close(ref.missing / c.reference.length, e.missingShare.reference, STAT, 'reference missing share');
      close(cur.missing / c.current.length, e.missingShare.current, STAT, 'current missing share');
    });
  }
});

describe('kstwo survival function matches scipy on every branch', () => {
  it(`${fixtures.kstwo.length} (n, x) points`, () => {
    for (const k of fixtures.kstwo) close(kolmogorovSf(k.n, k.x), k.sf, P, `kstwo.sf(${k.x}, ${k.n})`);
  });
});

describe('categorical drift statistics match scipy', () => {
  for (const c of fixtures.categorical) {
    it(c.name, () => {
      const ref = categoryCounts(c.reference);
      const cur = categoryCounts(c.current);
      const aligned = alignCounts(ref.counts, cur.counts);
      const e = c.expected;
      assert.deepEqual(aligned.categories, e.categories);
      const chi = chiSquareHomogeneity(aligned.reference, aligned.current);
      assert.equal(chi.dof, e.chiSquare.dof);
      close(chi.statistic, e.chiSquare.statistic, STAT, 'chi-square statistic');
      close(chi.pValue, e.chiSquare.pValue, P, 'chi-square p-value');
      close(psiFromCounts(aligned.reference, aligned.current), e.psi.statistic, STAT, 'PSI');
      close(jensenShannonDistance(aligned.reference, aligned.current), e.jensenShannon.statistic, STAT, 'Jensen–Shannon');
      const z = twoProportionZ(aligned.reference, aligned.current);
      close(z.statistic, e.zTest.statistic, STAT, 'z');
      close(z.pValue, e.zTest.pValue, P, 'z-test p-value');
      close(ref.missing / c.reference.length, e.missingShare.reference, STAT, 'reference missing share');
      close(cur.missing / c.current.length, e.missingShare.current, STAT, 'current missing share');
    });
  }
});
