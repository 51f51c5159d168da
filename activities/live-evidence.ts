import type { MetricName } from '../src/metrics';
import { collectShadowEvidence, compareShadow, type ShadowTask } from '../src/shadow';
import type { ClassLabel } from '../src/serve/signature';
import type { LiveEvidence } from '../workflows/types';
import type { ActivityDeps } from './deps';

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
}

/** Counts (and with `compare`, compares) what the prediction log holds for the window. */
export async function measureLive(deps: Pick<ActivityDeps, 'predictionLogDir'>, input: MeasureLiveInput): Promise<LiveEvidence> {
  if (deps.predictionLogDir === undefined) throw new Error('the worker has no prediction log folder; shadow and guard windows need one');
  const shadowPhase = input.phase === 'shadow';
  const until = new Date();
  const evidence = await collectShadowEvidence({
    logDir: deps.predictionLogDir,
    model: input.model,
    championVersion: shadowPhase ? input.baselineVersion : input.contenderVersion,
    shadowVersion: shadowPhase ? input.contenderVersion : input.baselineVersion,
    since: new Date(input.since),
    until,
    ...(input.classes !== undefined ? { classes: input.classes } : {}),
  });
  const baseline = shadowPhase ? evidence.champion : evidence.shadow;
  const contender = shadowPhase ? evidence.shadow : evidence.champion;
  const health = shadowPhase ? evidence.versions.shadow : evidence.versions.champion;
  const comparison = input.compare
    ? compareShadow({
        task: input.task as ShadowTask,
        metric: input.metric as MetricName,
        labels: evidence.labels,
        champion: baseline,
        shadow: contender,
        ...(evidence.classes !== null ? { classes: evidence.classes } : input.classes !== undefined ? { classes: input.classes } : {}),
        margin: input.margin,
        confidence: input.confidence,
        resamples: input.resamples,
        seed: input.seed,
        minRows: input.minRows,
      })
    : null;
  return {
    phase: input.phase,
    baselineVersion: input.baselineVersion,
    contenderVersion: input.contenderVersion,
    since: input.since,
    until: until.toISOString(),
    pairedRequests: evidence.counts.pairedRequests,
    labeledRows: evidence.counts.rows,
    contender: {
      requests: health.predictions + health.errors,
      errorRate: health.errorRate ?? 0,
      p50LatencyMs: health.latencyP50Ms,
      p99LatencyMs: health.latencyP99Ms,
    },
    comparison,
  };
}
