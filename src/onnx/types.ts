/** The model's features by kind; each is one ONNX input named like its column. */
export interface FeatureSpec {
  numeric: readonly string[];
  categorical: readonly string[];
}

/** Rows of a table: a list of row indices, or the half-open range [start, end). */
export type RowSelection = Int32Array | { start: number; end: number };

/** What the model predicts; every task but `regression` is a classifier (`label` + `probabilities`). */
export type ModelTask = 'binary' | 'multiclass' | 'classification' | 'regression';

/** True when the task's model outputs `label` and `probabilities` rather than `variable`. */
export function isClassifierTask(task: ModelTask): boolean {
  return task !== 'regression';
}

/** Scores of a batch of rows: class probabilities (n×C, row-major) or regression predictions (n). */
export interface ScoreResult {
  probabilities?: Float32Array;
  numClasses?: number;
  predictions?: Float32Array;
}
