// JSON sources (an array of objects, newline-delimited JSON) against what Python's json module and numpy read from the
// same files (scripts/make-json-fixtures.py): penguins.json value by value, cars.ndjson through the whole pull.
import assert from 'node:assert/strict';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';
import { pullSnapshot, readSource } from '../../src/data';
import { timeKeysMs } from '../../src/data/columns';
import type { CategoricalStats, NumericStats } from '../../src/data';
import { fixture, tempDir } from './helpers';

const penguinsJson = fileURLToPath(new URL('../../node_modules/vega-datasets/data/penguins.json', import.meta.url));
const carsNdjson = fixture('cars.ndjson');

interface JsonExpected {
  penguins: { rows: number; columns: Array<{ name: string; kind: 'number' | 'string' }>; values: Record<string, Array<number | string | null>> };
  cars: {
    rows: number;
    columns: string[];
    timeRange: { from: string; to: string };
    window: { window: { from: string; to: string }; rows: number };
    features: Record<string, NumericStats | CategoricalStats>;
  };
}
const expected = JSON.parse(readFileSync(fixture('json-expected.json'), 'utf8')) as JsonExpected;

const tmp = tempDir();
after(tmp.cleanup);

function write(name: string, text: string): string {
  const file = path.join(tmp.dir, name);
  writeFileSync(file, text);
  return file;
}

function assertClose(actual: number | null, wanted: number | null, what: string): void {
  if (wanted === null) return assert.equal(actual, null, what);
  assert.ok(actual !== null && Math.abs(actual - wanted) <= 1e-9 * Math.max(1, Math.abs(wanted)), `${what}: ${actual} vs ${wanted}`);
}

describe('JSON sources', () => {
  it('reads penguins.json (an array of objects) with the values Python’s json module reads', async () => {
    const table = await readSource({ path: penguinsJson, timeColumn: 'none' });
    assert.equal(table.numRows, expected.penguins.rows);
    assert.deepEqual(
      table.schema.fields.map((f) => f.name),
      expected.penguins.columns.map((c) => c.name),
    );
    for (const { name, kind } of expected.penguins.columns) {
      const type = String(table.schema.fields.find((f) => f.name === name)!.type);
      assert.ok(kind === 'string' ? type === 'Utf8' : /^(Int32|Float64)$/.test(type), `${name}: ${type}`);
      assert.deepEqual([...table.getChild(name)!], expected.penguins.values[name], name);
    }
  });

  it('pulls cars.ndjson (one object per line) into a snapshot whose statistics match numpy’s', async () => {
    const snapshot = await pullSnapshot({
      source: { path: carsNdjson, timeColumn: 'Year' },
      contract: { minRows: 100, columns: { Horsepower: { type: 'int', nullable: true }, Origin: { type: 'string', allowed: ['USA', 'Europe', 'Japan'] } } },
      requiredColumns: ['Horsepower', 'Weight_in_lbs', 'Origin'],
    });
    assert.equal(snapshot.stats.rows, expected.cars.rows);
    assert.deepEqual(snapshot.stats.timeRange, expected.cars.timeRange);
    assert.deepEqual(
      snapshot.stats.columns.map((c) => c.name),
      expected.cars.columns,
    );
    assert.equal(snapshot.stats.columns.find((c) => c.name === 'Year')!.type, 'Date32<DAY>');
    for (const [name, want] of Object.entries(expected.cars.features)) {
      const got = snapshot.stats.features[name]!;
      assert.equal(got.kind, want.kind, name);
      if (want.kind === 'categorical') {
        assert.deepEqual(got, want, name);
        continue;
      }
      const numeric = got as NumericStats;
      assert.equal(numeric.count, want.count, name);
      assert.equal(numeric.nulls, want.nulls, name);
      for (const key of ['min', 'max', 'mean', 'std'] as const) assertClose(numeric[key], want[key], `${name}.${key}`);
      for (const [q, v] of Object.entries(want.quantiles)) assertClose(numeric.quantiles[q as keyof typeof want.quantiles], v, `${name}.${q}`);
    }
  });

  it('keeps only the rows of the window, and takes format: json over the file name', async () => {
    const renamed = path.join(tmp.dir, 'cars.data');
    copyFileSync(carsNdjson, renamed);
    for (const source of [{ path: carsNdjson }, { path: renamed, format: 'json' as const }]) {
      const table = await readSource({ ...source, timeColumn: 'Year', window: expected.cars.window.window });
      assert.equal(table.numRows, expected.cars.window.rows, source.path);
    }
  });

  it('reads the same table from an array of objects and from one object per line', async () => {
    const lines = readFileSync(carsNdjson, 'utf8').trim().split('\n');
    const asArray = write('cars-array.json', `[\n${lines.join(',\n')}\n]\n`);
    const fromLines = await readSource({ path: carsNdjson, timeColumn: 'Year' });
    const fromArray = await readSource({ path: asArray, timeColumn: 'Year' });
    assert.equal(fromArray.numRows, fromLines.numRows);
    for (const field of fromLines.schema.fields) {
      assert.deepEqual([...fromArray.getChild(field.name)!], [...fromLines.getChild(field.name)!], field.name);
    }
  });

  it('whole numbers of both signs stay integers, with the types the same table has as CSV', async () => {
    const rows = [[-3, 1.5, 'a'], [5, 2, 'b'], [12, -0.25, 'a'], [-1, 4, null]] as const;
    const json = write('signs.ndjson', rows.map(([delay, ratio, tag], i) => JSON.stringify({ at: `2024-01-0${i + 1}`, delay, ratio, tag })).join('\n'));
    const csv = write('signs.csv', `at,delay,ratio,tag\n${rows.map(([delay, ratio, tag], i) => `2024-01-0${i + 1},${delay},${ratio},${tag ?? ''}`).join('\n')}\n`);
    const types = async (file: string) => (await readSource({ path: file, timeColumn: 'at' })).schema.fields.map((f) => `${f.name}: ${String(f.type)}`);
    assert.deepEqual(await types(json), ['at: Date32<DAY>', 'delay: Int32', 'ratio: Float64', 'tag: Utf8']);
    assert.deepEqual(await types(json), await types(csv));
    const snapshot = await pullSnapshot({
      source: { path: json, timeColumn: 'at' },
      contract: { minRows: 4, columns: { delay: { type: 'int', min: -5 }, tag: { type: 'string', nullable: true } } },
      requiredColumns: ['delay', 'ratio'],
    });
    assert.deepEqual([...snapshot.table.getChild('delay')!], [-3, 5, 12, -1]);
  });

  it('text of ISO instants in mixed forms is read as UTC timestamps; a column the contract calls string stays text', async () => {
    // As Python's isoformat writes them: no fraction when it is zero, an offset only on aware values.
    const file = write(
      'events.jsonl',
      [
        '{"at": "2024-03-01T10:00:00", "code": "2024-03-01", "v": 1}',
        '{"at": "2024-03-01T10:00:00.250000", "code": "2024-03-02", "v": 2}',
        '{"at": "2024-03-01T12:30:00+02:00", "code": null, "v": 3}',
        '',
      ].join('\n'),
    );
    const table = await readSource({ path: file, timeColumn: 'at' }, { columnTypes: { code: 'string' } });
    assert.match(String(table.schema.fields[0]!.type), /^Timestamp/);
    assert.deepEqual(
      [...timeKeysMs(table.getChild('at')!)].map((ms) => new Date(ms).toISOString()),
      ['2024-03-01T10:00:00.000Z', '2024-03-01T10:00:00.250Z', '2024-03-01T10:30:00.000Z'],
    );
    assert.equal(String(table.schema.fields[1]!.type), 'Utf8');
    assert.deepEqual([...table.getChild('code')!], ['2024-03-01', '2024-03-02', null]);
    const untyped = await readSource({ path: file, timeColumn: 'at' });
    assert.equal(String(untyped.schema.fields[1]!.type), 'Date32<DAY>');
  });
});
