import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { Int32, Table, Utf8, tableToIPC, vectorFromArray } from 'apache-arrow';
import { DataContractError } from '../../src/errors';
import {
  type PredictionLogEntry,
  PredictionLogWriter,
  entriesToTable,
  listSegments,
  readPredictionLog,
} from '../../src/prediction-log';

const base: PredictionLogEntry = {
  kind: 'prediction', requestId: 'r', at: new Date('2024-05-01T10:00:00Z'), model: 'm', version: 3, role: 'champion',
  rows: 2, inputsSha256: 'a'.repeat(64), inputs: '{"features":["x"],"rows":[[1],[2]]}', outputs: '{"predictions":[0,1]}', labels: null, latencyMs: 2.25, clientId: 'client-7',
};

async function writeFlushes(dir: string, flushes: PredictionLogEntry[][]): Promise<void> {
  const writer = new PredictionLogWriter({ dir, flushIntervalMs: 60_000 });
  for (const entries of flushes) {
    for (const e of entries) writer.append(e);
    await writer.flush();
  }
  await writer.close();
}

describe('prediction log reader', () => {
  test('gives back every field as written, nulls and NaN included, oldest day and segment first', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'relearn-log-'));
    const feedback: PredictionLogEntry = {
      ...base, kind: 'feedback', requestId: 'r', at: new Date('2024-05-02T08:00:00.250Z'), version: null, role: null,
      inputsSha256: null, inputs: null, outputs: null, labels: '[true,false]', latencyMs: null,
    };
    const failed: PredictionLogEntry = { ...base, kind: 'error', requestId: 's', role: 'shadow', at: new Date('2024-05-01T11:00:00Z'), outputs: '{"error":"boom","code":"internal"}', latencyMs: Number.NaN };
    // Day 2 is written first: the reader orders by day folder, then by file name.
    await writeFlushes(dir, [[feedback], [failed], [base]]);
    const read = await readPredictionLog({ dir, model: 'm' });
    assert.deepEqual(read.map((e) => e.requestId), ['r', 's', 'r']);
    assert.deepEqual(read, [base, failed, feedback]);
    assert.deepEqual(await readPredictionLog({ dir, model: 'm', fromDay: '2024-05-02' }), [feedback]);
    assert.deepEqual(await readPredictionLog({ dir, model: 'm', toDay: '2024-05-01' }), [base, failed]);
  });

  test('skips records of kinds it does not know, temp files and folders that are not days', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'relearn-log-'));
    await writeFlushes(dir, [[base, { ...base, kind: 'something-new' as never, requestId: 'new' }]]);
    const day = path.join(dir, 'm', '2024-05-01');
    writeFileSync(path.join(day, '.100000000-1-000009.arrow.0badc0de.tmp'), 'half a file');
    writeFileSync(path.join(day, 'notes.txt'), 'not a segment');
    mkdirSync(path.join(dir, 'm', 'archive'));
    writeFileSync(path.join(dir, 'm', 'archive', 'x.arrow'), 'not in a day folder');
    assert.equal((await listSegments({ dir, model: 'm' })).length, 1);
    assert.deepEqual((await readPredictionLog({ dir, model: 'm' })).map((e) => e.requestId), ['r']);
  });

  test('a segment whose rows do not fit the record schema fails naming the file, row and field', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'relearn-log-'));
    const good = entriesToTable([base]);
    const columns = Object.fromEntries(good.schema.fields.map((f) => [f.name, good.getChild(f.name)!]));
    const bad = new Table({ ...columns, version: vectorFromArray(['three'], new Utf8()), rows: vectorFromArray([2], new Int32()) });
    const day = path.join(dir, 'm', '2024-05-01');
    mkdirSync(day, { recursive: true });
    const file = path.join(day, '100000000-1-000001.arrow');
    writeFileSync(file, tableToIPC(bad, 'file'));
    await assert.rejects(
      readPredictionLog({ dir, model: 'm' }),
      (err: unknown) => err instanceof DataContractError && err.message.includes(file) && /row 0/.test(err.message) && /version/.test(err.message),
    );
  });
});
