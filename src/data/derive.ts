import { Int32 } from 'apache-arrow';
import type { Data, Table } from 'apache-arrow';
import { numericData, numericValues, tableFromColumns, timeKeysMs } from './columns';
import type { DeriveSpec } from './types';

const MS_PER_HOUR = 3_600_000;
const MS_PER_DAY = 86_400_000;

/** One derived column as Int32 values with validity (0 where the input is null). */
export function deriveValues(table: Table, spec: DeriveSpec): { values: Int32Array; valid: Uint8Array } {
  const input = table.getChild(spec.from)!;
  const n = table.numRows;
  const values = new Int32Array(n);
  const valid = new Uint8Array(n);
  if (spec.op === 'greaterThan' || spec.op === 'lessThan') {
    const x = numericValues(input);
    const threshold = spec.value!;
    const greater = spec.op === 'greaterThan';
    for (let i = 0; i < n; i++) {
      const v = x[i]!;
      if (Number.isNaN(v)) continue;
      valid[i] = 1;
      values[i] = (greater ? v > threshold : v < threshold) ? 1 : 0;
    }
    return { values, valid };
  }
  const keys = timeKeysMs(input);
  // Snapshots are time-sorted, so consecutive rows mostly share a day: cache its calendar fields.
  let cachedDay = Number.NaN;
  let cachedMonth = 0;
  let cachedDate = 0;
  for (let i = 0; i < n; i++) {
    const ms = keys[i]!;
    if (Number.isNaN(ms)) continue;
    valid[i] = 1;
    const day = Math.floor(ms / MS_PER_DAY);
    switch (spec.op) {
      case 'hour':
        values[i] = Math.floor((ms - day * MS_PER_DAY) / MS_PER_HOUR);
        break;
      case 'dayOfWeek':
        // 1970-01-01 was a Thursday (3 with Monday = 0).
        values[i] = (((day + 3) % 7) + 7) % 7;
        break;
      default: {
        if (day !== cachedDay) {
          const date = new Date(day * MS_PER_DAY);
          cachedDay = day;
          cachedMonth = date.getUTCMonth() + 1;
          cachedDate = date.getUTCDate();
        }
        values[i] = spec.op === 'month' ? cachedMonth : cachedDate;
      }
    }
  }
  return { values, valid };
}

/** Appends derived Int32 columns, in config order, after the table's own columns. */
export function deriveColumns(table: Table, specs: readonly DeriveSpec[]): Table {
  if (specs.length === 0) return table;
  const columns: Array<{ name: string; data: Data }> = table.schema.fields.map((field, i) => ({
    name: field.name,
    data: table.getChildAt(i)!.data[0]!,
  }));
  let current = table;
  for (const spec of specs) {
    const { values, valid } = deriveValues(current, spec);
    const allValid = valid.every((v) => v === 1);
    columns.push({ name: spec.name, data: numericData(new Int32(), values, allValid ? null : valid) });
    // Later specs may derive from earlier derived columns.
    current = tableFromColumns(columns, table.numRows);
  }
  return current;
}
