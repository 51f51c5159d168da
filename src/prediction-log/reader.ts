import { readFile } from 'node:fs/promises';
import { tableFromIPC } from 'apache-arrow';
import { entriesFromTable } from './arrow-table';
import { type ReadPredictionLogOptions, listSegments } from './layout';
import type { PredictionLogEntry } from './record';

/**
 * Streams a model's log, one segment at a time, oldest first: only one segment file is in memory at once, so a
 * reader that keeps only what it needs (a window keeps its two versions' entries and the feedback) stays small
 * however large a day is. A segment that retention deleted after it was listed is skipped.
 */
export async function* streamPredictionLog(options: ReadPredictionLogOptions): AsyncGenerator<PredictionLogEntry[]> {
  for (const file of await listSegments(options)) {
    let bytes: Buffer;
    try {
      bytes = await readFile(file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw err;
    }
    yield entriesFromTable(tableFromIPC(bytes), file);
  }
}

/** Reads a model's log back: every record of the days in range, oldest segment first (all in memory; see streamPredictionLog). */
export async function readPredictionLog(options: ReadPredictionLogOptions): Promise<PredictionLogEntry[]> {
  const entries: PredictionLogEntry[] = [];
  for await (const segment of streamPredictionLog(options)) {
    // A loop, not push(...): one segment can hold more records than a call takes arguments.
    for (const entry of segment) entries.push(entry);
  }
  return entries;
}
