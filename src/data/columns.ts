// Typed-array kernels over apache-arrow columns. apache-arrow's JS build has no compute
// kernels (no take, filter or cast), and going through `vector.get(i)` boxes every value, so
// gathering, type normalisation and time keys are done here directly on the buffers.
//
// Normalisation applied to every column that passes through `takeColumn`:
// - Int64/Uint64 become Int32 when every value fits in int32, otherwise Float64 when every
//   value is within ±2^53 (exact in a double), otherwise stay Int64. Downstream code then
//   only meets BigInt for identifiers too large for a double, where rounding would be wrong.
// - LargeUtf8 and dictionary-encoded strings become plain Utf8 (one offsets buffer of int32).
// - Every other supported type keeps its Arrow type; chunks are merged into one Data.
import {
  Bool,
  type Data,
  DataType,
  type Dictionary,
  Field,
  Float64,
  Int32,
  Int64,
  RecordBatch,
  Schema,
  Struct,
  Table,
  Type,
  Uint64,
  Utf8,
  makeData,
  makeVector,
} from 'apache-arrow';
import type { Vector } from 'apache-arrow';

const TWO_POW_32 = 4294967296;
const MAX_SAFE = Number.MAX_SAFE_INTEGER;

/** The typed arrays Arrow keeps fixed-width column values in. */
export type FixedArray =
  | Int8Array
  | Uint8Array
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | Float32Array
  | Float64Array
  | BigInt64Array
  | BigUint64Array;

type FixedArrayCtor = new (length: number) => FixedArray;

/** The Arrow type families the data stage reads; anything else is reported as unsupported. */
export type ColumnFamily = 'int' | 'float' | 'string' | 'timestamp' | 'bool' | 'unsupported';

/** Classifies an Arrow type into the families that data contracts speak about. */
export function columnFamily(type: DataType): ColumnFamily {
  switch (type.typeId) {
    case Type.Int:
      return 'int';
    case Type.Float:
      return 'float';
    case Type.Utf8:
    case Type.LargeUtf8:
      return 'string';
    case Type.Dictionary: {
      const dictType = (type as Dictionary).dictionary;
      return dictType.typeId === Type.Utf8 || dictType.typeId === Type.LargeUtf8 ? 'string' : 'unsupported';
    }
    case Type.Timestamp:
    case Type.Date:
      return 'timestamp';
    case Type.Bool:
      return 'bool';
    default:
      return 'unsupported';
  }
}

/** Arrow's own short name for a type (Utf8, Int64, Timestamp<MICROSECOND>), used in error messages. */
export function typeName(type: DataType): string {
  return String(type);
}

/** Locates a global row index inside a chunked column; fast when successive lookups are near each other. */
class ChunkLocator {
  private readonly starts: number[];
  private current = 0;

  constructor(readonly chunks: readonly Data[]) {
    this.starts = [];
    let start = 0;
    for (const chunk of chunks) {
      this.starts.push(start);
      start += chunk.length;
    }
    this.starts.push(start);
  }

  /** Returns the chunk index holding `row`; the caller reads `this.local` for the index inside it. */
  locate(row: number): number {
    const starts = this.starts;
    let c = this.current;
    if (row >= starts[c]! && row < starts[c + 1]!) return c;
    if (row >= starts[c + 1]! && c + 2 < starts.length && row < starts[c + 2]!) {
      this.current = c + 1;
      return c + 1;
    }
    let lo = 0;
    let hi = this.chunks.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid]! <= row) lo = mid;
      else hi = mid - 1;
    }
    this.current = lo;
    return lo;
  }

  start(chunk: number): number {
    return this.starts[chunk]!;
  }
}

/** Whether the value at `local` in `data` is valid (not null). */
function isValidAt(data: Data, local: number): boolean {
  if (data.nullCount === 0 || !data.nullBitmap || data.nullBitmap.length === 0) return true;
  const pos = data.offset + local;
  return (data.nullBitmap[pos >> 3]! & (1 << (pos & 7))) !== 0;
}

/** Builds a validity bitmap from per-row flags; returns null when nothing is null. */
function bitmapFromFlags(valid: Uint8Array, nullCount: number): Uint8Array | undefined {
  if (nullCount === 0) return undefined;
  const bitmap = new Uint8Array((valid.length + 7) >> 3);
  for (let i = 0; i < valid.length; i++) {
    if (valid[i]) bitmap[i >> 3]! |= 1 << (i & 7);
  }
  return bitmap;
}

/** Gathers rows `indices` of a fixed-width column (values buffer with stride 1). */
function takeFixed(vector: Vector, indices: Int32Array): { values: FixedArray; valid: Uint8Array; nullCount: number } {
  const chunks = vector.data;
  const locator = new ChunkLocator(chunks);
  const first = chunks[0]!;
  const Ctor = (first.values as FixedArray).constructor as FixedArrayCtor;
  const n = indices.length;
  const out = new Ctor(n);
  const valid = new Uint8Array(n);
  let nullCount = 0;
  const anyNulls = chunks.some((d) => d.nullCount > 0);
  // 64-bit integers are moved as pairs of int32 words: reading a BigInt64Array element allocates.
  const wide = out instanceof BigInt64Array || out instanceof BigUint64Array;
  const target = (wide ? new Int32Array(out.buffer, out.byteOffset, n * 2) : out) as { [i: number]: number };
  const sources = chunks.map((d) => {
    const values = d.values as FixedArray;
    return (wide ? new Int32Array(values.buffer, values.byteOffset, values.length * 2) : values) as { [i: number]: number };
  });
  for (let i = 0; i < n; i++) {
    const row = indices[i]!;
    const c = locator.locate(row);
    const local = row - locator.start(c);
    if (anyNulls && !isValidAt(chunks[c]!, local)) {
      // Slots under nulls stay zero: writers leave anything there, and snapshot bytes must not depend on it.
      nullCount++;
      continue;
    }
    const source = sources[c]!;
    if (wide) {
      target[2 * i] = source[2 * local]!;
      target[2 * i + 1] = source[2 * local + 1]!;
    } else {
      target[i] = source[local]!;
    }
    valid[i] = 1;
  }
  return { values: out, valid, nullCount };
}

/** Gathers rows of a boolean column (bit-packed values). */
function takeBool(vector: Vector, indices: Int32Array): Data<Bool> {
  const chunks = vector.data;
  const locator = new ChunkLocator(chunks);
  const n = indices.length;
  const bits = new Uint8Array((n + 7) >> 3);
  const valid = new Uint8Array(n);
  let nullCount = 0;
  for (let i = 0; i < n; i++) {
    const row = indices[i]!;
    const c = locator.locate(row);
    const data = chunks[c]!;
    const local = row - locator.start(c);
    if (!isValidAt(data, local)) {
      nullCount++;
      continue;
    }
    valid[i] = 1;
    const pos = data.offset + local;
    if ((data.values as Uint8Array)[pos >> 3]! & (1 << (pos & 7))) bits[i >> 3]! |= 1 << (i & 7);
  }
  return makeData({ type: new Bool(), length: n, nullCount, nullBitmap: bitmapFromFlags(valid, nullCount), data: bits });
}

/** Offsets of a Utf8 or LargeUtf8 chunk as plain numbers (LargeUtf8 offsets are read through an int32 view). */
function utf8Offsets(data: Data): { at: (i: number) => number } {
  const offsets = data.valueOffsets as Int32Array | BigInt64Array;
  if (offsets instanceof Int32Array) return { at: (i) => offsets[i]! };
  // Reading BigInt64Array elements allocates; the low/high int32 words give the same number
  // for any offset below 2^53, which every in-memory buffer is.
  const words = new Int32Array(offsets.buffer, offsets.byteOffset, offsets.length * 2);
  return { at: (i) => words[2 * i + 1]! * TWO_POW_32 + (words[2 * i]! >>> 0) };
}

/** A chunk of strings viewed as offsets + bytes, with dictionaries resolved through their indices. */
interface StringChunk {
  data: Data;
  bytes: Uint8Array;
  offsets: { at: (i: number) => number };
  /** For dictionary chunks: maps a row to its dictionary entry. */
  keys: FixedArray | null;
}

function stringChunk(data: Data): StringChunk {
  if (data.typeId === Type.Dictionary) {
    const dictionary = data.dictionary;
    if (!dictionary) throw new Error('dictionary-encoded column without a dictionary');
    const flat = dictionary.data.length === 1 ? dictionary.data[0]! : concatStrings(dictionary);
    return { data, bytes: flat.values as Uint8Array, offsets: utf8Offsets(flat), keys: data.values as FixedArray };
  }
  return { data, bytes: data.values as Uint8Array, offsets: utf8Offsets(data), keys: null };
}

function concatStrings(vector: Vector): Data {
  return takeStrings(vector, allRows(vector.length));
}

/** Gathers rows of a string column (Utf8, LargeUtf8 or dictionary of either) into one Utf8 Data. */
function takeStrings(vector: Vector, indices: Int32Array): Data<Utf8> {
  const chunks = vector.data.map(stringChunk);
  const locator = new ChunkLocator(vector.data);
  const n = indices.length;
  const valid = new Uint8Array(n);
  const starts = new Float64Array(n);
  const outOffsets = new Int32Array(n + 1);
  const chunkOfRow = new Int32Array(n);
  let nullCount = 0;
  let total = 0;
  for (let i = 0; i < n; i++) {
    const row = indices[i]!;
    const c = locator.locate(row);
    const chunk = chunks[c]!;
    let local = row - locator.start(c);
    chunkOfRow[i] = c;
    if (!isValidAt(chunk.data, local)) {
      nullCount++;
      outOffsets[i + 1] = total;
      continue;
    }
    valid[i] = 1;
    if (chunk.keys) local = Number(chunk.keys[local]);
    const start = chunk.offsets.at(local);
    const length = chunk.offsets.at(local + 1) - start;
    starts[i] = start;
    total += length;
    if (total > 0x7fffffff) throw new RangeError('string column larger than 2 GiB');
    outOffsets[i + 1] = total;
  }
  const bytes = new Uint8Array(total);
  for (let i = 0; i < n; i++) {
    if (!valid[i]) continue;
    const src = chunks[chunkOfRow[i]!]!.bytes;
    let from = starts[i]!;
    const to = outOffsets[i + 1]!;
    for (let pos = outOffsets[i]!; pos < to; pos++) bytes[pos] = src[from++]!;
  }
  return makeData({
    type: new Utf8(),
    length: n,
    nullCount,
    nullBitmap: bitmapFromFlags(valid, nullCount),
    valueOffsets: outOffsets,
    data: bytes,
  });
}

/** Narrows 64-bit integers to Int32 or Float64 when that loses nothing (see the file comment). */
function narrowInt64(values: BigInt64Array | BigUint64Array, valid: Uint8Array | null, nullCount: number, signed: boolean): Data {
  return narrowInt64Words([new Int32Array(values.buffer, values.byteOffset, values.length * 2)], valid, nullCount, signed, () => values);
}

/**
 * `narrowInt64` over values held in consecutive parts, each a run of (low, high) int32 word pairs, so a reader can
 * narrow a column straight from its buffers; `joined` gives all the values in one array when they stay 64-bit.
 */
export function narrowInt64Words(
  parts: readonly Int32Array[],
  valid: Uint8Array | null,
  nullCount: number,
  signed: boolean,
  joined: () => BigInt64Array | BigUint64Array,
): Data {
  let n = 0;
  for (const words of parts) n += words.length >> 1;
  let fitsInt32 = true;
  let fitsDouble = true;
  let row = 0;
  scan: for (const words of parts) {
    const count = words.length >> 1;
    for (let i = 0; i < count; i++, row++) {
      if (valid && !valid[row]) continue;
      const lo = words[2 * i]!;
      const hi = words[2 * i + 1]!;
      if (signed ? hi !== lo >> 31 : hi !== 0 || lo < 0) fitsInt32 = false;
      const asNumber = signed ? hi * TWO_POW_32 + (lo >>> 0) : (hi >>> 0) * TWO_POW_32 + (lo >>> 0);
      if (asNumber > MAX_SAFE || asNumber < -MAX_SAFE) {
        fitsDouble = false;
        break scan;
      }
    }
  }
  const nullBitmap = valid ? bitmapFromFlags(valid, nullCount) : undefined;
  if (fitsInt32) {
    const out = new Int32Array(n);
    row = 0;
    for (const words of parts) {
      const count = words.length >> 1;
      for (let i = 0; i < count; i++, row++) out[row] = !valid || valid[row] ? words[2 * i]! : 0;
    }
    return makeData({ type: new Int32(), length: n, nullCount, nullBitmap, data: out });
  }
  if (fitsDouble) {
    const out = new Float64Array(n);
    row = 0;
    for (const words of parts) {
      const count = words.length >> 1;
      for (let i = 0; i < count; i++, row++) {
        if (valid && !valid[row]) continue;
        const lo = words[2 * i]!;
        const hi = words[2 * i + 1]!;
        out[row] = signed ? hi * TWO_POW_32 + (lo >>> 0) : (hi >>> 0) * TWO_POW_32 + (lo >>> 0);
      }
    }
    return makeData({ type: new Float64(), length: n, nullCount, nullBitmap, data: out });
  }
  const type = signed ? new Int64() : new Uint64();
  return makeData({ type, length: n, nullCount, nullBitmap, data: joined() } as never);
}

/** Gathers rows `indices` (in any order) of a column into one normalised Data (see the file comment). */
export function takeColumn(vector: Vector, indices: Int32Array): Data {
  const type = vector.type as DataType;
  switch (columnFamily(type)) {
    case 'string':
      return takeStrings(vector, indices);
    case 'bool':
      return takeBool(vector, indices);
    case 'unsupported':
      throw new TypeError(`unsupported column type ${typeName(type)}`);
    default:
      break;
  }
  if (vector.data.length === 0) {
    return makeData({ type, length: 0, nullCount: 0, data: new (type.ArrayType as FixedArrayCtor)(0) } as never);
  }
  const { values, valid, nullCount } = takeFixed(vector, indices);
  if (DataType.isInt(type) && type.bitWidth === 64) {
    return narrowInt64(values as BigInt64Array | BigUint64Array, valid, nullCount, type.isSigned);
  }
  return makeData({
    type,
    length: indices.length,
    nullCount,
    nullBitmap: bitmapFromFlags(valid, nullCount),
    data: values,
  } as never);
}

/** Row indices 0..n-1. */
export function allRows(n: number): Int32Array {
  const rows = new Int32Array(n);
  for (let i = 0; i < n; i++) rows[i] = i;
  return rows;
}

/** Milliseconds in one unit of each Arrow TimeUnit (SECOND, MILLISECOND, MICROSECOND, NANOSECOND). */
const MS_PER_UNIT = [1000, 1, 1e-3, 1e-6] as const;

/**
 * Epoch milliseconds (UTC) of a Timestamp or Date column as doubles, NaN for nulls.
 * Sub-millisecond parts are kept as fractions, so microsecond timestamps of this era stay
 * distinct and ordered; nanoseconds are rounded to about a quarter of a microsecond.
 */
export function timeKeysMs(vector: Vector): Float64Array {
  const type = vector.type as DataType;
  let scale: number;
  if (DataType.isTimestamp(type)) {
    scale = MS_PER_UNIT[type.unit]!;
  } else if (DataType.isDate(type)) {
    scale = type.unit === 0 ? 86_400_000 : 1;
  } else {
    throw new TypeError(`time column has type ${typeName(type)}, expected a timestamp or date`);
  }
  const keys = new Float64Array(vector.length);
  let row = 0;
  for (const data of vector.data) {
    const values = data.values as Int32Array | BigInt64Array;
    const n = data.length;
    if (values instanceof Int32Array) {
      for (let i = 0; i < n; i++) keys[row + i] = values[i]! * scale;
    } else {
      const words = new Int32Array(values.buffer, values.byteOffset, n * 2);
      for (let i = 0; i < n; i++) keys[row + i] = (words[2 * i + 1]! * TWO_POW_32 + (words[2 * i]! >>> 0)) * scale;
    }
    if (data.nullCount > 0) {
      for (let i = 0; i < n; i++) if (!isValidAt(data, i)) keys[row + i] = Number.NaN;
    }
    row += n;
  }
  return keys;
}

/** Numeric values of an Int/Float/Bool column as doubles, NaN for nulls (Int64 via exact int32 words). */
export function numericValues(vector: Vector): Float64Array {
  const type = vector.type as DataType;
  const out = new Float64Array(vector.length);
  let row = 0;
  for (const data of vector.data) {
    const n = data.length;
    if (type.typeId === Type.Bool) {
      const bits = data.values as Uint8Array;
      for (let i = 0; i < n; i++) {
        const pos = data.offset + i;
        out[row + i] = bits[pos >> 3]! & (1 << (pos & 7)) ? 1 : 0;
      }
    } else if (type.typeId === Type.Timestamp || type.typeId === Type.Date) {
      out.set(timeKeysMs(makeVector(data)), row);
    } else {
      const values = data.values as FixedArray;
      if (values instanceof BigInt64Array || values instanceof BigUint64Array) {
        const words = new Int32Array(values.buffer, values.byteOffset, n * 2);
        const signed = values instanceof BigInt64Array;
        for (let i = 0; i < n; i++) {
          const hi = signed ? words[2 * i + 1]! : words[2 * i + 1]! >>> 0;
          out[row + i] = hi * TWO_POW_32 + (words[2 * i]! >>> 0);
        }
      } else if (DataType.isFloat(type) && type.precision === 0) {
        for (let i = 0; i < n; i++) out[row + i] = halfToNumber((values as Uint16Array)[i]!);
      } else {
        for (let i = 0; i < n; i++) out[row + i] = (values as Float64Array)[i]!;
      }
    }
    if (data.nullCount > 0) {
      for (let i = 0; i < n; i++) if (!isValidAt(data, i)) out[row + i] = Number.NaN;
    }
    row += n;
  }
  return out;
}

function halfToNumber(bits: number): number {
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  const sign = bits & 0x8000 ? -1 : 1;
  if (exponent === 0) return sign * 2 ** -14 * (fraction / 1024);
  if (exponent === 0x1f) return fraction ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
}

/** Per-row validity of a column (1 = value present), across chunks. */
export function validityFlags(vector: Vector): Uint8Array {
  const flags = new Uint8Array(vector.length).fill(1);
  let row = 0;
  for (const data of vector.data) {
    if (data.nullCount > 0) {
      for (let i = 0; i < data.length; i++) if (!isValidAt(data, i)) flags[row + i] = 0;
    }
    row += data.length;
  }
  return flags;
}

/** String values of a string column, null where missing (decodes each row once). */
export function stringValues(vector: Vector): (string | null)[] {
  const data = vector.data.length === 1 && vector.type.typeId === Type.Utf8 ? vector.data[0]! : takeStrings(vector, allRows(vector.length));
  const decoder = new TextDecoder();
  const offsets = data.valueOffsets as Int32Array;
  const bytes = data.values as Uint8Array;
  const out: (string | null)[] = new Array(data.length);
  for (let i = 0; i < data.length; i++) {
    out[i] = isValidAt(data, i) ? decoder.decode(bytes.subarray(offsets[i]!, offsets[i + 1]!)) : null;
  }
  return out;
}

/** Builds an Int32 or Float64 column from values and per-row validity flags (null = all valid). */
export function numericData<T extends Int32 | Float64>(type: T, values: Int32Array | Float64Array, valid: Uint8Array | null): Data<T> {
  let nullCount = 0;
  if (valid) for (let i = 0; i < valid.length; i++) if (!valid[i]) nullCount++;
  return makeData({
    type,
    length: values.length,
    nullCount,
    nullBitmap: valid ? bitmapFromFlags(valid, nullCount) : undefined,
    data: values,
  } as never) as unknown as Data<T>;
}

/** Assembles single-chunk columns into a Table with one record batch; fields are nullable and carry no metadata. */
export function tableFromColumns(columns: ReadonlyArray<{ name: string; data: Data }>, numRows: number): Table {
  const fields = columns.map(({ name, data }) => new Field(name, data.type, true));
  const schema = new Schema(fields);
  const struct = makeData({
    type: new Struct(fields),
    length: numRows,
    nullCount: 0,
    children: columns.map(({ data }) => data),
  });
  return new Table(schema, [new RecordBatch(schema, struct)]);
}

/** Gathers the same rows from every column of a table, normalising types (see the file comment). */
export function takeTable(table: Table, indices: Int32Array): Table {
  const columns = table.schema.fields.map((field, i) => ({ name: field.name, data: takeColumn(table.getChildAt(i)!, indices) }));
  return tableFromColumns(columns, indices.length);
}

/** Whether a column is already in normalised form (one chunk, no nulls, no Int64/LargeUtf8/dictionary). */
function isNormalised(vector: Vector): boolean {
  // Columns with nulls are copied so that the slots under nulls are zero (see takeFixed).
  if (vector.data.length !== 1 || vector.data[0]!.nullCount > 0 || vector.data[0]!.offset !== 0) return false;
  const type = vector.type as DataType;
  if (DataType.isInt(type) && type.bitWidth === 64) return false;
  return type.typeId !== Type.LargeUtf8 && type.typeId !== Type.Dictionary;
}

/** Merges chunks and normalises column types (see the file comment), copying only columns that need it. */
export function normalizeTable(table: Table): Table {
  let rows: Int32Array | null = null;
  const columns = table.schema.fields.map((field, i) => {
    const vector = table.getChildAt(i)!;
    if (isNormalised(vector)) return { name: field.name, data: vector.data[0]! };
    const only = vector.data.length === 1 ? vector.data[0]! : undefined;
    const type = vector.type as DataType;
    if (only && only.nullCount === 0 && only.offset === 0 && DataType.isInt(type) && type.bitWidth === 64) {
      // One chunk without nulls: narrowed from its own buffer, without gathering it row by row first.
      const values = (only.values as BigInt64Array | BigUint64Array).subarray(0, only.length);
      return { name: field.name, data: narrowInt64(values, null, 0, type.isSigned) };
    }
    rows ??= allRows(table.numRows);
    return { name: field.name, data: takeColumn(vector, rows) };
  });
  return tableFromColumns(columns, table.numRows);
}
