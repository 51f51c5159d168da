import { mulberry32 } from '../contracts/random';

/**
 * Picks `k` of the positions 0..n-1 uniformly without replacement (partial Fisher–Yates with
 * mulberry32), returned in ascending order so the selected rows keep their time order.
 */
export function samplePositions(n: number, k: number, seed: number): Int32Array {
  const positions = new Int32Array(n);
  for (let i = 0; i < n; i++) positions[i] = i;
  const random = mulberry32(seed);
  const take = Math.min(k, n);
  for (let i = 0; i < take; i++) {
    const j = i + Math.floor(random() * (n - i));
    const swap = positions[i]!;
    positions[i] = positions[j]!;
    positions[j] = swap;
  }
  return positions.slice(0, take).sort();
}
