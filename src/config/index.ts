export { insideDataRoot, outsideDataRootMessage, realPathOf } from './data-root';
export { defaultConfigPath, formatConfigIssues, loadConfig, modelConfig, parseConfig } from './load';
export type { LoadedConfig } from './load';
export { configSchema, modelSchema, temporalSchema } from './schema';
export type { GateConfig, ModelConfig, RelearnConfig, RelearnConfigInput, TemporalConfig } from './schema';
