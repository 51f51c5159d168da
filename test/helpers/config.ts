// temporal.yaml texts for config tests, and the ConfigError a bad one must raise.
import assert from 'node:assert/strict';
import { parseConfig } from '../../src/config';
import { ConfigError } from '../../src/errors';

/** The smallest valid temporal.yaml: one binary model `m1`; blocks appended at 4 spaces extend `m1`. */
export const MINIMAL_CONFIG = `
models:
  m1:
    task: binary
    source: { path: data.parquet, timeColumn: ts }
    features: { numeric: [a], categorical: [b] }
    label: y
`;

/** The message of the ConfigError that parsing `text` as temporal.yaml raises; fails the test if it raises none or another error. */
export function configError(text: string): string {
  try {
    parseConfig(text, 'temporal.yaml');
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${String(err)}`);
    return err.message;
  }
  assert.fail('expected a ConfigError');
}
