// The ONNX fixtures of scripts/make-onnx-fixtures.py: models, the data they were fitted on, and scikit-learn's own
// outputs on it, for tests that score, cross-validate or serve them.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { tableFromIPC } from 'apache-arrow';

/** The folder holding the fixture models, tiny.arrow and expected.json. */
export const FIXTURES = path.join(import.meta.dirname, '..', 'fixtures', 'onnx');

/** The fixture models' features and scikit-learn's outputs on tiny.arrow. */
export const expected = JSON.parse(readFileSync(path.join(FIXTURES, 'expected.json'), 'utf8')) as {
  numeric: string[];
  categorical: string[];
  rows: number;
  classifierBinary: { classes: number[]; probabilities: number[][] };
  classifier3Class: { classes: number[]; probabilities: number[][] };
  regressor: { predictions: number[] };
};

/** tiny.arrow: 300 rows with nulls in every feature column. */
export const table = tableFromIPC(readFileSync(path.join(FIXTURES, 'tiny.arrow')));

/** The fixture models' feature lists, as a model config names them. */
export const features = { numeric: expected.numeric, categorical: expected.categorical };

/** The path of one fixture file. */
export const fixture = (name: string): string => path.join(FIXTURES, name);
