import { readFileSync } from 'node:fs';
import { tableFromIPC, tableToIPC } from 'apache-arrow';
import type { Table } from 'apache-arrow';
import { DataContractError } from '../errors';
import { takeTable } from './columns';
import { checkDerivedTypes, checkFinite, checkNulls, checkSchema, checkValues } from './contract';
import { deriveColumns } from './derive';
import { openSource, tableTimeKeys } from './read-source';
import { samplePositions } from './sample';
import { computeStats } from './stats';
import { describeWindow } from './time';
import type { ContractType, PullSnapshotOptions, PullSnapshotResult } from './types';

/** Row order that sorts `keys` ascending, ties kept in their original order; null when already sorted. */
export function stableTimeOrder(keys: Float64Array): Int32Array | null {
  let sorted = true;
  for (let i = 1; i < keys.length && sorted; i++) if (keys[i]! < keys[i - 1]!) sorted = false;
  if (sorted) return null;
  const order = Array.from({ length: keys.length }, (_, i) => i);
  order.sort((a, b) => keys[a]! - keys[b]! || a - b);
  return Int32Array.from(order);
}

/**
 * Pulls a snapshot: read → schema check → window → min rows → nulls → ranges/allowed values →
 * seeded sample → derived columns → sort by time → Arrow IPC file bytes and statistics.
 * Contract violations raise DataContractError, unreadable sources DataSourceError; the same
 * input and config always give byte-identical bytes.
 */
export async function pullSnapshot(options: PullSnapshotOptions): Promise<PullSnapshotResult> {
  const { source, contract, requiredColumns, onProgress } = options;
  const derive = source.derive ?? [];
  const file = source.path;
  const columnTypes: Record<string, ContractType> = Object.fromEntries(
    Object.entries(contract.columns).map(([name, column]) => [name, column.type]),
  );

  onProgress?.({ stage: 'read' });
  const opened = await openSource(source, { columnTypes });
  onProgress?.({ stage: 'check' });
  checkSchema({ file, columns: opened.columns, contract, requiredColumns, timeColumn: source.timeColumn, derive });

  const windowed = await opened.read({ applyWindow: true, onRows: (rows) => onProgress?.({ stage: 'read', rows }) });
  const rows = windowed.numRows;
  onProgress?.({ stage: 'window', rows });
  const where = source.window ? `in window ${describeWindow(source.window)} on '${source.timeColumn}'` : 'in the file';
  if (rows === 0 || rows < contract.minRows) {
    throw new DataContractError(
      `${file}: ${rows} row${rows === 1 ? '' : 's'} ${where}, contract requires at least ${Math.max(1, contract.minRows)}`,
    );
  }

  const derivedNames = new Set(derive.map((d) => d.name));
  const sourceContractColumns = new Set(Object.keys(contract.columns).filter((name) => !derivedNames.has(name)));
  const timeKeys = tableTimeKeys(windowed, source.timeColumn);
  let timeNulls = 0;
  for (let i = 0; i < timeKeys.length; i++) if (Number.isNaN(timeKeys[i]!)) timeNulls++;
  if (timeNulls > 0) {
    throw new DataContractError(`${file}: column '${source.timeColumn}' has ${timeNulls} null values ${where}; the time column cannot be null`);
  }
  checkNulls(windowed, contract, file, where, sourceContractColumns);
  checkValues(windowed, contract, file, where, sourceContractColumns);
  checkFinite(windowed, requiredColumns.filter((name) => !derivedNames.has(name)), contract, file, where);

  // Sampling picks positions in time order, so the sample does not depend on how the file
  // happens to order rows with different timestamps.
  const order = stableTimeOrder(timeKeys);
  let selected: Int32Array | null = order;
  let sampled: PullSnapshotResult['sampled'] = null;
  if (source.sample && rows > source.sample.maxRows) {
    const positions = samplePositions(rows, source.sample.maxRows, source.sample.seed);
    selected = order ? positions.map((p) => order[p]!) : positions;
    sampled = { fromRows: rows, toRows: positions.length };
    onProgress?.({ stage: 'sample', rows: positions.length });
  }
  let table: Table = selected ? takeTable(windowed, selected) : windowed;
  onProgress?.({ stage: 'sort', rows: table.numRows });

  if (derive.length > 0) {
    table = deriveColumns(table, derive);
    onProgress?.({ stage: 'derive', rows: table.numRows });
    const derivedContractColumns = new Set([...derivedNames].filter((name) => name in contract.columns));
    if (derivedContractColumns.size > 0) {
      checkDerivedTypes(table, contract, file, derivedContractColumns);
      checkNulls(table, contract, file, where, derivedContractColumns);
      checkValues(table, contract, file, where, derivedContractColumns);
    }
  }

  onProgress?.({ stage: 'write', rows: table.numRows });
  const bytes = tableToIPC(table, 'file');
  onProgress?.({ stage: 'stats', rows: table.numRows });
  // Sorting only reorders rows, so the keys read before it serve the time range; a sample has other rows.
  const stats = computeStats(table, source.timeColumn, sampled === null ? timeKeys : undefined);
  onProgress?.({ stage: 'done', rows: table.numRows });
  return { table, bytes, stats, sampled };
}

/** Reads a snapshot (Arrow IPC file bytes, or a path to one) back into a Table. */
export function readSnapshot(input: Uint8Array | string): Table {
  return tableFromIPC(typeof input === 'string' ? readFileSync(input) : input);
}
