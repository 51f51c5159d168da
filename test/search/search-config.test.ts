// The search block of temporal.yaml: shapes, defaults, and mistakes reported with their path before anything runs.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, it } from 'node:test';
import { parseConfig } from '../../src/config';
import { ESTIMATOR_PARAMS } from '../../src/config/estimator-params';
import { RELEARN_ROOT, VENV_PYTHON } from '../../src/paths';
import { configError } from '../helpers/config';

function withSearch(search: string, trainer = 'trainer: { estimator: logistic_regression }'): string {
  return `
models:
  m1:
    task: binary
    source: { path: data.parquet, timeColumn: ts }
    features: { numeric: [a], categorical: [b] }
    label: y
    split: { folds: 3 }
    ${trainer}
    search:
${search.trim().split('\n').map((l) => `      ${l}`).join('\n')}
`;
}

describe('search config', () => {
  it('parses choices and ranges and fills defaults', () => {
    const config = parseConfig(withSearch(`
space:
  C: { type: float, min: 0.01, max: 100, scale: log }
  class_weight: [null, balanced]
`), 'temporal.yaml');
    const search = config.models.m1!.search!;
    assert.equal(search.strategy, 'random');
    assert.equal(search.budget, 10);
    assert.equal(search.maxParallel, 2);
    assert.deepEqual(search.space.class_weight, [null, 'balanced']);
    assert.deepEqual(search.space.C, { type: 'float', min: 0.01, max: 100, scale: 'log', steps: 5 });
    assert.deepEqual(search.halving, { eta: 3, minRowShare: 1 / 3 });
  });

  it('an unknown parameter for the estimator is an error naming its path and the valid parameters', () => {
    const message = configError(withSearch('space:\n  gamma: [1, 2]'));
    assert.match(message, /^temporal\.yaml: models\.m1\.search\.space\.gamma: unknown parameter 'gamma' for estimator 'logistic_regression' \(classifier\); valid parameters: C, class_weight/);
    // Parameters of the regressor of the same name are not those of the classifier.
    assert.match(
      configError(withSearch('space:\n  alpha: [0.1, 0.9]', 'trainer: { estimator: gradient_boosting }')),
      /models\.m1\.search\.space\.alpha: unknown parameter 'alpha' for estimator 'gradient_boosting' \(classifier\)/,
    );
    assert.match(configError(withSearch('space:\n  random_state: [1, 2]')), /search\.space\.random_state: not searchable/);
  });

  it('another trainer command is not checked against the reference trainer\'s estimators', () => {
    const config = parseConfig(withSearch('space:\n  gamma: [1, 2]', 'trainer: { estimator: svm, command: [my-trainer, "{spec}"] }'), 'temporal.yaml');
    assert.deepEqual(config.models.m1!.search!.space.gamma, [1, 2]);
  });

  it('bad ranges, metrics, folds and grids are reported with their paths', () => {
    assert.match(configError(withSearch('space:\n  C: { type: float, min: 10, max: 1 }')), /models\.m1\.search\.space\.C\.max: min must be below max/);
    assert.match(configError(withSearch('space:\n  C: { type: float, min: 0, max: 1, scale: log }')), /search\.space\.C\.min: a log scale needs min > 0/);
    assert.match(configError(withSearch('space:\n  C: { type: float, min: 1 }')), /search\.space\.C\.max: /);
    assert.match(configError(withSearch('space:\n  C: 3')), /search\.space\.C: expected a list of values or a range/);
    assert.match(configError(withSearch('space:\n  C: []')), /search\.space\.C: list at least one value/);
    assert.match(configError(withSearch('space: {}')), /search\.space: name at least one parameter/);
    assert.match(configError(withSearch('metric: rmse\nspace:\n  C: [1]')), /search\.metric: metric 'rmse' does not apply to a binary model/);
    assert.match(configError(withSearch('folds: 4\nspace:\n  C: [1]')), /search\.folds: a trial cannot use more folds \(4\) than split\.folds \(3\)/);
    assert.match(
      configError(withSearch('strategy: grid\nbudget: 5\nspace:\n  C: [1, 2, 3]\n  tol: { type: float, min: 0.001, max: 0.1, steps: 2 }')),
      /search\.budget: the grid has 6 points but the budget is 5 trials/,
    );
    assert.match(configError(withSearch('strategy: bayes\nspace:\n  C: [1]')), /search\.strategy: /);
  });

  it('the static parameter list is what scikit-learn reports for each of the trainer\'s estimators', () => {
    const out = spawnSync(VENV_PYTHON, [path.join(RELEARN_ROOT, 'scripts', 'estimator-params.py')], { encoding: 'utf8' });
    assert.equal(out.status, 0, out.stderr);
    assert.deepEqual(JSON.parse(out.stdout), JSON.parse(JSON.stringify(ESTIMATOR_PARAMS)));
  });
});
