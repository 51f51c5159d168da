export { confineSourcePath, insideDataRoot, outsideDataRootMessage, realPathOf } from './data-root';
export { assertWorkerPart, canonicalJson, modelDigest, modelDigestOf, workerModelConfig } from './run-config';
export type { RunConfigRef } from './run-config';
export { defaultConfigPath, formatConfigIssues, loadConfig, modelConfig, parseConfig } from './load';
export type { LoadedConfig } from './load';
export { configSchema, modelSchema, temporalSchema } from './schema';
export type { GateConfig, ModelConfig, RelearnConfig, RelearnConfigInput, TemporalConfig } from './schema';
export { PREDICTION_LOG_IN_STORE, predictionLogSchema, resolvePredictionLog } from './prediction-log';
export type { PredictionLogConfig, ResolvedPredictionLog } from './prediction-log';
