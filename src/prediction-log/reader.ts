import { readFile } from 'node:fs/promises';
import { tableFromIPC } from 'apache-arrow';
import { entriesFromTable } from './arrow-table';
import { type ReadPredictionLogOptions, listSegments } from './layout';
import type { PredictionLogEntry } from './record';

/** Reads a model's log back: every record of the days in range, oldest segment first. */
export async function readPredictionLog(options: ReadPredictionLogOptions): Promise<PredictionLogEntry[]> {
  const entries: PredictionLogEntry[] = [];
  for (const file of await listSegments(options)) {
    // A loop, not push(...): one segment can hold more records than a call takes arguments.
    for (const entry of entriesFromTable(tableFromIPC(await readFile(file)), file)) entries.push(entry);
  }
  return entries;
}
