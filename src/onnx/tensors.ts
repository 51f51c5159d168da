import { endianness } from 'node:os';
import { DataType, Precision, makeVector } from 'apache-arrow';
import type { Data, Float, Table, Vector } from 'apache-arrow';
import * as ort from 'onnxruntime-node';
import { ByteDictionary } from '../data/byte-dictionary';
import { DataContractError } from '../errors';
import { inputNameOf } from './feature-inputs';
import type { FeatureSpec, RowSelection } from './types';

// Large offsets are BigInt64; on a little-endian machine the low 32-bit word of each holds the whole
// offset (a JS buffer is < 2 GiB), which avoids a BigInt → Number conversion per row.
const LITTLE_ENDIAN = endianness() === 'LE';

/** Number of rows a selection covers. */
export function selectionLength(rows: RowSelection): number {
  return rows instanceof Int32Array ? rows.length : rows.end - rows.start;
}

/** The rows of `rows` from `from` to `to` (positions within the selection), without copying. */
export function sliceSelection(rows: RowSelection, from: number, to: number): RowSelection {
  return rows instanceof Int32Array
    ? rows.subarray(from, to)
    : { start: rows.start + from, end: rows.start + to };
}

/**
 * Builds the ONNX inputs for `rows` of `table`: numeric features as float32 [n,1] (nulls → NaN),
 * categorical features as string [n,1] (nulls → ""), following the trainer's input convention. Columns are
 * found by feature name; each tensor is keyed by its ONNX input name (`inputNames`, the feature's own by default).
 */
export function tensorsFromTable(
  table: Table,
  rows: RowSelection,
  features: FeatureSpec,
  inputNames?: ReadonlyMap<string, string>,
): Record<string, ort.Tensor> {
  checkSelection(table, rows);
  const n = selectionLength(rows);
  const feeds: Record<string, ort.Tensor> = {};
  for (const name of features.numeric) {
    const column = requireColumn(table, name, 'numeric');
    feeds[inputNameOf(name, inputNames)] = new ort.Tensor('float32', numericValues(column, name, rows, n), [n, 1]);
  }
  for (const name of features.categorical) {
    const column = requireColumn(table, name, 'categorical');
    feeds[inputNameOf(name, inputNames)] = new ort.Tensor('string', categoricalValues(column, name, rows, n), [n, 1]);
  }
  return feeds;
}

function checkSelection(table: Table, rows: RowSelection): void {
  const numRows = table.numRows;
  if (rows instanceof Int32Array) {
    for (let i = 0; i < rows.length; i++) {
      const r = rows[i]!;
      if (r < 0 || r >= numRows) {
        throw new RangeError(`row index ${r} (position ${i}) is outside the table's ${numRows} rows`);
      }
    }
    return;
  }
  const { start, end } = rows;
  if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end < start || end > numRows) {
    throw new RangeError(`row range [${start}, ${end}) is not within the table's ${numRows} rows`);
  }
}

// Arrow's Table#getChild makes a new Vector (and works out its chunk offsets) on every call, and scoring asks a table
// for every feature's column once per batch: each table's columns are looked up once. Tables are immutable.
const columnsByTable = new WeakMap<Table, Map<string, Vector | null>>();

function columnOf(table: Table, name: string): Vector | null {
  let columns = columnsByTable.get(table);
  if (columns === undefined) {
    columns = new Map();
    columnsByTable.set(table, columns);
  }
  let column = columns.get(name);
  if (column === undefined) {
    column = table.getChild(name);
    columns.set(name, column);
  }
  return column;
}

function requireColumn(table: Table, name: string, kind: 'numeric' | 'categorical'): Vector {
  const column = columnOf(table, name);
  if (column === null) {
    const have = table.schema.fields.map((f) => f.name).join(', ');
    throw new DataContractError(`column '${name}' (a ${kind} feature) is missing from the table; columns: ${have}`);
  }
  return column;
}

const startsByChunks = new WeakMap<readonly Data[], Int32Array>();

/** Global row offset of each chunk, plus the total at the end, for locating a row's chunk; worked out once per column. */
function chunkStarts(chunks: readonly Data[]): Int32Array {
  let starts = startsByChunks.get(chunks);
  if (starts === undefined) {
    starts = new Int32Array(chunks.length + 1);
    for (let i = 0; i < chunks.length; i++) starts[i + 1] = starts[i]! + chunks[i]!.length;
    startsByChunks.set(chunks, starts);
  }
  return starts;
}

/** Index of the chunk holding global row `row`: binary search over chunk starts. */
function chunkOf(starts: Int32Array, row: number): number {
  let lo = 0;
  let hi = starts.length - 2;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (starts[mid]! <= row) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/**
 * Calls `visit(chunkIndex, localStart, localEnd, outStart)` for each chunk a row range overlaps.
 * Index lists go through `locateRows` instead: one call per row would cost more than the read.
 */
function forEachChunkInRange(
  chunks: readonly Data[],
  rows: { start: number; end: number },
  visit: (chunkIndex: number, localStart: number, localEnd: number, outStart: number) => void,
): void {
  if (rows.end <= rows.start) return;
  const starts = chunkStarts(chunks);
  for (let c = chunkOf(starts, rows.start); c < chunks.length && starts[c]! < rows.end; c++) {
    const from = Math.max(rows.start, starts[c]!);
    const to = Math.min(rows.end, starts[c + 1]!);
    if (to > from) visit(c, from - starts[c]!, to - starts[c]!, from - rows.start);
  }
}

/**
 * For each row of an index list, its chunk (`chunkIndex[k]`) and its position in that chunk
 * (`local[k]`). Neighbouring rows usually share a chunk, so the search starts from the last one.
 */
function locateRows(chunks: readonly Data[], rows: Int32Array): { chunkIndex: Int32Array; local: Int32Array } {
  const starts = chunkStarts(chunks);
  const chunkIndex = new Int32Array(rows.length);
  const local = new Int32Array(rows.length);
  let c = 0;
  let lo = starts[0]!;
  let hi = starts[1] ?? 0;
  for (let k = 0; k < rows.length; k++) {
    const row = rows[k]!;
    if (row < lo || row >= hi) {
      c = chunkOf(starts, row);
      lo = starts[c]!;
      hi = starts[c + 1]!;
    }
    chunkIndex[k] = c;
    local[k] = row - lo;
  }
  return { chunkIndex, local };
}

/** Validity bitmap of a chunk with nulls, and the bit offset of its first row; undefined when it has none. */
function nullsOf(chunk: Data): { bitmap: Uint8Array; offset: number } | undefined {
  const bitmap = chunk.nullBitmap;
  if (chunk.nullCount === 0 || !bitmap || bitmap.length === 0) return undefined;
  return { bitmap, offset: chunk.offset };
}

function isNull(nulls: { bitmap: Uint8Array; offset: number }, local: number): boolean {
  const pos = nulls.offset + local;
  return ((nulls.bitmap[pos >> 3]! >> (pos & 7)) & 1) === 0;
}

function isNumericType(type: DataType): boolean {
  return DataType.isInt(type) || DataType.isFloat(type) || DataType.isBool(type);
}

type NumberArray = Float64Array | Float32Array | Int32Array | Int16Array | Int8Array | Uint32Array | Uint16Array | Uint8Array;

/** How to read one chunk's numbers, worked out once per chunk rather than once per row. */
type NumericReader =
  | { kind: 'typed'; values: NumberArray; nulls: ReturnType<typeof nullsOf> }
  | { kind: 'bigint'; values: BigInt64Array | BigUint64Array; nulls: ReturnType<typeof nullsOf> }
  | { kind: 'getter'; vector: Vector; nulls: ReturnType<typeof nullsOf> };

const numericReaders = new WeakMap<Data, NumericReader>();

/** The chunk's reader, made once per chunk: every batch and every model scored on a snapshot reads it again. */
function numericReader(chunk: Data): NumericReader {
  let reader = numericReaders.get(chunk);
  if (reader === undefined) {
    reader = makeNumericReader(chunk);
    numericReaders.set(chunk, reader);
  }
  return reader;
}

function makeNumericReader(chunk: Data): NumericReader {
  const nulls = nullsOf(chunk);
  const values: unknown = chunk.values;
  if (values instanceof BigInt64Array || values instanceof BigUint64Array) return { kind: 'bigint', values, nulls };
  const halfFloat = DataType.isFloat(chunk.type) && (chunk.type as Float).precision === Precision.HALF;
  if (
    !halfFloat &&
    !DataType.isBool(chunk.type) &&
    (values instanceof Float64Array ||
      values instanceof Float32Array ||
      values instanceof Int32Array ||
      values instanceof Int16Array ||
      values instanceof Int8Array ||
      values instanceof Uint32Array ||
      values instanceof Uint16Array ||
      values instanceof Uint8Array)
  ) {
    return { kind: 'typed', values, nulls };
  }
  // Half floats and bit-packed booleans are rare: decoded through Arrow's own getter.
  return { kind: 'getter', vector: makeVector(chunk), nulls };
}

/**
 * A float32 column without nulls whose row range lies in one chunk is already the tensor's data: a view of it
 * spares a copy per feature and batch (onnxruntime only reads its inputs).
 */
function float32View(chunks: readonly Data[], rows: { start: number; end: number }): Float32Array | undefined {
  if (rows.end <= rows.start) return undefined;
  const starts = chunkStarts(chunks);
  const c = chunkOf(starts, rows.start);
  if (rows.end > starts[c + 1]!) return undefined;
  const reader = numericReader(chunks[c]!);
  if (reader.kind !== 'typed' || !(reader.values instanceof Float32Array) || reader.nulls !== undefined) return undefined;
  return reader.values.subarray(rows.start - starts[c]!, rows.end - starts[c]!);
}

function numericValues(column: Vector, name: string, rows: RowSelection, n: number): Float32Array {
  if (!isNumericType(column.type)) {
    throw new DataContractError(
      `column '${name}' has type ${String(column.type)}, expected a numeric type (int, float or bool) for a numeric feature`,
    );
  }
  const chunks = column.data;
  if (!(rows instanceof Int32Array)) {
    const view = float32View(chunks, rows);
    if (view !== undefined) return view;
  }
  const out = new Float32Array(n);
  if (rows instanceof Int32Array) {
    const { chunkIndex, local } = locateRows(chunks, rows);
    for (let k = 0; k < n; k++) {
      const reader = numericReader(chunks[chunkIndex[k]!]!);
      const i = local[k]!;
      if (reader.nulls !== undefined && isNull(reader.nulls, i)) out[k] = Number.NaN;
      else if (reader.kind === 'typed') out[k] = reader.values[i]!;
      else if (reader.kind === 'bigint') out[k] = Number(reader.values[i]!);
      else out[k] = Number(reader.vector.get(i) ?? Number.NaN);
    }
    return out;
  }
  // A plain loop over the chunks a range overlaps, not forEachChunkInRange: this runs per feature and batch, and a
  // closure made per call costs more than the copy of a small batch.
  if (rows.end <= rows.start) return out;
  const starts = chunkStarts(chunks);
  for (let c = chunkOf(starts, rows.start); c < chunks.length && starts[c]! < rows.end; c++) {
    const from = Math.max(rows.start, starts[c]!) - starts[c]!;
    const to = Math.min(rows.end, starts[c + 1]!) - starts[c]!;
    if (to <= from) continue;
    const shift = starts[c]! - rows.start;
    const reader = numericReader(chunks[c]!);
    if (reader.kind === 'typed') {
      // TypedArray#set converts element types natively: the bulk path for the common column types.
      out.set(reader.values.subarray(from, to), from + shift);
    } else if (reader.kind === 'bigint') {
      const values = reader.values;
      for (let i = from; i < to; i++) out[i + shift] = Number(values[i]!);
    } else {
      for (let i = from; i < to; i++) out[i + shift] = Number(reader.vector.get(i) ?? Number.NaN);
    }
    const nulls = reader.nulls;
    if (nulls !== undefined) {
      for (let i = from; i < to; i++) if (isNull(nulls, i)) out[i + shift] = Number.NaN;
    }
  }
  return out;
}

const dictionaryStrings = new WeakMap<Vector, string[]>();

/** Decoded dictionary entries, cached per dictionary so batches of one table decode it once. */
function decodedDictionary(dictionary: Vector): string[] {
  let strings = dictionaryStrings.get(dictionary);
  if (strings === undefined) {
    strings = Array.from({ length: dictionary.length }, (_, i) => {
      const v: unknown = dictionary.get(i);
      return v === null || v === undefined ? '' : String(v);
    });
    dictionaryStrings.set(dictionary, strings);
  }
  return strings;
}

function isCategoricalType(type: DataType): boolean {
  return (
    DataType.isUtf8(type) ||
    DataType.isLargeUtf8(type) ||
    DataType.isUtf8View(type) ||
    DataType.isInt(type) ||
    DataType.isBool(type) ||
    (DataType.isDictionary(type) && isCategoricalType(type.dictionary))
  );
}

/** How to read one chunk's strings, worked out once per chunk rather than once per row. */
type StringReader =
  | { kind: 'encoded'; ids: Int32Array; strings: string[]; nulls: ReturnType<typeof nullsOf> }
  | { kind: 'utf8'; bytes: Uint8Array; text: Buffer; offsets: Int32Array; stride: number; nulls: ReturnType<typeof nullsOf> }
  | { kind: 'dictionary'; strings: string[]; indices: ArrayLike<number | bigint>; nulls: ReturnType<typeof nullsOf> }
  | { kind: 'getter'; vector: Vector; nulls: ReturnType<typeof nullsOf> };

/**
 * A Utf8 column's chunk dictionary-encoded once: an id per row and each distinct value decoded once. Every model
 * scored on a snapshot (fold models, candidate, champion) and every batch then reads strings by id instead of
 * decoding them again; kept with the chunk and dropped with it.
 */
interface EncodedChunk {
  ids: Int32Array;
  strings: string[];
}
const encodedChunks = new WeakMap<Data, EncodedChunk>();
const rowsAsked = new WeakMap<Data, number>();

/**
 * The chunk's encoding, made once the rows asked of it add up to an eighth of it: a few probe rows of a large
 * snapshot never pay for encoding all of it, a scan over it pays at most an eighth more than decoding row by row.
 */
function encodedChunk(chunk: Data, rows: number): EncodedChunk | undefined {
  const done = encodedChunks.get(chunk);
  if (done !== undefined) return done;
  if (!DataType.isUtf8(chunk.type)) return undefined;
  const asked = (rowsAsked.get(chunk) ?? 0) + rows;
  rowsAsked.set(chunk, asked);
  if (asked * 8 < chunk.length) return undefined;
  const offsets = chunk.valueOffsets as Int32Array;
  const bytes = chunk.values as Uint8Array;
  const dictionary = new ByteDictionary();
  const ids = new Int32Array(chunk.length);
  for (let i = 0; i < chunk.length; i++) ids[i] = dictionary.add(bytes, offsets[i]!, offsets[i + 1]!);
  const strings = Array.from({ length: dictionary.size }, (_, id) => {
    const value = dictionary.bytesOf(id);
    return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('utf8');
  });
  const encoded = { ids, strings };
  encodedChunks.set(chunk, encoded);
  rowsAsked.delete(chunk);
  return encoded;
}

function stringReader(chunk: Data, rows: number): StringReader {
  const nulls = nullsOf(chunk);
  const type = chunk.type;
  const encoded = encodedChunk(chunk, rows);
  if (encoded !== undefined) return { kind: 'encoded', ...encoded, nulls };
  if (DataType.isUtf8(type) || DataType.isLargeUtf8(type)) {
    const bytes = chunk.values as Uint8Array;
    const rawOffsets = chunk.valueOffsets as Int32Array | BigInt64Array;
    const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    if (!(rawOffsets instanceof BigInt64Array)) return { kind: 'utf8', bytes, text, offsets: rawOffsets, stride: 1, nulls };
    if (!LITTLE_ENDIAN) return { kind: 'utf8', bytes, text, offsets: Int32Array.from(rawOffsets, Number), stride: 1, nulls };
    const words = new Int32Array(rawOffsets.buffer, rawOffsets.byteOffset, rawOffsets.length * 2);
    return { kind: 'utf8', bytes, text, offsets: words, stride: 2, nulls };
  }
  if (DataType.isDictionary(type) && chunk.dictionary) {
    return { kind: 'dictionary', strings: decodedDictionary(chunk.dictionary), indices: chunk.values as ArrayLike<number | bigint>, nulls };
  }
  return { kind: 'getter', vector: makeVector(chunk), nulls };
}

function categoricalValues(column: Vector, name: string, rows: RowSelection, n: number): string[] {
  if (!isCategoricalType(column.type)) {
    throw new DataContractError(
      `column '${name}' has type ${String(column.type)}, expected a string, dictionary or integer type for a categorical feature`,
    );
  }
  const out = new Array<string>(n);
  const chunks = column.data;
  const readers = new Array<StringReader | undefined>(chunks.length);
  // Categories repeat: short strings are decoded once per call and found again by their bytes.
  const shortStrings = new Map<number, string>();
  if (rows instanceof Int32Array) {
    const { chunkIndex, local } = locateRows(chunks, rows);
    const perChunk = new Int32Array(chunks.length);
    for (let k = 0; k < n; k++) perChunk[chunkIndex[k]!]!++;
    const readerOf = (c: number): StringReader => (readers[c] ??= stringReader(chunks[c]!, perChunk[c]!));
    for (let k = 0; k < n; k++) out[k] = readString(readerOf(chunkIndex[k]!), local[k]!, shortStrings);
    return out;
  }
  forEachChunkInRange(chunks, rows, (c, from, to, at) => {
    const reader = (readers[c] ??= stringReader(chunks[c]!, to - from));
    if (reader.kind === 'encoded') {
      // The common case once encoded: a gather by id, nulls read as "".
      const { ids, strings, nulls } = reader;
      for (let i = from; i < to; i++) out[i - from + at] = nulls !== undefined && isNull(nulls, i) ? '' : strings[ids[i]!]!;
      return;
    }
    for (let i = from; i < to; i++) out[i - from + at] = readString(reader, i, shortStrings);
  });
  return out;
}

function readString(reader: StringReader, i: number, shortStrings: Map<number, string>): string {
  if (reader.nulls !== undefined && isNull(reader.nulls, i)) return '';
  if (reader.kind === 'encoded') return reader.strings[reader.ids[i]!]!;
  if (reader.kind === 'utf8') {
    const { bytes, text, offsets, stride } = reader;
    const start = offsets[i * stride]!;
    const end = offsets[(i + 1) * stride]!;
    if (end - start > 6) return text.toString('utf8', start, end);
    // Up to 6 bytes plus the length fit exactly in a double, so two strings never share a key.
    let key = end - start;
    for (let j = start; j < end; j++) key = key * 256 + bytes[j]!;
    let s = shortStrings.get(key);
    if (s === undefined) {
      s = text.toString('utf8', start, end);
      shortStrings.set(key, s);
    }
    return s;
  }
  if (reader.kind === 'dictionary') return reader.strings[Number(reader.indices[i]!)] ?? '';
  const v: unknown = reader.vector.get(i);
  return v === null || v === undefined ? '' : String(v);
}
