// JSON sources: a JSON array of objects, or newline-delimited JSON (one object per line), read through DuckDB's
// read_json like CSV and Parquet. DuckDB is lenient where a data contract must not be: it fills a key missing from
// some objects with null, turns a column of numbers and strings into text, and reads a nested object as a STRUCT.
// So the shape of every object is checked first, from one grouped pass over the file (`json_structure` per object:
// a file of regular records has a handful of distinct structures, whatever its size), and each of those cases is a
// DataContractError naming the file, the column and the first object at fault (objects counted from 1).
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import type { DuckDBConnection } from '@duckdb/node-api';
import { DataContractError, DataSourceError } from '../errors';
import { describeScan, quoteIdent, quoteLiteral } from './duckdb-reader';
import type { ScanColumn } from './duckdb-reader';
import type { ContractType } from './types';

/** What one JSON value is, by the type names `json_structure` gives. */
type JsonKind = 'number' | 'string' | 'boolean' | 'null' | 'object' | 'array';

function jsonKind(structure: unknown): JsonKind {
  if (Array.isArray(structure)) return 'array';
  if (structure !== null && typeof structure === 'object') return 'object';
  switch (structure) {
    case 'VARCHAR':
      return 'string';
    case 'BOOLEAN':
      return 'boolean';
    case 'NULL':
      return 'null';
    // `{}` has the structure "JSON": an object with no keys.
    case 'JSON':
      return 'object';
    default:
      // UBIGINT, BIGINT, HUGEINT, DOUBLE: every JSON number.
      return 'number';
  }
}

const KIND_PHRASE: Record<JsonKind, string> = {
  number: 'a number',
  string: 'a string',
  boolean: 'a boolean',
  null: 'null',
  object: 'an object',
  array: 'an array',
};

const KIND_PLURAL: Record<JsonKind, string> = {
  number: 'numbers',
  string: 'strings',
  boolean: 'booleans',
  null: 'nulls',
  object: 'objects',
  array: 'arrays',
};

/** How often a column holds one kind of value, and the first object (from 1) where it does. */
interface KindCount {
  objects: number;
  first: number;
}

/** One distinct object structure: how many objects have it and the first of them. */
interface StructureGroup {
  structure: unknown;
  objects: number;
  first: number;
}

function firstLine(message: string): string {
  return message.split('\n')[0]!.trim();
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** DuckDB's reason for malformed JSON, without its error class and the file name it repeats. */
function malformedReason(message: string): string {
  const line = firstLine(message);
  const m = /Malformed JSON in file "[^"]*", (.*)$/.exec(line);
  return m ? m[1]!.replace(/\.$/, '') : line.replace(/^[A-Za-z ]+Error: /, '');
}

/** Turns a DuckDB error while reading JSON into the error a user should see. */
export function jsonReadError(file: string, err: unknown): Error {
  const message = (err as Error).message;
  const duplicate = /record\/value (\d+): Object .* has duplicate key "((?:[^"\\]|\\.)*)"/.exec(message);
  if (duplicate) {
    return new DataContractError(`${file}: column name '${duplicate[2]}' appears more than once in object ${duplicate[1]}; column names must be unique`);
  }
  if (/Malformed JSON/.test(message)) return new DataSourceError(`${file}: not valid JSON: ${malformedReason(message)}`);
  return new DataSourceError(`${file}: cannot read as JSON: ${firstLine(message)}`);
}

/** Above this size a file is not parsed whole in JS to find where its syntax breaks; DuckDB's reason is given instead. */
const LOCATE_MAX_BYTES = 64 * 1024 * 1024;

/** V8's reason without its character offset, and the line and column (from 1) of that offset in `text`. */
function syntaxReason(err: unknown, text: string, lineOffset = 0): string {
  const message = (err as Error).message;
  const at = / in JSON at position (\d+)/.exec(message);
  let position = at ? Number(at[1]) : /Unexpected end of JSON input/.test(message) ? text.length : -1;
  const reason = message.replace(/ in JSON at position \d+.*$/, '');
  if (position < 0) return reason;
  position = Math.min(position, text.length);
  const before = text.slice(0, position);
  const line = before.split('\n').length + lineOffset;
  const column = position - before.lastIndexOf('\n');
  return `${reason} at line ${line}, column ${column}`;
}

/**
 * Where a file's JSON breaks, as a person would look for it. DuckDB's own message counts bytes inside a record and
 * records or lines in its own way (it is off by one for newline-delimited files), so it is only the fallback.
 */
async function locateSyntaxError(file: string): Promise<string | null> {
  const lines = createInterface({ input: createReadStream(file, 'utf8'), crlfDelay: Infinity });
  let lineNumber = 0;
  let lineDelimited = false;
  try {
    for await (const line of lines) {
      lineNumber++;
      if (line.trim() === '') continue;
      try {
        JSON.parse(line);
        lineDelimited = true;
      } catch (err) {
        // A first line that is not JSON by itself: an array or a pretty-printed document, parsed whole below.
        if (!lineDelimited) break;
        return syntaxReason(err, line, lineNumber - 1);
      }
    }
  } finally {
    lines.close();
  }
  if (lineDelimited || (await stat(file)).size > LOCATE_MAX_BYTES) return null;
  const text = await readFile(file, 'utf8');
  try {
    JSON.parse(text);
    return null;
  } catch (err) {
    return syntaxReason(err, text);
  }
}

async function structureGroups(connection: DuckDBConnection, file: string): Promise<StructureGroup[]> {
  const sql =
    `SELECT json_structure(json) AS structure, count(*) AS objects, min(n) AS first ` +
    `FROM (SELECT row_number() OVER () AS n, json FROM read_json_objects(${quoteLiteral(file)}, format = 'auto')) ` +
    `GROUP BY structure ORDER BY first`;
  try {
    const rows = await (await connection.run(sql)).getRowsJS();
    return rows.map((row) => ({ structure: JSON.parse(String(row[0])) as unknown, objects: Number(row[1]), first: Number(row[2]) }));
  } catch (err) {
    const error = jsonReadError(file, err);
    if (error instanceof DataSourceError && /Malformed JSON/.test((err as Error).message)) {
      const located = await locateSyntaxError(file).catch(() => null);
      if (located) throw new DataSourceError(`${file}: not valid JSON: ${located}`);
    }
    throw error;
  }
}

/**
 * Checks that a JSON file is a table: at least one object, every element an object, every object with the same keys
 * (names unique even ignoring case, as DuckDB's are), every value a number, string, boolean or null, one kind per
 * column. Returns the column names in the order the first object has them.
 */
export async function checkJsonRecords(connection: DuckDBConnection, file: string): Promise<{ objects: number; columns: string[] }> {
  const groups = await structureGroups(connection, file);
  const objects = groups.reduce((sum, g) => sum + g.objects, 0);
  if (objects === 0) {
    throw new DataSourceError(`${file}: no objects in the JSON file (an empty array or no lines); one object per row is required`);
  }
  const expectedShape = 'each element must be an object with one key per column (a JSON array of objects, or one object per line)';
  const notObject = groups.find((g) => jsonKind(g.structure) !== 'object');
  if (notObject) {
    throw new DataContractError(`${file}: object ${notObject.first} is ${KIND_PHRASE[jsonKind(notObject.structure)]}, not an object; ${expectedShape}`);
  }
  const empty = groups.find((g) => g.structure === 'JSON');
  if (empty) throw new DataContractError(`${file}: object ${empty.first} has no keys; ${expectedShape}`);

  const columns: string[] = [];
  const kinds = new Map<string, Map<JsonKind, KindCount>>();
  for (const group of groups) {
    for (const [key, value] of Object.entries(group.structure as Record<string, unknown>)) {
      let byKind = kinds.get(key);
      if (!byKind) {
        byKind = new Map();
        kinds.set(key, byKind);
        columns.push(key);
      }
      const kind = jsonKind(value);
      const count = byKind.get(kind);
      if (count) count.objects += group.objects;
      else byKind.set(kind, { objects: group.objects, first: group.first });
    }
  }

  const lowerCase = new Map<string, string>();
  for (const name of columns) {
    const other = lowerCase.get(name.toLowerCase());
    if (other !== undefined) {
      throw new DataContractError(`${file}: column names '${other}' and '${name}' differ only in case; column names must be unique ignoring case`);
    }
    lowerCase.set(name.toLowerCase(), name);
  }

  for (const name of columns) {
    const byKind = kinds.get(name)!;
    for (const kind of ['object', 'array'] as const) {
      const nested = byKind.get(kind);
      if (nested) {
        throw new DataContractError(
          `${file}: column '${name}' holds ${KIND_PHRASE[kind]} in object ${nested.first}; expected a number, string, boolean or null in each column (flatten nested values into columns of their own)`,
        );
      }
    }
    const valueKinds = [...byKind.entries()].filter(([kind]) => kind !== 'null').sort((a, b) => b[1].objects - a[1].objects);
    if (valueKinds.length > 1) {
      const [main, odd] = valueKinds as [[JsonKind, KindCount], [JsonKind, KindCount]];
      throw new DataContractError(
        `${file}: column '${name}' mixes types: ${KIND_PLURAL[main[0]]} in ${plural(main[1].objects, 'object')}, ${KIND_PLURAL[odd[0]]} in ${odd[1].objects} (first: object ${odd[1].first}); every value of a column must have one type (number, string or boolean) or be null`,
      );
    }
    const present = [...byKind.values()].reduce((sum, c) => sum + c.objects, 0);
    if (present < objects) {
      const firstMissing = Math.min(...groups.filter((g) => !Object.hasOwn(g.structure as object, name)).map((g) => g.first));
      throw new DataContractError(
        `${file}: column '${name}' is missing from ${objects - present} of ${objects} objects (first: object ${firstMissing}); every object must have the same keys (write "${name}": null for a missing value)`,
      );
    }
  }
  return { objects, columns };
}

// ISO 8601 dates and date-times, with an optional fraction of any length and an optional offset.
const ISO_INSTANT = String.raw`\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}(:?\d{2})?)?`;

/**
 * Text columns whose every value is an ISO date or date-time. DuckDB's detection leaves a column as text when its
 * values differ in form (Python's isoformat drops a zero fraction; offsets vary), which CSV's sniffer would not.
 */
async function isoTextColumns(connection: DuckDBConnection, scan: string, candidates: readonly ScanColumn[]): Promise<string[]> {
  if (candidates.length === 0) return [];
  const pattern = quoteLiteral(ISO_INSTANT);
  const checks = candidates.flatMap((c) => {
    const ident = quoteIdent(c.name);
    return [
      `count(${ident})`,
      `count(${ident}) FILTER (WHERE NOT regexp_full_match(${ident}, ${pattern}) OR TRY_CAST(${ident} AS TIMESTAMPTZ) IS NULL)`,
    ];
  });
  const row = (await (await connection.run(`SELECT ${checks.join(', ')} FROM ${scan}`)).getRowsJS())[0] ?? [];
  return candidates.filter((_, i) => Number(row[2 * i]) > 0 && Number(row[2 * i + 1]) === 0).map((c) => c.name);
}

/**
 * The FROM clause and columns of a JSON source. Columns a contract declares `string` stay text (DuckDB would read
 * "2024-03-01" as a date); whole numbers stay integers; text columns of ISO instants are read as UTC timestamps.
 */
export async function jsonScan(
  connection: DuckDBConnection,
  file: string,
  columnTypes: Record<string, ContractType>,
): Promise<{ scan: string; scanColumns: ScanColumn[] }> {
  await checkJsonRecords(connection, file);
  const options = `format = 'auto', records = true, sample_size = -1`;
  try {
    let scan = `read_json(${quoteLiteral(file)}, ${options})`;
    let columns = await describeScan(connection, scan);
    // DuckDB types a column of whole numbers of both signs HUGEINT (the union of BIGINT and UBIGINT); read as BIGINT,
    // it stays an integer column, as the same numbers in a CSV are.
    const typeFor = (c: ScanColumn) => (columnTypes[c.name] === 'string' ? 'VARCHAR' : c.duckType === 'HUGEINT' ? 'BIGINT' : c.duckType);
    if (columns.some((c) => typeFor(c) !== c.duckType)) {
      const types = columns.map((c) => `${quoteLiteral(c.name)}: ${quoteLiteral(typeFor(c))}`);
      scan = `read_json(${quoteLiteral(file)}, ${options}, columns = {${types.join(', ')}})`;
      columns = await describeScan(connection, scan);
    }
    const instants = await isoTextColumns(
      connection,
      scan,
      columns.filter((c) => c.duckType === 'VARCHAR' && columnTypes[c.name] !== 'string'),
    );
    if (instants.length > 0) {
      const replace = instants.map((name) => `CAST(${quoteIdent(name)} AS TIMESTAMPTZ) AS ${quoteIdent(name)}`).join(', ');
      scan = `(SELECT * REPLACE (${replace}) FROM ${scan})`;
      columns = await describeScan(connection, scan);
    }
    return { scan, scanColumns: columns };
  } catch (err) {
    throw jsonReadError(file, err);
  }
}
