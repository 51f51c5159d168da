/** A float vector as onnxruntime returns it (float32) or as Relearn widens it (float64). */
export type FloatVector = Float32Array | Float64Array;

/**
 * Rows per block of plain additions. Hot loops add block by block and feed each block's partial sum
 * into a CompensatedSum: per-row compensation would be several times slower (its carry is a long
 * dependency chain), while this keeps the error near numpy's pairwise sum (the reference) at any n.
 */
export const SUM_BLOCK_ROWS = 1024;

/** Running sum with Neumaier's compensation, for block partial sums or short vectors. */
export class CompensatedSum {
  private sum = 0;
  private carry = 0;

  /** Adds one term. */
  add(x: number): void {
    const t = this.sum + x;
    this.carry += Math.abs(this.sum) >= Math.abs(x) ? this.sum - t + x : x - t + this.sum;
    this.sum = t;
  }

  /** The compensated total so far. */
  value(): number {
    return this.sum + this.carry;
  }
}

/** Sum of a short vector (fold values), compensated term by term. */
export function compensatedSum(values: ArrayLike<number>): number {
  const acc = new CompensatedSum();
  for (let i = 0; i < values.length; i++) acc.add(values[i] as number);
  return acc.value();
}

/** Throws a RangeError that names both arguments when two per-row inputs differ in length. */
export function assertSameLength(aName: string, aLength: number, bName: string, bLength: number): void {
  if (aLength !== bLength) {
    throw new RangeError(`${aName} has ${aLength} rows but ${bName} has ${bLength}; they must describe the same rows`);
  }
}

/** Throws a RangeError when a per-row input is empty, since every metric is a mean over rows. */
export function assertNotEmpty(name: string, length: number): void {
  if (length === 0) throw new RangeError(`${name} is empty; a metric needs at least one row`);
}
