import type { ReadPredictionLogOptions } from './layout';
import type { PredictionLogEntry } from './record';
import { openSegmentStore, segmentEntries } from './segment-store';

/**
 * Streams a model's log, one segment at a time, oldest day first: every replica's segments of the days in range
 * (a shared log's segments outside [fromMs, toMs) by the span in their key are not even read). Sealed segments are
 * parsed once per process and kept in a bounded cache (segment-store.ts), so a window's next look reads only what was
 * written since. A segment that retention deleted after it was listed is skipped.
 */
export async function* streamPredictionLog(options: ReadPredictionLogOptions): AsyncGenerator<PredictionLogEntry[]> {
  const store = openSegmentStore(options.dir);
  for (const ref of await store.list(options.model, options.fromDay, options.toDay)) {
    if (options.fromMs !== undefined && ref.lastMs !== undefined && ref.lastMs < options.fromMs) continue;
    if (options.toMs !== undefined && ref.firstMs !== undefined && ref.firstMs >= options.toMs) continue;
    const entries = await segmentEntries(store, ref);
    if (entries !== undefined) yield entries;
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
