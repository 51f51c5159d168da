import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, describe, test } from 'node:test';
import { JobContractError, ModelRejectedError } from '../../src/errors';
import { cachedSessionCount, checkParity, openSession, releaseSessions, scoreRows } from '../../src/onnx';
import { expected, features, fixture, table } from '../helpers/onnx-fixtures';

const TOLERANCE = 1e-5;

after(releaseSessions);

function assertClose(actual: ArrayLike<number>, reference: number[], what: string): void {
  assert.equal(actual.length, reference.length, `${what}: length`);
  for (let i = 0; i < reference.length; i++) {
    const diff = Math.abs(actual[i]! - reference[i]!);
    assert.ok(diff <= TOLERANCE, `${what}[${i}]: onnx ${actual[i]} vs sklearn ${reference[i]} (|diff| ${diff})`);
  }
}

describe('scoreRows', () => {
  test('the fixture table has several record batches and nulls in every feature', () => {
    assert.equal(table.numRows, expected.rows);
    assert.ok(table.batches.length > 1);
    for (const name of [...features.numeric.filter((n) => n !== 'hour'), ...features.categorical]) {
      assert.ok(table.getChild(name)!.nullCount > 0, name);
    }
  });

  test('binary classifier: probabilities equal scikit-learn predict_proba', async () => {
    const session = await openSession(fixture('classifier-binary.onnx'));
    const scored = await scoreRows({ session, table, rows: { start: 0, end: table.numRows }, features, task: 'binary' });
    assert.equal(scored.numClasses, 2);
    assert.equal(scored.predictions, undefined);
    assertClose(scored.probabilities!, expected.classifierBinary.probabilities.flat(), 'binary');
  });

  test('3-class classifier, small batches and a shuffled index list: rows stay in the caller order', async () => {
    const session = await openSession(fixture('classifier-3class.onnx'));
    const rows = Int32Array.from({ length: table.numRows }, (_, i) => (i * 97) % table.numRows);
    assert.equal(new Set(rows).size, table.numRows);
    const progress: Array<[number, number]> = [];
    const scored = await scoreRows({
      session,
      table,
      rows,
      features,
      task: 'multiclass',
      batchSize: 37,
      onProgress: (done, total) => progress.push([done, total]),
    });
    assert.equal(scored.numClasses, 3);
    const reference = Array.from(rows, (r) => expected.classifier3Class.probabilities[r]!).flat();
    assertClose(scored.probabilities!, reference, '3-class');
    assert.equal(progress.length, Math.ceil(table.numRows / 37));
    assert.deepEqual(progress.at(-1), [table.numRows, table.numRows]);
  });

  test('regressor: predictions equal scikit-learn predict on a sub-range', async () => {
    const session = await openSession(fixture('regressor.onnx'));
    const scored = await scoreRows({ session, table, rows: { start: 50, end: 250 }, features, task: 'regression', batchSize: 64 });
    assert.equal(scored.probabilities, undefined);
    // Float32 outputs of values around ±50: compare relative to their magnitude.
    const reference = expected.regressor.predictions.slice(50, 250);
    assert.equal(scored.predictions!.length, reference.length);
    for (let i = 0; i < reference.length; i++) {
      const diff = Math.abs(scored.predictions![i]! - reference[i]!);
      assert.ok(diff <= TOLERANCE * Math.max(1, Math.abs(reference[i]!)), `row ${50 + i}: ${scored.predictions![i]} vs ${reference[i]}`);
    }
  });

  test('no rows gives empty outputs', async () => {
    const session = await openSession(fixture('classifier-binary.onnx'));
    const scored = await scoreRows({ session, table, rows: new Int32Array(0), features, task: 'binary' });
    assert.equal(scored.probabilities!.length, 0);
  });

  test('a regressor scored as a classifier is refused, naming the missing output', async () => {
    const session = await openSession(fixture('regressor.onnx'));
    await assert.rejects(
      scoreRows({ session, table, rows: { start: 0, end: 3 }, features, task: 'binary', modelName: 'regressor.onnx' }),
      (err: unknown) => err instanceof ModelRejectedError && /regressor\.onnx: has no output 'probabilities'/.test(err.message),
    );
  });
});

describe('openSession', () => {
  test('the same bytes give the same cached session, by path or by bytes; options are part of the key', async () => {
    await releaseSessions();
    const bytes = readFileSync(fixture('classifier-binary.onnx'));
    const byPath = await openSession(fixture('classifier-binary.onnx'));
    const byBytes = await openSession(new Uint8Array(bytes));
    assert.equal(byPath, byBytes);
    const oneThread = await openSession(bytes, { intraOpNumThreads: 1 });
    assert.notEqual(oneThread, byPath);
    assert.equal(cachedSessionCount(), 2);
    await releaseSessions();
    assert.equal(cachedSessionCount(), 0);
    const reopened = await openSession(bytes);
    assert.notEqual(reopened, byPath);
  });

  test('bytes onnxruntime cannot load are a ModelRejectedError and are not cached', async () => {
    const before = cachedSessionCount();
    await assert.rejects(
      openSession(fixture('hostile-unknown-op.onnx')),
      (err: unknown) => err instanceof ModelRejectedError && /hostile-unknown-op\.onnx: onnxruntime could not load/.test(err.message),
    );
    assert.equal(cachedSessionCount(), before);
  });
});

describe('checkParity', () => {
  const probeRows = [0, 5, 17, 42, 99, 123, 200, 299];
  const probe = (rows: number[]): number[][] => rows.map((r) => expected.classifierBinary.probabilities[r]!);

  test('passes against the native probabilities and reports the max difference', async () => {
    const session = await openSession(fixture('classifier-binary.onnx'));
    const result = await checkParity({
      session,
      table,
      probeRows,
      features,
      task: 'binary',
      expected: { probabilities: probe(probeRows) },
      tolerance: TOLERANCE,
    });
    assert.equal(result.ok, true);
    assert.ok(result.maxAbsDiff >= 0 && result.maxAbsDiff <= TOLERANCE);
  });

  test('a native output off by more than the tolerance rejects the model, naming the worst row and values', async () => {
    const session = await openSession(fixture('classifier-binary.onnx'));
    const tampered = probe(probeRows).map((p) => [...p]);
    tampered[3]![1] = tampered[3]![1]! + 0.01;
    tampered[5]![0] = tampered[5]![0]! - 0.002;
    await assert.rejects(
      checkParity({
        session,
        table,
        probeRows,
        features,
        task: 'binary',
        expected: { probabilities: tampered },
        tolerance: 1e-4,
        modelName: 'model.onnx',
      }),
      (err: unknown) =>
        err instanceof ModelRejectedError &&
        err.message.startsWith('model.onnx: ') &&
        err.message.includes('probe row 3 (table row 42, class column 1)') &&
        err.message.includes(`native ${tampered[3]![1]}`) &&
        /> tolerance 0\.0001/.test(err.message),
    );
  });

  test('regression parity reads predictions; a probe of the wrong length is a job-contract error', async () => {
    const session = await openSession(fixture('regressor.onnx'));
    const predictions = probeRows.map((r) => expected.regressor.predictions[r]!);
    const result = await checkParity({ session, table, probeRows, features, task: 'regression', expected: { predictions }, tolerance: 1e-3 });
    assert.ok(result.maxAbsDiff <= 1e-3);
    await assert.rejects(
      checkParity({ session, table, probeRows, features, task: 'regression', expected: { predictions: predictions.slice(1) }, tolerance: 1e-3 }),
      (err: unknown) => err instanceof JobContractError && /7 predictions for 8 probe rows/.test(err.message),
    );
  });

  test('regression: the tolerance is relative to the largest |prediction| on the probe rows, for every row alike', async () => {
    // A float32 output carries about 7 significant digits, so an absolute bound fails any prediction past ~2048 by
    // rounding alone, and a prediction near 0 made of large terms that cancel is as far off as the largest (the
    // estimator matrix met both on costs in dollars and weights in pounds).
    const session = await openSession(fixture('regressor.onnx'));
    const predictions = probeRows.map((r) => expected.regressor.predictions[r]!);
    const scale = Math.max(...predictions.map(Math.abs));
    assert.ok(scale > 10, `the largest prediction ${scale}`);
    const smallest = predictions.reduce((best, p, i) => (Math.abs(p) < Math.abs(predictions[best]!) ? i : best), 0);
    const shifted = (factor: number) => predictions.map((p, i) => (i === smallest ? p + factor * 1e-4 * scale : p));
    const within = await checkParity({ session, table, probeRows, features, task: 'regression', expected: { predictions: shifted(0.5) }, tolerance: 1e-4 });
    assert.equal(within.scale, scale);
    assert.ok(within.maxAbsDiff > 1e-4, `off by more than the tolerance in absolute terms (${within.maxAbsDiff})`);
    assert.ok(within.maxAbsDiff > 1e-4 * Math.max(1, Math.abs(predictions[smallest]!)), 'and by more than the tolerance relative to its own prediction');
    assert.ok(within.maxScaledDiff <= 1e-4 && within.maxScaledDiff > 0.4e-4, `scaled difference ${within.maxScaledDiff}`);
    await assert.rejects(
      checkParity({ session, table, probeRows, features, task: 'regression', expected: { predictions: shifted(3) }, tolerance: 1e-4, modelName: 'm' }),
      (err: unknown) =>
        err instanceof ModelRejectedError &&
        err.message.includes(`probe row ${smallest} `) &&
        err.message.includes(`> tolerance 0.0001 × ${scale} (the largest |native| on the probe rows) = `),
    );
  });
});
