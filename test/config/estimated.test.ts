import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseConfig } from '../../src/config';
import { MINIMAL_CONFIG, configError } from '../helpers/config';

// drift.estimated (docs/estimated-performance.md): checked against the model when temporal.yaml is loaded.
const withDrift = (block: string, model = '') => `${MINIMAL_CONFIG}${model}    drift:\n      estimated: ${block}\n`;

describe('temporal.yaml drift.estimated', () => {
  it('takes a metric and a maximum drop; the metric defaults to the primary one', () => {
    const config = parseConfig(withDrift('{ metric: f1, maxDrop: 0.03 }'), 'temporal.yaml');
    assert.deepEqual(config.models.m1!.drift!.estimated, { metric: 'f1', maxDrop: 0.03 });
    assert.deepEqual(parseConfig(withDrift('{ maxDrop: 0.02 }'), 'temporal.yaml').models.m1!.drift!.estimated, { maxDrop: 0.02 });
  });

  it('refuses a metric CBPE does not estimate, a missing or negative maxDrop, unknown keys', () => {
    assert.match(configError(withDrift('{ metric: log_loss, maxDrop: 0.02 }')), /models\.m1\.drift\.estimated\.metric/);
    assert.match(configError(withDrift('{ metric: roc_auc }')), /models\.m1\.drift\.estimated\.maxDrop/);
    assert.match(configError(withDrift('{ maxDrop: -0.1 }')), /models\.m1\.drift\.estimated\.maxDrop/);
    assert.match(configError(withDrift('{ maxDrop: 0.1, band: true }')), /band/);
  });

  it('refuses a primary metric that cannot be estimated when no metric is named', () => {
    const message = configError(withDrift('{ maxDrop: 0.02 }', '    gate: { primaryMetric: log_loss }\n'));
    assert.match(message, /models\.m1\.drift\.estimated\.metric/);
    assert.match(message, /primary metric 'log_loss' cannot be estimated without labels; name one of roc_auc, accuracy, f1/);
  });

  it('refuses a regression model: no estimate yet (DLE), and says so', () => {
    const text = withDrift('{ maxDrop: 0.02 }').replace('task: binary', 'task: regression');
    assert.match(configError(text), /models\.m1\.drift\.estimated.*needs a classifier \(CBPE\); a regression model has no estimate yet/);
  });
});
