// Ascending sort of float64 values for the drift tests, which sort both samples of every feature: V8's
// Float64Array.prototype.sort (a comparison sort) takes ~9× the time of numpy's SIMD sort at a million values, so
// large arrays are bucket-sorted instead — equal-width buckets between min and max (a monotone map), then each small
// bucket sorted by insertion. Crowded buckets (skewed data) are bucket-sorted again over their own range, small or
// constant ones by the built-in sort.

/** Below this length the built-in sort is as fast. */
const BUCKET_SORT_MIN_LENGTH = 4096;
/** Buckets larger than this are sorted by the built-in sort rather than by insertion. */
const INSERTION_MAX = 48;

/** Bucket passes at most; beyond (values spread over many orders of magnitude) the built-in sort takes over. */
const MAX_DEPTH = 3;

/** Sorts values without NaN ascending in place and returns them (-0 and +0 count as equal, in any order). */
export function sortFloat64(values: Float64Array, depth = 0): Float64Array {
  const n = values.length;
  if (n < BUCKET_SORT_MIN_LENGTH || depth >= MAX_DEPTH) return values.sort();
  let min = values[0]!;
  let max = min;
  for (let i = 1; i < n; i++) {
    const v = values[i]!;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const span = max - min;
  // Constant or unbounded data: nothing to spread over buckets.
  if (!(span > 0) || !Number.isFinite(span)) return values.sort();
  const buckets = n >> 2;
  const scale = buckets / span;
  const index = new Int32Array(n);
  const starts = new Int32Array(buckets + 1);
  for (let i = 0; i < n; i++) {
    let b = Math.floor((values[i]! - min) * scale);
    if (b >= buckets) b = buckets - 1;
    index[i] = b;
    starts[b + 1]!++;
  }
  for (let b = 1; b <= buckets; b++) starts[b]! += starts[b - 1]!;
  const fill = starts.slice(0, buckets);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[fill[index[i]!]!++] = values[i]!;
  for (let b = 0; b < buckets; b++) {
    const from = starts[b]!;
    const to = starts[b + 1]!;
    if (to - from < 2) continue;
    if (to - from > INSERTION_MAX) {
      // A crowded bucket (a heavy tail squeezed into the first buckets) is spread again over its own range.
      sortFloat64(out.subarray(from, to), depth + 1);
      continue;
    }
    for (let i = from + 1; i < to; i++) {
      const v = out[i]!;
      let j = i - 1;
      while (j >= from && out[j]! > v) {
        out[j + 1] = out[j]!;
        j--;
      }
      out[j + 1] = v;
    }
  }
  values.set(out);
  return values;
}
