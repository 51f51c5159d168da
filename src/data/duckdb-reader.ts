// DuckDB query results → apache-arrow Table. The DuckDB Node API has no Arrow export (the
// arrow extension would have to be downloaded at run time), so result chunks are copied from
// DuckDB's vectors straight into Arrow buffers: fixed-width values and validity masks as bytes,
// strings from DuckDB's 16-byte slots (inline up to 12 bytes, else a pointer) without ever
// becoming JS strings. That keeps a 3M-row read to a few seconds instead of tens.
import { DuckDBInstance, DuckDBTypeId } from '@duckdb/node-api';
import type { DuckDBConnection, DuckDBResult } from '@duckdb/node-api';
import duckdb from '@duckdb/node-bindings';
import {
  Bool,
  DataType,
  Date_,
  DateUnit,
  Float32,
  Float64,
  Int16,
  Int32,
  Int64,
  Int8,
  TimeUnit,
  Timestamp,
  Uint16,
  Uint32,
  Uint64,
  Uint8,
  Utf8,
  makeData,
} from 'apache-arrow';
import type { Data, Table } from 'apache-arrow';
import { type FixedArray, narrowInt64Words, tableFromColumns } from './columns';

interface FixedArrayCtor {
  new (length: number): FixedArray;
  new (buffer: ArrayBufferLike, byteOffset: number, length: number): FixedArray;
  readonly BYTES_PER_ELEMENT: number;
}

/** How one DuckDB type is read: its value width and the Arrow type it becomes. */
interface ColumnReading {
  kind: 'fixed' | 'bool' | 'string';
  arrowType: DataType;
  ArrayType?: FixedArrayCtor;
}

const fixed = (arrowType: DataType, ArrayType: FixedArrayCtor): ColumnReading => ({ kind: 'fixed', arrowType, ArrayType });

/** DuckDB types read as they are; others are cast in SQL (see `selectExpression`) or refused. */
function columnReading(typeId: DuckDBTypeId): ColumnReading | null {
  switch (typeId) {
    case DuckDBTypeId.BOOLEAN:
      return { kind: 'bool', arrowType: new Bool() };
    case DuckDBTypeId.TINYINT:
      return fixed(new Int8(), Int8Array as FixedArrayCtor);
    case DuckDBTypeId.SMALLINT:
      return fixed(new Int16(), Int16Array as FixedArrayCtor);
    case DuckDBTypeId.INTEGER:
      return fixed(new Int32(), Int32Array as FixedArrayCtor);
    case DuckDBTypeId.BIGINT:
      return fixed(new Int64(), BigInt64Array as FixedArrayCtor);
    case DuckDBTypeId.UTINYINT:
      return fixed(new Uint8(), Uint8Array as FixedArrayCtor);
    case DuckDBTypeId.USMALLINT:
      return fixed(new Uint16(), Uint16Array as FixedArrayCtor);
    case DuckDBTypeId.UINTEGER:
      return fixed(new Uint32(), Uint32Array as FixedArrayCtor);
    case DuckDBTypeId.UBIGINT:
      return fixed(new Uint64(), BigUint64Array as FixedArrayCtor);
    case DuckDBTypeId.FLOAT:
      return fixed(new Float32(), Float32Array as FixedArrayCtor);
    case DuckDBTypeId.DOUBLE:
      return fixed(new Float64(), Float64Array as FixedArrayCtor);
    case DuckDBTypeId.TIMESTAMP:
      return fixed(new Timestamp(TimeUnit.MICROSECOND), BigInt64Array as FixedArrayCtor);
    case DuckDBTypeId.TIMESTAMP_S:
      return fixed(new Timestamp(TimeUnit.SECOND), BigInt64Array as FixedArrayCtor);
    case DuckDBTypeId.TIMESTAMP_MS:
      return fixed(new Timestamp(TimeUnit.MILLISECOND), BigInt64Array as FixedArrayCtor);
    case DuckDBTypeId.TIMESTAMP_NS:
      return fixed(new Timestamp(TimeUnit.NANOSECOND), BigInt64Array as FixedArrayCtor);
    case DuckDBTypeId.TIMESTAMP_TZ:
      return fixed(new Timestamp(TimeUnit.MICROSECOND, 'UTC'), BigInt64Array as FixedArrayCtor);
    case DuckDBTypeId.DATE:
      return fixed(new Date_(DateUnit.DAY), Int32Array as FixedArrayCtor);
    case DuckDBTypeId.VARCHAR:
      return { kind: 'string', arrowType: new Utf8() };
    default:
      return null;
  }
}

/** A column of the scan as DuckDB describes it, with the Arrow type it will be read as. */
export interface ScanColumn {
  name: string;
  duckType: string;
  /** null when the type cannot be read (lists, structs, blobs, …). */
  arrowType: DataType | null;
  /** The SELECT expression that reads it (a cast for decimals, enums, UUIDs). */
  expression: string;
}

/** Quotes an identifier for DuckDB SQL. */
export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** Quotes a string literal for DuckDB SQL. */
export function quoteLiteral(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}

function scanColumn(name: string, typeId: DuckDBTypeId, duckType: string): ScanColumn {
  const ident = quoteIdent(name);
  switch (typeId) {
    case DuckDBTypeId.DECIMAL:
    case DuckDBTypeId.HUGEINT:
    case DuckDBTypeId.UHUGEINT:
      return { name, duckType, arrowType: new Float64(), expression: `CAST(${ident} AS DOUBLE) AS ${ident}` };
    case DuckDBTypeId.ENUM:
    case DuckDBTypeId.UUID:
      return { name, duckType, arrowType: new Utf8(), expression: `CAST(${ident} AS VARCHAR) AS ${ident}` };
    default:
      return { name, duckType, arrowType: columnReading(typeId)?.arrowType ?? null, expression: ident };
  }
}

let instance: Promise<DuckDBInstance> | undefined;

/** Opens a connection to the process-wide in-memory DuckDB (created on first use). */
export async function connectDuckDB(): Promise<DuckDBConnection> {
  instance ??= DuckDBInstance.create(':memory:', {
    // Row order must not depend on thread scheduling: snapshots are byte-for-byte reproducible.
    preserve_insertion_order: 'true',
    // Parquet, CSV and ICU are built in; nothing may be fetched at run time.
    autoinstall_known_extensions: 'false',
    autoload_known_extensions: 'false',
  });
  const connection = await (await instance).connect();
  // Timestamps without an offset are UTC throughout Relearn, whatever the machine's zone.
  await connection.run(`SET TimeZone = 'UTC'`);
  return connection;
}

/** Describes the columns of a FROM clause (e.g. `read_parquet('…')`) without reading its rows. */
export async function describeScan(connection: DuckDBConnection, from: string): Promise<ScanColumn[]> {
  const result = await connection.run(`SELECT * FROM ${from} LIMIT 0`);
  const names = result.columnNames();
  const types = result.columnTypes();
  return names.map((name, i) => scanColumn(name, types[i]!.typeId, types[i]!.toString()));
}

/**
 * Bytes appended in blocks, joined once at the end into a buffer of the exact size: about twice the data allocated in
 * all, in a few buffers. Growing one buffer by doubling allocated about four times the data (strings' offsets and
 * bytes did), and a buffer per DuckDB vector meant hundreds of small ones per column; both set off garbage collections.
 */
class ByteBlocks {
  private readonly full: Uint8Array[] = [];
  private block = new Uint8Array(0);
  /** Bytes written into the current block. */
  used = 0;
  byteLength = 0;

  /** The block to write the next `n` bytes into, at `used`; call `commit(n)` once they are written. */
  reserve(n: number): Uint8Array {
    if (this.used + n > this.block.length) {
      if (this.used > 0) this.full.push(this.block.subarray(0, this.used));
      // Blocks grow with the data (64 KiB first, at most 1 MiB), so a small read allocates little.
      this.block = new Uint8Array(Math.max(n, Math.min(1 << 20, Math.max(1 << 16, this.byteLength))));
      this.used = 0;
    }
    return this.block;
  }

  commit(n: number): void {
    this.used += n;
    this.byteLength += n;
  }

  /** The written bytes, block by block, in order. */
  parts(): Uint8Array[] {
    return [...this.full, this.block.subarray(0, this.used)];
  }

  /** Copies every block, in order, into `target` from byte `at`. */
  copyTo(target: Uint8Array, at = 0): void {
    for (const part of this.full) {
      target.set(part, at);
      at += part.length;
    }
    target.set(this.block.subarray(0, this.used), at);
    this.full.length = 0;
    this.block = new Uint8Array(0);
    this.used = 0;
  }
}

/** Fixed-width values of a column: each DuckDB vector's bytes copied as they arrive (its memory is DuckDB's and is reused). */
class FixedAccumulator {
  private readonly blocks = new ByteBlocks();
  length = 0;

  constructor(private readonly ArrayType: FixedArrayCtor) {}

  push(raw: Uint8Array, count: number): void {
    const n = count * this.ArrayType.BYTES_PER_ELEMENT;
    this.blocks.reserve(n).set(raw.subarray(0, n), this.blocks.used);
    this.blocks.commit(n);
    this.length += count;
  }

  /** The values so far as int32 words, block by block (blocks start at byte 0 and hold whole values). */
  words(): Int32Array[] {
    return this.blocks.parts().map((part) => new Int32Array(part.buffer, part.byteOffset, part.length >> 2));
  }

  finish(): FixedArray {
    const values = new this.ArrayType(this.length);
    this.blocks.copyTo(new Uint8Array(values.buffer, values.byteOffset, values.byteLength));
    return values;
  }
}

const DUCK_STRING_BYTES = 16;
const DUCK_INLINE_STRING_BYTES = 12;

/** Utf8 offsets + bytes, accumulated in blocks. */
class Utf8Accumulator {
  private readonly bytes = new ByteBlocks();
  /** The end offset of each row (row 0's start, 0, is not stored), as int32 words. */
  private readonly ends = new ByteBlocks();
  length = 0;

  /**
   * Appends one DuckDB VARCHAR vector: `raw` holds its 16-byte slots (length, then up to 12 inline bytes or a
   * prefix and a pointer), `mask` its validity bits (null when every row is valid).
   */
  pushDuckVector(raw: Uint8Array, count: number, mask: Uint8Array | null): void {
    // Slots are 16-byte aligned in DuckDB's memory, so their length words can be read as an Int32Array.
    const words =
      raw.byteOffset % 4 === 0 ? new Int32Array(raw.buffer, raw.byteOffset, count * 4) : new Int32Array(raw.slice(0, count * DUCK_STRING_BYTES).buffer);
    let byteCount = 0;
    for (let i = 0; i < count; i++) if (mask === null || mask[i >> 3]! & (1 << (i & 7))) byteCount += words[4 * i]!;
    const start = this.bytes.byteLength;
    if (start + byteCount > 0x7fffffff) throw new RangeError('string column larger than 2 GiB');
    const bytes = this.bytes.reserve(byteCount);
    const endBlock = this.ends.reserve(count * 4);
    // Blocks are filled in whole int32 words from byte 0, so this view is aligned.
    const ends = new Int32Array(endBlock.buffer, endBlock.byteOffset + this.ends.used, count);
    let at = this.bytes.used;
    const shift = start - at;
    for (let i = 0; i < count; i++) {
      if (mask === null || mask[i >> 3]! & (1 << (i & 7))) {
        const n = words[4 * i]!;
        const slot = i * DUCK_STRING_BYTES;
        if (n <= DUCK_INLINE_STRING_BYTES) {
          for (let k = 0, from = slot + 4; k < n; k++) bytes[at + k] = raw[from + k]!;
        } else {
          bytes.set(duckdb.get_data_from_pointer(raw.buffer as ArrayBuffer, raw.byteOffset + slot + 8, n), at);
        }
        at += n;
      }
      ends[i] = at + shift;
    }
    this.bytes.commit(byteCount);
    this.ends.commit(count * 4);
    this.length += count;
  }

  finishOffsets(): Int32Array {
    const offsets = new Int32Array(this.length + 1);
    this.ends.copyTo(new Uint8Array(offsets.buffer, 4, this.length * 4));
    return offsets;
  }

  finishBytes(): Uint8Array {
    const bytes = new Uint8Array(this.bytes.byteLength);
    this.bytes.copyTo(bytes);
    return bytes;
  }
}

/** Per-row validity, created only once a null is seen. */
class ValidityAccumulator {
  private flags: Uint8Array | null = null;
  nullCount = 0;
  length = 0;

  push(mask: Uint8Array | null, count: number): void {
    const start = this.length;
    this.length += count;
    if (mask) {
      for (let i = 0; i < count; i++) {
        if (mask[i >> 3]! & (1 << (i & 7))) continue;
        this.flags ??= new Uint8Array(Math.max(1 << 16, this.length * 2)).fill(1);
        this.ensure(this.length);
        this.flags[start + i] = 0;
        this.nullCount++;
      }
    }
    this.ensure(this.length);
  }

  private ensure(size: number): void {
    if (this.flags && size > this.flags.length) {
      const grown = new Uint8Array(size * 2).fill(1);
      grown.set(this.flags);
      this.flags = grown;
    }
  }

  /** Arrow validity bitmap (bit set = valid), or undefined when nothing is null. */
  bitmap(): Uint8Array | undefined {
    if (!this.flags || this.nullCount === 0) return undefined;
    const bitmap = new Uint8Array((this.length + 7) >> 3);
    for (let i = 0; i < this.length; i++) if (this.flags[i]) bitmap[i >> 3]! |= 1 << (i & 7);
    return bitmap;
  }
}

interface ColumnSink {
  name: string;
  reading: ColumnReading;
  validity: ValidityAccumulator;
  fixedValues?: FixedAccumulator;
  strings?: Utf8Accumulator;
}

function appendChunk(sink: ColumnSink, vector: duckdb.Vector, count: number): void {
  const mask = duckdb.vector_get_validity(vector, Math.ceil(count / 64) * 8);
  sink.validity.push(mask, count);
  const { reading } = sink;
  if (reading.kind === 'string') {
    sink.strings!.pushDuckVector(duckdb.vector_get_data(vector, count * DUCK_STRING_BYTES), count, mask);
    return;
  }
  const width = reading.kind === 'bool' ? 1 : reading.ArrayType!.BYTES_PER_ELEMENT;
  sink.fixedValues!.push(duckdb.vector_get_data(vector, count * width), count);
}

function finishColumn(sink: ColumnSink, rows: number): Data {
  const { reading, validity } = sink;
  const nullBitmap = validity.bitmap();
  const nullCount = validity.nullCount;
  if (reading.kind === 'string') {
    return makeData({
      type: new Utf8(),
      length: rows,
      nullCount,
      nullBitmap,
      valueOffsets: sink.strings!.finishOffsets(),
      data: sink.strings!.finishBytes(),
    });
  }
  const { arrowType } = reading;
  if (nullCount === 0 && DataType.isInt(arrowType) && arrowType.bitWidth === 64) {
    // Narrowed here, straight from the blocks, as normalizeTable would narrow the joined column (see columns.ts).
    const signed = arrowType.isSigned;
    return narrowInt64Words(sink.fixedValues!.words(), null, 0, signed, () => sink.fixedValues!.finish() as BigInt64Array | BigUint64Array);
  }
  const values = sink.fixedValues!.finish();
  if (reading.kind === 'bool') {
    const bits = new Uint8Array((rows + 7) >> 3);
    for (let i = 0; i < rows; i++) if (values[i]) bits[i >> 3]! |= 1 << (i & 7);
    return makeData({ type: new Bool(), length: rows, nullCount, nullBitmap, data: bits });
  }
  return makeData({ type: reading.arrowType, length: rows, nullCount, nullBitmap, data: values } as never) as Data;
}

/** Runs a query and returns its result as an apache-arrow Table with one record batch. */
export async function queryToArrow(connection: DuckDBConnection, sql: string, onRows?: (rows: number) => void): Promise<Table> {
  const result: DuckDBResult = await connection.stream(sql);
  const names = result.columnNames();
  const types = result.columnTypes();
  const sinks: ColumnSink[] = names.map((name, i) => {
    const reading = columnReading(types[i]!.typeId);
    if (!reading) throw new TypeError(`column '${name}' has DuckDB type ${types[i]!.toString()}, which Relearn cannot read`);
    return {
      name,
      reading,
      validity: new ValidityAccumulator(),
      ...(reading.kind === 'string'
        ? { strings: new Utf8Accumulator() }
        : { fixedValues: new FixedAccumulator(reading.kind === 'bool' ? (Uint8Array as FixedArrayCtor) : reading.ArrayType!) }),
    };
  });
  let rows = 0;
  let reported = 0;
  // The next chunk is asked for before this one is copied: DuckDB produces it on a thread of its own (the fetch runs
  // the scan's pipeline) while this thread copies, instead of each side waiting for the other.
  let next = result.fetchChunk();
  try {
    for (let chunk = await next; chunk && chunk.rowCount > 0; chunk = await next) {
      next = result.fetchChunk();
      const count = chunk.rowCount;
      for (let c = 0; c < sinks.length; c++) appendChunk(sinks[c]!, duckdb.data_chunk_get_vector(chunk.chunk, c), count);
      rows += count;
      if (onRows && rows - reported >= 1_000_000) {
        reported = rows;
        onRows(rows);
      }
    }
  } catch (err) {
    // A fetch still running must end before the caller closes the connection under it.
    await next.catch(() => undefined);
    throw err;
  }
  return tableFromColumns(
    sinks.map((sink) => ({ name: sink.name, data: finishColumn(sink, rows) })),
    rows,
  );
}
