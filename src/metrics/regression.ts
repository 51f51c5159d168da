import { REGRESSION_METRIC_NAMES, type RegressionMetricName } from '../contracts/metrics';
import { CompensatedSum, SUM_BLOCK_ROWS, assertNotEmpty, assertSameLength } from './numeric';
import type { FloatVector } from './numeric';
import type { ReasonContext, UndefinedMetrics } from './reasons';

export { REGRESSION_METRIC_NAMES };
export type { RegressionMetricName };

/** Every regression metric, keyed by its name. */
export type RegressionMetrics = Record<RegressionMetricName, number>;

/** Sums gathered in one pass: squared and absolute residuals, the mean of yTrue, and whether it is constant. */
interface RegressionScan {
  residual: number;
  absolute: number;
  mean: number;
  constant: boolean;
  /** The smallest target (the target's value when it is constant). */
  minY: number;
}

function scanRegression(yTrue: FloatVector, yPred: FloatVector): RegressionScan {
  const n = yTrue.length;
  assertSameLength('yTrue', n, 'yPred', yPred.length);
  assertNotEmpty('yTrue', n);
  const squared = new CompensatedSum();
  const absolute = new CompensatedSum();
  const total = new CompensatedSum();
  let minY = Infinity;
  let maxY = -Infinity;
  for (let start = 0; start < n; start += SUM_BLOCK_ROWS) {
    const end = Math.min(n, start + SUM_BLOCK_ROWS);
    let sq = 0;
    let abs = 0;
    let sy = 0;
    for (let i = start; i < end; i++) {
      const y = yTrue[i] as number;
      const d = y - (yPred[i] as number);
      sq += d * d;
      abs += Math.abs(d);
      sy += y;
      if (y < minY) minY = y;
      if (y > maxY) maxY = y;
    }
    // Any NaN or infinity reaches the block sums, so the per-row check runs only on a suspect block.
    if (!Number.isFinite(sq + sy)) assertFiniteRows(yTrue, yPred, start, end);
    squared.add(sq);
    absolute.add(abs);
    total.add(sy);
  }
  return { residual: squared.value(), absolute: absolute.value(), mean: total.value() / n, constant: minY === maxY, minY };
}

function assertFiniteRows(yTrue: FloatVector, yPred: FloatVector, start: number, end: number): void {
  for (let i = start; i < end; i++) {
    const y = yTrue[i] as number;
    const p = yPred[i] as number;
    if (!Number.isFinite(y)) throw new RangeError(`yTrue[${i}] is ${y}; expected a finite number`);
    if (!Number.isFinite(p)) throw new RangeError(`yPred[${i}] is ${p}; expected a finite number`);
  }
}

/**
 * RMSE, MAE and R² (sklearn root_mean_squared_error, mean_absolute_error, r2_score), computed in
 * float64 whatever the input type. R² follows sklearn's force_finite default: with a constant yTrue
 * it is 1.0 for perfect predictions and 0.0 otherwise, and NaN with fewer than two rows.
 */
export function regressionMetrics(yTrue: FloatVector, yPred: FloatVector): RegressionMetrics {
  return regressionMetricsWithReasons(yTrue, yPred).metrics;
}

/**
 * Every regression metric and, when R² is undefined on these rows, why: with fewer than two rows (scikit-learn warns
 * and returns NaN) or a constant target, whose variance, R²'s denominator, is 0 (scikit-learn's force_finite default
 * stands 1.0 or 0.0 in for the 0/0 or x/0, and R² keeps that stand-in value here). RMSE and MAE are always defined.
 */
export function regressionMetricsWithReasons(
  yTrue: FloatVector,
  yPred: FloatVector,
  context: ReasonContext = {},
): { metrics: RegressionMetrics; undefined: UndefinedMetrics } {
  const scan = scanRegression(yTrue, yPred);
  const n = yTrue.length;
  const reasons: UndefinedMetrics = {};
  const set = context.set ?? 'the set';
  if (n < 2) reasons.r2 = `R² needs at least two rows, and ${set} has only one`;
  else if (scan.constant) reasons.r2 = `the target is ${scan.minY} in all ${n} rows of ${set}, so its variance (R²'s denominator) is 0`;
  return { metrics: { rmse: Math.sqrt(scan.residual / n), mae: scan.absolute / n, r2: r2FromScan(yTrue, scan) }, undefined: reasons };
}

function r2FromScan(yTrue: FloatVector, { residual, mean, constant }: RegressionScan): number {
  const n = yTrue.length;
  if (n < 2) return NaN;
  // Constancy is decided on the values, not on a rounded sum of squares: a float mean of n equal
  // values may miss them by an ulp and would turn "constant" into a huge negative R².
  if (constant) return residual === 0 ? 1 : 0;
  const deviations = new CompensatedSum();
  for (let start = 0; start < n; start += SUM_BLOCK_ROWS) {
    const end = Math.min(n, start + SUM_BLOCK_ROWS);
    let ss = 0;
    for (let i = start; i < end; i++) {
      const d = (yTrue[i] as number) - mean;
      ss += d * d;
    }
    deviations.add(ss);
  }
  return 1 - residual / deviations.value();
}

/** Root mean squared error (sklearn root_mean_squared_error). */
export function rootMeanSquaredError(yTrue: FloatVector, yPred: FloatVector): number {
  return Math.sqrt(scanRegression(yTrue, yPred).residual / yTrue.length);
}

/** Mean absolute error (sklearn mean_absolute_error). */
export function meanAbsoluteError(yTrue: FloatVector, yPred: FloatVector): number {
  return scanRegression(yTrue, yPred).absolute / yTrue.length;
}

/** Coefficient of determination (sklearn r2_score, force_finite=True). */
export function r2Score(yTrue: FloatVector, yPred: FloatVector): number {
  return r2FromScan(yTrue, scanRegression(yTrue, yPred));
}
