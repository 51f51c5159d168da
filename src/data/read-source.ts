// Reading sources into Arrow.
//
// Parquet, CSV and JSON go through DuckDB (@duckdb/node-api); Arrow IPC through apache-arrow itself.
// JSON's extra shape checks (same keys in every object, one type per column, nothing nested) are in json-source.ts.
// Why DuckDB, from bench/parquet-reader.ts on flights-3m (2 cores, medians of 3 after a cold
// run; bench/results/parquet-reader.json): for a one-month window (511,502 of 3M rows) DuckDB
// takes 0.27 s (0.33 s cold, in a fresh process) with a peak RSS of 263 MB, because the window
// is pushed into the scan and row groups outside it are skipped; parquet-wasm has to decode the
// whole file first (its metadata API exposes no column statistics to prune with) and takes
// 0.61 s (1.6 s cold) with about 1 GB of WebAssembly memory that a long-lived worker never gets
// back. Reading all 3M rows is a draw when warm (1.2 s against 1.0–1.25 s) and DuckDB's when
// cold (1.3 s against 3.1 s). The pipeline reads windows, in workers that pull now and then,
// so DuckDB wins where it matters.
// DuckDB also serves CSV better than a plain parser such as csv-parse would: its sniffer
// detects the dialect and the column types (integers, doubles, booleans, dates, timestamps with
// or without offsets) over the whole file, reports bad rows with their line, and reads in
// parallel — otherwise all of that would be hand-written type inference here. One engine
// for both formats also means one set of type mappings and one window push-down.
import { open, readFile, stat } from 'node:fs/promises';
import type { DuckDBConnection } from '@duckdb/node-api';
import { tableFromIPC } from 'apache-arrow';
import type { DataType, Table } from 'apache-arrow';
import { DataContractError, DataSourceError } from '../errors';
import { columnFamily, normalizeTable, takeTable, timeKeysMs, typeName } from './columns';
import { connectDuckDB, describeScan, queryToArrow, quoteIdent, quoteLiteral } from './duckdb-reader';
import type { ScanColumn } from './duckdb-reader';
import { jsonReadError, jsonScan } from './json-source';
import { windowBoundsMs } from './time';
import type { ContractType, SourceConfig, SourceFormat } from './types';

/** Options of `readSource`. */
export interface ReadSourceOptions {
  /** Contract types by column: CSV columns declared `string` are read as text even if they look numeric. */
  columnTypes?: Record<string, ContractType>;
  /** Keep only rows inside `source.window` (default true); the filter is pushed into the scan where possible. */
  applyWindow?: boolean;
  /** Called every million rows read. */
  onRows?: (rows: number) => void;
}

/** One column of a source before it is read, with the Arrow type it will have (null if unreadable). */
export interface SourceColumn {
  name: string;
  type: DataType | null;
  /** The type as the file declares it, for messages. */
  sourceType: string;
}

/** A source whose schema is known and whose rows can be read once. */
export interface OpenedSource {
  file: string;
  format: SourceFormat;
  columns: SourceColumn[];
  read(options?: Pick<ReadSourceOptions, 'applyWindow' | 'onRows'>): Promise<Table>;
}

const EXTENSIONS: Record<string, SourceFormat> = {
  '.parquet': 'parquet',
  '.pq': 'parquet',
  '.csv': 'csv',
  '.arrow': 'arrow',
  '.arrows': 'arrow',
  '.feather': 'arrow',
  '.ipc': 'arrow',
  '.json': 'json',
  '.ndjson': 'json',
  '.jsonl': 'json',
};

/** Format names for messages. */
const FORMAT_LABEL: Record<SourceFormat, string> = { parquet: 'Parquet', csv: 'CSV', arrow: 'Arrow IPC', json: 'JSON' };

/** The format of a source: explicit, else from the file extension. */
export function sourceFormat(source: SourceConfig): SourceFormat {
  if (source.format) return source.format;
  const lower = source.path.toLowerCase();
  for (const [extension, format] of Object.entries(EXTENSIONS)) if (lower.endsWith(extension)) return format;
  throw new DataSourceError(
    `${source.path}: cannot tell the format from the file name; set source.format to parquet, csv, arrow or json`,
  );
}

async function assertReadableFile(file: string): Promise<number> {
  try {
    const info = await stat(file);
    if (!info.isFile()) throw new DataSourceError(`${file}: not a file`);
    return info.size;
  } catch (err) {
    if (err instanceof DataSourceError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    throw new DataSourceError(code === 'ENOENT' ? `${file}: file not found` : `${file}: cannot read the file (${code ?? String(err)})`);
  }
}

async function readEnds(file: string, size: number, length: number): Promise<{ head: Buffer; tail: Buffer }> {
  const handle = await open(file, 'r');
  try {
    const head = Buffer.alloc(Math.min(length, size));
    const tail = Buffer.alloc(Math.min(length, size));
    await handle.read(head, 0, head.length, 0);
    await handle.read(tail, 0, tail.length, Math.max(0, size - length));
    return { head, tail };
  } catch (err) {
    throw new DataSourceError(`${file}: cannot read the file (${(err as Error).message})`);
  } finally {
    await handle.close();
  }
}

function firstLine(message: string): string {
  return message.split('\n')[0]!.trim();
}

/** Describes a file for DuckDB, checking what can be checked before DuckDB sees it. */
async function duckScan(
  file: string,
  format: 'parquet' | 'csv' | 'json',
  size: number,
  columnTypes: Record<string, ContractType>,
): Promise<{ scan: string; scanColumns: ScanColumn[] }> {
  if (format === 'json') {
    const { head } = await readEnds(file, size, 4096);
    if (head.includes(0)) throw new DataSourceError(`${file}: not a JSON file (binary content)`);
    if (size === 0) throw new DataSourceError(`${file}: empty JSON file (an array of objects, or one object per line, is required)`);
    const connection = await connectDuckDB();
    try {
      return await jsonScan(connection, file, columnTypes);
    } finally {
      connection.closeSync();
    }
  }
  if (format === 'parquet') {
    const { head, tail } = await readEnds(file, size, 4);
    if (size < 12 || head.toString('latin1') !== 'PAR1' || tail.toString('latin1') !== 'PAR1') {
      throw new DataSourceError(`${file}: not a Parquet file (no PAR1 magic bytes)`);
    }
  } else {
    const { head } = await readEnds(file, size, 4096);
    if (head.includes(0)) throw new DataSourceError(`${file}: not a CSV file (binary content)`);
    if (size === 0) throw new DataSourceError(`${file}: empty CSV file (a header row is required)`);
  }
  const path = quoteLiteral(file);
  const baseScan =
    format === 'parquet'
      ? `read_parquet(${path})`
      : // Whole-file type detection: a column that turns non-numeric at row 30,000 must not fail the read.
        `read_csv(${path}, header = true, auto_detect = true, sample_size = -1)`;
  const connection = await connectDuckDB();
  try {
    let scan = baseScan;
    let columns: ScanColumn[];
    try {
      columns = await describeScan(connection, scan);
      if (format === 'csv') {
        const textColumns = columns.filter((c) => columnTypes[c.name] === 'string' && c.duckType !== 'VARCHAR');
        if (textColumns.length > 0) {
          const types = textColumns.map((c) => `${quoteLiteral(c.name)}: 'VARCHAR'`).join(', ');
          scan = `${baseScan.slice(0, -1)}, types = {${types}})`;
          columns = await describeScan(connection, scan);
        }
      }
    } catch (err) {
      throw new DataSourceError(`${file}: cannot read as ${format === 'parquet' ? 'Parquet' : 'CSV'}: ${firstLine((err as Error).message)}`);
    }
    await assertUniqueDuckNames(connection, file, format, columns);
    if (format === 'csv') {
      // Without data rows the sniffer types every column as text, and the error would blame the time column instead.
      let empty: boolean;
      try {
        empty = (await (await connection.run(`SELECT 1 FROM ${scan} LIMIT 1`)).getRowsJS()).length === 0;
      } catch (err) {
        throw new DataSourceError(`${file}: cannot read as CSV: ${firstLine((err as Error).message)}`);
      }
      if (empty) throw new DataSourceError(`${file}: empty CSV file (a header row but no data rows)`);
    }
    return { scan, scanColumns: columns };
  } finally {
    connection.closeSync();
  }
}

/** Throws when a column name occurs more than once: which of the two a feature means would be a guess. */
export function assertUniqueNames(file: string, names: readonly string[]): void {
  const seen = new Set<string>();
  for (const name of names) {
    if (seen.has(name)) {
      const count = names.filter((n) => n === name).length;
      throw new DataContractError(`${file}: column name '${name}' appears ${count} times; column names must be unique`);
    }
    seen.add(name);
  }
}

/**
 * DuckDB silently renames a repeated column `a` to `a_1`, so the names it reports cannot show a duplicate. When a
 * name looks like such a rename, the file's own names are read (the CSV header as a row, the Parquet schema).
 */
async function assertUniqueDuckNames(connection: DuckDBConnection, file: string, format: 'parquet' | 'csv', columns: readonly ScanColumn[]): Promise<void> {
  const names = new Set(columns.map((c) => c.name));
  const renamed = columns.some((c) => {
    const m = /^(.*)_\d+$/.exec(c.name);
    return m !== null && names.has(m[1]!);
  });
  if (!renamed) return;
  let raw: string[];
  try {
    if (format === 'csv') {
      const result = await connection.run(`SELECT * FROM read_csv(${quoteLiteral(file)}, header = false, all_varchar = true, auto_detect = true) LIMIT 1`);
      raw = ((await result.getRowsJS())[0] ?? []).map((v) => String(v));
    } else {
      // Depth-first schema rows: the root, then each field followed by its children; keep depth-1 names only.
      const result = await connection.run(`SELECT name, num_children FROM parquet_schema(${quoteLiteral(file)})`);
      const rows = await result.getRowsJS();
      raw = [];
      const pending: number[] = [];
      for (const [i, row] of rows.entries()) {
        const children = Number(row[1] ?? 0);
        if (i > 0) {
          if (pending.length === 1) raw.push(String(row[0]));
          pending[pending.length - 1]! -= 1;
        }
        if (children > 0) pending.push(children);
        while (pending.length > 0 && pending[pending.length - 1] === 0) pending.pop();
      }
    }
  } catch (err) {
    throw new DataSourceError(`${file}: cannot read the column names: ${firstLine((err as Error).message)}`);
  }
  assertUniqueNames(file, raw);
}

/** The time column of an opened source when it can be used for a window; else null. */
function usableTimeColumn(opened: OpenedSource, timeColumn: string): SourceColumn | null {
  const column = opened.columns.find((c) => c.name === timeColumn);
  return column?.type && columnFamily(column.type) === 'timestamp' ? column : null;
}

/** Throws the contract error for a time column that is missing or not a timestamp. */
export function assertTimeColumn(opened: OpenedSource, timeColumn: string): void {
  const column = opened.columns.find((c) => c.name === timeColumn);
  if (!column) throw new DataContractError(`${opened.file}: column '${timeColumn}' is missing (required as the time column)`);
  if (!column.type || columnFamily(column.type) !== 'timestamp') {
    throw new DataContractError(
      `${opened.file}: column '${timeColumn}' has type ${column.type ? typeName(column.type) : column.sourceType}, the time column must be a timestamp or date`,
    );
  }
}

/** Time keys that `filterWindow` computed for the tables it returned, so the snapshot does not compute them again. */
const windowKeys = new WeakMap<Table, Float64Array>();

/** Epoch-millisecond keys of a table's time column (see `timeKeysMs`); not to be modified. */
export function tableTimeKeys(table: Table, timeColumn: string): Float64Array {
  return windowKeys.get(table) ?? timeKeysMs(table.getChild(timeColumn)!);
}

/** Keeps the rows of `table` with from <= time < to; returns the table itself when every row is kept. */
export function filterWindow(table: Table, timeColumn: string, window: SourceConfig['window']): Table {
  if (!window || (window.from === undefined && window.to === undefined)) return table;
  const { fromMs, toMs } = windowBoundsMs(window);
  const keys = timeKeysMs(table.getChild(timeColumn)!);
  let kept = 0;
  for (let i = 0; i < keys.length; i++) if (keys[i]! >= fromMs && keys[i]! < toMs) kept++;
  if (kept === keys.length) {
    windowKeys.set(table, keys);
    return table;
  }
  const rows = new Int32Array(kept);
  const keptKeys = new Float64Array(kept);
  kept = 0;
  for (let i = 0; i < keys.length; i++) {
    if (keys[i]! >= fromMs && keys[i]! < toMs) {
      keptKeys[kept] = keys[i]!;
      rows[kept++] = i;
    }
  }
  const windowed = takeTable(table, rows);
  windowKeys.set(windowed, keptKeys);
  return windowed;
}

/** Opens a source: checks the file, learns its schema, and returns a reader for its rows. */
export async function openSource(source: SourceConfig, options: ReadSourceOptions = {}): Promise<OpenedSource> {
  const file = source.path;
  const format = sourceFormat(source);
  const size = await assertReadableFile(file);
  if (format === 'arrow') return openArrow(source, file, size);
  const { scan, scanColumns } = await duckScan(file, format, size, options.columnTypes ?? {});
  const opened: OpenedSource = {
    file,
    format,
    columns: scanColumns.map((c) => ({ name: c.name, type: c.arrowType, sourceType: c.duckType })),
    read: async (readOptions = {}) => {
      const unreadable = opened.columns.find((c) => c.type === null);
      if (unreadable) {
        throw new DataSourceError(`${file}: column '${unreadable.name}' has type ${unreadable.sourceType}, which Relearn cannot read`);
      }
      const applyWindow = readOptions.applyWindow ?? true;
      const time = applyWindow && source.window ? usableTimeColumn(opened, source.timeColumn) : null;
      if (applyWindow && source.window && !time) assertTimeColumn(opened, source.timeColumn);
      let where = '';
      if (time) {
        const { fromMs, toMs } = windowBoundsMs(source.window);
        // A slightly wider range in SQL lets the scan skip row groups; the exact [from, to)
        // cut is then made in JS on the same epoch-millisecond keys for every format.
        const ident = quoteIdent(source.timeColumn);
        const bounds: string[] = [];
        if (Number.isFinite(fromMs)) bounds.push(`${ident} >= make_timestamp(${Math.floor(fromMs) * 1000 - 1000})`);
        if (Number.isFinite(toMs)) bounds.push(`${ident} <= make_timestamp(${Math.ceil(toMs) * 1000 + 1000})`);
        // A window without either bound (`{}`: a run started with no window) filters nothing.
        if (bounds.length > 0) where = ` WHERE ${bounds.join(' AND ')}`;
      }
      const connection = await connectDuckDB();
      let table: Table;
      try {
        table = await queryToArrow(connection, `SELECT ${scanColumns.map((c) => c.expression).join(', ')} FROM ${scan}${where}`, readOptions.onRows);
      } catch (err) {
        if (format === 'json') throw jsonReadError(file, err);
        throw new DataSourceError(`${file}: cannot read as ${FORMAT_LABEL[format]}: ${firstLine((err as Error).message)}`);
      } finally {
        connection.closeSync();
      }
      table = normalizeTable(table);
      return time ? filterWindow(table, source.timeColumn, source.window) : table;
    },
  };
  return opened;
}

async function openArrow(source: SourceConfig, file: string, size: number): Promise<OpenedSource> {
  const { head } = await readEnds(file, size, 8);
  const isFile = head.subarray(0, 6).toString('latin1') === 'ARROW1';
  const isStream = head.length >= 4 && head.readUInt32LE(0) === 0xffffffff;
  if (!isFile && !isStream) throw new DataSourceError(`${file}: not an Arrow IPC file or stream (no Arrow magic bytes)`);
  let table: Table;
  try {
    table = tableFromIPC(await readFile(file));
  } catch (err) {
    throw new DataSourceError(`${file}: cannot read as Arrow IPC: ${firstLine((err as Error).message)}`);
  }
  assertUniqueNames(file, table.schema.fields.map((f) => f.name));
  const opened: OpenedSource = {
    file,
    format: 'arrow',
    columns: table.schema.fields.map((f) => ({
      name: f.name,
      type: columnFamily(f.type) === 'unsupported' ? null : f.type,
      sourceType: typeName(f.type),
    })),
    read: async (readOptions = {}) => {
      const unreadable = opened.columns.find((c) => c.type === null);
      if (unreadable) {
        throw new DataSourceError(`${file}: column '${unreadable.name}' has type ${unreadable.sourceType}, which Relearn cannot read`);
      }
      readOptions.onRows?.(table.numRows);
      const applyWindow = readOptions.applyWindow ?? true;
      if (!applyWindow || !source.window) return normalizeTable(table);
      assertTimeColumn(opened, source.timeColumn);
      return normalizeTable(filterWindow(table, source.timeColumn, source.window));
    },
  };
  return opened;
}

/**
 * Reads a Parquet, CSV, JSON (array of objects or newline-delimited) or Arrow IPC (file or stream) source into an Arrow Table, keeping only
 * rows inside `source.window` unless `applyWindow` is false. Column types are normalised as
 * described in columns.ts (Int64 narrowed where lossless, strings as Utf8).
 */
export async function readSource(source: SourceConfig, options: ReadSourceOptions = {}): Promise<Table> {
  const opened = await openSource(source, options);
  return opened.read(options);
}
