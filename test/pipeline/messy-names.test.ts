// A temporal.yaml whose features are birdstrikes.csv's columns as named there ("Speed IAS in knots", "Cost Total $")
// plus derived ones with an accent, parentheses and a name that collides with "Cost Total $" once sanitised: the whole
// retrain runs on the real dev server with the real trainer (every fold job used to fail at export), and what the
// run records names the features as the config does.
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { featureInputNames } from '../../src/onnx';
import { RELEARN_ROOT } from '../../src/paths';
import { openSqliteRegistry, type RegistryStore } from '../../src/registry';
import { openArtifactStore } from '../../src/store';
import { type PipelineOutcome, runPipeline, testConfig, uniqueModelName } from '../helpers/pipeline-env';

const FEATURES = {
  numeric: ['Speed IAS in knots', 'Cost Total $', 'Cost Total?', "Mois de l'année (1–12)"],
  categorical: ['Phase of flight', 'Time of day', 'Origin State'],
};

describe('retrain on columns named as users name them', { timeout: 600_000 }, () => {
  const model = uniqueModelName('birdstrikes');
  let loaded: Awaited<ReturnType<typeof testConfig>>;
  let outcome: PipelineOutcome;
  let registry: RegistryStore | undefined;

  before(async () => {
    loaded = await testConfig({
      [model]: {
        task: 'multiclass',
        source: {
          format: 'csv',
          path: path.join(RELEARN_ROOT, 'node_modules/vega-datasets/data/birdstrikes.csv'),
          timeColumn: 'Flight Date',
          sample: { maxRows: 600, seed: 17 },
          derive: [
            { name: "Mois de l'année (1–12)", from: 'Flight Date', op: 'month' },
            { name: 'Cost Total?', from: 'Cost Total $', op: 'greaterThan', value: 0 },
          ],
        },
        features: FEATURES,
        label: 'Wildlife Size',
        contract: {
          minRows: 500,
          columns: {
            'Speed IAS in knots': { type: 'number', nullable: true, min: 0 },
            'Cost Total $': { type: 'number', min: 0 },
            'Wildlife Size': { type: 'string', allowed: ['Small', 'Medium', 'Large'] },
          },
        },
        split: { folds: 3, strategy: 'stratified', holdoutFraction: 0.2, seed: 1 },
        trainer: { estimator: 'logistic_regression', params: { max_iter: 1000 }, maxParallel: 2, maxAttempts: 2, retryInitialIntervalMs: 200, probeRows: 50 },
        gate: { primaryMetric: 'accuracy', minimums: { accuracy: 0.3 } },
      },
    }, { prefix: 'messy-names' });
    outcome = await runPipeline(loaded, model);
  });

  after(() => registry?.close());

  it('every job trains and exports once, the ONNX model passes parity and cross-validation, and v1 is promoted', () => {
    assert.equal(outcome.failure, undefined, outcome.failure);
    const r = outcome.result!;
    assert.deepEqual(outcome.launches.map((l) => l.jobId.split('_').at(-1)).sort(), ['final', 'fold-0', 'fold-1', 'fold-2']);
    assert.equal(r.evaluation.perFold.length, 3);
    assert.ok(r.candidate.parityMaxAbsDiff <= 1e-4, `parity ${r.candidate.parityMaxAbsDiff}`);
    assert.deepEqual(r.candidate.classes, ['Large', 'Medium', 'Small']);
    assert.equal(r.decision, 'promoted');
    assert.equal(r.version, 1);
  });

  it('the snapshot statistics and the registered model speak of the features by the config’s names', async () => {
    const store = openArtifactStore(loaded);
    const r = outcome.result!;
    const stats = JSON.parse((await store.readVerified(r.snapshot.stats)).toString('utf8')) as { features: Record<string, unknown> };
    for (const f of [...FEATURES.numeric, ...FEATURES.categorical]) assert.ok(f in stats.features, `stats of '${f}'`);

    registry = openSqliteRegistry(path.join(loaded.stateDir, 'registry.db'));
    const v1 = (await registry.getVersion(model, 1))!;
    const bytes = await store.readVerified({ uri: v1.artifactUri, sha256: v1.artifactSha256 });
    assert.deepEqual([...featureInputNames(bytes)!], [
      ['Speed IAS in knots', 'Speed_IAS_in_knots'],
      ['Cost Total $', 'Cost_Total'],
      ['Cost Total?', 'Cost_Total_2'],
      ["Mois de l'année (1–12)", 'Mois_de_l_annee_1_12'],
      ['Phase of flight', 'Phase_of_flight'],
      ['Time of day', 'Time_of_day'],
      ['Origin State', 'Origin_State'],
    ]);
  });
});
