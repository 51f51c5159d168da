// A shadow or guard window measured from the prediction log. The log speaks of the version that answered (role
// champion) and the one mirrored (role shadow); a window speaks of the version being defended (the baseline) and the
// one on trial (the contender): in the shadow phase the baseline answers, in the guard phase the contender does.
import type { LiveEvidence } from '../contracts';
import type { MetricName } from '../metrics';
import type { ClassLabel, PredictionLogLocation } from '../prediction-log';
import { type ShadowTask, compareShadow } from './compare';
import { type PairedOutputs, type ShadowEvidence, type VersionServingStats, collectShadowEvidence } from './evidence';

/** Which window to measure: the baseline is the version being defended, the contender the one on trial. */
export interface MeasureLiveInput {
  model: string;
  /** shadow: the baseline answers (role champion) and the contender is mirrored; guard: the other way round. */
  phase: 'shadow' | 'guard';
  baselineVersion: number;
  contenderVersion: number;
  since: string;
  task: string;
  metric: string;
  classes?: ClassLabel[];
  /** False while the window is open (counts only); true for the decision. */
  compare: boolean;
  margin: number;
  confidence: number;
  resamples: number;
  seed: number;
  minRows: number;
  /** Only the first this-many labeled rows are compared (the earliest in the log, so a re-measure sees the same). */
  maxRows?: number;
}

/** The first `rows` rows of one model's paired outputs. */
function firstRows(outputs: PairedOutputs, rows: number, total: number): PairedOutputs {
  if (rows >= total) return outputs;
  const width = outputs.probabilities !== undefined && total > 0 ? outputs.probabilities.length / total : 0;
  return {
    predicted: outputs.predicted.slice(0, rows),
    ...(outputs.probabilities !== undefined ? { probabilities: outputs.probabilities.slice(0, rows * width) } : {}),
    ...(outputs.positive !== undefined ? { positive: outputs.positive.slice(0, rows) } : {}),
  };
}

/** A window's rows as the baseline and the contender scored them, oldest prediction first, and what the log counted. */
export interface WindowRows {
  evidence: ShadowEvidence;
  /** The first `maxRows` labeled rows. */
  labels: number[];
  baseline: PairedOutputs;
  contender: PairedOutputs;
  /** The contender's serving figures over the window. */
  health: VersionServingStats;
}

/**
 * Reads a window from the prediction log in `logDir`: predictions made from `since` to `until` (default now), with
 * the feedback logged before `labelsUntil` (default `until`), paired and turned from the log's roles (champion
 * answered, shadow mirrored) into the window's (baseline, contender).
 */
export async function readWindowRows(
  input: Pick<MeasureLiveInput, 'model' | 'phase' | 'baselineVersion' | 'contenderVersion' | 'since' | 'classes' | 'maxRows'> & {
    logDir: PredictionLogLocation;
    until: Date;
    labelsUntil?: Date;
  },
): Promise<WindowRows> {
  const shadowPhase = input.phase === 'shadow';
  const evidence = await collectShadowEvidence({
    logDir: input.logDir,
    model: input.model,
    championVersion: shadowPhase ? input.baselineVersion : input.contenderVersion,
    shadowVersion: shadowPhase ? input.contenderVersion : input.baselineVersion,
    since: new Date(input.since),
    until: input.until,
    ...(input.labelsUntil !== undefined ? { labelsUntil: input.labelsUntil } : {}),
    ...(input.classes !== undefined ? { classes: input.classes } : {}),
  });
  const total = evidence.labels.length;
  const used = Math.min(total, input.maxRows ?? Number.POSITIVE_INFINITY);
  return {
    evidence,
    labels: used < total ? evidence.labels.slice(0, used) : evidence.labels,
    baseline: firstRows(shadowPhase ? evidence.champion : evidence.shadow, used, total),
    contender: firstRows(shadowPhase ? evidence.shadow : evidence.champion, used, total),
    health: shadowPhase ? evidence.versions.shadow : evidence.versions.champion,
  };
}

/** The window's figures as the workflow keeps them: counts, the contender's health, and a comparison when made. */
export function liveEvidenceOf(
  input: Pick<MeasureLiveInput, 'phase' | 'baselineVersion' | 'contenderVersion' | 'since'>,
  rows: WindowRows,
  until: Date,
  comparison: LiveEvidence['comparison'],
): LiveEvidence {
  return {
    phase: input.phase,
    baselineVersion: input.baselineVersion,
    contenderVersion: input.contenderVersion,
    since: input.since,
    until: until.toISOString(),
    pairedRequests: rows.evidence.counts.pairedRequests,
    labeledRows: rows.evidence.counts.rows,
    contender: {
      requests: rows.health.predictions + rows.health.errors,
      errorRate: rows.health.errorRate ?? 0,
      p50LatencyMs: rows.health.latencyP50Ms,
      p99LatencyMs: rows.health.latencyP99Ms,
    },
    comparison,
  };
}

/**
 * Counts (and with `compare`, compares) what the prediction log in `logDir` holds for the window from `since` to
 * `until` (default now): the baseline against the contender on the labeled rows, each named by its version.
 */
export async function measureLiveWindow(input: MeasureLiveInput & { logDir: PredictionLogLocation; until?: Date }): Promise<LiveEvidence> {
  const until = input.until ?? new Date();
  const rows = await readWindowRows({ ...input, until });
  const { evidence, baseline, contender } = rows;
  const comparison = input.compare && rows.labels.length > 0
    ? compareShadow({
        task: input.task as ShadowTask,
        metric: input.metric as MetricName,
        labels: rows.labels,
        champion: baseline,
        shadow: contender,
        ...(evidence.classes !== null ? { classes: evidence.classes } : input.classes !== undefined ? { classes: input.classes } : {}),
        margin: input.margin,
        confidence: input.confidence,
        resamples: input.resamples,
        seed: input.seed,
        minRows: input.minRows,
        // The comparison's champion and shadow are the baseline and the contender here: its reason names them by version.
        names: { champion: `v${input.baselineVersion}`, shadow: `v${input.contenderVersion}` },
      })
    : null;
  return liveEvidenceOf(input, rows, until, comparison);
}
