// What `relearn init` needs to know about a data file, read through the same source reader a pipeline pulls with, so
// whatever format and type detection a run will see (CSV sniffing, JSON shape checks, Parquet, Arrow) is what the
// proposal is made from.
import type { Vector } from 'apache-arrow';
import { openSource } from '../data';
import { DataSourceError } from '../errors';
import type { SourceFormat } from '../data';
import { type ColumnFamily, columnFamily, numericValues, stringValues, timeKeysMs, typeName } from '../data/columns';

/** At most this many distinct values of a column are kept (sorted), e.g. as the classes of a label. */
export const MAX_LISTED_VALUES = 50;

/** One column of a data file, summarised. */
export interface ColumnProfile {
  name: string;
  family: Exclude<ColumnFamily, 'unsupported'>;
  /** The Arrow type, for messages. */
  type: string;
  nulls: number;
  /** Distinct non-null values. */
  distinct: number;
  /** Numeric (int, float, bool) columns: smallest and largest value; null otherwise or when every value is null. */
  min: number | null;
  max: number | null;
  /** Every non-null value is a whole number. */
  integral: boolean;
  /** The distinct values in sorted order when there are at most MAX_LISTED_VALUES of them, else null. */
  values: Array<string | number | boolean> | null;
}

/** A data file, summarised column by column. */
export interface DataProfile {
  file: string;
  format: SourceFormat;
  rows: number;
  columns: ColumnProfile[];
}

function listed<T extends string | number | boolean>(set: Set<T>, compare: (a: T, b: T) => number): T[] | null {
  return set.size <= MAX_LISTED_VALUES ? [...set].sort(compare) : null;
}

function profileColumn(file: string, name: string, vector: Vector): ColumnProfile {
  const family = columnFamily(vector.type);
  const type = typeName(vector.type);
  if (family === 'string') {
    const seen = new Set<string>();
    let nulls = 0;
    for (const value of stringValues(vector)) {
      if (value === null) nulls++;
      else seen.add(value);
    }
    // Code-point order, as numpy (and so the trainer's class order) sorts strings.
    const values = listed(seen, (a, b) => (a < b ? -1 : a > b ? 1 : 0));
    return { name, family, type, nulls, distinct: seen.size, min: null, max: null, integral: false, values };
  }
  if (family === 'unsupported') throw new DataSourceError(`${file}: column '${name}' has type ${type}, which Relearn cannot read`);
  const numbers = family === 'timestamp' ? timeKeysMs(vector) : numericValues(vector);
  const seen = new Set<number>();
  let nulls = 0;
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  let integral = true;
  for (const v of numbers) {
    if (Number.isNaN(v)) {
      nulls++;
      continue;
    }
    seen.add(v);
    if (v < min) min = v;
    if (v > max) max = v;
    if (integral && !Number.isInteger(v)) integral = false;
  }
  const values = family === 'bool' ? listed(new Set([...seen].map((v) => v === 1)), (a, b) => Number(a) - Number(b)) : listed(seen, (a, b) => a - b);
  return {
    name,
    family,
    type,
    nulls,
    distinct: seen.size,
    min: seen.size > 0 ? min : null,
    max: seen.size > 0 ? max : null,
    integral,
    values: family === 'timestamp' ? null : values,
  };
}

/** Reads a whole data file (any source format) and summarises every column. */
export async function profileFile(file: string, format?: SourceFormat): Promise<DataProfile> {
  // No time column is known yet; without a window none is needed to read.
  const opened = await openSource({ path: file, timeColumn: '', ...(format ? { format } : {}) });
  const table = await opened.read({ applyWindow: false });
  return {
    file,
    format: opened.format,
    rows: table.numRows,
    columns: table.schema.fields.map((field) => profileColumn(file, field.name, table.getChild(field.name)!)),
  };
}
