// The Arrow schema of a segment file, column by column, both ways.
import { Float64, Int32, Table, TimestampMillisecond, Utf8, vectorFromArray } from 'apache-arrow';
import { z } from 'zod';
import { DataContractError } from '../errors';
import { PREDICTION_LOG_KINDS, type PredictionLogEntry, noteOrigin, predictionLogRecordSchema } from './record';

const KNOWN_KINDS: ReadonlySet<string> = new Set(PREDICTION_LOG_KINDS);

/** The log's Arrow schema, column by column. */
export function entriesToTable(entries: readonly PredictionLogEntry[]): Table {
  return new Table({
    kind: vectorFromArray(entries.map((e) => e.kind), new Utf8()),
    requestId: vectorFromArray(entries.map((e) => e.requestId), new Utf8()),
    at: vectorFromArray(entries.map((e) => e.at), new TimestampMillisecond()),
    model: vectorFromArray(entries.map((e) => e.model), new Utf8()),
    version: vectorFromArray(entries.map((e) => e.version), new Int32()),
    role: vectorFromArray(entries.map((e) => e.role), new Utf8()),
    rows: vectorFromArray(entries.map((e) => e.rows), new Int32()),
    inputsSha256: vectorFromArray(entries.map((e) => e.inputsSha256), new Utf8()),
    inputs: vectorFromArray(entries.map((e) => e.inputs), new Utf8()),
    outputs: vectorFromArray(entries.map((e) => e.outputs), new Utf8()),
    labels: vectorFromArray(entries.map((e) => e.labels), new Utf8()),
    latencyMs: vectorFromArray(entries.map((e) => e.latencyMs), new Float64()),
    clientId: vectorFromArray(entries.map((e) => e.clientId ?? null), new Utf8()),
  });
}

/**
 * The entries of one segment's table, in row order; rows of a kind this version does not know are skipped. A row
 * that does not fit the schema is a DataContractError naming `source` (the file) and the row.
 */
export function entriesFromTable(table: Table, source: string): PredictionLogEntry[] {
  const entries: PredictionLogEntry[] = [];
  let index = 0;
  for (const row of table) {
    const r = row.toJSON() as Record<string, unknown>;
    if (typeof r.kind === 'string' && !KNOWN_KINDS.has(r.kind)) {
      index += 1;
      continue;
    }
    const parsed = predictionLogRecordSchema.safeParse(r);
    if (!parsed.success) {
      throw new DataContractError(`prediction log ${source}: row ${index} is malformed:\n${z.prettifyError(parsed.error)}`);
    }
    noteOrigin(parsed.data, source, index);
    entries.push(parsed.data);
    index += 1;
  }
  return entries;
}
