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

/** Who or what ended a rollout step (default: a window still inconclusive at its end took its configured default). */
export type DecidedBy = 'evidence' | 'default' | 'timeout' | 'approve' | 'reject' | 'rollback';

/** One rollout step's outcome: the shadow window, the approval, or the guard window. */
export interface RolloutStep {
  phase: 'shadow' | 'approval' | 'guard';
  decision: 'promote' | 'reject' | 'keep' | 'rollback';
  decidedBy: DecidedBy;
  reason: string;
  evidence?: LiveEvidence;
  /** Who answered by hand, as the CLI sent it. */
  by?: string;
  /** A window's answer: pass, fail, or inconclusive (then `decidedBy` is `default`); absent for approvals and older runs. */
  outcome?: WindowOutcome;
  /** The window's full decision: the test, the bounds against the margins, the sequential and primary-metric numbers. */
  window?: WindowDecision;
}

/** What a person sends with approve, reject or rollback. */
export interface ManualDecisionInput {
  by?: string;
  reason?: string;
}

/** How a shadow or guard window is decided: an anytime-valid sequence checked at every poll, or the paired bootstrap once. */
export type WindowTest = 'sequential' | 'fixed';

/** A window's answer: evidence for the contender (pass), against it (fail), or not enough either way (inconclusive). */
export type WindowOutcome = 'pass' | 'fail' | 'inconclusive';

/** The sequential test's numbers: a confidence sequence on the per-row loss difference baseline − contender. */
export interface SequentialLossEvidence {
  /** Brier score for classifiers, squared error for regression: a proper loss with one value per row. */
  loss: 'brier' | 'squared_error';
  rows: number;
  /** Mean per-row loss of each side. */
  baselineLoss: number;
  contenderLoss: number;
  /** Mean of loss_baseline − loss_contender: positive means the contender is better. */
  diff: number;
  /** Lower bound of the mean difference, for the non-inferiority check (≥ passAbove: pass). */
  lower: number;
  /** Upper bound of the mean difference, for the harm check (< failBelow: fail). */
  upper: number;
  /** −lossMargin × baselineLoss. */
  passAbove: number;
  /** Shadow: −lossMargin × baselineLoss; guard: −lossHarmMargin × baselineLoss. */
  failBelow: number;
  confidence: number;
  /** The row count the sequence is tuned to be tightest at (the window's minLabeledRows). */
  plannedRows: number;
}

/** What decideWindow says about a window at one look. */
export interface WindowDecision {
  kind: 'shadow' | 'guard';
  test: WindowTest;
  outcome: WindowOutcome;
  /**
   * What the window does now: shadow pass → promote, fail → reject; guard pass → keep, fail → rollback; inconclusive
   * → continue, or at the window's end (maxDuration) the configured default (onInconclusive).
   */
  action: 'promote' | 'reject' | 'keep' | 'rollback' | 'continue';
  /** evidence: a pass or fail; default: inconclusive at the window's end; waiting: inconclusive, the window goes on. */
  decidedBy: 'evidence' | 'default' | 'waiting';
  rows: number;
  /** The bounds the outcome was read from, sign-adjusted so that positive = contender better (null: too few rows). */
  lower: number | null;
  upper: number | null;
  passAbove: number | null;
  failBelow: number | null;
  /** The sequential test's numbers (test: sequential). */
  sequential: SequentialLossEvidence | null;
  /** The primary metric with its paired bootstrap interval: decides with `fixed`, reported beside with `sequential`. */
  primary: ShadowComparison | null;
  /** One line for people; says "inconclusive", never "worse", when the evidence does not show harm. */
  reason: string;
}
