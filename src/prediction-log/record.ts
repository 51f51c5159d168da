// One record of the prediction log, as every reader gets it back. The schema parses the rows of a segment file (see
// arrow-table.ts), so a file written by something else, or damaged, fails with its name and row instead of
// travelling on as a mistyped entry.
import { z } from 'zod';

/** A class label as the registry's lineage records it and as feedback sends it. */
export const classLabelSchema = z.union([z.string(), z.number(), z.boolean()]);
export type ClassLabel = z.infer<typeof classLabelSchema>;

/** The kinds of record this version reads; rows of any other kind are skipped, so new kinds can be added. */
export const PREDICTION_LOG_KINDS = ['prediction', 'feedback', 'error'] as const;
export type PredictionLogKind = (typeof PREDICTION_LOG_KINDS)[number];

/**
 * One stored record: a scored request (`prediction`), one set of ground-truth labels (`feedback`), or a request a
 * version failed to score with a server-side error (`error`: outputs hold `{"error", "code"}`).
 */
export const predictionLogRecordSchema = z.object({
  kind: z.enum(PREDICTION_LOG_KINDS),
  requestId: z.string(),
  /** Stored as a millisecond timestamp. */
  at: z.number().transform((ms) => new Date(ms)),
  model: z.string(),
  /** Version that produced the outputs; null for feedback. */
  version: z.number().int().nullable(),
  /** `champion` for the served response, `shadow` for a mirrored one (for errors: the role that failed); null for feedback. */
  role: z.enum(['champion', 'shadow']).nullable(),
  rows: z.number().int(),
  /** SHA-256 of the canonical inputs (the server's `canonicalInputs`). */
  inputsSha256: z.string().nullable(),
  /** The canonical inputs as JSON `{features, rows}`, when the server logs inputs in full. */
  inputs: z.string().nullable(),
  /** JSON `{predictions, probabilities?}`; null for feedback. */
  outputs: z.string().nullable(),
  /** JSON array of labels, one per row; null for predictions. */
  labels: z.string().nullable(),
  /** Time from request to scored output, milliseconds; null for feedback. NaN is kept as written. */
  latencyMs: z.union([z.number(), z.nan()]).nullable(),
});

/** What the server logs about one request, feedback or failure; what the readers return. */
export type PredictionLogEntry = z.output<typeof predictionLogRecordSchema>;

/** The log entry of a request that `version` failed to score (5xx: worker crash, overload, onnxruntime error). */
export function errorLogEntry(
  version: { model: string; version: number },
  role: 'champion' | 'shadow',
  requestId: string,
  rows: number,
  error: unknown,
  latencyMs: number,
): PredictionLogEntry {
  const code = error instanceof Error && 'reason' in error ? String(error.reason) : 'internal';
  return {
    kind: 'error',
    requestId,
    at: new Date(),
    model: version.model,
    version: version.version,
    role,
    rows,
    inputsSha256: null,
    inputs: null,
    outputs: JSON.stringify({ error: error instanceof Error ? error.message : String(error), code }),
    labels: null,
    latencyMs,
  };
}
