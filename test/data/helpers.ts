import { readFileSync } from 'node:fs';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DataContract, NumericStats, CategoricalStats, SourceConfig } from '../../src/data';

/** Folder of the fixtures written by scripts/make-data-fixtures.py. */
export const fixtureDir = fileURLToPath(new URL('../fixtures/data/', import.meta.url));

/** The flights-3m Parquet file shipped by the vega-datasets package. */
export const flights3m = fileURLToPath(new URL('../../node_modules/vega-datasets/data/flights-3m.parquet', import.meta.url));

/** Absolute path of a fixture file. */
export function fixture(name: string): string {
  return path.join(fixtureDir, name);
}

/** What scripts/make-data-fixtures.py computed with numpy. */
export interface ExpectedData {
  rows: number;
  timeRange: { from: string; to: string };
  features: Record<string, NumericStats | CategoricalStats>;
  windows: Array<{ window: { from?: string; to?: string }; rows: number }>;
  sortedDelay: Array<number | null>;
  derivedCounts: Record<string, Record<string, number>>;
}

/** The expected numbers for the small fixture. */
export const expected = JSON.parse(readFileSync(fixture('expected.json'), 'utf8')) as ExpectedData;

/** The three formats of the same small table. */
export const smallFiles = {
  parquet: fixture('flights-small.parquet'),
  csv: fixture('flights-small.csv'),
  arrow: fixture('flights-small.arrow'),
} as const;

/** A contract every row of the small fixture satisfies. */
export function smallContract(): DataContract {
  return {
    minRows: 10,
    columns: {
      ts: { type: 'timestamp' },
      delay: { type: 'int', nullable: true },
      distance: { type: 'float', nullable: true, min: 0 },
      big: { type: 'int' },
      carrier: { type: 'string', nullable: true },
      tail: { type: 'string' },
      zone: { type: 'string' },
      cancelled: { type: 'bool' },
    },
  };
}

/** A source over one of the small fixture files. */
export function smallSource(file: string, extra: Partial<SourceConfig> = {}): SourceConfig {
  return { path: file, timeColumn: 'ts', ...extra };
}

/** A temporary folder removed by the returned cleanup. */
export function tempDir(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'relearn-data-'));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
