import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pullSnapshot } from '../../src/data';
import type { CategoricalStats, NumericStats } from '../../src/data';
import { expected, smallContract, smallFiles, smallSource } from './helpers';

function assertClose(actual: number | null, wanted: number | null, relTol: number, label: string): void {
  assert.ok(actual !== null && wanted !== null, `${label}: ${actual} vs ${wanted}`);
  const scale = Math.max(1, Math.abs(wanted));
  assert.ok(Math.abs(actual - wanted) <= relTol * scale, `${label}: got ${actual}, numpy says ${wanted}`);
}

function assertNumeric(actual: NumericStats, wanted: NumericStats, label: string): void {
  assert.equal(actual.kind, 'numeric', label);
  assert.equal(actual.count, wanted.count, `${label}.count`);
  assert.equal(actual.nulls, wanted.nulls, `${label}.nulls`);
  assertClose(actual.min, wanted.min, 0, `${label}.min`);
  assertClose(actual.max, wanted.max, 0, `${label}.max`);
  // numpy sums pairwise, this code left to right: equal to ~1e-15 relative on 1,200 values.
  assertClose(actual.mean, wanted.mean, 1e-12, `${label}.mean`);
  assertClose(actual.std, wanted.std, 1e-12, `${label}.std`);
  for (const [name, value] of Object.entries(wanted.quantiles)) {
    assertClose(actual.quantiles[name as keyof NumericStats['quantiles']], value, 1e-15, `${label}.quantiles.${name}`);
  }
}

for (const [format, file] of Object.entries(smallFiles)) {
  describe(`snapshot stats from ${format} match numpy`, () => {
    it('has the expected rows, time range and per-feature statistics', async () => {
      const { stats } = await pullSnapshot({ source: smallSource(file), contract: smallContract(), requiredColumns: [] });
      assert.equal(stats.rows, expected.rows);
      assert.deepEqual(stats.timeRange, expected.timeRange);
      assert.deepEqual(Object.keys(stats.features).sort(), Object.keys(expected.features).sort());
      assert.ok(!('ts' in stats.features), 'the time column has no feature statistics');
      for (const [name, wanted] of Object.entries(expected.features)) {
        const actual = stats.features[name]!;
        if (wanted.kind === 'numeric') assertNumeric(actual as NumericStats, wanted, `${format}:${name}`);
        else assert.deepEqual(actual as CategoricalStats, wanted, `${format}:${name}`);
      }
    });

    it('reports column types after normalisation (Int64 narrowed, strings as Utf8)', async () => {
      const { stats } = await pullSnapshot({ source: smallSource(file), contract: smallContract(), requiredColumns: [] });
      const types = Object.fromEntries(stats.columns.map((c) => [c.name, c.type]));
      assert.equal(types.delay, 'Int32');
      // 5e9 does not fit in int32, but is exact in a double.
      assert.equal(types.big, 'Float64');
      assert.equal(types.distance, 'Float64');
      assert.equal(types.carrier, 'Utf8');
      assert.equal(types.zone, 'Utf8');
      assert.equal(types.cancelled, 'Bool');
      assert.match(types.ts!, /^Timestamp<MICROSECOND>/);
    });
  });
}
