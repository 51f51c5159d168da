export { crossValidate } from './cross-validate';
export type { CrossValidateInput, CrossValidateProgress, ModelClasses } from './cross-validate';
export { MAX_CURVE_POINTS, evaluationCurves, holdoutCurves } from './curves';
export type { CalibrationCurve, ConfusionMatrix, EvaluationCurves, HoldoutScores, ModelCurves, PrCurve, RocCurve } from './curves';
