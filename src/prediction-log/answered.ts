import { utcDay } from './layout';
import { streamPredictionLog } from './reader';
import type { PredictionLogLocation } from './segment-store';

/** A request some replica answered, as found in a shared log: its champion version, its rows, and whether it has labels. */
export interface AnsweredElsewhere {
  version: number;
  rows: number;
  labeled: boolean;
}

/**
 * Finds requests of `model` that any replica answered in the last `lookbackMs` (by their champion `prediction`
 * entries in the log), and whether feedback already labeled them (a `feedback` entry from any replica). A replica
 * takes feedback for a request another one answered this way, once that replica has flushed the prediction (its flush
 * interval, 1 s by default). Sealed segments come from the reader's cache, so a lookup reads only new segments.
 */
export async function findAnsweredRequests(
  location: PredictionLogLocation,
  model: string,
  ids: readonly string[],
  options: { now?: Date; lookbackMs: number },
): Promise<Map<string, AnsweredElsewhere>> {
  const wanted = new Set(ids);
  const from = (options.now ?? new Date()).getTime() - options.lookbackMs;
  const found = new Map<string, AnsweredElsewhere>();
  const labeled = new Set<string>();
  for await (const segment of streamPredictionLog({ dir: location, model, fromDay: utcDay(new Date(from)), fromMs: from })) {
    for (const e of segment) {
      if (!wanted.has(e.requestId)) continue;
      if (e.kind === 'feedback') labeled.add(e.requestId);
      else if (e.kind === 'prediction' && e.role === 'champion' && e.version !== null && !found.has(e.requestId)) {
        found.set(e.requestId, { version: e.version, rows: e.rows, labeled: false });
      }
    }
  }
  for (const [id, r] of found) r.labeled = labeled.has(id);
  return found;
}
