// An anytime-valid interval for the mean of a stream of per-row numbers: the asymptotic confidence sequence of
// Waudby-Smith, Arbour, Sinha, Kennedy & Ramdas, "Time-uniform central limit theory and asymptotic confidence
// sequences" (Annals of Statistics, 2024; arXiv:2103.06476), Theorem 2.2 — the normal-mixture boundary of Robbins
// with the sample variance plugged in, the one Eppo-style always-valid A/B tests use. A fixed-sample interval looked
// at after every poll is wrong far more often than it says (each look is another chance to cross); this sequence
// holds at every row count at once, so a window may check it at every poll and stop whenever it is decisive.
//
// For Y_1 … Y_t with mean μ̂_t and variance σ̂²_t = (1/t) Σ (Y_i − μ̂_t)², level α = 1 − confidence:
//
//   μ̂_t ± σ̂_t · sqrt( 2(tρ² + 1) / (t²ρ²) · log( sqrt(tρ² + 1) / α ) )
//
// covers the true mean at all t simultaneously with probability ≥ 1 − α (asymptotically; two-sided). ρ > 0 only
// moves where the sequence is tightest; ρ² = (2 log(1/α) + log(1 + 2 log(1/α))) / t* makes it tightest near t*
// rows (the paper's approximate optimum; confseq's TwoSidedNormalMixture.best_rho is the same number as 1/ρ²).
// scripts/make-confidence-sequence-fixtures.py checks these numbers against the confseq package's
// normal_mixture_bound and a direct transcription of the paper's formula.
import erfcinv from '@stdlib/math-base-special-erfcinv';

/** Mean and (population) variance of n numbers, the two-pass way for accuracy. */
export interface RunningMoments {
  n: number;
  mean: number;
  /** (1/n) Σ (x − mean)², as the paper's σ̂²_t (numpy's var with ddof = 0). */
  variance: number;
}

/** Moments of `values` (n ≥ 1). */
export function momentsOf(values: ArrayLike<number>): RunningMoments {
  const n = values.length;
  if (n === 0) return { n: 0, mean: Number.NaN, variance: Number.NaN };
  let sum = 0;
  for (let i = 0; i < n; i++) sum += values[i]!;
  const mean = sum / n;
  let squares = 0;
  for (let i = 0; i < n; i++) {
    const d = values[i]! - mean;
    squares += d * d;
  }
  return { n, mean, variance: squares / n };
}

/** ρ² of the normal mixture that makes the sequence tightest near `plannedRows` rows, at level α. */
export function mixtureRho2(plannedRows: number, alpha: number): number {
  if (!(plannedRows >= 1)) throw new RangeError(`plannedRows must be ≥ 1, got ${plannedRows}`);
  checkAlpha(alpha);
  const l = 2 * Math.log(1 / alpha);
  return (l + Math.log(1 + l)) / plannedRows;
}

/** The sequence's half-width for unit variance at n rows: sqrt(2(nρ² + 1)/(n²ρ²) · log(sqrt(nρ² + 1)/α)). */
export function standardRadius(n: number, rho2: number, alpha: number): number {
  if (!(n >= 1)) throw new RangeError(`n must be ≥ 1, got ${n}`);
  if (!(rho2 > 0)) throw new RangeError(`ρ² must be > 0, got ${rho2}`);
  checkAlpha(alpha);
  const a = n * rho2 + 1;
  return Math.sqrt(((2 * a) / (n * n * rho2)) * Math.log(Math.sqrt(a) / alpha));
}

/** A two-sided interval for a mean and the half-width it was built with. */
export interface MeanInterval {
  low: number;
  high: number;
  radius: number;
}

/** The asymptotic confidence sequence at `confidence` after moments.n rows, tightest near `plannedRows`. */
export function confidenceSequence(moments: RunningMoments, confidence: number, plannedRows: number): MeanInterval {
  const alpha = 1 - confidence;
  const radius = Math.sqrt(moments.variance) * standardRadius(moments.n, mixtureRho2(plannedRows, alpha), alpha);
  return { low: moments.mean - radius, high: moments.mean + radius, radius };
}

/**
 * The classical fixed-sample interval μ̂ ± z_{1−α/2} · σ̂ / √n: valid when looked at once, at a row count chosen in
 * advance. Here to measure what looking at it after every poll costs (scripts/simulate-windows.ts).
 */
export function fixedSampleInterval(moments: RunningMoments, confidence: number): MeanInterval {
  const alpha = 1 - confidence;
  checkAlpha(alpha);
  const z = Math.SQRT2 * erfcinv(alpha);
  const radius = (z * Math.sqrt(moments.variance)) / Math.sqrt(moments.n);
  return { low: moments.mean - radius, high: moments.mean + radius, radius };
}

function checkAlpha(alpha: number): void {
  if (!(alpha > 0 && alpha < 1)) throw new RangeError(`1 − confidence must be between 0 and 1, got ${alpha}`);
}
