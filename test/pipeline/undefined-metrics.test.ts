// The case end to end: seattle-weather's 146 most recent days have no snow, so the multiclass ROC AUC of the
// holdout is undefined. The run records why, the gate says its rule on it cannot pass, and `relearn show` prints the
// reason where the number would be.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, it } from 'node:test';
import { RELEARN_ROOT } from '../../src/paths';
import { runPipeline, testConfig, uniqueModelName } from '../helpers/pipeline-env';

const WEATHER = path.join(RELEARN_ROOT, 'node_modules/vega-datasets/data/seattle-weather.csv');
const NO_SNOW = "class 'snow' never occurs in the 146 rows of the holdout";

describe('a metric undefined on the holdout, through a real run', { timeout: 900_000 }, () => {
  it('is recorded with its reason, named by the gate as a rule that cannot pass, and printed as undefined (reason)', async () => {
    const model = uniqueModelName('weather');
    const loaded = await testConfig(
      {
        [model]: {
          task: 'multiclass',
          source: { format: 'csv', path: WEATHER, timeColumn: 'date' },
          features: { numeric: ['precipitation', 'temp_max', 'temp_min', 'wind'] },
          label: 'weather',
          split: { folds: 3, strategy: 'stratified', holdoutFraction: 0.1, seed: 1 },
          trainer: { estimator: 'logistic_regression', params: { max_iter: 500 }, maxParallel: 2, probeRows: 50 },
          gate: { primaryMetric: 'roc_auc', minimums: { f1: 0.1 }, maxDropVsChampion: 0.05 },
        },
      },
      { prefix: 'undefined' },
    );
    const first = await runPipeline(loaded, model);
    assert.equal(first.failure, undefined, first.failure);
    const e1 = first.result!.evaluation;
    assert.deepEqual(e1.undefined, { holdout: { candidate: { roc_auc: NO_SNOW } } });
    // NaN, which the JSON of the run's result carries as null: no number stands in for it.
    assert.equal(Number.isFinite(e1.holdout.candidate.roc_auc), false, String(e1.holdout.candidate.roc_auc));
    assert.ok(Number.isFinite(e1.summary.roc_auc!.mean), 'every fold has snow days: the CV mean is defined');
    assert.equal(first.result!.decision, 'promoted', 'no rule is on the holdout without a champion');

    // Against champion v1 the gate compares the primary metric on the holdout: it has no value there.
    const second = await runPipeline(loaded, model);
    assert.equal(second.failure, undefined, second.failure);
    const gate = second.result!.gate;
    assert.equal(gate.verdict, 'REJECT');
    assert.deepEqual(gate.rules.at(-1), {
      rule: 'non-regression vs champion',
      passed: false,
      reason: `roc_auc is undefined on the holdout: ${NO_SNOW} — the rule cannot pass`,
    });

    const show = spawnSync(process.execPath, ['--import', 'tsx', path.join(RELEARN_ROOT, 'src/cli/main.ts'), '--config', loaded.configPath, 'show', model, 'v2'], {
      encoding: 'utf8',
      env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' },
    });
    assert.equal(show.status, 0, show.stderr);
    assert.match(show.stdout, /candidate, holdout \(146\) .*undefined \[1\]/);
    assert.match(show.stdout, /champion v1, holdout .*undefined \[1\]/);
    assert.ok(show.stdout.includes(`[1] roc_auc undefined (${NO_SNOW})`), show.stdout);
    assert.doesNotMatch(show.stdout, /\bNaN\b/);
  });
});
