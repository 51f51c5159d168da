import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { pullSnapshot, readSnapshot, readSource } from '../../src/data';
import type { DataContract, SnapshotProgress } from '../../src/data';
import { expected, flights3m, smallContract, smallFiles, smallSource, tempDir } from './helpers';

const tmp = tempDir();
after(tmp.cleanup);

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

function isSortedByTime(values: Array<number | null>): boolean {
  for (let i = 1; i < values.length; i++) if ((values[i] as number) < (values[i - 1] as number)) return false;
  return true;
}

describe('pullSnapshot', () => {
  it('gives byte-identical snapshots for the same input and config', async () => {
    const source = smallSource(smallFiles.parquet, {
      window: { from: '2024-01-10' },
      sample: { maxRows: 400, seed: 11 },
      derive: [{ name: 'hour', from: 'ts', op: 'hour' }],
    });
    const first = await pullSnapshot({ source, contract: smallContract(), requiredColumns: ['hour'] });
    const second = await pullSnapshot({ source, contract: smallContract(), requiredColumns: ['hour'] });
    assert.equal(sha256(first.bytes), sha256(second.bytes));
    assert.deepEqual(first.stats, second.stats);
  });

  it('gives the same bytes whichever format holds the same table', async () => {
    const digests = new Set<string>();
    for (const file of Object.values(smallFiles)) {
      const { bytes } = await pullSnapshot({ source: smallSource(file), contract: smallContract(), requiredColumns: [] });
      digests.add(sha256(bytes));
    }
    assert.equal(digests.size, 1);
  });

  it('sorts rows by the time column, keeping the file order of equal timestamps', async () => {
    for (const file of Object.values(smallFiles)) {
      const { table } = await pullSnapshot({ source: smallSource(file), contract: smallContract(), requiredColumns: [] });
      assert.deepEqual(table.getChild('delay')!.toArray().length, expected.rows);
      assert.deepEqual([...table.getChild('delay')!].map((v) => (v === null ? null : Number(v))), expected.sortedDelay);
    }
  });

  it('samples deterministically to maxRows, rows in time order, and reports it', async () => {
    const pull = (seed: number) =>
      pullSnapshot({ source: smallSource(smallFiles.arrow, { sample: { maxRows: 500, seed } }), contract: smallContract(), requiredColumns: [] });
    const a = await pull(1);
    const b = await pull(1);
    const c = await pull(2);
    assert.deepEqual(a.sampled, { fromRows: expected.rows, toRows: 500 });
    assert.equal(a.table.numRows, 500);
    assert.equal(sha256(a.bytes), sha256(b.bytes));
    assert.notEqual(sha256(a.bytes), sha256(c.bytes));
    assert.ok(isSortedByTime([...a.table.getChild('ts')!] as number[]));
    // The sample is a subset of the rows: every (ts, tail) pair exists in the full snapshot.
    const full = await pullSnapshot({ source: smallSource(smallFiles.arrow), contract: smallContract(), requiredColumns: [] });
    const keys = new Map<string, number>();
    const key = (t: unknown, tail: unknown) => `${t}|${tail}`;
    for (let i = 0; i < full.table.numRows; i++) {
      const k = key(full.table.getChild('ts')!.get(i), full.table.getChild('tail')!.get(i));
      keys.set(k, (keys.get(k) ?? 0) + 1);
    }
    for (let i = 0; i < a.table.numRows; i++) {
      const k = key(a.table.getChild('ts')!.get(i), a.table.getChild('tail')!.get(i));
      assert.ok((keys.get(k) ?? 0) > 0, `sampled row ${k} is not in the source`);
      keys.set(k, keys.get(k)! - 1);
    }
    assert.equal(full.sampled, null, 'no sample section, no sampling');
    const roomy = await pullSnapshot({ source: smallSource(smallFiles.arrow, { sample: { maxRows: 5000, seed: 1 } }), contract: smallContract(), requiredColumns: [] });
    assert.equal(roomy.sampled, null, 'fewer rows than maxRows: nothing sampled');
    assert.equal(sha256(roomy.bytes), sha256(full.bytes));
  });

  it('derives hour, dayOfWeek (Monday = 0), month, dayOfMonth in UTC and greaterThan/lessThan as Int32', async () => {
    const source = smallSource(smallFiles.parquet, {
      derive: [
        { name: 'hour', from: 'ts', op: 'hour' },
        { name: 'dayOfWeek', from: 'ts', op: 'dayOfWeek' },
        { name: 'month', from: 'ts', op: 'month' },
        { name: 'dayOfMonth', from: 'ts', op: 'dayOfMonth' },
        { name: 'distanceGreaterThan1000', from: 'distance', op: 'greaterThan', value: 1000 },
        { name: 'delayLessThan0', from: 'delay', op: 'lessThan', value: 0 },
      ],
    });
    const { table, stats } = await pullSnapshot({ source, contract: smallContract(), requiredColumns: ['hour', 'delayLessThan0'] });
    for (const [name, counts] of Object.entries(expected.derivedCounts)) {
      const column = table.getChild(name)!;
      assert.equal(String(column.type), 'Int32', name);
      const actual: Record<string, number> = {};
      for (const value of column) {
        const k = value === null ? 'null' : String(value);
        actual[k] = (actual[k] ?? 0) + 1;
      }
      assert.deepEqual(actual, counts, name);
      assert.equal(stats.features[name]!.kind, 'numeric');
    }
    const chained = await pullSnapshot({
      source: smallSource(smallFiles.arrow, {
        derive: [
          { name: 'hour', from: 'ts', op: 'hour' },
          { name: 'evening', from: 'hour', op: 'greaterThan', value: 17 },
        ],
      }),
      contract: smallContract(),
      requiredColumns: ['evening'],
    });
    const hours = [...chained.table.getChild('hour')!] as number[];
    assert.deepEqual([...chained.table.getChild('evening')!], hours.map((h) => (h > 17 ? 1 : 0)), 'a derived column can use an earlier one');
    assert.deepEqual(
      table.schema.fields.slice(-6).map((f) => f.name),
      ['hour', 'dayOfWeek', 'month', 'dayOfMonth', 'distanceGreaterThan1000', 'delayLessThan0'],
      'derived columns follow the source columns in config order',
    );
  });

  it('reports progress through the stages and round-trips through readSnapshot', async () => {
    const stages: SnapshotProgress['stage'][] = [];
    const result = await pullSnapshot({
      source: smallSource(smallFiles.csv),
      contract: smallContract(),
      requiredColumns: [],
      onProgress: (p) => stages.push(p.stage),
    });
    assert.deepEqual([...new Set(stages)], ['read', 'check', 'window', 'sort', 'write', 'stats', 'done']);
    const file = path.join(tmp.dir, 'snapshot.arrow');
    writeFileSync(file, result.bytes);
    for (const table of [readSnapshot(result.bytes), readSnapshot(file)]) {
      assert.equal(table.numRows, result.table.numRows);
      assert.deepEqual(table.schema.fields.map((f) => `${f.name}:${f.type}`), result.table.schema.fields.map((f) => `${f.name}:${f.type}`));
      assert.deepEqual(table.get(17)?.toJSON(), result.table.get(17)?.toJSON());
    }
  });
});

describe('pullSnapshot on flights-3m', () => {
  const contract: DataContract = {
    minRows: 100_000,
    columns: {
      date: { type: 'timestamp' },
      delay: { type: 'int', min: -1440, max: 2880 },
      distance: { type: 'number', min: 0 },
      origin: { type: 'string' },
      destination: { type: 'string' },
    },
  };
  const window = { from: '2001-03-01', to: '2001-04-01' };

  it('keeps exactly the rows of a one-month window, counted independently', async () => {
    const all = await readSource({ path: flights3m, timeColumn: 'date' });
    assert.equal(all.numRows, 3_000_000);
    const from = Date.UTC(2001, 2, 1);
    const to = Date.UTC(2001, 3, 1);
    let inWindow = 0;
    for (const t of all.getChild('date')!) if ((t as number) >= from && (t as number) < to) inWindow++;

    const started = performance.now();
    const result = await pullSnapshot({
      source: { path: flights3m, timeColumn: 'date', window, derive: [{ name: 'hour', from: 'date', op: 'hour' }] },
      contract,
      requiredColumns: ['delay', 'distance', 'origin', 'hour'],
    });
    const elapsedMs = performance.now() - started;
    assert.equal(result.stats.rows, inWindow);
    assert.equal(result.table.numRows, inWindow);
    assert.ok(result.stats.timeRange.from >= '2001-03-01T00:00:00.000Z' && result.stats.timeRange.to < '2001-04-01T00:00:00.000Z');
    assert.ok(isSortedByTime([...result.table.getChild('date')!] as number[]));
    // Generous bound for a loaded 2-core CI machine; it takes about a second when idle.
    assert.ok(elapsedMs < 15_000, `pullSnapshot took ${Math.round(elapsedMs)} ms`);
  });

  it('samples a window to maxRows', async () => {
    const result = await pullSnapshot({
      source: { path: flights3m, timeColumn: 'date', window, sample: { maxRows: 150_000, seed: 42 } },
      contract,
      requiredColumns: [],
    });
    assert.equal(result.table.numRows, 150_000);
    assert.equal(result.sampled?.toRows, 150_000);
    assert.ok(result.sampled!.fromRows > 150_000);
  });
});
