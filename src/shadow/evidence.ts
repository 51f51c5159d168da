import { quantileSorted } from '../data/stats';
import { DataContractError } from '../errors';
import {
  type ClassLabel,
  type LabeledPrediction,
  type PredictionLogEntry,
  type PredictionLogLocation,
  isServerRequestId,
  joinFeedback,
  streamPredictionLog,
  utcDay,
} from '../prediction-log';
import type { ShadowTask } from './compare';

/** Which part of the prediction log to read, and which two versions to pair. */
export interface CollectShadowEvidenceInput {
  /** The prediction log folder (`<stateDir>/predictions`) or a shared log's `s3://` prefix (every replica's segments). */
  logDir: PredictionLogLocation;
  model: string;
  /** The version that answered (role `champion` in the log). In a guard window: the new champion. */
  championVersion: number;
  /** The version that was mirrored to (role `shadow`). In a guard window: the previous champion. */
  shadowVersion: number;
  /** Entries (predictions, errors, feedback) logged at or after this time count. */
  since: Date;
  /** Predictions and errors logged before this time count (default: no end). */
  until?: Date;
  /**
   * Feedback logged before this time counts (default: `until`). Labels often come long after the prediction: a window
   * counts a row by its prediction's time, and may wait past `until` for the labels of predictions it already holds.
   */
  labelsUntil?: Date;
  /** Classifiers: class labels in probability-column order (the version's `lineage.classes`); see `classes` below when omitted. */
  classes?: readonly ClassLabel[];
}

/** One model's outputs on the paired, labeled rows, in the shapes compareShadow takes. */
export interface PairedOutputs {
  /** Classifiers: predicted class index per row; regression: predicted value per row. */
  predicted: number[];
  /** Classifiers: class probabilities, row-major rows × classes. */
  probabilities?: number[];
  /** Binary classifiers: the probability of the second class (the positive one) per row. */
  positive?: number[];
}

/** How one version served in the window (all its requests, labeled or not). */
export interface VersionServingStats {
  version: number;
  role: 'champion' | 'shadow';
  /** Requests it scored. */
  predictions: number;
  /** Requests it failed to score with a server-side error (`kind: 'error'` entries). */
  errors: number;
  /** errors / (predictions + errors); null when it saw no request. */
  errorRate: number | null;
  /** Latency of its predictions, numpy-linear quantiles, ms (a shadow's is its own scoring time, without queueing). */
  latencyP50Ms: number | null;
  latencyP99Ms: number | null;
}

/** Paired per-row evidence from the prediction log, and per-version serving figures. */
export interface ShadowEvidence {
  model: string;
  championVersion: number;
  shadowVersion: number;
  since: string;
  until: string | null;
  /** null when no labeled pair was found (nothing to tell the task from). */
  task: ShadowTask | null;
  /** Classifiers: class labels of the probability columns; label and predicted indices refer to them. */
  classes: ClassLabel[] | null;
  counts: {
    /** Distinct requests with a prediction of championVersion as champion / of shadowVersion as shadow. */
    championRequests: number;
    shadowRequests: number;
    /** Requests with both. */
    pairedRequests: number;
    /** Paired requests whose feedback labels were used. */
    labeledRequests: number;
    /** Rows of the labeled paired requests: the length of every array below. */
    rows: number;
    /** Paired requests with feedback that could not be used (label count ≠ rows, or a label that is not a class). */
    unusableFeedback: number;
    /**
     * Entries in range skipped because their request id is not one the server issues (`rq_` and 128 random bits):
     * written by something other than the server, or from before ids were the server's. They never count.
     */
    foreignIds: number;
  };
  /** Classifiers: true class index per row; regression: true value per row. */
  labels: number[];
  champion: PairedOutputs;
  shadow: PairedOutputs;
  versions: { champion: VersionServingStats; shadow: VersionServingStats };
}

/**
 * Reads the prediction log of `model` between `since` and `until` (only the days in range) and pairs, by request id,
 * the champion entry of `championVersion` with the shadow entry of `shadowVersion` where feedback labels came, then
 * flattens the pairs to per-row arrays. Versions are named, not "old/new", so the guard window (the new champion
 * answering, the previous one mirrored) uses the same function. Without `classes`, a classifier's classes are taken
 * to be the sorted labels and predictions seen (scikit-learn's `classes_` order), which must account for every
 * probability column. Only entries with a server-issued request id count (see isServerRequestId): a client
 * never chooses the id a window pairs on. The log is streamed a segment at a time and only the entries of the two
 * versions (and feedback) are kept.
 */
export async function collectShadowEvidence(input: CollectShadowEvidenceInput): Promise<ShadowEvidence> {
  const { logDir, model, championVersion, shadowVersion, since, until } = input;
  const labelsUntil = input.labelsUntil ?? until;
  const lastDay = until === undefined || labelsUntil === undefined ? undefined : labelsUntil > until ? labelsUntil : until;
  const sinceMs = since.getTime();
  const untilMs = until?.getTime() ?? Number.POSITIVE_INFINITY;
  const labelsUntilMs = labelsUntil?.getTime() ?? Number.POSITIVE_INFINITY;
  const entries: PredictionLogEntry[] = [];
  let foreignIds = 0;
  for await (const segment of streamPredictionLog({
    dir: logDir,
    model,
    fromDay: utcDay(since),
    fromMs: sinceMs,
    ...(lastDay !== undefined ? { toDay: utcDay(lastDay), toMs: lastDay.getTime() } : {}),
  })) {
    for (const e of segment) {
      const at = e.at.getTime();
      if (at < sinceMs || at >= (e.kind === 'feedback' ? labelsUntilMs : untilMs)) continue;
      const ours = e.kind === 'feedback' || (e.version === championVersion && e.role === 'champion') || (e.version === shadowVersion && e.role === 'shadow');
      if (!ours) continue;
      if (!isServerRequestId(e.requestId)) {
        foreignIds += 1;
        continue;
      }
      entries.push(e);
    }
  }

  const versions = {
    champion: servingStats(entries, championVersion, 'champion'),
    shadow: servingStats(entries, shadowVersion, 'shadow'),
  };

  const champions = new Map<string, LabeledPrediction>();
  const shadows = new Map<string, LabeledPrediction>();
  for (const p of joinFeedback(entries)) {
    if (p.role === 'champion' && p.version === championVersion && !champions.has(p.requestId)) champions.set(p.requestId, p);
    if (p.role === 'shadow' && p.version === shadowVersion && !shadows.has(p.requestId)) shadows.set(p.requestId, p);
  }
  const pairs: Array<[LabeledPrediction, LabeledPrediction]> = [];
  for (const [id, c] of champions) {
    const s = shadows.get(id);
    if (s !== undefined) pairs.push([c, s]);
  }
  pairs.sort(([a], [b]) => a.at.getTime() - b.at.getTime() || (a.requestId < b.requestId ? -1 : a.requestId > b.requestId ? 1 : 0));
  const labeled = pairs.filter(([c]) => c.labels !== null);

  const evidence: ShadowEvidence = {
    model,
    championVersion,
    shadowVersion,
    since: since.toISOString(),
    until: until?.toISOString() ?? null,
    task: null,
    classes: null,
    counts: {
      championRequests: champions.size,
      shadowRequests: shadows.size,
      pairedRequests: pairs.length,
      labeledRequests: 0,
      rows: 0,
      unusableFeedback: 0,
      foreignIds,
    },
    labels: [],
    champion: { predicted: [] },
    shadow: { predicted: [] },
    versions,
  };
  if (labeled.length === 0) return evidence;

  const [firstChampion, firstShadow] = labeled[0]!;
  const classifier = firstChampion.probabilities !== undefined;
  if (classifier !== (firstShadow.probabilities !== undefined)) {
    throw new DataContractError(`prediction log of ${model}: v${championVersion} and v${shadowVersion} are not the same kind of model (classifier vs regressor); they cannot be compared`);
  }
  if (!classifier) {
    evidence.task = 'regression';
    for (const [c, s] of labeled) {
      const labels = c.labels!;
      if (labels.length !== c.predictions.length || s.predictions.length !== c.predictions.length || labels.some((v) => typeof v !== 'number')) {
        evidence.counts.unusableFeedback += 1;
        continue;
      }
      evidence.labels.push(...(labels as number[]));
      evidence.champion.predicted.push(...(c.predictions as number[]));
      evidence.shadow.predicted.push(...(s.predictions as number[]));
      evidence.counts.labeledRequests += 1;
    }
    evidence.counts.rows = evidence.labels.length;
    return evidence;
  }

  const width = firstChampion.probabilities![0]?.length ?? 0;
  for (const [c, s] of labeled) {
    const cw = c.probabilities![0]?.length ?? width;
    const sw = s.probabilities![0]?.length ?? width;
    if (cw !== width || sw !== width) {
      throw new DataContractError(
        `prediction log of ${model}: v${championVersion} gives ${cw} probability columns and v${shadowVersion} ${sw} on request ${c.requestId}; they cannot be compared`,
      );
    }
  }
  const classes = input.classes !== undefined ? [...input.classes] : inferClasses(labeled, width, model);
  if (classes.length !== width) {
    throw new DataContractError(`prediction log of ${model}: ${classes.length} classes given (${classes.join(', ')}) but the outputs have ${width} probability columns`);
  }
  const indexOf = new Map(classes.map((k, i) => [String(k), i]));
  const positive = width === 2;
  evidence.task = positive ? 'binary' : 'multiclass';
  evidence.classes = classes;
  evidence.champion = { predicted: [], probabilities: [], ...(positive ? { positive: [] } : {}) };
  evidence.shadow = { predicted: [], probabilities: [], ...(positive ? { positive: [] } : {}) };
  for (const [c, s] of labeled) {
    const labels = c.labels!.map((l) => indexOf.get(String(l)));
    const rows = c.predictions.length;
    if (labels.length !== rows || s.predictions.length !== rows || labels.some((i) => i === undefined)) {
      evidence.counts.unusableFeedback += 1;
      continue;
    }
    evidence.labels.push(...(labels as number[]));
    for (const [p, out] of [
      [c, evidence.champion],
      [s, evidence.shadow],
    ] as const) {
      for (let r = 0; r < rows; r++) {
        const probabilities = p.probabilities![r]!;
        out.predicted.push(argmax(probabilities));
        out.probabilities!.push(...probabilities);
        out.positive?.push(probabilities[1]!);
      }
    }
    evidence.counts.labeledRequests += 1;
  }
  evidence.counts.rows = evidence.labels.length;
  return evidence;
}

/** Predictions, errors and latency quantiles of one version in one role. */
function servingStats(entries: readonly PredictionLogEntry[], version: number, role: 'champion' | 'shadow'): VersionServingStats {
  let predictions = 0;
  let errors = 0;
  const latencies: number[] = [];
  const seen = new Set<string>();
  for (const e of entries) {
    if (e.version !== version || e.role !== role) continue;
    if (e.kind === 'error') errors += 1;
    else if (e.kind === 'prediction' && !seen.has(e.requestId)) {
      seen.add(e.requestId);
      predictions += 1;
      if (e.latencyMs !== null && Number.isFinite(e.latencyMs)) latencies.push(e.latencyMs);
    }
  }
  const sorted = Float64Array.from(latencies).sort();
  const total = predictions + errors;
  return {
    version,
    role,
    predictions,
    errors,
    errorRate: total === 0 ? null : errors / total,
    latencyP50Ms: sorted.length === 0 ? null : quantileSorted(sorted, 0.5),
    latencyP99Ms: sorted.length === 0 ? null : quantileSorted(sorted, 0.99),
  };
}

/** Ties go to the lowest column, as the server's own argmax (and numpy's). */
function argmax(row: readonly number[]): number {
  let best = 0;
  for (let c = 1; c < row.length; c++) if (row[c]! > row[best]!) best = c;
  return best;
}

/** The sorted distinct labels and predictions (scikit-learn's `classes_` order); must cover every column. */
function inferClasses(pairs: ReadonlyArray<readonly [LabeledPrediction, LabeledPrediction]>, width: number, model: string): ClassLabel[] {
  const seen = new Map<string, ClassLabel>();
  for (const [c, s] of pairs) {
    // Keyed by text, as labels are matched to classes; a predicted value (the model's own type) wins over label text.
    for (const v of [...c.predictions, ...s.predictions]) seen.set(String(v), v as ClassLabel);
  }
  for (const [c] of pairs) for (const v of c.labels!) if (!seen.has(String(v))) seen.set(String(v), v);
  const values = [...seen.values()];
  if (values.every((v) => typeof v === 'number')) values.sort((a, b) => (a as number) - (b as number));
  else if (values.every((v) => typeof v === 'boolean')) values.sort((a, b) => Number(a) - Number(b));
  else values.sort((a, b) => (String(a) < String(b) ? -1 : String(a) > String(b) ? 1 : 0));
  if (values.length !== width) {
    throw new DataContractError(
      `prediction log of ${model}: ${values.length} distinct classes seen (${values.map((v) => JSON.stringify(v)).join(', ')}) for ${width} probability columns; pass the version's classes`,
    );
  }
  return values;
}
