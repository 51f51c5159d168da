import { DataType, Precision, Type } from 'apache-arrow';
import type { Data, Table, Vector } from 'apache-arrow';
import { columnFamily, numericValues, stringValues, timeKeysMs, typeName } from './columns';
import { ByteDictionary } from './byte-dictionary';
import { isoFromMs } from './time';
import type { CategoricalStats, NumericStats, QuantileName, SnapshotStats } from './types';

const QUANTILES: ReadonlyArray<[QuantileName, number]> = [
  ['p0', 0],
  ['p1', 0.01],
  ['p5', 0.05],
  ['p10', 0.1],
  ['p25', 0.25],
  ['p50', 0.5],
  ['p75', 0.75],
  ['p90', 0.9],
  ['p95', 0.95],
  ['p99', 0.99],
  ['p100', 1],
];

const TOP_VALUES = 50;

/**
 * Quantile with numpy's default method ('linear') from an accessor of the k-th smallest of n
 * values: virtual index q·(n-1), then numpy's own lerp, which interpolates from the upper
 * neighbour when the fraction is at least one half, so results agree with numpy to the last bit.
 */
export function quantileFrom(orderStatistic: (k: number) => number, n: number, q: number): number {
  const virtual = (n - 1) * q;
  const below = Math.min(Math.max(Math.floor(virtual), 0), n - 1);
  const above = Math.min(below + 1, n - 1);
  const gamma = virtual - Math.floor(virtual);
  const a = orderStatistic(below);
  const b = orderStatistic(above);
  const diff = b - a;
  return gamma >= 0.5 ? b - diff * (1 - gamma) : a + diff * gamma;
}

/** Quantile of ascending values with numpy's default (linear) method. */
export function quantileSorted(sorted: Float64Array, q: number): number {
  return quantileFrom((k) => sorted[k]!, sorted.length, q);
}

/** Integer columns with a span up to this many values are summarised from a histogram, not a sort. */
const MAX_HISTOGRAM_SPAN = 1 << 22;

/** Numbers of one column as they sit in its Arrow buffer: Int8 … Int32, Uint8 … Uint32, Float32 or Float64. */
type NumberArray = Int8Array | Uint8Array | Int16Array | Uint16Array | Int32Array | Uint32Array | Float32Array | Float64Array;

/**
 * Values of a numeric column without a copy: `values[i]` is row i, present when `valid` is null or its bit
 * `offset + i` is set, and not NaN (a NaN counts as missing, as numpy's nan-aware summaries would).
 */
interface NumericColumn {
  values: NumberArray;
  valid: Uint8Array | null;
  offset: number;
}

const isPresent = (column: NumericColumn, i: number): boolean => {
  const { valid } = column;
  if (valid) {
    const pos = column.offset + i;
    if (!(valid[pos >> 3]! & (1 << (pos & 7)))) return false;
  }
  return !Number.isNaN(column.values[i]!);
};

/** The k-th smallest present value (0-based) of integers, from a histogram of value - min. */
function histogramOrderStatistic(column: NumericColumn, min: number, max: number): (k: number) => number {
  const cumulative = new Float64Array(max - min + 1);
  const { values, valid } = column;
  if (valid === null && !(values instanceof Float32Array || values instanceof Float64Array)) {
    for (let i = 0; i < values.length; i++) cumulative[values[i]! - min]!++;
  } else {
    for (let i = 0; i < values.length; i++) if (isPresent(column, i)) cumulative[values[i]! - min]!++;
  }
  for (let b = 1; b < cumulative.length; b++) cumulative[b]! += cumulative[b - 1]!;
  return (k) => {
    let lo = 0;
    let hi = cumulative.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cumulative[mid]! > k) hi = mid;
      else lo = mid + 1;
    }
    return min + lo;
  };
}

/**
 * Summary of a numeric column read in place. Sums run in row order over the same doubles a Float64Array copy would
 * hold, so every figure is bit-for-bit the one `numericStats` gives for that copy.
 */
function summarizeNumbers(column: NumericColumn): NumericStats {
  const { values } = column;
  const n = values.length;
  // Integer arrays without nulls can hold no missing value: their loops skip the presence test.
  const dense = column.valid === null && !(values instanceof Float32Array || values instanceof Float64Array);
  let count = 0;
  let sum = 0;
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  let integers = true;
  if (dense) {
    count = n;
    for (let i = 0; i < n; i++) {
      const v = values[i]!;
      sum += v;
      if (v < min) min = v;
      if (v > max) max = v;
    }
  } else {
    for (let i = 0; i < n; i++) {
      if (!isPresent(column, i)) continue;
      const v = values[i]!;
      count++;
      sum += v;
      if (v < min) min = v;
      if (v > max) max = v;
      if (integers && Math.floor(v) !== v) integers = false;
    }
  }
  const nulls = n - count;
  if (count === 0) {
    const quantiles = Object.fromEntries(QUANTILES.map(([name]) => [name, null])) as Record<QuantileName, null>;
    return { kind: 'numeric', count, nulls, min: null, max: null, mean: null, std: null, quantiles };
  }
  const mean = sum / count;
  let squares = 0;
  if (dense) {
    for (let i = 0; i < n; i++) {
      const d = values[i]! - mean;
      squares += d * d;
    }
  } else {
    for (let i = 0; i < n; i++) {
      if (!isPresent(column, i)) continue;
      const d = values[i]! - mean;
      squares += d * d;
    }
  }
  let orderStatistic: (k: number) => number;
  if (integers && max - min < MAX_HISTOGRAM_SPAN) {
    orderStatistic = histogramOrderStatistic(column, min, max);
  } else {
    const present = new Float64Array(count);
    let j = 0;
    for (let i = 0; i < n; i++) if (isPresent(column, i)) present[j++] = values[i]!;
    present.sort();
    orderStatistic = (k) => present[k]!;
  }
  const quantiles = Object.fromEntries(QUANTILES.map(([name, q]) => [name, quantileFrom(orderStatistic, count, q)])) as Record<
    QuantileName,
    number
  >;
  return { kind: 'numeric', count, nulls, min, max, mean, std: Math.sqrt(squares / count), quantiles };
}

/** Summary of numeric values; NaN marks a missing value. */
export function numericStats(values: Float64Array): NumericStats {
  return summarizeNumbers({ values, valid: null, offset: 0 });
}

/** The column's values in place when it is one chunk of 8- to 32-bit integers or 32/64-bit floats; else null. */
function numericColumn(vector: Vector): NumericColumn | null {
  if (vector.data.length !== 1) return null;
  const data = vector.data[0]! as Data;
  const type = data.type as DataType;
  const plain = (DataType.isInt(type) && type.bitWidth <= 32) || (DataType.isFloat(type) && type.precision !== Precision.HALF);
  if (!plain) return null;
  // Arrow's fixed-width values start at the chunk's first row already; only its validity bits are read at `offset`.
  const values = (data.values as NumberArray).subarray(0, data.length);
  const valid = data.nullCount > 0 && data.nullBitmap && data.nullBitmap.length > 0 ? data.nullBitmap : null;
  return { values, valid, offset: data.offset };
}

/** Counts string values straight from Utf8 buffers: by their bytes, decoding each distinct value once. */
function countStrings(vector: Vector): { counts: Map<string, number>; nulls: number } {
  const counts = new Map<string, number>();
  let nulls = 0;
  if (vector.data.some((d: Data) => d.typeId !== Type.Utf8)) {
    // Only normalised (Utf8) tables reach the stats, but stay correct for anything else.
    for (const value of stringValues(vector)) {
      if (value === null) nulls++;
      else counts.set(value, (counts.get(value) ?? 0) + 1);
    }
    return { counts, nulls };
  }
  const counter = new ByteDictionary();
  for (const data of vector.data as Data[]) {
    const offsets = data.valueOffsets as Int32Array;
    const bytes = data.values as Uint8Array;
    const bitmap = data.nullCount > 0 ? data.nullBitmap : null;
    for (let i = 0; i < data.length; i++) {
      if (bitmap) {
        const pos = data.offset + i;
        if (!(bitmap[pos >> 3]! & (1 << (pos & 7)))) {
          nulls++;
          continue;
        }
      }
      counter.add(bytes, offsets[i]!, offsets[i + 1]!);
    }
  }
  // Invalid UTF-8 decodes with replacement characters, so two byte strings may meet under one key.
  const decoder = new TextDecoder();
  counter.forEach((bytes, count) => {
    const key = decoder.decode(bytes);
    counts.set(key, (counts.get(key) ?? 0) + count);
  });
  return { counts, nulls };
}

/** Summary of a categorical column from value counts. */
export function categoricalStats(counts: Map<string, number>, nulls: number): CategoricalStats {
  const entries = [...counts.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const top = entries.slice(0, TOP_VALUES).map(([value, count]) => ({ value, count }));
  let count = 0;
  for (const [, c] of entries) count += c;
  const topCount = top.reduce((s, t) => s + t.count, 0);
  return { kind: 'categorical', count, nulls, distinct: entries.length, top, otherCount: count - topCount };
}

function columnStats(vector: Vector): NumericStats | CategoricalStats {
  const family = columnFamily(vector.type);
  if (family === 'string') {
    const { counts, nulls } = countStrings(vector);
    return categoricalStats(counts, nulls);
  }
  if (family === 'bool') {
    const values = numericValues(vector);
    const counts = new Map<string, number>();
    let nulls = 0;
    for (const v of values) {
      if (Number.isNaN(v)) nulls++;
      else {
        const key = v === 1 ? 'true' : 'false';
        counts.set(key, (counts.get(key) ?? 0) + 1);
      }
    }
    return categoricalStats(counts, nulls);
  }
  // Timestamps other than the time column are summarised as epoch milliseconds.
  if (family === 'timestamp') return numericStats(timeKeysMs(vector));
  const column = numericColumn(vector);
  return column ? summarizeNumbers(column) : numericStats(numericValues(vector));
}

/**
 * Statistics of a snapshot table: schema, time range, and a summary of every column but the time column.
 * `timeKeys`: the time column's epoch milliseconds when the caller has them already, in any row order.
 */
export function computeStats(table: Table, timeColumn: string, timeKeys?: Float64Array): SnapshotStats {
  const keys = timeKeys ?? timeKeysMs(table.getChild(timeColumn)!);
  let first = Number.POSITIVE_INFINITY;
  let last = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i]!;
    if (k < first) first = k;
    if (k > last) last = k;
  }
  const features: SnapshotStats['features'] = {};
  for (const field of table.schema.fields) {
    if (field.name === timeColumn) continue;
    features[field.name] = columnStats(table.getChild(field.name)!);
  }
  return {
    rows: table.numRows,
    columns: table.schema.fields.map((f) => ({ name: f.name, type: typeName(f.type) })),
    timeRange: keys.length > 0 ? { from: isoFromMs(first), to: isoFromMs(last) } : { from: '', to: '' },
    features,
  };
}
