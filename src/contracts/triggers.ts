// What the automatic triggers exchange: a Schedule's action input, the drift monitor's input, state and status, and
// a drift check's summary (written by the drift activity, kept in the monitor's state, printed by the CLI).
import type { RetrainInput } from './run';

/** What a trigger did. */
export interface TriggerOutcome {
  /** `started` a new run, or `absorbed` by one already going. */
  action: 'started' | 'absorbed';
  workflowId: string;
  /** The new run's id (started only). */
  runId?: string;
  reason: string;
}

/** Input of a Schedule's action: the model's resolved config at `schedule sync` time. */
export interface ScheduledRetrainInput {
  model: string;
  modelConfig: RetrainInput['modelConfig'];
  configDigest: string;
  modelDigest?: RetrainInput['modelDigest'];
  window?: RetrainInput['window'];
  /** The Schedule that starts this workflow, for the reason line. */
  scheduleId: string;
}

/** Result of a scheduled trigger. */
export interface ScheduledRetrainResult extends TriggerOutcome {
  decision?: string;
  version?: number;
  error?: string;
}

/** One check's outcome, small enough for the workflow's status and history. */
export interface DriftCheckSummary {
  checkedAt: string;
  window: { from: string; to: string };
  /** No verdict (no champion yet, too few rows, …) when set. */
  skipped?: string;
  championVersion?: number;
  datasetDrift?: boolean;
  drifted?: number;
  checked?: number;
  share?: number;
  driftedFeatures?: string[];
  /** The champion's output distribution drifted (absent when prediction drift is off or not measurable). */
  predictionDrift?: boolean | null;
  /** The primary metric on the recent rows that had labels, vs the champion's holdout value. */
  metric?: { name: string; value: number | null; championHoldout: number | null; drop: number | null; drifted: boolean | null };
  /**
   * The champion's performance estimated without labels (CBPE) with its band, vs its holdout value; realized beside it
   * where the window has labels. Absent without a `drift.estimated` block (and in older checks).
   */
  estimated?: {
    name: string;
    value: number | null;
    lower: number | null;
    upper: number | null;
    championHoldout: number | null;
    drop: number | null;
    drifted: boolean | null;
    realized?: number | null;
    note?: string;
  };
  /**
   * Multivariate drift (drift.multivariate): the domain classifier's cross-validated ROC AUC against its maximum, and
   * the features that explain it most, weighted by the champion's sensitivity (largest first, at most five).
   */
  multivariate?: { auc: number; maxAuc: number; drifted: boolean; explained: Array<{ feature: string; share: number; impact: number }> };
  /** Whether the check asks for retraining (dataset drift, prediction drift, metric drop); older checks lack it. */
  retrain?: boolean;
  report?: { json: string; html: string };
}

/** Cooldown and counters carried from one run of the monitor to the next. */
export interface MonitorState {
  checks: number;
  driftsFound: number;
  triggered: number;
  /** Drift found inside the cooldown: counted, no run started. */
  suppressed: number;
  absorbed: number;
  lastTriggerAtMs: number | null;
  lastCheck?: DriftCheckSummary;
  lastTrigger?: TriggerOutcome & { at: string; report?: string };
}

/** Input of the drift monitor. */
export interface DriftMonitorInput {
  model: string;
  modelConfig: RetrainInput['modelConfig'];
  configDigest: string;
  modelDigest?: RetrainInput['modelDigest'];
  /** Overrides the configured window for every check (fixed from/to). */
  window?: { from: string; to: string };
  /** Stop after this many checks in total (tests, one-off runs); none = run until cancelled. */
  maxChecks?: number;
  state?: MonitorState;
}

/** What `status` returns. */
export interface MonitorStatus extends MonitorState {
  model: string;
  cooldownUntil: string | null;
  nextCheckAt: string | null;
}

