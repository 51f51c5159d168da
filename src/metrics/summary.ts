import tQuantile from '@stdlib/stats-base-dists-t-quantile';
import { assertNotEmpty, compensatedSum } from './numeric';

/** Mean, spread and confidence interval of one metric over K cross-validation folds. */
export interface FoldSummary {
  /** Number of folds. */
  k: number;
  mean: number;
  /** Sample standard deviation (ddof = 1); NaN for a single fold. */
  std: number;
  /** Lower end of the confidence interval of the mean; NaN for a single fold. */
  ciLow: number;
  /** Upper end of the confidence interval of the mean; NaN for a single fold. */
  ciHigh: number;
  /** Coverage of [ciLow, ciHigh], for example 0.95. */
  confidence: number;
}

/**
 * Summarises per-fold values: mean, sample std (ddof = 1, like numpy.std(ddof=1)) and the Student's t
 * interval of the mean, mean ± t(1 − α/2, K − 1) · std / √K (scipy.stats.t.interval). K = 1 gives NaN
 * std and CI [NaN, NaN]; identical folds give std 0 and the zero-width CI [mean, mean], where scipy
 * would answer NaN because it refuses a zero scale. A NaN fold value makes everything NaN.
 */
export function summarizeFolds(values: ArrayLike<number>, confidence = 0.95): FoldSummary {
  const k = values.length;
  assertNotEmpty('fold values', k);
  if (!(confidence > 0 && confidence < 1)) {
    throw new RangeError(`confidence must be strictly between 0 and 1, got ${confidence}`);
  }
  const mean = compensatedSum(values) / k;
  if (k < 2) return { k, mean, std: NaN, ciLow: NaN, ciHigh: NaN, confidence };
  const squares = new Float64Array(k);
  for (let i = 0; i < k; i++) {
    const d = (values[i] as number) - mean;
    squares[i] = d * d;
  }
  const std = Math.sqrt(compensatedSum(squares) / (k - 1));
  if (std === 0) return { k, mean, std, ciLow: mean, ciHigh: mean, confidence };
  const halfWidth = tQuantile(1 - (1 - confidence) / 2, k - 1) * (std / Math.sqrt(k));
  return { k, mean, std, ciLow: mean - halfWidth, ciHigh: mean + halfWidth, confidence };
}
