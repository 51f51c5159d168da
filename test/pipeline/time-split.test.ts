// split.strategy: time on the real dev server with the real trainer: every fold model (the run's and a search
// trial's) trains on rows earlier than the block it is scored on, the folds are scikit-learn's TimeSeriesSplit of the
// same rows (test/fixtures/split/time-series-split.json, from scripts/make-split-fixtures.py), and the final model
// trains on every row before the holdout. Read from what the jobs were given: their spec.json, split and snapshot.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { before, describe, it } from 'node:test';
import { type Table, tableFromIPC } from 'apache-arrow';
import { timeKeysMs } from '../../src/data/columns';
import type { JobSpec } from '../../src/jobs/contract';
import { RELEARN_ROOT } from '../../src/paths';
import { foldsFromTable } from '../../src/split';
import { runPipeline, testConfig, uniqueModelName } from '../helpers/pipeline-env';

interface Reference {
  n: number;
  holdoutRows: number;
  folds: number;
  splits: Array<{ train: [number, number]; test: [number, number]; trainDates: [string, string]; testDates: [string, string] }>;
}
const reference = (
  JSON.parse(readFileSync(path.join(RELEARN_ROOT, 'test/fixtures/split/time-series-split.json'), 'utf8')) as { seattle: Reference }
).seattle;

const weatherModel = {
  task: 'binary',
  source: {
    path: path.join(RELEARN_ROOT, 'node_modules/vega-datasets/data/seattle-weather.csv'),
    timeColumn: 'date',
    derive: [{ name: 'wet', from: 'precipitation', op: 'greaterThan', value: 0 }],
  },
  features: { numeric: ['temp_max', 'temp_min', 'wind'], categorical: [] },
  label: 'wet',
  split: { folds: reference.folds, strategy: 'time', holdoutFraction: 0.2, seed: 1 },
  trainer: { estimator: 'logistic_regression', params: { C: 1.0, max_iter: 200 }, maxParallel: 2, maxAttempts: 2, retryInitialIntervalMs: 200, probeRows: 20 },
  // One trial per C: its fold jobs take their folds from the search workflow.
  search: { strategy: 'grid', space: { C: [0.1] }, budget: 1, maxParallel: 1 },
  gate: { primaryMetric: 'roc_auc', minimums: { roc_auc: 0.5 } },
};

/** Every job's spec.json under the state folder's jobs/ (first run of each job). */
function jobSpecs(stateDir: string): JobSpec[] {
  const jobsDir = path.join(stateDir, 'jobs');
  return readdirSync(jobsDir, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => JSON.parse(readFileSync(path.join(jobsDir, d.name, 'runs', '1', 'spec.json'), 'utf8')) as JobSpec);
}

const readArrow = (file: string): Table => tableFromIPC(readFileSync(file));
const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);
const range = ([from, to]: [number, number]) => Array.from({ length: to - from }, (_, i) => from + i);

describe('split.strategy time: forward-chained folds on the real dev server with the real trainer', { timeout: 600_000 }, () => {
  const model = uniqueModelName('weather-time');
  let loaded: Awaited<ReturnType<typeof testConfig>>;
  let outcome: Awaited<ReturnType<typeof runPipeline>>;
  let specs: JobSpec[];

  before(async () => {
    loaded = await testConfig({ [model]: weatherModel });
    outcome = await runPipeline(loaded, model);
    specs = jobSpecs(loaded.stateDir);
  });

  it('the run completes; its split reports the earliest block and the scored folds', () => {
    assert.equal(outcome.failure, undefined, outcome.failure);
    const r = outcome.result!;
    assert.equal(r.split.strategy, 'time');
    assert.equal(r.split.holdoutRows, reference.holdoutRows);
    assert.deepEqual(r.split.foldRows, reference.splits.map((s) => s.test[1] - s.test[0]));
    assert.equal(r.split.firstBlockRows, reference.splits[0]!.train[1]);
    assert.equal(r.evaluation.perFold.length, reference.folds);
    assert.equal(r.search?.trials.length, 1);
    // The run's 3 folds + final, and the trial's 3 folds.
    assert.equal(specs.length, 2 * reference.folds + 1, specs.map((s) => s.jobId).join(', '));
  });

  it("no fold model saw a row later than its validation block, and each is scikit-learn's TimeSeriesSplit of the rows", () => {
    const folds = specs.filter((s) => s.role.startsWith('fold-'));
    assert.equal(folds.length, 2 * reference.folds);
    for (const spec of folds) {
      const k = Number(spec.role.slice('fold-'.length));
      const fold = foldsFromTable(readArrow(spec.splitPath));
      const time = timeKeysMs(readArrow(spec.snapshotPath).getChild('date')!);
      const train = range([0, fold.length]).filter((i) => spec.trainFolds.includes(fold[i]!));
      const scored = range([0, fold.length]).filter((i) => fold[i] === k);
      const lastTrained = Math.max(...train.map((i) => time[i]!));
      const firstScored = Math.min(...scored.map((i) => time[i]!));
      assert.ok(lastTrained < firstScored, `${spec.jobId}: trained up to ${day(lastTrained)}, scored from ${day(firstScored)}`);
      const ref = reference.splits[k]!;
      assert.deepEqual(train, range(ref.train), `${spec.jobId}: training rows`);
      assert.deepEqual(scored, range(ref.test), `${spec.jobId}: scored rows`);
      assert.deepEqual([day(time[train[0]!]!), day(lastTrained)], ref.trainDates);
      assert.deepEqual([day(firstScored), day(time[scored.at(-1)!]!)], ref.testDates);
    }
    // The trainer counted the same rows as its own training set.
    for (const job of outcome.result!.jobs.filter((j) => j.role.startsWith('fold-'))) {
      const ref = reference.splits[Number(job.role.slice('fold-'.length))]!;
      assert.equal(job.trainRows, ref.train[1] - ref.train[0], job.role);
    }
  });

  it('the final model trains on every row before the holdout', () => {
    const final = specs.find((s) => s.role === 'final')!;
    const fold = foldsFromTable(readArrow(final.splitPath));
    const train = range([0, fold.length]).filter((i) => final.trainFolds.includes(fold[i]!));
    assert.deepEqual(train, range([0, reference.n]));
    assert.equal(outcome.result!.jobs.find((j) => j.role === 'final')!.trainRows, reference.n);
  });
});
