// Windows for the multivariate drift tests: two features whose correlation can change while both marginals stay
// standard normal, a third feature and a category that never change, and a label that depends on x1 and x3 only.
import { writeFileSync } from 'node:fs';
import { makeVector, Table, Utf8, vectorFromArray } from 'apache-arrow';
import { mulberry32 } from '../../src/contracts';

function gaussian(rng: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng());
}

/** x1, x2 standard normal with correlation `rho`, x3 standard normal, c a category, y = [x1 + x3 + noise > 0]. */
export function correlatedWindow(n: number, rho: number, seed: number): Table {
  const rng = mulberry32(seed);
  const x1 = new Float64Array(n);
  const x2 = new Float64Array(n);
  const x3 = new Float64Array(n);
  const c: string[] = [];
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    x1[i] = gaussian(rng);
    x2[i] = rho * x1[i]! + Math.sqrt(1 - rho * rho) * gaussian(rng);
    x3[i] = gaussian(rng);
    c.push(rng() < 0.6 ? 'a' : 'b');
    y[i] = x1[i]! + x3[i]! + 0.5 * gaussian(rng) > 0 ? 1 : 0;
  }
  return new Table({ x1: makeVector(x1), x2: makeVector(x2), x3: makeVector(x3), c: vectorFromArray(c, new Utf8()), y: makeVector(y) });
}

/** A window as a CSV file: a time column `ts` one minute apart from `start` (UTC), then the columns of `table`. */
export function writeWindowCsv(file: string, table: Table, start = Date.UTC(2026, 0, 1)): void {
  const names = ['x1', 'x2', 'x3', 'c', 'y'];
  const lines = [`ts,${names.join(',')}`];
  for (let i = 0; i < table.numRows; i++) {
    const ts = new Date(start + i * 60_000).toISOString().replace('T', ' ').slice(0, 19);
    lines.push([ts, ...names.map((n) => String(table.getChild(n)!.get(i)))].join(','));
  }
  writeFileSync(file, `${lines.join('\n')}\n`);
}
