/** Shadow evaluation: evidence paired from the prediction log, and the champion-vs-shadow statistical comparison. */
export { COMPARE_DEFAULTS, bootstrapIndices, compareShadow, mcnemarTest } from './compare';
export type { CompareShadowInput, McNemarResult, ModelScores, ShadowComparison, ShadowTask } from './compare';
export { collectShadowEvidence } from './evidence';
export type { CollectShadowEvidenceInput, PairedOutputs, ShadowEvidence, VersionServingStats } from './evidence';
