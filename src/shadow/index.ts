/** Shadow evaluation: evidence paired from the prediction log, the champion-vs-shadow comparison, and the window decision. */
export { COMPARE_DEFAULTS, bootstrapIndices, compareShadow, mcnemarTest } from './compare';
export type { CompareShadowInput, McNemarResult, ModelScores, ShadowComparison, ShadowTask } from './compare';
export { collectShadowEvidence } from './evidence';
export type { CollectShadowEvidenceInput, PairedOutputs, ShadowEvidence, VersionServingStats } from './evidence';
export { DECIDE_DEFAULTS, decideWindow } from './decide-window';
export type { DecideWindowConfig, DecideWindowInput, WindowDecision, WindowKind, WindowOutcome, WindowTest } from './decide-window';
export { confidenceSequence, fixedSampleInterval, mixtureRho2, momentsOf, standardRadius } from './confidence-sequence';
export type { MeanInterval, RunningMoments } from './confidence-sequence';
export { rowLossName, rowLosses } from './row-loss';
export type { RowLossName } from './row-loss';
