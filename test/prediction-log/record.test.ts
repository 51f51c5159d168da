// The JSON fields of a log record (inputs, outputs, labels, an error's outputs): written by one function each, parsed
// back by one schema each, and a field that does not parse names the segment file, the row and the field.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { DataContractError } from '../../src/errors';
import {
  type PredictionLogEntry,
  PredictionLogWriter,
  errorLogEntry,
  joinFeedback,
  listSegments,
  parseLoggedError,
  parseLoggedInputs,
  parseLoggedLabels,
  parseLoggedOutputs,
  readPredictionLog,
  serializeInputs,
  serializeLabels,
  serializeOutputs,
} from '../../src/prediction-log';
import { type ModelSignature, canonicalInputs } from '../../src/serve';

const prediction: PredictionLogEntry = {
  kind: 'prediction', requestId: 'r1', at: new Date('2024-05-01T10:00:00Z'), model: 'm', version: 1, role: 'champion',
  rows: 2, inputsSha256: 'a'.repeat(64), inputs: null, outputs: null, labels: null, latencyMs: 1,
};

async function writtenAndRead(entries: PredictionLogEntry[]): Promise<{ read: PredictionLogEntry[]; file: string }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'relearn-log-'));
  const writer = new PredictionLogWriter({ dir });
  for (const e of entries) writer.append(e);
  await writer.close();
  const [file] = await listSegments({ dir, model: 'm' });
  return { read: await readPredictionLog({ dir, model: 'm' }), file: file! };
}

describe('prediction log record fields', () => {
  test('each field reads back as written; NaN outputs (null in JSON) come back as NaN', async () => {
    const inputs = { features: ['distance', 'origin'], rows: [[500, 'SFO'], [null, null]] };
    const outputs = { predictions: [Number.NaN, 2.5], probabilities: [[0.25, Number.NaN]] };
    const { read } = await writtenAndRead([
      { ...prediction, inputs: serializeInputs(inputs), outputs: serializeOutputs(outputs) },
      { ...prediction, kind: 'feedback', version: null, role: null, inputsSha256: null, labels: serializeLabels(['yes', 0]), latencyMs: null },
      errorLogEntry({ model: 'm', version: 1 }, 'shadow', 'r2', 2, Object.assign(new Error('worker crashed'), { reason: 'unavailable' }), 3),
    ]);
    assert.equal(read[0]!.inputs, '{"features":["distance","origin"],"rows":[[500,"SFO"],[null,null]]}');
    assert.deepEqual(parseLoggedInputs(read[0]!), inputs);
    assert.deepEqual(parseLoggedOutputs(read[0]!), outputs);
    assert.deepEqual(parseLoggedLabels(read[1]!), ['yes', 0]);
    assert.deepEqual(parseLoggedError(read[2]!), { error: 'worker crashed', code: 'unavailable' });
  });

  test('the inputs text serving logs (and digests) is the format drift parses back', () => {
    const signature: ModelSignature = { numeric: ['distance'], categorical: ['origin'], kind: 'classifier', output: 'probabilities', classes: [0, 1] };
    const text = canonicalInputs(signature, { rows: 2, numeric: [Float32Array.from([1.5, Number.NaN])], categorical: [['SFO', '']] });
    assert.equal(text, serializeInputs({ features: ['distance', 'origin'], rows: [[1.5, 'SFO'], [null, '']] }));
    assert.deepEqual(parseLoggedInputs({ ...prediction, inputs: text }), { features: ['distance', 'origin'], rows: [[1.5, 'SFO'], [null, '']] });
  });

  test('a field that does not parse fails naming the segment file, the row and the field', async () => {
    const { read, file } = await writtenAndRead([
      { ...prediction, requestId: 'ok', outputs: serializeOutputs({ predictions: [1, 0] }) },
      { ...prediction, requestId: 'bad-outputs', outputs: '{"predictions": "yes"}' },
      { ...prediction, requestId: 'ragged', inputs: '{"features":["a","b"],"rows":[[1,2],[3]]}' },
      { ...prediction, requestId: 'not-json', kind: 'feedback', version: null, role: null, labels: '[1, 0' },
    ]);
    const fails = (fn: () => unknown, row: number, field: string, detail: RegExp) =>
      assert.throws(fn, (err: unknown) => {
        assert.ok(err instanceof DataContractError);
        assert.ok(err.message.startsWith(`prediction log ${file}: row ${row}, request ${read[row]!.requestId}`), err.message);
        assert.match(err.message, new RegExp(`field ${field}: `));
        assert.match(err.message, detail);
        return true;
      });
    fails(() => parseLoggedOutputs(read[1]!), 1, 'outputs', /expected \{"predictions"[\s\S]*predictions/);
    fails(() => parseLoggedInputs(read[2]!), 2, 'inputs', /1 values for 2 features[\s\S]*rows\[1\]/);
    fails(() => parseLoggedLabels(read[3]!), 3, 'labels', /not JSON/);
    fails(() => parseLoggedInputs(read[0]!), 0, 'inputs', /empty, expected/);
    // The feedback join reads the same fields, so the same error reaches shadow evidence and drift.
    assert.throws(() => joinFeedback(read.slice(0, 2)), /row 1, request bad-outputs \(prediction\), field outputs/);
    // An entry made in memory has no file to name: the request does.
    assert.throws(() => parseLoggedOutputs({ ...prediction, outputs: '{}' }), /: prediction log, request r1 \(prediction\), field outputs: expected/);
  });
});
