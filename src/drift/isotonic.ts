// Isotonic regression as scikit-learn's IsotonicRegression(increasing=True, out_of_bounds='clip') fits and predicts
// it: tied x values merged into one point (mean y, summed weight), pool-adjacent-violators over the merged points,
// then linear interpolation between them, clipped to the fitted range. CBPE calibrates a classifier's probabilities
// with it, as NannyML does, so the estimates can be compared number for number.

/** A fitted isotonic function: x → calibrated value. */
export interface IsotonicFit {
  /** Distinct x values, increasing. */
  x: Float64Array;
  /** The fitted non-decreasing value at each x. */
  y: Float64Array;
}

/** Fits a non-decreasing function of `x` to `y` (each point weight 1). */
export function fitIsotonic(x: ArrayLike<number>, y: ArrayLike<number>): IsotonicFit {
  const n = x.length;
  if (n === 0) throw new RangeError('isotonic regression needs at least one point');
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => x[a]! - x[b]! || y[a]! - y[b]!);
  // Merge ties of x: one point per distinct value.
  const ux: number[] = [];
  const uy: number[] = [];
  const uw: number[] = [];
  for (const i of order) {
    const last = ux.length - 1;
    if (last >= 0 && ux[last] === x[i]) {
      uy[last]! += y[i]!;
      uw[last]! += 1;
    } else {
      ux.push(x[i]!);
      uy.push(y[i]!);
      uw.push(1);
    }
  }
  for (let k = 0; k < uy.length; k++) uy[k]! /= uw[k]!;
  // Pool adjacent violators: blocks of (mean, weight, count), merged while a block's mean is below the one before.
  const mean: number[] = [];
  const weight: number[] = [];
  const count: number[] = [];
  for (let k = 0; k < uy.length; k++) {
    mean.push(uy[k]!);
    weight.push(uw[k]!);
    count.push(1);
    while (mean.length > 1 && mean[mean.length - 2]! > mean[mean.length - 1]!) {
      const m2 = mean.pop()!;
      const w2 = weight.pop()!;
      const c2 = count.pop()!;
      const j = mean.length - 1;
      mean[j] = (mean[j]! * weight[j]! + m2 * w2) / (weight[j]! + w2);
      weight[j]! += w2;
      count[j]! += c2;
    }
  }
  const fitted = new Float64Array(ux.length);
  let k = 0;
  for (let b = 0; b < mean.length; b++) for (let c = 0; c < count[b]!; c++) fitted[k++] = mean[b]!;
  return { x: Float64Array.from(ux), y: fitted };
}

/** The fitted function at `v`: linear between fitted points, the end values outside them. */
export function predictIsotonic(fit: IsotonicFit, v: number): number {
  const { x, y } = fit;
  const n = x.length;
  if (n === 1 || v <= x[0]!) return y[0]!;
  if (v >= x[n - 1]!) return y[n - 1]!;
  let lo = 0;
  let hi = n - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (x[mid]! <= v) lo = mid;
    else hi = mid;
  }
  if (x[lo] === v) return y[lo]!;
  const t = (v - x[lo]!) / (x[hi]! - x[lo]!);
  return y[lo]! + t * (y[hi]! - y[lo]!);
}
