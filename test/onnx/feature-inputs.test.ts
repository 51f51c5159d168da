// Models that name their ONNX inputs otherwise than their features (as the reference trainer does for column names
// such as "Cost Total $") and record which is which in metadata_props: read from the bytes, fed by the features'
// names everywhere (scoring, the isolated check, the served signature), and refused when the record is broken.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Table, tableFromIPC } from 'apache-arrow';
import protobuf from 'protobufjs';
import { ModelRejectedError } from '../../src/errors';
import {
  FEATURE_INPUTS_KEY,
  checkModelIsolated,
  featureInputNames,
  openSession,
  readMetadataProps,
  releaseSessions,
  scoreRows,
  sessionInputNames,
} from '../../src/onnx';
import { type LoadReport, signatureFrom } from '../../src/serve';

// Models, data and scikit-learn's outputs written by scripts/make-onnx-fixtures.py.
const FIXTURES = path.join(import.meta.dirname, '..', 'fixtures', 'onnx');
const expected = JSON.parse(readFileSync(path.join(FIXTURES, 'expected.json'), 'utf8')) as {
  classifierBinary: { probabilities: number[][] };
};
const modelBytes = readFileSync(path.join(FIXTURES, 'classifier-binary.onnx'));
const table = tableFromIPC(readFileSync(path.join(FIXTURES, 'tiny.arrow')));

// The fixture's inputs, and the names a user's columns carry for them.
const USER_NAMES: Record<string, string> = {
  distance: 'Distance (mi)',
  delay: 'Delay $',
  hour: 'Heure de départ',
  origin: 'Origin airport',
};
const MAPPING = Object.entries(USER_NAMES).map(([input, feature]) => ({ feature, input }));
const userFeatures = { numeric: ['Distance (mi)', 'Delay $', 'Heure de départ'], categorical: ['Origin airport'] };
// The fixture table with its columns renamed as the user has them.
const userTable = new Table(Object.fromEntries(Object.entries(USER_NAMES).map(([input, feature]) => [feature, table.getChild(input)!])));

/** The model's bytes with one more metadata_props entry: protobuf lets a repeated field's entries come in any order. */
function withMetadata(bytes: Uint8Array, key: string, value: string): Uint8Array {
  const entry = protobuf.Writer.create().uint32((14 << 3) | 2).fork().uint32((1 << 3) | 2).string(key).uint32((2 << 3) | 2).string(value).ldelim().finish();
  return Buffer.concat([bytes, entry]);
}

const mapped = withMetadata(modelBytes, FEATURE_INPUTS_KEY, JSON.stringify(MAPPING));

let workDir: string;
async function modelFile(name: string, bytes: Uint8Array): Promise<string> {
  const file = path.join(workDir, name);
  await writeFile(file, bytes);
  return file;
}

function check(modelPath: string, expectedInputs: { numeric: string[]; categorical: string[] }) {
  return checkModelIsolated({ modelPath, expectedInputs, task: 'binary', maxSizeBytes: 50 * 1024 * 1024, memoryLimitBytes: 512 * 1024 * 1024, timeoutMs: 20_000 });
}

function assertClose(actual: ArrayLike<number>, reference: number[]): void {
  assert.equal(actual.length, reference.length);
  for (let i = 0; i < reference.length; i++) assert.ok(Math.abs(actual[i]! - reference[i]!) <= 1e-5, `[${i}]: ${actual[i]} vs ${reference[i]}`);
}

before(async () => {
  workDir = await mkdtemp(path.join(tmpdir(), 'relearn-feature-inputs-'));
});

after(async () => {
  await releaseSessions();
  await rm(workDir, { recursive: true, force: true });
});

describe('feature → ONNX input names in the model metadata', () => {
  test('a model without the record is fed by its input names', () => {
    assert.equal(readMetadataProps(modelBytes).has(FEATURE_INPUTS_KEY), false);
    assert.equal(featureInputNames(modelBytes), undefined);
  });

  test('the record is read from the bytes, in input order; a repeated key’s last entry wins', () => {
    const names = featureInputNames(mapped);
    assert.deepEqual([...names!], MAPPING.map((m) => [m.feature, m.input]));
    const twice = withMetadata(mapped, FEATURE_INPUTS_KEY, JSON.stringify([{ feature: 'x', input: 'distance' }]));
    assert.deepEqual([...featureInputNames(twice)!], [['x', 'distance']]);
  });

  test('a session is scored by the features’ names and gives the model’s own outputs', async () => {
    const session = await openSession(mapped);
    assert.deepEqual([...sessionInputNames(session)!], MAPPING.map((m) => [m.feature, m.input]));
    const scored = await scoreRows({ session, table: userTable, rows: { start: 0, end: userTable.numRows }, features: userFeatures, task: 'binary', batchSize: 64 });
    assertClose(scored.probabilities!, expected.classifierBinary.probabilities.flat());
    // Without the record, no feature finds its input: the failure names the feature and the model's inputs.
    await assert.rejects(
      scoreRows({ session, table: userTable, rows: { start: 0, end: 3 }, features: userFeatures, task: 'binary', inputNames: new Map() }),
      (err: unknown) => err instanceof ModelRejectedError && /has no input for feature 'Distance \(mi\)' \(inputs: distance, delay, hour, origin\)/.test(err.message),
    );
  });

  test('the isolated check expects each feature through its recorded input', async () => {
    const file = await modelFile('mapped.onnx', mapped);
    const result = await check(file, userFeatures);
    assert.deepEqual(result.inputs.map((i) => i.name), ['distance', 'delay', 'hour', 'origin']);
    // The config's features must be the ones the model says its inputs stand for.
    await assert.rejects(
      check(file, { numeric: ['distance', 'Delay $', 'Heure de départ'], categorical: ['Origin airport'] }),
      /input 'distance' stands for feature 'Distance \(mi\)' \(the model's metadata\), not for 'distance'/,
    );
    const wrongInput = await modelFile(
      'wrong-input.onnx',
      withMetadata(modelBytes, FEATURE_INPUTS_KEY, JSON.stringify([{ feature: 'Distance (mi)', input: 'dist' }, ...MAPPING.slice(1)])),
    );
    await assert.rejects(check(wrongInput, userFeatures), /has no input 'dist' for feature 'Distance \(mi\)' \(expected tensor\(float\) \[N,1\]\)/);
  });

  test('a broken record rejects the model, naming it and the metadata key', async () => {
    const cases: Array<[string, RegExp]> = [
      ['{not json', /metadata 'relearn\.feature_inputs' is not JSON/],
      [JSON.stringify({ distance: 'distance' }), /expected \[\{"feature": "<column>", "input": "<ONNX input>"\}, \.\.\.\]/],
      [JSON.stringify([{ feature: 'a', input: 'distance' }, { feature: 'b', input: 'distance' }]), /gives input 'distance' to two features/],
      [JSON.stringify([{ feature: 'a', input: 'distance' }, { feature: 'a', input: 'delay' }]), /lists feature 'a' twice/],
    ];
    for (const [value, reason] of cases) {
      const bytes = withMetadata(modelBytes, FEATURE_INPUTS_KEY, value);
      assert.throws(() => featureInputNames(bytes, 'model.onnx of fold-1'), (err: unknown) => {
        assert.ok(err instanceof ModelRejectedError, String(err));
        assert.ok(err.message.startsWith('model.onnx of fold-1: '), err.message);
        assert.match(err.message, reason);
        return true;
      });
      await assert.rejects(openSession(bytes), ModelRejectedError);
    }
    const broken = await modelFile('broken.onnx', withMetadata(modelBytes, FEATURE_INPUTS_KEY, '{'));
    await assert.rejects(check(broken, userFeatures), /broken\.onnx: metadata 'relearn\.feature_inputs' is not JSON/);
  });
});

describe('the served signature', () => {
  const report: LoadReport = {
    inputs: ['distance', 'delay', 'hour', 'origin'].map((name) => ({ name, isTensor: true, type: name === 'origin' ? 'string' : 'float32', shape: [-1, 1] })),
    outputs: [],
    widths: { probabilities: { type: 'float32', width: 2 } },
    loadMs: 1,
    runMs: 1,
  };

  test('lists the features by the user’s names and keeps the ONNX input of each', () => {
    const signature = signatureFrom('flights v1', report, [0, 1], featureInputNames(mapped));
    assert.deepEqual(signature.numeric, userFeatures.numeric);
    assert.deepEqual(signature.categorical, userFeatures.categorical);
    assert.deepEqual(signature.inputNames, { numeric: ['distance', 'delay', 'hour'], categorical: ['origin'] });
    // Without a record (or with one that renames nothing) the inputs are the features.
    const plain = signatureFrom('flights v1', report, [0, 1]);
    assert.deepEqual(plain.numeric, ['distance', 'delay', 'hour']);
    assert.equal(plain.inputNames, undefined);
  });

  test('refuses a record naming an input the model lacks, or two inputs for one feature', () => {
    assert.throws(
      () => signatureFrom('flights v1', report, [0, 1], new Map([['Distance (mi)', 'dist']])),
      /flights v1: its metadata maps feature 'Distance \(mi\)' to input 'dist', which the model does not have/,
    );
    assert.throws(() => signatureFrom('flights v1', report, [0, 1], new Map([['delay', 'distance']])), /two inputs stand for the same feature/);
  });
});
