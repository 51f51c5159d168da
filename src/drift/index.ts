/** Drift statistics over Arrow columns and the per-model drift check. */
export { checkDrift, categoryCounts, defaultMethod, defaultThreshold, DRIFT_DECISIONS, DRIFT_METHODS, methodFor, P_VALUE_METHODS, sortedPresent } from './check';
export type { CategoricalEffect, DriftCheckOptions, DriftDecision, DriftMethod, NumericEffect, DriftReport, FeatureDrift, FeatureRule, Histogram, SampleCounts } from './check';
export { kolmogorovSf, ks2SampleSorted, ksStatisticSorted, smirnovSf } from './ks';
export type { KsResult } from './ks';
export {
  alignCounts,
  chiSquareHomogeneity,
  chiSquareSf,
  jensenShannonDistance,
  jensenShannonNumeric,
  psiFromCounts,
  psiNumeric,
  twoProportionZ,
  twoSidedNormalP,
  wassersteinNormed,
  wassersteinSorted,
} from './stats';
