// The paired-comparison fixtures written by scripts/make-shadow-fixtures.py (scikit-learn, numpy, scipy), read once.
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import type { MetricName } from '../../src/metrics';
import type { McNemarResult } from '../../src/contracts';
import type { ShadowTask } from '../../src/shadow/compare';

const FIXTURES = path.join(import.meta.dirname, '..', 'fixtures', 'shadow');

/** One fixture case: the inputs, the resample indices the reference used, and what it computed. */
export interface Fixture {
  name: string;
  task: ShadowTask;
  metric: MetricName;
  classes: number;
  margin: number;
  confidence: number;
  seed: number;
  labels: number[];
  champion: number[];
  shadow: number[];
  resampleIndices: number[][];
  expected: {
    rows: number;
    championValue: number;
    shadowValue: number;
    diff: number;
    ciLow: number;
    ciHigh: number;
    resamples: number;
    pValue: number;
    mcnemar: McNemarResult | null;
    verdict: 'not-worse' | 'worse';
  };
}

/** Every case, in file-name order. */
export const fixtures = readdirSync(FIXTURES)
  .filter((f) => f.endsWith('.json'))
  .sort()
  .map((f) => JSON.parse(readFileSync(path.join(FIXTURES, f), 'utf8')) as Fixture);
