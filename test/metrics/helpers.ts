import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';

const FIXTURE_DIR = path.join(import.meta.dirname, '..', 'fixtures', 'metrics');

/** Reads a fixture written by scripts/make-metric-fixtures.py. */
export function readMetricFixture<T>(name: string): T {
  return JSON.parse(readFileSync(path.join(FIXTURE_DIR, name), 'utf8')) as T;
}

const RELATIVE_TOLERANCE = 1e-9;
// Below this the reference itself is rounding noise (for example an RMSE of 0), so compare absolutely.
const ABSOLUTE_TOLERANCE = 1e-12;

/** Asserts `actual` matches a reference value to 1e-9 relative; null in the fixture stands for NaN. */
export function assertMatches(actual: number, expected: number | null, label: string): void {
  if (expected === null) {
    assert.ok(Number.isNaN(actual), `${label}: expected NaN, got ${actual}`);
    return;
  }
  const diff = Math.abs(actual - expected);
  assert.ok(
    diff <= RELATIVE_TOLERANCE * Math.abs(expected) || diff <= ABSOLUTE_TOLERANCE,
    `${label}: got ${actual}, reference ${expected} (difference ${diff})`,
  );
}
