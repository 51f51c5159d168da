// What a shadow or guard window measured and decided: the typed evidence that travels from the live-evidence
// activity to the rollout workflow, the run's result, the registry and the CLI.
import type { MetricDirection, MetricName } from './metrics';

/** McNemar's test on paired correctness: b = rows only the champion gets right, c = rows only the shadow gets right. */
export interface McNemarResult {
  b: number;
  c: number;
  /** Exact: min(b, c); chi-square: (|b − c| − 1)² / (b + c). */
  statistic: number;
  /** Two-sided. */
  pValue: number;
  /** True for the exact binomial test (b + c < 25), false for chi-square with continuity correction. */
  exact: boolean;
}

/** The comparison's numbers and verdict; null where a value cannot be computed (too few rows, one class only). */
export interface ShadowComparison {
  rows: number;
  metric: MetricName;
  direction: MetricDirection;
  championValue: number | null;
  shadowValue: number | null;
  /** shadow − champion, sign-adjusted so that positive means the shadow is better (champion − shadow for lower-is-better metrics). */
  diff: number | null;
  /** Percentile interval of the bootstrap differences (same sign convention as `diff`). */
  ciLow: number | null;
  ciHigh: number | null;
  confidence: number;
  margin: number;
  /** Resamples whose difference was finite (a resample with one class only has no AUC). */
  resamples: number;
  /** One-sided bootstrap p of "the shadow is worse by more than the margin": share of resampled diffs < −margin. */
  pValue: number | null;
  /** Classifiers only. */
  mcnemar: McNemarResult | null;
  verdict: 'not-worse' | 'worse' | 'insufficient';
  reason: string;
}

/** The paired comparison of two versions on the same labeled live requests: the baseline as `champion`, the contender as `shadow`. */
export type LiveComparison = ShadowComparison;

/** What a shadow or guard window saw in the prediction log. */
export interface LiveEvidence {
  phase: 'shadow' | 'guard';
  baselineVersion: number;
  contenderVersion: number;
  since: string;
  until: string;
  /** Requests both versions scored, and how many of their rows have labels. */
  pairedRequests: number;
  labeledRows: number;
  /** The contender's health over the window (requests it answered or mirrored, errors, latency). */
  contender: { requests: number; errorRate: number; p50LatencyMs: number | null; p99LatencyMs: number | null };
  comparison: LiveComparison | null;
}

/** Who or what ended a rollout step. */
export type DecidedBy = 'evidence' | 'timeout' | 'approve' | 'reject' | 'rollback';

/** One rollout step's outcome: the shadow window, the approval, or the guard window. */
export interface RolloutStep {
  phase: 'shadow' | 'approval' | 'guard';
  decision: 'promote' | 'reject' | 'keep' | 'rollback';
  decidedBy: DecidedBy;
  reason: string;
  evidence?: LiveEvidence;
  /** Who answered by hand, as the CLI sent it. */
  by?: string;
}

/** What a person sends with approve, reject or rollback. */
export interface ManualDecisionInput {
  by?: string;
  reason?: string;
}

