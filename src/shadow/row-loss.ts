// One loss value per row, the statistic the sequential window test follows. ROC AUC, F1 or R² are computed over a
// whole set and have no per-row decomposition; a proper scoring rule does, and its mean difference between two models
// on the same rows is an ordinary mean that a confidence sequence can follow row by row.
//
// Classifiers get the Brier score rather than log-loss: both are proper (a model scores best by reporting its true
// probabilities), and in the window simulation's model (docs/shadow.md) they detect the same AUC drop about equally
// well (log-loss's mean-to-spread ratio per row is 2 to 3% higher), but the Brier score of a row is bounded (0 to 1
// for a binary model, 0 to 2 for more classes) while one confidently wrong row has an unbounded log-loss; the
// confidence sequence rests on a central limit approximation, which a bounded statistic meets at small row counts
// and a heavy-tailed one may not.
// Regression gets the squared error, the loss of RMSE (and of the Brier score, which is the squared error of the
// probability vector).
import type { ShadowTask } from './compare';

/** The per-row loss each task is tested on. */
export type RowLossName = 'brier' | 'squared_error';

/** The loss decideWindow uses for a task. */
export function rowLossName(task: ShadowTask): RowLossName {
  return task === 'regression' ? 'squared_error' : 'brier';
}

/**
 * Per-row losses of one model. Binary: (p₁ − y)², p₁ the positive-class probability (column 1 of n×2); multiclass:
 * Σ_k (p_k − [y = k])² over the n×C probability row; regression: (y − ŷ)². Their means are scikit-learn's
 * brier_score_loss (binary and multiclass) and mean_squared_error.
 */
export function rowLosses(task: ShadowTask, labels: ArrayLike<number>, outputs: ArrayLike<number>, nClasses: number): Float64Array {
  const n = labels.length;
  const out = new Float64Array(n);
  if (task === 'regression') {
    if (outputs.length !== n) throw new RangeError(`expected ${n} predicted values, got ${outputs.length}`);
    for (let i = 0; i < n; i++) out[i] = (labels[i]! - outputs[i]!) ** 2;
    return out;
  }
  if (outputs.length !== n * nClasses) throw new RangeError(`expected ${n} × ${nClasses} probabilities (row-major), got ${outputs.length}`);
  for (let i = 0; i < n; i++) {
    const y = labels[i]!;
    if (!Number.isInteger(y) || y < 0 || y >= nClasses) throw new RangeError(`label ${i} is ${y}; expected a class index in 0..${nClasses - 1}`);
    if (task === 'binary') {
      out[i] = (outputs[2 * i + 1]! - y) ** 2;
      continue;
    }
    let sum = 0;
    for (let k = 0; k < nClasses; k++) sum += (outputs[i * nClasses + k]! - (k === y ? 1 : 0)) ** 2;
    out[i] = sum;
  }
  return out;
}
