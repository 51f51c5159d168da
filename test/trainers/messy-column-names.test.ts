// Columns as users name them, end to end on real data: a snapshot pulled from vega-datasets' birdstrikes.csv
// ("Speed IAS in knots", "Cost Total $", plus derived columns with an accent, parentheses and a name that collides
// with "Cost Total $" once sanitised), trained and exported by the real reference trainer, checked and scored by
// onnxruntime-node through Relearn's own paths, and served by `relearn serve`'s app to requests that use the
// columns' names.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Int8, Table, tableFromIPC, tableToIPC, vectorFromArray } from 'apache-arrow';
import { pullSnapshot } from '../../src/data';
import { type JobSpec, jobStatusSchema, probeSchema } from '../../src/jobs/contract';
import { checkModelIsolated, checkParity, featureInputNames, openSession, releaseSessions, scoreRows } from '../../src/onnx';
import { VENV_PYTHON } from '../../src/paths';
import { readPredictionLog } from '../../src/prediction-log';
import { type Serving, createServing } from '../../src/serve';
import { registerModelFile } from '../helpers/registered-model';
import { serveFixture } from '../serve/helpers';

const PROJECT_ROOT = path.resolve(import.meta.dirname, '../..');
const TRAIN_PY = path.join(PROJECT_ROOT, 'trainers', 'sklearn', 'train.py');
const BIRDSTRIKES = path.join(PROJECT_ROOT, 'node_modules', 'vega-datasets', 'data', 'birdstrikes.csv');
const ROWS = 400;
const HOLDOUT = 60;
const TOLERANCE = 1e-4;
const MODEL = 'birdstrikes';

const MONTH = "Mois de l'année (1–12)";
const ANY_COST = 'Cost Total?';
const FEATURES = {
  numeric: ['Speed IAS in knots', 'Cost Total $', ANY_COST, MONTH],
  categorical: ['Phase of flight', 'Time of day', 'Origin State'],
};
const LABEL = 'Wildlife Size';
// What the trainer must name the inputs: "Cost Total $" and "Cost Total?" both sanitise to Cost_Total.
const EXPECTED_INPUTS: Array<[string, string]> = [
  ['Speed IAS in knots', 'Speed_IAS_in_knots'],
  ['Cost Total $', 'Cost_Total'],
  [ANY_COST, 'Cost_Total_2'],
  [MONTH, 'Mois_de_l_annee_1_12'],
  ['Phase of flight', 'Phase_of_flight'],
  ['Time of day', 'Time_of_day'],
  ['Origin State', 'Origin_State'],
];

const TOKEN = 'messy-names-token-0123456789';
const headers = { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' };

interface Trained {
  dir: string;
  table: Table;
  outputDir: string;
  probeRows: number[];
  probabilities: number[][];
  classes: string[];
  modelBytes: Buffer;
}

let trained: Trained;
const fixture = serveFixture();
let serving: Serving | undefined;

/** A feature's value in the snapshot as a client would send it: numbers (null when missing) or strings. */
function valueAt(table: Table, feature: string, row: number): number | string | null {
  const v: unknown = table.getChild(feature)!.get(row);
  if (v === null || v === undefined) return null;
  return FEATURES.numeric.includes(feature) ? Number(v) : String(v);
}

function assertClose(actual: ArrayLike<number>, reference: number[], what: string): number {
  assert.equal(actual.length, reference.length, `${what}: length`);
  let max = 0;
  for (let i = 0; i < reference.length; i++) {
    const diff = Math.abs(actual[i]! - reference[i]!);
    assert.ok(diff <= TOLERANCE, `${what}[${i}]: ${actual[i]} vs native ${reference[i]} (|diff| ${diff})`);
    max = Math.max(max, diff);
  }
  return max;
}

before(async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'relearn-messy-names-'));
  const pulled = await pullSnapshot({
    source: {
      format: 'csv',
      path: BIRDSTRIKES,
      timeColumn: 'Flight Date',
      sample: { maxRows: ROWS, seed: 17 },
      derive: [
        { name: MONTH, from: 'Flight Date', op: 'month' },
        { name: ANY_COST, from: 'Cost Total $', op: 'greaterThan', value: 0 },
      ],
    },
    contract: {
      minRows: ROWS,
      columns: {
        'Speed IAS in knots': { type: 'number', nullable: true, min: 0 },
        'Cost Total $': { type: 'number', min: 0 },
        [LABEL]: { type: 'string', allowed: ['Small', 'Medium', 'Large'] },
      },
    },
    requiredColumns: [...FEATURES.numeric, ...FEATURES.categorical, LABEL],
  });
  const snapshotPath = path.join(dir, 'snapshot.arrow');
  const splitPath = path.join(dir, 'split.arrow');
  writeFileSync(snapshotPath, pulled.bytes);
  // Time-sorted snapshot: the most recent rows are the holdout, the rest five folds.
  const folds = Array.from({ length: ROWS }, (_, i) => (i >= ROWS - HOLDOUT ? -1 : i % 5));
  writeFileSync(splitPath, tableToIPC(new Table({ fold: vectorFromArray(folds, new Int8()) }), 'file'));
  const table = tableFromIPC(readFileSync(snapshotPath));

  // Probe rows: every row with a missing speed among the first hundred (imputation), every 9th row, the holdout.
  const speed = table.getChild('Speed IAS in knots')!;
  const probeRows = [...new Set([
    ...Array.from({ length: 100 }, (_, i) => i).filter((i) => speed.get(i) === null),
    ...Array.from({ length: ROWS }, (_, i) => i).filter((i) => i % 9 === 0 || i >= ROWS - HOLDOUT),
  ])].sort((a, b) => a - b);

  const outputDir = path.join(dir, 'out');
  const spec: JobSpec = {
    jobId: 'retrain-birdstrikes-messy-names-final',
    role: 'final',
    task: 'multiclass',
    snapshotPath,
    splitPath,
    trainFolds: [0, 1, 2, 3, 4],
    features: FEATURES,
    label: LABEL,
    estimator: 'logistic_regression',
    params: { C: 1.0, max_iter: 1000 },
    seed: 42,
    probeRows,
    outputDir,
  };
  const specPath = path.join(dir, 'spec.json');
  writeFileSync(specPath, JSON.stringify(spec));
  const run = spawnSync(VENV_PYTHON, [TRAIN_PY, specPath], { encoding: 'utf8', timeout: 180_000 });
  assert.equal(run.status, 0, `trainer failed:\n${run.stdout}\n${run.stderr}`);
  const status = jobStatusSchema.parse(JSON.parse(readFileSync(path.join(outputDir, 'status.json'), 'utf8')));
  assert.ok(status.status === 'succeeded');
  const probe = probeSchema.parse(JSON.parse(readFileSync(path.join(outputDir, 'probe.json'), 'utf8')));
  assert.ok('probabilities' in probe);
  trained = {
    dir,
    table,
    outputDir,
    probeRows,
    probabilities: probe.probabilities,
    classes: status.classes as string[],
    modelBytes: readFileSync(path.join(outputDir, 'model.onnx')),
  };
});

after(async () => {
  await serving?.close();
  fixture.registry.close();
  await releaseSessions();
  if (trained !== undefined) rmSync(trained.dir, { recursive: true, force: true });
  rmSync(fixture.stateDir, { recursive: true, force: true });
});

describe('column names as users have them, from birdstrikes.csv to a served model', () => {
  test('the snapshot keeps the names; the trainer names the inputs safely and records the mapping in the model and status.json', () => {
    for (const f of [...FEATURES.numeric, ...FEATURES.categorical, LABEL]) assert.ok(trained.table.getChild(f) !== null, `snapshot column '${f}'`);
    assert.ok(trained.table.getChild('Speed IAS in knots')!.nullCount > 0, 'speed has missing values');
    assert.deepEqual(trained.classes, ['Large', 'Medium', 'Small']);

    const status = JSON.parse(readFileSync(path.join(trained.outputDir, 'status.json'), 'utf8')) as {
      featureNames: string[];
      onnx: { inputs: Array<{ name: string; feature: string; type: string }> };
    };
    assert.deepEqual(status.featureNames, [...FEATURES.numeric, ...FEATURES.categorical]);
    assert.deepEqual(status.onnx.inputs.map((i) => [i.feature, i.name]), EXPECTED_INPUTS);
    // The mapping is part of the model's bytes (so its digest covers it), in the same order.
    assert.deepEqual([...featureInputNames(trained.modelBytes)!], EXPECTED_INPUTS);
  });

  test('the isolated check and the parity check take the features by the users’ names', async () => {
    const artifact = await fixture.store.putFile('models', 'model.onnx', path.join(trained.outputDir, 'model.onnx'));
    const check = await checkModelIsolated({
      modelPath: await fixture.store.verifiedPath(artifact),
      expectedInputs: FEATURES,
      task: 'multiclass',
      maxSizeBytes: 50 * 1024 * 1024,
      memoryLimitBytes: 512 * 1024 * 1024,
      timeoutMs: 30_000,
    });
    assert.deepEqual(check.inputs.map((i) => i.name), EXPECTED_INPUTS.map(([, input]) => input));

    const session = await openSession(await fixture.store.readVerified(artifact));
    const parity = await checkParity({
      session,
      table: trained.table,
      probeRows: trained.probeRows,
      features: FEATURES,
      task: 'multiclass',
      expected: { probabilities: trained.probabilities },
      tolerance: TOLERANCE,
    });
    assert.ok(parity.maxAbsDiff <= TOLERANCE);
    console.log(`parity on ${trained.probeRows.length} probe rows: max |Δ| ${parity.maxAbsDiff.toExponential(2)}`);

    // Cross-validation's scoring path: the holdout rows by the features' names; same numbers as the native model.
    const holdout = Int32Array.from({ length: HOLDOUT }, (_, i) => ROWS - HOLDOUT + i);
    const scored = await scoreRows({ session, table: trained.table, rows: holdout, features: FEATURES, task: 'multiclass' });
    const native = [...holdout].map((r) => trained.probabilities[trained.probeRows.indexOf(r)]!);
    assertClose(scored.probabilities!, native.flat(), 'holdout probabilities');
  });

  test('relearn serve: OIP and JSON requests by the users’ names, metadata and the prediction log in them too', async () => {
    const record = await registerModelFile(fixture.store, fixture.registry, {
      model: MODEL,
      file: path.join(trained.outputDir, 'model.onnx'),
      classes: trained.classes,
      runId: 'messy-names-run',
    });
    await fixture.promote(MODEL, record.version);
    serving = await createServing({
      registry: fixture.registry,
      store: fixture.store,
      predictionLogDir: fixture.predictionsDir,
      logInputs: 'full',
      token: TOKEN,
      processMetrics: false,
      pool: { threads: 1 },
      batchWindowMs: 1,
      logFlushIntervalMs: 60_000,
      shadow: false,
    });
    const app = serving.app;

    const metadata = (await (await app.request(`/v2/models/${MODEL}`, { headers })).json()) as { inputs: Array<{ name: string; datatype: string }> };
    assert.deepEqual(metadata.inputs.map((i) => [i.name, i.datatype]), [
      ...FEATURES.numeric.map((f) => [f, 'FP32']),
      ...FEATURES.categorical.map((f) => [f, 'BYTES']),
    ]);
    const info = (await (await app.request(`/models/${MODEL}`, { headers })).json()) as { features: typeof FEATURES };
    assert.deepEqual(info.features, FEATURES);

    const rows = trained.probeRows;
    const native = trained.probabilities;
    const inputs = [...FEATURES.numeric, ...FEATURES.categorical].map((f) => ({
      name: f,
      datatype: FEATURES.numeric.includes(f) ? 'FP64' : 'BYTES',
      shape: [rows.length, 1],
      data: rows.map((r) => valueAt(trained.table, f, r)),
    }));
    const oip = await app.request(`/v2/models/${MODEL}/infer`, { method: 'POST', headers, body: JSON.stringify({ id: 'messy-oip', inputs }) });
    assert.equal(oip.status, 200, await oip.clone().text());
    const answer = (await oip.json()) as { outputs: Array<{ name: string; shape: number[]; data: Array<number | string> }> };
    const probabilities = answer.outputs.find((o) => o.name === 'probabilities')!;
    assert.deepEqual(probabilities.shape, [rows.length, 3]);
    const servedMaxDiff = assertClose(probabilities.data as number[], native.flat(), 'served probabilities');
    console.log(`served (OIP, ${rows.length} rows): max |Δ| vs native ${servedMaxDiff.toExponential(2)}`);
    const labels = answer.outputs.find((o) => o.name === 'label')!.data;
    assert.deepEqual(labels, native.map((p) => trained.classes[p.indexOf(Math.max(...p))]));

    const jsonRows = rows.slice(0, 5).map((r) => Object.fromEntries([...FEATURES.numeric, ...FEATURES.categorical].map((f) => [f, valueAt(trained.table, f, r)])));
    const predict = await app.request(`/models/${MODEL}/predict`, { method: 'POST', headers, body: JSON.stringify({ id: 'messy-json', rows: jsonRows }) });
    assert.equal(predict.status, 200, await predict.clone().text());
    const predicted = (await predict.json()) as { probabilities: number[][] };
    assertClose(predicted.probabilities.flat(), native.slice(0, 5).flat(), 'JSON predict probabilities');

    // The ONNX input names are the model's business: a client that sends them is told the features' names.
    const byInputName = inputs.map((input, i) => ({ ...input, name: EXPECTED_INPUTS[i]![1] }));
    const refused = await app.request(`/v2/models/${MODEL}/infer`, { method: 'POST', headers, body: JSON.stringify({ inputs: byInputName }) });
    assert.equal(refused.status, 400);
    assert.match(((await refused.json()) as { error: string }).error, /input 'Speed_IAS_in_knots' is not a feature of model birdstrikes \(features: Speed IAS in knots, Cost Total \$, Cost Total\?/);

    await serving.predictionLog!.flush();
    const entries = await readPredictionLog({ dir: fixture.predictionsDir, model: MODEL });
    const logged = entries.find((e) => e.clientId === 'messy-oip' && e.kind === 'prediction');
    assert.ok(logged?.inputs, 'the OIP request is in the prediction log with its inputs');
    const canonical = JSON.parse(logged.inputs) as { features: string[]; rows: unknown[][] };
    assert.deepEqual(canonical.features, [...FEATURES.numeric, ...FEATURES.categorical]);
    assert.equal(canonical.rows.length, rows.length);
  });
});
