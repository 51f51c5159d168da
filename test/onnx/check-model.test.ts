import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ModelRejectedError } from '../../src/errors';
import { type CheckModelOptions, checkModelIsolated, formatBytes } from '../../src/onnx';

// Models written by scripts/make-onnx-fixtures.py; the hostile-* ones each break one rule.
const FIXTURES = path.join(import.meta.dirname, '..', 'fixtures', 'onnx');
const fixture = (name: string): string => path.join(FIXTURES, name);
const FEATURES = { numeric: ['distance', 'delay', 'hour'], categorical: ['origin'] };
const X_ONLY = { numeric: ['x'], categorical: [] };
const MB = 1024 * 1024;

const base: Omit<CheckModelOptions, 'modelPath' | 'expectedInputs' | 'task'> = {
  maxSizeBytes: 50 * MB,
  memoryLimitBytes: 512 * MB,
  timeoutMs: 20_000,
};

function check(modelPath: string, expectedInputs: CheckModelOptions['expectedInputs'], task: CheckModelOptions['task'], extra: Partial<CheckModelOptions> = {}) {
  return checkModelIsolated({ ...base, modelPath, expectedInputs, task, ...extra });
}

/** Asserts a ModelRejectedError whose message starts with the file's name and matches `reason`. */
async function assertRejected(promise: Promise<unknown>, fileName: string, reason: RegExp): Promise<string> {
  let message = '';
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof ModelRejectedError, `expected ModelRejectedError, got ${String(err)}`);
    message = err.message;
    assert.ok(message.startsWith(`${fileName}: `), `message should name ${fileName}: ${message}`);
    assert.match(message, reason);
    return true;
  });
  return message;
}

let workDir: string;
before(async () => {
  workDir = await mkdtemp(path.join(tmpdir(), 'relearn-onnx-check-'));
});
after(async () => {
  await rm(workDir, { recursive: true, force: true });
});

describe('checkModelIsolated: models that follow the convention', () => {
  test('binary classifier: inputs, outputs, size and a single-row latency', async () => {
    const result = await check(fixture('classifier-binary.onnx'), FEATURES, 'binary');
    assert.equal(result.ok, true);
    assert.deepEqual(
      result.inputs.map((i) => [i.name, i.type, i.dims.length, i.dims[1]]),
      [
        ['distance', 'tensor(float)', 2, 1],
        ['delay', 'tensor(float)', 2, 1],
        ['hour', 'tensor(float)', 2, 1],
        ['origin', 'tensor(string)', 2, 1],
      ],
    );
    assert.deepEqual(
      result.outputs.map((o) => [o.name, o.type]),
      [
        ['label', 'tensor(int64)'],
        ['probabilities', 'tensor(float)'],
      ],
    );
    assert.deepEqual(result.outputs[1]!.dims.slice(1), [2]);
    assert.equal(result.sizeBytes, (await stat(fixture('classifier-binary.onnx'))).size);
    assert.ok(result.singleRowLatencyMs > 0 && result.singleRowLatencyMs < 100, `latency ${result.singleRowLatencyMs} ms`);
    assert.ok(result.loadMs > 0);
  });

  test('3-class classifier as multiclass, and the regressor', async () => {
    const multi = await check(fixture('classifier-3class.onnx'), FEATURES, 'multiclass');
    assert.deepEqual(multi.outputs[1]!.dims.slice(1), [3]);
    const regressor = await check(fixture('regressor.onnx'), FEATURES, 'regression', { latencyRuns: 5 });
    assert.deepEqual(regressor.outputs.map((o) => o.name), ['variable']);
  });

  test('external data inside the model folder is allowed and counted in the size', async () => {
    const modelPath = fixture('external-inside/model.onnx');
    const result = await check(modelPath, X_ONLY, 'regression');
    const expectedSize = (await stat(modelPath)).size + (await stat(fixture('external-inside/weights.bin'))).size;
    assert.equal(result.sizeBytes, expectedSize);
    await assertRejected(
      check(modelPath, X_ONLY, 'regression', { maxSizeBytes: expectedSize - 1 }),
      'model.onnx',
      new RegExp(`with its external data, ${expectedSize} bytes exceeds the cap of ${expectedSize - 1} bytes`),
    );
  });
});

describe('checkModelIsolated: interface mismatches', () => {
  test('a categorical input where a numeric one is expected', async () => {
    await assertRejected(
      check(fixture('classifier-binary.onnx'), { numeric: [...FEATURES.numeric, 'origin'], categorical: [] }, 'binary'),
      'classifier-binary.onnx',
      /input 'origin' has type tensor\(string\), expected tensor\(float\)/,
    );
  });

  test('a missing and an unexpected input are both named', async () => {
    const message = await assertRejected(
      check(fixture('classifier-binary.onnx'), { numeric: ['distance', 'delay', 'month'], categorical: ['origin'] }, 'binary'),
      'classifier-binary.onnx',
      /has no input 'month'/,
    );
    assert.match(message, /input 'hour' is not one of the expected features/);
  });

  test('missing outputs for the task, and the wrong class count for a binary model', async () => {
    const asClassifier = await assertRejected(check(fixture('regressor.onnx'), FEATURES, 'binary'), 'regressor.onnx', /has no output 'label'/);
    assert.match(asClassifier, /has no output 'probabilities'/);
    await assertRejected(check(fixture('classifier-binary.onnx'), FEATURES, 'regression'), 'classifier-binary.onnx', /has no output 'variable'/);
    await assertRejected(
      check(fixture('classifier-3class.onnx'), FEATURES, 'binary'),
      'classifier-3class.onnx',
      /output 'probabilities' has 3 columns, a binary classifier needs 2/,
    );
  });

  test('the size cap is checked before anything is loaded', async () => {
    const size = (await stat(fixture('classifier-binary.onnx'))).size;
    await assertRejected(
      check(fixture('classifier-binary.onnx'), FEATURES, 'binary', { maxSizeBytes: 1000 }),
      'classifier-binary.onnx',
      new RegExp(`^classifier-binary\\.onnx: ${formatBytes(size).replace('.', '\\.')} exceeds the cap of 1000 bytes$`),
    );
    assert.equal(formatBytes(95 * MB), '95 MB');
    assert.equal(formatBytes(50 * MB), '50 MB');
  });
});

describe('checkModelIsolated: hostile files', () => {
  test('a truncated file', async () => {
    await assertRejected(check(fixture('hostile-truncated.onnx'), FEATURES, 'binary'), 'hostile-truncated.onnx', /not a valid ONNX model/);
  });

  test('random bytes', async () => {
    await assertRejected(check(fixture('hostile-random-bytes.onnx'), FEATURES, 'binary'), 'hostile-random-bytes.onnx', /not a valid ONNX model/);
  });

  test('an empty file and an unknown operator are refused by onnxruntime in the child', async () => {
    const empty = path.join(workDir, 'empty.onnx');
    await writeFile(empty, new Uint8Array(0));
    await assertRejected(check(empty, X_ONLY, 'regression'), 'empty.onnx', /onnxruntime could not load the model/);
    await assertRejected(
      check(fixture('hostile-unknown-op.onnx'), X_ONLY, 'regression'),
      'hostile-unknown-op.onnx',
      /onnxruntime could not load the model: .*NoSuchOperator/,
    );
  });

  test('external data at an absolute path', async () => {
    await assertRejected(
      check(fixture('hostile-external-absolute.onnx'), X_ONLY, 'regression'),
      'hostile-external-absolute.onnx',
      /external data '\/etc\/passwd' of tensor 'w' is an absolute path and points outside the model folder/,
    );
  });

  test("external data through '..'", async () => {
    await assertRejected(
      check(fixture('hostile-external-dotdot.onnx'), X_ONLY, 'regression'),
      'hostile-external-dotdot.onnx',
      /external data '\.\.\/weights\.bin' of tensor 'w' uses '\.\.' and points outside the model folder/,
    );
  });

  test('external data through a symlink that leaves the folder (while a symlink inside it is fine)', async () => {
    const outside = path.join(workDir, 'outside-weights.bin');
    await writeFile(outside, readFileSync(fixture('external-inside/weights.bin')));
    const escaping = path.join(workDir, 'escaping');
    await mkdir(escaping);
    await copyFile(fixture('external-inside/model.onnx'), path.join(escaping, 'model.onnx'));
    await symlink(outside, path.join(escaping, 'weights.bin'));
    await assertRejected(
      check(path.join(escaping, 'model.onnx'), X_ONLY, 'regression'),
      'model.onnx',
      /external data 'weights\.bin' of tensor 'w' points outside the model folder \(through a symlink/,
    );

    const contained = path.join(workDir, 'contained');
    await mkdir(path.join(contained, 'blobs'), { recursive: true });
    await copyFile(fixture('external-inside/model.onnx'), path.join(contained, 'model.onnx'));
    await copyFile(fixture('external-inside/weights.bin'), path.join(contained, 'blobs', 'w.bin'));
    await symlink(path.join('blobs', 'w.bin'), path.join(contained, 'weights.bin'));
    const ok = await check(path.join(contained, 'model.onnx'), X_ONLY, 'regression', { latencyRuns: 3 });
    assert.equal(ok.ok, true);
  });

  test("onnxruntime's in-memory address marker as a location", async () => {
    await assertRejected(
      check(fixture('hostile-external-mem-addr.onnx'), X_ONLY, 'regression'),
      'hostile-external-mem-addr.onnx',
      /external data '\*\/_ORT_MEM_ADDR_\/\*' of tensor 'w' does not exist in the model folder/,
    );
  });

  test('a 214-byte ConstantOfShape graph asking for 2 GB hits the memory limit, not this process', async () => {
    const rssBefore = process.memoryUsage().rss;
    await assertRejected(
      check(fixture('hostile-constant-of-shape.onnx'), X_ONLY, 'regression'),
      'hostile-constant-of-shape.onnx',
      /exceeded the memory limit of 512 MB/,
    );
    assert.ok(process.memoryUsage().rss - rssBefore < 200 * MB);
  });

  test('an endless Loop is killed at the timeout', async () => {
    const started = Date.now();
    await assertRejected(
      check(fixture('hostile-endless-loop.onnx'), X_ONLY, 'regression', { timeoutMs: 1500 }),
      'hostile-endless-loop.onnx',
      /running the model on one row exceeded the timeout of 1500 ms \(the check process was killed\)/,
    );
    assert.ok(Date.now() - started < 10_000);
  });

  test('after every hostile file this process still checks a good model', async () => {
    const result = await check(fixture('classifier-binary.onnx'), FEATURES, 'binary', { memoryLimitBytes: 256 * MB, latencyRuns: 5 });
    assert.equal(result.ok, true);
  });
});
