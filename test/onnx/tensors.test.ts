import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  Bool,
  Dictionary,
  Float16,
  Float32,
  Float64,
  Int8,
  Int16,
  Int32,
  Int64,
  LargeUtf8,
  Table,
  Uint8,
  Uint32,
  Uint64,
  Utf8,
  type DataType,
  type Vector,
  vectorFromArray,
} from 'apache-arrow';
import { DataContractError } from '../../src/errors';
import { tensorsFromTable } from '../../src/onnx';

// A column split into chunks of uneven sizes (7, 1, 12 rows): ranges and index lists must cross them.
function chunked<T extends DataType>(values: unknown[], type: T): Vector<T> {
  const cuts = [0, 7, 8, values.length];
  let vector: Vector<T> | undefined;
  for (let i = 0; i + 1 < cuts.length; i++) {
    const part = vectorFromArray(values.slice(cuts[i], cuts[i + 1]), type);
    vector = vector === undefined ? part : vector.concat(part);
  }
  return vector!;
}

const N = 20;
const numbers = Array.from({ length: N }, (_, i) => (i % 5 === 3 ? null : (i * 7) % 11 - 3));
const strings = Array.from({ length: N }, (_, i) => (i % 6 === 4 ? null : ['ATL', 'BOS', 'Zürich', 'a-much-longer-airport-name', ''][i % 5]!));

const table: Table = new Table({
  f64: chunked(numbers.map((v) => (v === null ? null : v + 0.25)), new Float64()),
  f32: chunked(numbers.map((v) => (v === null ? null : v / 4)), new Float32()),
  f16: chunked(numbers.map((v) => (v === null ? null : v / 2)), new Float16()),
  i8: chunked(numbers, new Int8()),
  i16: chunked(numbers, new Int16()),
  i32: chunked(numbers, new Int32()),
  i64: chunked(numbers.map((v) => (v === null ? null : BigInt(v) * 1_000_000n)), new Int64()),
  u8: chunked(numbers.map((v) => (v === null ? null : Math.abs(v))), new Uint8()),
  u32: chunked(numbers.map((v) => (v === null ? null : Math.abs(v) * 100_000)), new Uint32()),
  u64: chunked(numbers.map((v) => (v === null ? null : BigInt(Math.abs(v)))), new Uint64()),
  bool: chunked(numbers.map((v) => (v === null ? null : v > 0)), new Bool()),
  utf8: chunked(strings, new Utf8()),
  large: chunked(strings, new LargeUtf8()),
  dict: chunked(strings, new Dictionary(new Utf8(), new Int32())),
  hourCode: chunked(numbers, new Int32()),
});
const NUMERIC = ['f64', 'f32', 'f16', 'i8', 'i16', 'i32', 'i64', 'u8', 'u32', 'u64', 'bool'];
const CATEGORICAL = ['utf8', 'large', 'dict', 'hourCode'];

/** The reference: Arrow's own per-row getter, with the brief's null conventions. */
function expectedNumeric(name: string, rows: number[]): number[] {
  const column = table.getChild(name)!;
  return rows.map((r) => {
    const v: unknown = column.get(r);
    return v === null ? Number.NaN : Math.fround(Number(v));
  });
}
function expectedCategorical(name: string, rows: number[]): string[] {
  const column = table.getChild(name)!;
  return rows.map((r) => {
    const v: unknown = column.get(r);
    return v === null ? '' : String(v);
  });
}

function assertFeeds(rows: number[], feeds: ReturnType<typeof tensorsFromTable>): void {
  for (const name of NUMERIC) {
    const tensor = feeds[name]!;
    assert.equal(tensor.type, 'float32', name);
    assert.deepEqual(tensor.dims, [rows.length, 1], name);
    assert.deepEqual(Array.from(tensor.data as Float32Array), expectedNumeric(name, rows), name);
  }
  for (const name of CATEGORICAL) {
    const tensor = feeds[name]!;
    assert.equal(tensor.type, 'string', name);
    assert.deepEqual(tensor.dims, [rows.length, 1], name);
    assert.deepEqual(tensor.data, expectedCategorical(name, rows), name);
  }
}

const features = { numeric: NUMERIC, categorical: CATEGORICAL };
const range = (start: number, end: number): number[] => Array.from({ length: end - start }, (_, i) => start + i);

describe('tensorsFromTable', () => {
  test('the test table really is multi-chunk and has nulls', () => {
    assert.deepEqual(table.getChild('f64')!.data.map((d) => d.length), [7, 1, 12]);
    assert.ok(table.getChild('utf8')!.nullCount > 0);
    assert.ok(table.getChild('i64')!.nullCount > 0);
  });

  for (const [start, end] of [
    [0, N],
    [0, 7],
    [3, 9],
    [7, 8],
    [5, 5],
    [8, 20],
  ] as const) {
    test(`range [${start}, ${end}) matches per-row get()`, () => {
      assertFeeds(range(start, end), tensorsFromTable(table, { start, end }, features));
    });
  }

  test('index lists: sorted, shuffled, repeated, crossing chunks', () => {
    const lists = [
      [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
      [19, 0, 7, 8, 6, 3, 3, 12, 18, 1],
      [4, 5, 6, 7, 8, 9, 2, 3, 4],
      [],
    ];
    for (const rows of lists) assertFeeds(rows, tensorsFromTable(table, Int32Array.from(rows), features));
  });

  test('a sliced table (data offsets into shared buffers) reads the right rows', () => {
    const sliced = table.slice(3, 17);
    const feeds = tensorsFromTable(sliced, { start: 2, end: 12 }, features);
    assertFeeds(range(5, 15), feeds);
    const byIndex = tensorsFromTable(sliced, Int32Array.from([0, 13, 4]), features);
    assertFeeds([3, 16, 7], byIndex);
  });

  test('a float32 range within one chunk is a view of the column; across chunks or with nulls it is a copy', () => {
    const values = Array.from({ length: N }, (_, i) => i / 4);
    const dense = new Table({ f: chunked(values, new Float32()), g: chunked(values.map((v, i) => (i === 2 ? null : v)), new Float32()) });
    const inOne = tensorsFromTable(dense, { start: 9, end: 15 }, { numeric: ['f'], categorical: [] }).f!.data as Float32Array;
    assert.deepEqual(Array.from(inOne), values.slice(9, 15));
    assert.equal(inOne.buffer, dense.getChild('f')!.data[2]!.values.buffer, 'no copy');
    const across = tensorsFromTable(dense, { start: 5, end: 10 }, { numeric: ['f'], categorical: [] }).f!.data as Float32Array;
    assert.deepEqual(Array.from(across), values.slice(5, 10));
    const withNull = tensorsFromTable(dense, { start: 0, end: 7 }, { numeric: ['g'], categorical: [] }).g!.data as Float32Array;
    assert.ok(Number.isNaN(withNull[2]!));
    assert.deepEqual(Array.from(withNull).filter((_, i) => i !== 2), values.slice(0, 7).filter((_, i) => i !== 2));
  });

  test('numeric nulls become NaN and categorical nulls ""', () => {
    const feeds = tensorsFromTable(table, Int32Array.from([3, 4]), { numeric: ['i64'], categorical: ['utf8'] });
    assert.ok(Number.isNaN((feeds.i64!.data as Float32Array)[0]!));
    assert.equal(numbers[3], null);
    assert.equal((feeds.i64!.data as Float32Array)[1], numbers[4]! * 1_000_000);
    assert.equal(strings[4], null);
    assert.deepEqual(feeds.utf8!.data, [strings[3], '']);
  });

  test('a missing column or a wrong type is a data-contract error naming the column', () => {
    assert.throws(
      () => tensorsFromTable(table, { start: 0, end: 1 }, { numeric: ['nope'], categorical: [] }),
      (err: unknown) => err instanceof DataContractError && /'nope'.*missing/.test(err.message),
    );
    assert.throws(
      () => tensorsFromTable(table, { start: 0, end: 1 }, { numeric: ['utf8'], categorical: [] }),
      (err: unknown) => err instanceof DataContractError && /'utf8'.*expected a numeric type/.test(err.message),
    );
    assert.throws(
      () => tensorsFromTable(table, { start: 0, end: 1 }, { numeric: [], categorical: ['f64'] }),
      (err: unknown) => err instanceof DataContractError && /'f64'.*categorical/.test(err.message),
    );
  });

  test('a string column read a few rows at a time, then encoded once and read by id, gives the same strings', () => {
    // One 4,000-row chunk: single rows are decoded from the bytes; once an eighth of it was asked for, the column
    // is dictionary-encoded and later reads gather by id. Both must agree with Arrow's own getter.
    const values = Array.from({ length: 4000 }, (_, i) =>
      i % 13 === 0 ? null : i % 3 === 0 ? `Zürich-${i % 50}` : i % 3 === 1 ? `a long category name number ${i % 40}` : `c${i % 30}`,
    );
    const big = new Table({ name: vectorFromArray(values, new Utf8()) });
    const wanted = (rows: number[]) => rows.map((r) => values[r] ?? '');
    const single = [0, 1, 2, 3, 3999, 1234];
    for (const r of single) assert.deepEqual(tensorsFromTable(big, { start: r, end: r + 1 }, { numeric: [], categorical: ['name'] }).name!.data, wanted([r]));
    for (let from = 0; from < 4000; from += 256) {
      const end = Math.min(4000, from + 256);
      assert.deepEqual(tensorsFromTable(big, { start: from, end }, { numeric: [], categorical: ['name'] }).name!.data, wanted(range(from, end)), `rows ${from}..${end}`);
    }
    const shuffled = Array.from({ length: 4000 }, (_, i) => (i * 2654435761) % 4000);
    assert.deepEqual(tensorsFromTable(big, Int32Array.from(shuffled), { numeric: [], categorical: ['name'] }).name!.data, wanted(shuffled));
  });

  test('rows outside the table are refused', () => {
    assert.throws(() => tensorsFromTable(table, { start: 0, end: N + 1 }, features), RangeError);
    assert.throws(() => tensorsFromTable(table, Int32Array.from([0, N]), features), RangeError);
    assert.throws(() => tensorsFromTable(table, Int32Array.from([-1]), features), RangeError);
  });
});
