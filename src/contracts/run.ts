// A retraining run's input, status and result, shared by the workflow, its activities, the client and the CLI.
// Type-only imports keep the workflow bundle free of zod and Node built-ins.
import type { ModelConfig } from '../config/schema';
import type { RolloutStep, WindowTest } from './live';
import type { UndefinedMetrics } from './metrics';
import type { SearchSummary } from './search';

/** What started a run. */
export type Trigger = 'manual' | 'schedule' | 'drift' | 'estimated-performance' | 'api';

/** The final outcome of a run. */
export type Decision = 'promoted' | 'rejected' | 'rolled-back' | 'failed';

/** A file in the artifact store. */
export interface ArtifactRef {
  uri: string;
  sha256: string;
  sizeBytes: number;
}

/**
 * Input of the retrain workflow. The model's resolved config travels with the run for the workflow's own decisions
 * (folds, gate, rollout) and for display; what a worker executes or opens comes from its own temporal.yaml, after it
 * has checked the run's digests against its own (docs/security.md).
 */
export interface RetrainInput {
  model: string;
  modelConfig: ModelConfig;
  trigger: Trigger;
  /** Overrides the source's time window for this run. */
  window?: { from?: string; to?: string };
  /** SHA-256 of temporal.yaml when the run was started. */
  configDigest: string;
  /** SHA-256 of the model's resolved block (the worker checks this one when present; absent in older runs). */
  modelDigest?: string;
  /** Why an automatic trigger started the run (the Schedule, or the drift report's URI). */
  reason?: string;
}

/** The snapshot pullData wrote. */
export interface SnapshotInfo {
  artifact: ArtifactRef;
  stats: ArtifactRef;
  rows: number;
  timeRange: { from: string; to: string };
  window: { from?: string; to?: string };
  sampled: { fromRows: number; toRows: number } | null;
}

/** The deterministic split of a snapshot. */
export interface SplitInfo {
  artifact: ArtifactRef;
  folds: number;
  foldRows: number[];
  holdoutRows: number;
  /** Snapshot row indices on which native and ONNX outputs are compared. */
  probeRows: number[];
  strategy: 'stratified' | 'time';
  /**
   * A time split's earliest block, marked fold `folds` in the split file: every fold model trains on these rows and
   * none is scored on them (forward chaining: fold k trains on this block and folds 0..k-1, all before fold k). Splits
   * made before forward chaining have none, and their fold models trained on every other fold.
   */
  firstBlockRows?: number;
}

/** One finished training job. */
export interface TrainedJob {
  role: string;
  jobId: string;
  run: number;
  outputDir: string;
  trainRows: number;
  classes?: Array<string | number | boolean>;
  durationMs?: number;
  selfReportedMetrics: Record<string, number>;
  params: Record<string, unknown>;
}

/** An ONNX model checked and stored. */
export interface ExportedModel {
  role: string;
  artifact: ArtifactRef;
  singleRowLatencyMs: number;
  parityMaxAbsDiff: number;
  classes?: Array<string | number | boolean>;
}

/** Mean, std (ddof 1) and 95% t-interval of a metric over folds. */
export interface MetricSummary {
  mean: number;
  std: number;
  ciLow: number;
  ciHigh: number;
}

/** What crossValidate measured. */
export interface Evaluation {
  perFold: Array<Record<string, number>>;
  summary: Record<string, MetricSummary>;
  holdout: {
    rows: number;
    candidate: Record<string, number>;
    champion?: Record<string, number>;
    /**
     * The holdout's curves (ROC, precision-recall, calibration, confusion matrix; for regression predicted vs actual
     * and residuals) of candidate and champion, stored as JSON for the run report; absent in older runs.
     */
    curves?: ArtifactRef;
  };
  rowsScored: number;
  /** The metrics that have no value on some set, with the reason; absent when all are defined (and in older runs). */
  undefined?: UndefinedMetricsOfEvaluation;
}

/** Why metrics are undefined, in the shape of the Evaluation: per fold, in the fold summary, on the holdout. */
export interface UndefinedMetricsOfEvaluation {
  /** One entry per fold, in perFold's order (an empty object for a fold where every metric is defined). */
  perFold?: UndefinedMetrics[];
  /** A metric undefined on any fold has no CV mean: its reasons on those folds. */
  summary?: UndefinedMetrics;
  holdout?: { candidate?: UndefinedMetrics; champion?: UndefinedMetrics };
}

/** The champion a run compares against. */
export interface ChampionInfo {
  version: number;
  artifact: ArtifactRef;
  classes?: Array<string | number | boolean>;
}

/** One gate rule's verdict, in words. */
export interface GateRuleResult {
  rule: string;
  passed: boolean;
  reason: string;
  /** The reason without what it was measured on ("(CV mean)", "across folds"), for one-line summaries; absent in older records. */
  brief?: string;
}

/** The gate's verdict. */
export interface GateResult {
  verdict: 'PASS' | 'REJECT';
  primaryMetric: string;
  rules: GateRuleResult[];
}

/** Where a run is, for the `status` query. */
export interface RetrainStatus {
  model: string;
  trigger: Trigger;
  stage: string;
  detail: string;
  jobs: { done: number; total: number };
  snapshot?: SnapshotInfo;
  gate?: GateResult;
  decision?: Decision;
  version?: number;
  error?: string;
  /** Progress within the current stage (for example 2 of 4 models trained). */
  progress?: StageProgress;
  /** The run's state in one line, as the Web UI's current details show it. */
  summary?: string;
  /** Where the run's artifacts and job reports are. */
  links?: RunLinks;
  /** The live-traffic steps so far (shadow, approval, guard). */
  rollout?: RolloutStep[];
  /** The shadow or guard window open now; absent outside one. */
  window?: OpenWindow;
  /** Manual decisions the run accepts now (`approve`, `reject`, `rollback`). */
  accepts?: string[];
}

/** A shadow or guard window while it is open: which versions, and the clock its looks follow. */
export interface OpenWindow {
  phase: 'shadow' | 'guard';
  /** The version being defended and the one on trial (shadow: champion and candidate; guard: old and new champion). */
  baselineVersion: number;
  contenderVersion: number;
  /** When the window opened, from the workflow's clock (ISO 8601): look k reads the predictions made before since + k · pollIntervalMs. */
  since: string;
  test: WindowTest;
  /** No look decides before this; an inconclusive window takes its default at maxDurationMs. */
  minDurationMs: number;
  maxDurationMs: number;
  pollIntervalMs: number;
}

/** Progress within one stage. */
export interface StageProgress {
  done: number;
  total: number;
  unit: string;
}

/** URIs and paths a person follows from a run: store artifacts, job folders, the registered version. */
export interface RunLinks {
  snapshot?: string;
  stats?: string;
  split?: string;
  candidate?: string;
  /** ONNX model per job role (fold-0 … final). */
  models?: Record<string, string>;
  /** Output folder (spec, logs, status.json) per job role. */
  jobDirs?: Record<string, string>;
  /** The registry version, as `<model> v<N>`. */
  version?: string;
}

/** The run's lineage kept in the workflow memo (flat keys, upserted as the run learns them). */
export interface RunMemo {
  configDigest?: string;
  window?: { from?: string; to?: string };
  snapshotSha256?: string;
  snapshotUri?: string;
  snapshotRows?: number;
  /** The champion the run was compared with; 'none' for a model's first run (a null would delete the key). */
  parentVersion?: number | 'none';
  version?: number;
  decision?: Decision;
  /** The gate's verdict in one line ("gate: REJECT — f1 0.6100 < 0.6500"). */
  gate?: string;
}

/** The workflow's result. */
export interface RetrainResult {
  model: string;
  decision: Exclude<Decision, 'failed'>;
  version: number;
  championBefore: number | null;
  championAfter: number | null;
  snapshot: SnapshotInfo;
  split: SplitInfo;
  evaluation: Evaluation;
  gate: GateResult;
  candidate: ExportedModel;
  jobs: TrainedJob[];
  promotion: { promoted: boolean; reason: string };
  /** The live-traffic steps after the gate, when the model has a rollout block. */
  rollout?: RolloutStep[];
  /** Every trial of the hyperparameter search, when the model has a search block. */
  search?: SearchSummary;
  /** The run report (charts of the evaluation, the windows and the model's versions): `relearn report` rebuilds it. */
  report?: ArtifactRef & { path: string };
}
