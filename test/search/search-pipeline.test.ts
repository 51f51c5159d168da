// Hyperparameter search inside a retraining run, on the real dev server with the real trainer: a grid trains every
// point once (the launcher's ledger has one launch per trial and fold), successive halving stops weak trials on a
// share of the rows, the best parameter set is the final model's, and the registry and `relearn show` keep the trials.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { before, describe, it } from 'node:test';
import { RELEARN_ROOT } from '../../src/paths';
import { openSqliteRegistry } from '../../src/registry';
import { type PipelineOutcome, runPipeline, smallFlightsModel, testConfig, uniqueModelName } from '../helpers/pipeline-env';

function searchModel(search: Record<string, unknown>): Record<string, unknown> {
  const base = smallFlightsModel() as { split: Record<string, unknown> };
  return { ...base, split: { ...base.split, folds: 2 }, search };
}

/** The model's launch records (both runs share one job ledger), or only its trials' (`…_search_trial-<digest>[-r<rung>]_fold-<k>`). */
function launchesOf(outcome: PipelineOutcome, model: string, trialsOnly = true) {
  return outcome.launches.filter((l) => l.jobId.includes(`_${model}_`) && (!trialsOnly || l.jobId.includes('_search_trial-')));
}

describe('hyperparameter search in a retraining run (real dev server, real trainer)', { timeout: 600_000 }, () => {
  const grid = uniqueModelName('search-grid');
  const halving = uniqueModelName('search-halving');
  let loaded: Awaited<ReturnType<typeof testConfig>>;
  let gridRun: PipelineOutcome;
  let halvingRun: PipelineOutcome;

  before(async () => {
    loaded = await testConfig({
      [grid]: searchModel({ strategy: 'grid', budget: 3, maxParallel: 2, space: { C: { type: 'float', min: 0.001, max: 1, scale: 'log', steps: 3 } } }),
      [halving]: searchModel({
        strategy: 'halving',
        budget: 3,
        seed: 5,
        maxParallel: 2,
        halving: { eta: 3, minRowShare: 0.34 },
        space: { C: { type: 'float', min: 0.0001, max: 10, scale: 'log' }, class_weight: [null, 'balanced'] },
      }),
    }, { prefix: 'search' });
    [gridRun, halvingRun] = await Promise.all([runPipeline(loaded, grid), runPipeline(loaded, halving)]);
  });

  it('a grid search trains every point once: trials × folds launches, then the final model with the best params', () => {
    assert.equal(gridRun.failure, undefined, gridRun.failure);
    const search = gridRun.result!.search!;
    assert.equal(search.strategy, 'grid');
    assert.equal(search.metric, 'roc_auc');
    assert.deepEqual(search.trials.map((t) => t.params.C).sort((a, b) => Number(a) - Number(b)), [0.001, 0.0316228, 1]);
    assert.ok(search.trials.every((t) => t.status === 'completed' && t.jobs === 2 && t.metric && t.metric.mean > 0.5));
    const launches = launchesOf(gridRun, grid);
    assert.equal(launches.length, 3 * 2, launches.map((l) => l.jobId).join('\n'));
    assert.equal(new Set(launches.map((l) => l.jobId)).size, 6);
    // Trials are ranked by the selection metric; the first is the best, and the final model trained with its params.
    const means = search.trials.map((t) => t.metric!.mean);
    assert.deepEqual(means, [...means].sort((a, b) => b - a));
    assert.deepEqual(search.best.params, search.trials[0]!.params);
    const finalJob = gridRun.result!.jobs.find((j) => j.role === 'final')!;
    assert.equal(finalJob.params.C, search.best.params.C);
    assert.equal(launchesOf(gridRun, grid, false).length, 6 + 3);
  });

  it('successive halving stops weak trials on a share of the rows; the survivor sees all of them', () => {
    assert.equal(halvingRun.failure, undefined, halvingRun.failure);
    const search = halvingRun.result!.search!;
    assert.deepEqual(search.rungs, [0.34, 1]);
    const completed = search.trials.filter((t) => t.status === 'completed');
    const stopped = search.trials.filter((t) => t.status === 'stopped');
    assert.equal(completed.length, 1);
    assert.equal(stopped.length, 2);
    assert.equal(completed[0]!.jobs, 4);
    for (const t of stopped) {
      assert.equal(t.rung, 0);
      assert.equal(t.jobs, 2);
      assert.ok(t.rowsSeen < completed[0]!.rowsSeen / 2, `stopped ${t.rowsSeen} vs completed ${completed[0]!.rowsSeen}`);
    }
    assert.equal(launchesOf(halvingRun, halving).length, 3 * 2 + 2);
    assert.deepEqual(search.best.params, completed[0]!.params);
  });

  it('the registry keeps every trial under the version\'s metrics, and `relearn show` prints the trial table', async () => {
    const registry = openSqliteRegistry(path.join(loaded.stateDir, 'registry.db'));
    try {
      const v1 = (await registry.getVersion(grid, 1))!;
      const stored = (v1.metrics as { search?: { trials: unknown[]; best: { params: Record<string, unknown> } } }).search;
      assert.equal(stored?.trials.length, 3);
      assert.deepEqual(stored?.best.params, gridRun.result!.search!.best.params);
    } finally {
      await registry.close();
    }
    const out = spawnSync(process.execPath, ['--import', 'tsx', path.join(RELEARN_ROOT, 'src/cli/main.ts'), '--config', loaded.configPath, 'show', halving], {
      cwd: RELEARN_ROOT,
      encoding: 'utf8',
      env: { ...Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'FORCE_COLOR')), NO_COLOR: '1' },
    });
    assert.equal(out.status, 0, out.stderr);
    assert.match(out.stdout, /search {4}halving on roc_auc/);
    const rows = out.stdout.split('\n').filter((l) => /^\s+\d+( ★)?\s+[0-9a-f]{8}\s/.test(l));
    assert.equal(rows.length, 3, out.stdout);
    assert.match(rows[0]!, /completed/);
  });
});
