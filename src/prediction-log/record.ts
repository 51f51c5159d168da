// One record of the prediction log, as every reader gets it back. The schema parses the rows of a segment file (see
// arrow-table.ts), so a file written by something else, or damaged, fails with its name and row instead of
// travelling on as a mistyped entry.
import { z } from 'zod';
import { DataContractError } from '../errors';

/** A class label as the registry's lineage records it and as feedback sends it. */
export const classLabelSchema = z.union([z.string(), z.number(), z.boolean()]);
export type ClassLabel = z.infer<typeof classLabelSchema>;

/** A number as JSON writes it: NaN and ±Infinity become null, read back as NaN. */
const jsonNumber = z.union([z.number(), z.null().transform(() => Number.NaN)]);

/**
 * A request's inputs as the log keeps them (the `inputs` field, when the server logs inputs in full): feature names
 * once, then one array of values per row in that order, null where a value is missing.
 */
export const loggedInputsSchema = z
  .object({
    features: z.array(z.string()),
    rows: z.array(z.array(z.union([z.number(), z.string(), z.null()]))),
  })
  .superRefine((inputs, ctx) => {
    const r = inputs.rows.findIndex((row) => row.length !== inputs.features.length);
    if (r >= 0) {
      ctx.addIssue({ code: 'custom', path: ['rows', r], message: `${inputs.rows[r]!.length} values for ${inputs.features.length} features` });
    }
  });
export type LoggedInputs = z.output<typeof loggedInputsSchema>;

/** A scored request's outputs (the `outputs` field of a prediction): a value or class per row, and a classifier's probability rows. */
export const loggedOutputsSchema = z.object({
  predictions: z.array(z.union([classLabelSchema, jsonNumber])),
  probabilities: z.array(z.array(jsonNumber)).optional(),
});
export type LoggedOutputs = z.output<typeof loggedOutputsSchema>;

/** A server-side failure (the `outputs` field of an error): its message and a short code. */
export const loggedErrorSchema = z.object({ error: z.string(), code: z.string() });
export type LoggedError = z.output<typeof loggedErrorSchema>;

/** Ground truth (the `labels` field of feedback): one label per row of the request. */
export const loggedLabelsSchema = z.array(classLabelSchema);
export type LoggedLabels = z.output<typeof loggedLabelsSchema>;

/** The `inputs` text; key order is fixed, since the inputs' digest is taken over this text. */
export function serializeInputs(inputs: LoggedInputs): string {
  return JSON.stringify({ features: inputs.features, rows: inputs.rows });
}

/** The `outputs` text of a prediction. */
export function serializeOutputs(outputs: LoggedOutputs): string {
  return JSON.stringify(outputs.probabilities === undefined ? { predictions: outputs.predictions } : { predictions: outputs.predictions, probabilities: outputs.probabilities });
}

/** The `outputs` text of an error. */
export function serializeError(failure: LoggedError): string {
  return JSON.stringify({ error: failure.error, code: failure.code });
}

/** The `labels` text of feedback. */
export function serializeLabels(labels: LoggedLabels): string {
  return JSON.stringify(labels);
}

/**
 * The kinds of record this version reads; rows of any other kind are skipped, so new kinds can be added. A
 * `conflict` is feedback the server refused because the request already had its labels (kept for audit, never joined).
 */
export const PREDICTION_LOG_KINDS = ['prediction', 'feedback', 'error', 'conflict'] as const;
export type PredictionLogKind = (typeof PREDICTION_LOG_KINDS)[number];

/**
 * One stored record: a scored request (`prediction`), one set of ground-truth labels (`feedback`), a request a
 * version failed to score with a server-side error (`error`: outputs hold `{"error", "code"}`), or a second set of
 * labels for a request that already had them, refused (`conflict`).
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
  /**
   * The id the client sent with the request (body `id` or `x-request-id`), kept only to correlate with the client's
   * own records; `requestId` is always the server's. Absent in segments written before the column existed.
   */
  clientId: z.string().nullable().optional(),
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
    outputs: serializeError({ error: error instanceof Error ? error.message : String(error), code }),
    labels: null,
    latencyMs,
  };
}

/** Where entries read from segment files came from, so an error about a field can name the file and row. */
const origins = new WeakMap<PredictionLogEntry, { file: string; row: number }>();

/** Notes that `entry` was read from row `row` of `file` (the segment reader calls this). */
export function noteOrigin(entry: PredictionLogEntry, file: string, row: number): void {
  origins.set(entry, { file, row });
}

/** Names an entry's field for an error: the file and row it was read from, when known, and its request. */
export function describeLogField(entry: PredictionLogEntry, field: 'inputs' | 'outputs' | 'labels'): string {
  const origin = origins.get(entry);
  const request = `request ${entry.requestId} (${entry.kind})`;
  return origin === undefined ? `prediction log, ${request}, field ${field}` : `prediction log ${origin.file}: row ${origin.row}, ${request}, field ${field}`;
}

function parseField<S extends z.ZodType>(entry: PredictionLogEntry, field: 'inputs' | 'outputs' | 'labels', schema: S, expected: string): z.output<S> {
  const text = entry[field];
  if (text === null) throw new DataContractError(`${describeLogField(entry, field)}: empty, expected ${expected}`);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new DataContractError(`${describeLogField(entry, field)}: not JSON (${(err as Error).message}), expected ${expected}`);
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) throw new DataContractError(`${describeLogField(entry, field)}: expected ${expected}:\n${z.prettifyError(parsed.error)}`);
  return parsed.data;
}

/** The logged inputs of a prediction; a DataContractError naming the file, row and field when they do not parse. */
export function parseLoggedInputs(entry: PredictionLogEntry): LoggedInputs {
  return parseField(entry, 'inputs', loggedInputsSchema, '{"features": [names], "rows": [[values]]}');
}

/** The outputs of a prediction; a DataContractError naming the file, row and field when they do not parse. */
export function parseLoggedOutputs(entry: PredictionLogEntry): LoggedOutputs {
  return parseField(entry, 'outputs', loggedOutputsSchema, '{"predictions": [...], "probabilities"?: [[numbers]]}');
}

/** The failure an error entry records; a DataContractError naming the file, row and field when it does not parse. */
export function parseLoggedError(entry: PredictionLogEntry): LoggedError {
  return parseField(entry, 'outputs', loggedErrorSchema, '{"error": "<message>", "code": "<code>"}');
}

/** The labels of a feedback entry; a DataContractError naming the file, row and field when they do not parse. */
export function parseLoggedLabels(entry: PredictionLogEntry): LoggedLabels {
  return parseField(entry, 'labels', loggedLabelsSchema, 'a JSON array of labels, one per row');
}
