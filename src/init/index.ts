// `relearn init`: a model's block for temporal.yaml, proposed from a data file's schema and values.
export { MAX_LISTED_VALUES, profileFile } from './profile';
export type { ColumnProfile, DataProfile } from './profile';
export { MAX_CATEGORY_SHARE, MAX_INTEGER_CLASSES, MAX_NULL_FRACTION, modelBlock, proposeModel } from './propose';
export type { Choice, Proposal, ProposeOptions, Task } from './propose';
export { checkModelName, planConfig, sourcePathFor, writeModel } from './write';
export type { ConfigPlan } from './write';
