// The contracts every layer shares: run inputs and results, gate rules and verdicts, metric directions and defaults,
// workflow ids, search attributes, queries/signals/updates, trigger and drift-check summaries, the seeded PRNG.
// Defined once here and imported by workflows, activities, the CLI and the core. This folder is a leaf: at run time
// it imports nothing of the project's (only `@temporalio/*`), so the workflow bundle can take it whole.
export { FailureType } from './failures';
export type { FailureTypeName } from './failures';
export { trainFoldsOf } from './folds';
export type { FoldPlan } from './folds';
export { gateSummary, judge } from './gate';
export { monitorWorkflowId, retrainWorkflowId, searchWorkflowId } from './ids';
export type {
  DecidedBy,
  LiveComparison,
  LiveEvidence,
  ManualDecisionInput,
  McNemarResult,
  RolloutStep,
  SequentialLossEvidence,
  ShadowComparison,
  WindowDecision,
  WindowOutcome,
  WindowTest,
} from './live';
export { approveUpdate, checkNowSignal, monitorStatusQuery, rejectUpdate, rollbackUpdate, statusQuery } from './messages';
export {
  CLASSIFICATION_METRIC_NAMES,
  DEFAULT_PRIMARY_METRIC,
  LOWER_IS_BETTER,
  METRIC_NAMES,
  REGRESSION_METRIC_NAMES,
  isMetricName,
  metricDirection,
  metricNamesFor,
  primaryMetricOf,
} from './metrics';
export type { ClassificationMetricName, MetricDirection, MetricName, MetricTask, RegressionMetricName, UndefinedMetrics } from './metrics';
export { mulberry32 } from './random';
export type {
  ArtifactRef,
  ChampionInfo,
  Decision,
  Evaluation,
  ExportedModel,
  GateResult,
  GateRuleResult,
  MetricSummary,
  OpenWindow,
  RetrainInput,
  RetrainResult,
  RetrainStatus,
  RunLinks,
  RunMemo,
  SnapshotInfo,
  SplitInfo,
  StageProgress,
  TrainedJob,
  Trigger,
  UndefinedMetricsOfEvaluation,
} from './run';
export {
  RELEARN_SEARCH_ATTRIBUTES,
  RelearnDecision,
  RelearnModel,
  RelearnPrimaryMetric,
  RelearnStage,
  RelearnTrigger,
  RelearnVersion,
} from './search-attributes';
export type { ParamValue, ProposedTrial, SearchSummary, TrialOutcome, TrialRecord } from './search';
export type {
  DriftCheckSummary,
  DriftMonitorInput,
  MonitorState,
  MonitorStatus,
  ScheduledRetrainInput,
  ScheduledRetrainResult,
  TriggerOutcome,
} from './triggers';
