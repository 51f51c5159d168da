// The serving prediction log as the drift monitor's recent data: the champion's logged requests of a window, their
// canonical inputs parsed back into feature columns, the outputs the server returned, and the labels feedback sent.
import { Table, Utf8, type Vector, makeVector, vectorFromArray } from 'apache-arrow';
import { samplePositions } from '../data/sample';
import { DataContractError } from '../errors';
import {
  type PredictionLogLocation,
  describeLocation,
  describeLogField,
  isServerRequestId,
  joinFeedback,
  parseLoggedInputs,
  parseLoggedOutputs,
  readPredictionLog,
  utcDay,
} from '../prediction-log';

/** The recent window as read from the prediction log. */
export interface RecentPredictions {
  /** One column per feature, one row per logged input row (sampled to maxRows). */
  table: Table;
  /** Version that produced each row's outputs. */
  versions: Int32Array;
  /** Outputs as the server returned them: probabilities (n×width) for classifiers, predictions for regressors. */
  probabilities?: Float64Array;
  width?: number;
  predictions?: Float64Array;
  /** The label feedback sent for each row, or undefined where none came. */
  labels: Array<unknown>;
  /** Logged champion requests in the window (before sampling rows). */
  requests: number;
  /** Champion entries in the window skipped because the server did not issue their id (written by anything else). */
  foreignIds: number;
}

/**
 * Reads the champion's predictions of `model` logged in [from, to) under `dir` (`<stateDir>/predictions`). Only
 * `prediction` entries of role `champion` count; shadow, error and any other kinds are skipped. Requests logged
 * without their inputs (the server's default `--log-inputs digest`) cannot be measured: that is an error saying so.
 * Only entries whose request id the server issued count (as in the shadow and guard windows): entries written by
 * anything else into the log's folder are skipped and counted in `foreignIds`.
 */
export async function readRecentPredictions(input: {
  /** The log's folder or a shared log's S3 prefix (every replica's segments are read). */
  dir: PredictionLogLocation;
  model: string;
  window: { from: string; to: string };
  features: { numeric: readonly string[]; categorical: readonly string[] };
  task: 'binary' | 'multiclass' | 'regression';
  maxRows: number;
  seed?: number;
}): Promise<RecentPredictions> {
  const fromMs = Date.parse(input.window.from);
  const toMs = Date.parse(input.window.to);
  const entries = await readPredictionLog({
    dir: input.dir,
    model: input.model,
    fromDay: utcDay(new Date(fromMs)),
    toDay: utcDay(new Date(toMs)),
  });
  const inWindow = entries.filter((e) => e.at.getTime() >= fromMs && e.at.getTime() < toMs);
  const logged = inWindow.filter((e) => e.kind === 'prediction' && e.role === 'champion' && e.outputs !== null && e.version !== null);
  const champion = logged.filter((e) => isServerRequestId(e.requestId));
  const foreignIds = logged.length - champion.length;
  if (champion.length === 0) {
    throw new DataContractError(
      `prediction log ${describeLocation(input.dir)}/${input.model}: no champion predictions logged in ${input.window.from} → ${input.window.to}` +
        (foreignIds > 0 ? ` (${foreignIds} with request ids the server did not issue were skipped)` : ''),
    );
  }
  const withInputs = champion.filter((e) => e.inputs !== null);
  if (withInputs.length === 0) {
    throw new DataContractError(
      `prediction log ${describeLocation(input.dir)}/${input.model}: the ${champion.length} champion requests in the window were logged as input digests only; ` +
        'drift needs the inputs themselves: start the server with `relearn serve --log-inputs full`',
    );
  }
  // Feedback may arrive after the window closes; it is matched by request id over everything read.
  const labelsOf = new Map<string, unknown[]>();
  for (const p of joinFeedback(entries)) if (p.role === 'champion' && p.labels !== null && isServerRequestId(p.requestId)) labelsOf.set(p.requestId, p.labels);

  const features = [...input.features.numeric, ...input.features.categorical];
  const rows: Array<Array<number | string | null>> = [];
  const versions: number[] = [];
  const outputs: Array<number[] | number> = [];
  const labels: unknown[] = [];
  for (const e of withInputs) {
    const parsed = parseLoggedInputs(e);
    const at = features.map((f) => parsed.features.indexOf(f));
    const missing = features.filter((_, i) => at[i]! < 0);
    if (missing.length > 0) throw new DataContractError(`${describeLogField(e, 'inputs')}: lacks feature(s) ${missing.join(', ')}`);
    const out = parseLoggedOutputs(e);
    const fed = labelsOf.get(e.requestId);
    parsed.rows.forEach((row, r) => {
      rows.push(at.map((k) => row[k] ?? null));
      versions.push(e.version!);
      outputs.push(input.task === 'regression' ? Number(out.predictions[r]) : (out.probabilities?.[r] ?? []));
      labels.push(fed?.[r]);
    });
  }
  const keep = rows.length > input.maxRows ? samplePositions(rows.length, input.maxRows, input.seed ?? 1) : null;
  const pick = <T>(xs: T[]): T[] => (keep ? Array.from(keep, (i) => xs[i]!) : xs);
  const kept = pick(rows);
  const columns: Record<string, Vector> = {};
  input.features.numeric.forEach((f, j) => {
    columns[f] = makeVector(Float64Array.from(kept, (row) => (row[j] === null || row[j] === '' ? Number.NaN : Number(row[j]))));
  });
  input.features.categorical.forEach((f, j) => {
    const k = input.features.numeric.length + j;
    columns[f] = vectorFromArray(kept.map((row) => (row[k] === null ? null : String(row[k]))), new Utf8());
  });
  const keptOutputs = pick(outputs);
  const result: RecentPredictions = { table: new Table(columns), versions: Int32Array.from(pick(versions)), labels: pick(labels), requests: withInputs.length, foreignIds };
  if (input.task === 'regression') result.predictions = Float64Array.from(keptOutputs as number[]);
  else {
    const width = (keptOutputs[0] as number[] | undefined)?.length ?? 0;
    const flat = new Float64Array(keptOutputs.length * width);
    keptOutputs.forEach((p, i) => flat.set((p as number[]).slice(0, width), i * width));
    result.probabilities = flat;
    result.width = width;
  }
  return result;
}
