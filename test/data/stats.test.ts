import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Float32, Float64, Int32, Int8, Table, TimestampMillisecond, Uint16, Utf8, vectorFromArray } from 'apache-arrow';
import { numericValues } from '../../src/data/columns';
import { computeStats, numericStats, pullSnapshot } from '../../src/data';
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

describe('categorical statistics from many distinct strings', () => {
  it('counts each value, non-ASCII and long ones included, as a plain count of the decoded strings does', () => {
    // 3,000 distinct values grow the counter's table several times; two chunks, nulls, multi-byte and long values.
    const values = (offset: number, n: number) =>
      Array.from({ length: n }, (_, i) => {
        const k = ((i + offset) * 7919) % 3000;
        if (k % 97 === 0) return null;
        return k % 5 === 0 ? `été-${k}` : k % 7 === 0 ? `a long value past any inline size, number ${k}` : `v${k}`;
      });
    const first = values(0, 12_000);
    const second = values(12_000, 9_000);
    const time = (n: number) => vectorFromArray(Array.from({ length: n }, (_, i) => new Date(Date.UTC(2024, 0, 1) + i * 1000)), new TimestampMillisecond());
    const table = new Table({ ts: time(12_000), name: vectorFromArray(first, new Utf8()) }).concat(
      new Table({ ts: time(9_000), name: vectorFromArray(second, new Utf8()) }),
    );
    assert.equal(table.getChild('name')!.data.length, 2, 'two chunks');
    const wanted = new Map<string, number>();
    let nulls = 0;
    for (const v of [...first, ...second]) {
      if (v === null) nulls++;
      else wanted.set(v, (wanted.get(v) ?? 0) + 1);
    }
    const stats = computeStats(table, 'ts').features.name as CategoricalStats;
    assert.equal(stats.nulls, nulls);
    assert.equal(stats.distinct, wanted.size);
    assert.equal(stats.count, first.length + second.length - nulls);
    const ordered = [...wanted.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    assert.deepEqual(
      stats.top,
      ordered.slice(0, 50).map(([value, count]) => ({ value, count })),
    );
  });
});

describe('numeric statistics read in place', () => {
  it('equal, bit for bit, those of the column copied to doubles, for sliced chunks with nulls and NaN', () => {
    const n = 5_000;
    const value = (i: number) => ((i * 7919) % 1013) - 300;
    const columns = {
      i32: vectorFromArray(Array.from({ length: n }, (_, i) => (i % 37 === 0 ? null : value(i))), new Int32()),
      i8: vectorFromArray(Array.from({ length: n }, (_, i) => (i % 41 === 0 ? null : value(i) % 120)), new Int8()),
      u16: vectorFromArray(Array.from({ length: n }, (_, i) => value(i) + 300), new Uint16()),
      f32: vectorFromArray(Array.from({ length: n }, (_, i) => (i % 43 === 0 ? null : i % 47 === 0 ? Number.NaN : value(i) / 7)), new Float32()),
      // A span past the histogram's limit takes the sorting path.
      f64: vectorFromArray(Array.from({ length: n }, (_, i) => (i % 53 === 0 ? null : value(i) * 1e5 + 0.25)), new Float64()),
    };
    const time = vectorFromArray(Array.from({ length: n }, (_, i) => new Date(Date.UTC(2024, 0, 1) + i * 1000)), new TimestampMillisecond());
    // A slice leaves each chunk's values at an offset into its buffers, validity bits included.
    const table = new Table({ ts: time, ...columns }).slice(123, 4_321);
    const stats = computeStats(table, 'ts');
    for (const name of Object.keys(columns) as Array<keyof typeof columns>) {
      const vector = table.getChild(name)!;
      assert.ok(vector.data[0]!.offset > 0, `${name} is read at an offset`);
      assert.deepEqual(stats.features[name], numericStats(numericValues(vector)), name);
    }
    assert.equal((stats.features.i32 as NumericStats).nulls > 0 && (stats.features.f32 as NumericStats).nulls > 100, true);
  });
});
