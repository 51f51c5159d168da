import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { loadConfig, parseConfig } from '../../src/config';
import { ConfigError } from '../../src/errors';
import { RELEARN_ROOT } from '../../src/paths';
import { MINIMAL_CONFIG, configError } from '../helpers/config';

describe('temporal.yaml', () => {
  it('the shipped temporal.yaml is valid and resolves the data path against its folder', () => {
    const loaded = loadConfig(path.join(RELEARN_ROOT, 'temporal.yaml'));
    const model = loaded.config.models['flights-delay'];
    assert.ok(model);
    assert.equal(model.source.path, path.join(RELEARN_ROOT, 'node_modules/vega-datasets/data/flights-3m.parquet'));
    assert.equal(loaded.stateDir, path.join(RELEARN_ROOT, '.relearn'));
    assert.match(loaded.digest, /^[0-9a-f]{64}$/);
  });

  it('fills defaults: dev server, folds, trainer, gate', () => {
    const config = parseConfig(MINIMAL_CONFIG, 'temporal.yaml');
    assert.equal(config.temporal.address, undefined);
    assert.equal(config.temporal.devServer.port, 7233);
    const m = config.models.m1!;
    assert.equal(m.split.folds, 5);
    assert.equal(m.trainer.estimator, 'logistic_regression');
    assert.equal(m.trainer.maxAttempts, 3);
    assert.equal(m.gate.maxDropVsChampion, 0);
  });

  it('names the path of a wrong type', () => {
    const msg = configError(MINIMAL_CONFIG.replace('task: binary', 'task: binary\n    split: { folds: five }'));
    assert.match(msg, /temporal\.yaml: models\.m1\.split\.folds: /);
  });

  it('names an unknown key', () => {
    const msg = configError(MINIMAL_CONFIG.replace('label: y', 'label: y\n    lable: z'));
    assert.match(msg, /models\.m1: unknown key 'lable'/);
  });

  it('rejects a metric that does not fit the task, with its path', () => {
    const msg = configError(MINIMAL_CONFIG.replace('label: y', 'label: y\n    gate: { minimums: { rmse: 3 } }'));
    assert.match(msg, /models\.m1\.gate\.minimums\.rmse: metric 'rmse' does not apply to a binary model/);
  });

  it('rejects an unknown metric name', () => {
    const msg = configError(MINIMAL_CONFIG.replace('label: y', 'label: y\n    gate: { primaryMetric: auc }'));
    assert.match(msg, /models\.m1\.gate\.primaryMetric: /);
  });

  it('rejects a label that is also a feature', () => {
    const msg = configError(MINIMAL_CONFIG.replace('label: y', 'label: a'));
    assert.match(msg, /models\.m1\.label: label 'a' is also a feature/);
  });

  it('rejects a missing task and a bad window date', () => {
    assert.match(configError(MINIMAL_CONFIG.replace('task: binary', '')), /models\.m1\.task: /);
    const msg = configError(MINIMAL_CONFIG.replace('timeColumn: ts', 'timeColumn: ts, window: { from: yesterday }'));
    assert.match(msg, /models\.m1\.source\.window\.from: expected an ISO date/);
  });

  it('reports invalid YAML with line and column', () => {
    const msg = configError('models:\n  m1: [unclosed\n');
    assert.match(msg, /^temporal\.yaml:\d+:\d+: invalid YAML/);
  });

  it('reports a missing file by name', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'relearn-config-'));
    assert.throws(() => loadConfig(path.join(dir, 'nope.yaml')), (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.match(err.message, /nope\.yaml: file not found/);
      return true;
    });
  });

  it('rejects model names that cannot be workflow ids', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'relearn-config-'));
    const file = path.join(dir, 'temporal.yaml');
    writeFileSync(file, MINIMAL_CONFIG.replace('m1:', 'Bad Name:'));
    assert.throws(() => loadConfig(file), /models\.Bad Name: model names are lowercase/);
  });
});
