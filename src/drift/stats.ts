// Drift statistics on plain arrays, each matching the numpy/scipy computation named in its doc comment
// (test/drift/stats.test.ts checks them against fixtures from scripts/make-drift-fixtures.py).
import erfc from '@stdlib/math-base-special-erfc';
import gammainc from '@stdlib/math-base-special-gammainc';
import { quantileSorted } from '../data/stats';

/** Shares of 0 are replaced by this before PSI takes logarithms (Evidently's convention). */
export const PSI_ZERO_SHARE = 1e-4;

/** Neumaier-compensated sum, so long sums agree with numpy's pairwise sums to ~1e-15. */
function compensatedSum(values: ArrayLike<number>): number {
  let sum = 0;
  let c = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    const t = sum + v;
    c += Math.abs(sum) >= Math.abs(v) ? sum - t + v : v - t + sum;
    sum = t;
  }
  return sum + c;
}

/** Population standard deviation (np.std, ddof 0). */
export function populationStd(values: Float64Array): number {
  const n = values.length;
  const mean = compensatedSum(values) / n;
  const sq = new Float64Array(n);
  for (let i = 0; i < n; i++) sq[i] = (values[i]! - mean) ** 2;
  return Math.sqrt(compensatedSum(sq) / n);
}

/** Number of values ≤ x in an ascending array (np.searchsorted(side='right')). */
export function countAtMost(sorted: Float64Array, x: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Counts of ascending values in bins split at ascending `cuts`: (-∞, c₀), [c₀, c₁), …, [cₖ, ∞). */
function countBetweenCuts(sorted: Float64Array, cuts: number[]): Float64Array {
  const counts = new Float64Array(cuts.length + 1);
  let prev = 0;
  for (let k = 0; k < cuts.length; k++) {
    // Values < cut: index of the first value ≥ cut.
    let lo = 0;
    let hi = sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (sorted[mid]! < cuts[k]!) lo = mid + 1;
      else hi = mid;
    }
    counts[k] = lo - prev;
    prev = lo;
  }
  counts[cuts.length] = sorted.length - prev;
  return counts;
}

/** Inner cut points of `bins` quantile bins of the reference (np.quantile, linear), duplicates removed. */
export function quantileCuts(referenceSorted: Float64Array, bins: number): number[] {
  const cuts: number[] = [];
  for (let i = 1; i < bins; i++) {
    const q = quantileSorted(referenceSorted, i / bins);
    if (cuts.length === 0 || q > cuts.at(-1)!) cuts.push(q);
  }
  return cuts;
}

/** Moves the k-th smallest value of a[lo..hi] to index k, smaller ones before it and larger ones after (quickselect). */
function selectInPlace(a: Float64Array, k: number, lo: number, hi: number): void {
  while (hi > lo) {
    // Median of three as the pivot keeps sorted and reversed runs linear.
    const mid = (lo + hi) >>> 1;
    const x = a[lo]!;
    const y = a[mid]!;
    const z = a[hi]!;
    const pivot = x < y ? (y < z ? y : x < z ? z : x) : x < z ? x : y < z ? z : y;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i]! < pivot) i++;
      while (a[j]! > pivot) j--;
      if (i <= j) {
        const t = a[i]!;
        a[i] = a[j]!;
        a[j] = t;
        i++;
        j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return;
  }
}

/** Puts the order statistics at every position of `positions` (ascending) in place, splitting the range as it goes. */
function selectPositions(a: Float64Array, positions: number[], lo: number, hi: number): void {
  if (positions.length === 0 || lo >= hi) return;
  const m = positions.length >> 1;
  const k = positions[m]!;
  selectInPlace(a, k, lo, hi);
  selectPositions(a, positions.slice(0, m), lo, k - 1);
  selectPositions(a, positions.slice(m + 1), k + 1, hi);
}

/**
 * quantileCuts of values in any order, without sorting them: only the order statistics np.quantile interpolates
 * between are selected (O(n log bins)). `values` must hold no NaN; it is reordered.
 */
export function quantileCutsUnsorted(values: Float64Array, bins: number): number[] {
  const n = values.length;
  const positions = new Set<number>();
  for (let i = 1; i < bins; i++) {
    const virtual = (n - 1) * (i / bins);
    const below = Math.min(Math.max(Math.floor(virtual), 0), n - 1);
    positions.add(below);
    positions.add(Math.min(below + 1, n - 1));
  }
  selectPositions(values, [...positions].sort((x, y) => x - y), 0, n - 1);
  // quantileSorted reads only the two order statistics around each quantile, which are now in place.
  return quantileCuts(values, bins);
}

/** Counts of values in any order in the bins of ascending `cuts` (as countBetweenCuts). */
function countIntoCuts(values: Float64Array, cuts: number[]): Float64Array {
  const counts = new Float64Array(cuts.length + 1);
  const k = cuts.length;
  for (let t = 0; t < values.length; t++) {
    const v = values[t]!;
    // Number of cuts ≤ v: the bin [c_{b-1}, c_b) the value falls in.
    let lo = 0;
    let hi = k;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cuts[mid]! <= v) lo = mid + 1;
      else hi = mid;
    }
    counts[lo]!++;
  }
  return counts;
}

/** psiNumeric for samples in any order (no NaN): selection instead of a sort; the reference array is reordered. */
export function psiNumericUnsorted(reference: Float64Array, current: Float64Array, bins = 10) {
  const cuts = quantileCutsUnsorted(reference, bins);
  const r = countIntoCuts(reference, cuts);
  const c = countIntoCuts(current, cuts);
  return { statistic: psiFromCounts(r, c), cuts, reference: r, current: c };
}

/** Σ (c − r)·ln(c / r) over shares, zeros replaced by PSI_ZERO_SHARE. */
export function psiFromCounts(reference: ArrayLike<number>, current: ArrayLike<number>): number {
  const rTotal = compensatedSum(reference);
  const cTotal = compensatedSum(current);
  const terms = new Float64Array(reference.length);
  for (let i = 0; i < reference.length; i++) {
    const r = reference[i]! / rTotal || PSI_ZERO_SHARE;
    const c = current[i]! / cTotal || PSI_ZERO_SHARE;
    terms[i] = (r - c) * Math.log(r / c);
  }
  return compensatedSum(terms);
}

/** Population stability index on `bins` quantile bins of the reference; returns the bins for the report too. */
export function psiNumeric(referenceSorted: Float64Array, currentSorted: Float64Array, bins = 10) {
  const cuts = quantileCuts(referenceSorted, bins);
  const reference = countBetweenCuts(referenceSorted, cuts);
  const current = countBetweenCuts(currentSorted, cuts);
  return { statistic: psiFromCounts(reference, current), cuts, reference, current };
}

/** scipy.stats.wasserstein_distance of two ascending samples (area between their ECDFs). */
export function wassersteinSorted(u: Float64Array, v: Float64Array): number {
  const n1 = u.length;
  const n2 = v.length;
  const terms = new Float64Array(n1 + n2);
  let i = 0;
  let j = 0;
  let k = 0;
  let prev = Number.NaN;
  let gap = 0;
  // Between consecutive distinct values the ECDFs are flat; each is taken after every copy of the value
  // (searchsorted(side='right')). Zero-width steps between duplicates add nothing, as in scipy.
  while (i < n1 || j < n2) {
    const x = i < n1 && (j >= n2 || u[i]! <= v[j]!) ? u[i]! : v[j]!;
    if (k > 0) terms[k - 1] = gap * (x - prev);
    while (i < n1 && u[i]! <= x) i++;
    while (j < n2 && v[j]! <= x) j++;
    gap = Math.abs(i / n1 - j / n2);
    prev = x;
    k++;
  }
  return compensatedSum(terms.subarray(0, Math.max(0, k - 1)));
}

/** Wasserstein distance divided by the reference's std (at least 0.001, as Evidently does). */
export function wassersteinNormed(referenceSorted: Float64Array, currentSorted: Float64Array): { statistic: number; referenceStd: number } {
  const referenceStd = populationStd(referenceSorted);
  return { statistic: wassersteinSorted(referenceSorted, currentSorted) / Math.max(referenceStd, 0.001), referenceStd };
}

/** np.histogram_bin_edges(values, bins) for the range [min, max]. */
export function equalWidthEdges(min: number, max: number, bins: number): Float64Array {
  let first = min;
  let last = max;
  if (first === last) {
    first -= 0.5;
    last += 0.5;
  }
  const edges = new Float64Array(bins + 1);
  const step = (last - first) / bins;
  for (let i = 0; i <= bins; i++) edges[i] = i * step + first;
  edges[bins] = last;
  return edges;
}

/** np.histogram counts over equal-width edges, with numpy's index computation and its edge corrections. */
export function histogramCounts(values: Float64Array, edges: Float64Array): Float64Array {
  const bins = edges.length - 1;
  const first = edges[0]!;
  const last = edges[bins]!;
  const norm = bins / (last - first);
  const counts = new Float64Array(bins);
  for (let t = 0; t < values.length; t++) {
    const x = values[t]!;
    if (!(x >= first && x <= last)) continue;
    let idx = Math.trunc((x - first) * norm);
    if (idx === bins) idx -= 1;
    if (x < edges[idx]!) idx -= 1;
    else if (x >= edges[idx + 1]! && idx !== bins - 1) idx += 1;
    counts[idx]!++;
  }
  return counts;
}

/** scipy.spatial.distance.jensenshannon of two count (or share) vectors, natural log. */
export function jensenShannonDistance(p: ArrayLike<number>, q: ArrayLike<number>): number {
  const pTotal = compensatedSum(p);
  const qTotal = compensatedSum(q);
  const terms = new Float64Array(p.length * 2);
  for (let i = 0; i < p.length; i++) {
    const a = p[i]! / pTotal;
    const b = q[i]! / qTotal;
    const m = (a + b) / 2;
    terms[2 * i] = a > 0 ? a * Math.log(a / m) : 0;
    terms[2 * i + 1] = b > 0 ? b * Math.log(b / m) : 0;
  }
  return Math.sqrt(Math.max(0, compensatedSum(terms)) / 2);
}

/** Smallest and largest of non-empty values without NaN, in any order (the ends when `sorted`). */
function range(values: Float64Array, sorted: boolean): [number, number] {
  if (sorted) return [values[0]!, values.at(-1)!];
  let min = values[0]!;
  let max = min;
  for (let i = 1; i < values.length; i++) {
    const v = values[i]!;
    if (v < min) min = v;
    else if (v > max) max = v;
  }
  return [min, max];
}

/**
 * Jensen–Shannon distance over `bins` equal-width bins of both samples together (Evidently's binning). The samples
 * need no order (pass `sorted: false` to have their range scanned); histograms do not sort.
 */
export function jensenShannonNumeric(reference: Float64Array, current: Float64Array, bins = 30, sorted = true) {
  const [rMin, rMax] = range(reference, sorted);
  const [cMin, cMax] = range(current, sorted);
  const edges = equalWidthEdges(Math.min(rMin, cMin), Math.max(rMax, cMax), bins);
  const referenceCounts = histogramCounts(reference, edges);
  const currentCounts = histogramCounts(current, edges);
  return { statistic: jensenShannonDistance(referenceCounts, currentCounts), edges, reference: referenceCounts, current: currentCounts };
}

/** Upper tail of the chi-square distribution (scipy.stats.chi2.sf), accurate for tiny p-values. */
export function chiSquareSf(x: number, dof: number): number {
  if (dof <= 0) return Number.NaN;
  if (x <= 0) return 1;
  return gammainc(x / 2, dof / 2, true, true);
}

/** Two-sided normal tail 2·P(Z > |z|) (2 * scipy.stats.norm.sf(|z|)). */
export function twoSidedNormalP(z: number): number {
  return erfc(Math.abs(z) / Math.SQRT2);
}

/** Category counts of both samples over the union of their categories (reference order first, then unseen ones). */
export function alignCounts(reference: Map<string, number>, current: Map<string, number>) {
  const categories = [...reference.keys()];
  for (const k of current.keys()) if (!reference.has(k)) categories.push(k);
  return {
    categories,
    reference: Float64Array.from(categories, (k) => reference.get(k) ?? 0),
    current: Float64Array.from(categories, (k) => current.get(k) ?? 0),
  };
}

/**
 * Chi-square test of homogeneity on the 2 × K table of category counts (scipy.stats.chi2_contingency with
 * correction=False); categories empty in both samples are dropped, one non-empty category gives statistic 0, p 1.
 */
export function chiSquareHomogeneity(reference: ArrayLike<number>, current: ArrayLike<number>): { statistic: number; pValue: number; dof: number } {
  const cols: Array<[number, number]> = [];
  for (let i = 0; i < reference.length; i++) if (reference[i]! + current[i]! > 0) cols.push([reference[i]!, current[i]!]);
  if (cols.length < 2) return { statistic: 0, pValue: 1, dof: 0 };
  const rTotal = cols.reduce((s, c) => s + c[0], 0);
  const cTotal = cols.reduce((s, c) => s + c[1], 0);
  const total = rTotal + cTotal;
  const terms = new Float64Array(cols.length * 2);
  cols.forEach(([r, c], i) => {
    const colTotal = r + c;
    const er = (rTotal * colTotal) / total;
    const ec = (cTotal * colTotal) / total;
    terms[2 * i] = (r - er) ** 2 / er;
    terms[2 * i + 1] = (c - ec) ** 2 / ec;
  });
  const statistic = compensatedSum(terms);
  const dof = cols.length - 1;
  return { statistic, pValue: chiSquareSf(statistic, dof), dof };
}

/**
 * Two-proportion Z-test (Evidently's z-test): the share of `reference[0]`'s category in each sample, pooled
 * variance, two-sided p. Identical constant samples give z 0, p 1.
 */
export function twoProportionZ(reference: ArrayLike<number>, current: ArrayLike<number>): { statistic: number; pValue: number } {
  const n1 = compensatedSum(reference);
  const n2 = compensatedSum(current);
  const p1 = reference[0]! / n1;
  const p2 = current[0]! / n2;
  const pooled = (p1 * n1 + p2 * n2) / (n1 + n2);
  const denom = Math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2));
  if (!(denom > 0)) return { statistic: 0, pValue: 1 };
  const z = (p1 - p2) / denom;
  return { statistic: z, pValue: twoSidedNormalP(z) };
}
