export { crossValidate } from './cross-validate';
export type { CrossValidateInput, CrossValidateProgress, ModelClasses } from './cross-validate';
