import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { tableFromIPC } from 'apache-arrow';
import { type PredictionLogEntry, PredictionLogWriter, entriesToTable, readPredictionLog } from '../../src/prediction-log';

function prediction(requestId: string, at: string, model = 'm'): PredictionLogEntry {
  return {
    kind: 'prediction', requestId, at: new Date(at), model, version: 1, role: 'champion',
    rows: 1, inputsSha256: 'a'.repeat(64), inputs: null, outputs: '{"predictions":[1]}', labels: null, latencyMs: 1.5,
  };
}

describe('prediction log writer', () => {
  test("entries past the buffer's byte cap are dropped and counted, never waited for", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'relearn-log-'));
    let dropped = 0;
    let written = 0;
    // Each entry is estimated at about 400 bytes: two fit under 1000, a third does not.
    const writer = new PredictionLogWriter({ dir, maxBufferedBytes: 1000, flushIntervalMs: 60_000, onDropped: (n) => (dropped += n), onWritten: (n) => (written += n) });
    const entry = (id: string) => ({
      kind: 'prediction' as const, requestId: id, at: new Date('2024-05-01T10:00:00Z'), model: 'm', version: 1, role: 'champion' as const,
      rows: 1, inputsSha256: 'a'.repeat(64), inputs: null, outputs: '{"predictions":[1]}', labels: null, latencyMs: 1.5,
    });
    assert.equal(writer.append(entry('a')), true);
    assert.equal(writer.append(entry('b')), true);
    assert.equal(writer.append(entry('c')), false);
    await writer.close();
    assert.deepEqual([dropped, written], [1, 2]);
    const read = await readPredictionLog({ dir, model: 'm', fromDay: '2024-05-01', toDay: '2024-05-01' });
    assert.deepEqual(read.map((e) => e.requestId), ['a', 'b']);
    assert.equal(read[0]!.at.toISOString(), '2024-05-01T10:00:00.000Z');
    assert.deepEqual(await readPredictionLog({ dir, model: 'm', fromDay: '2024-05-02' }), []);
    assert.deepEqual(await readPredictionLog({ dir, model: 'other' }), []);
  });

  test('a flush writes one segment per model and UTC day, named <HHmmssSSS>-<pid>-<seq>.arrow, and leaves no temp file', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'relearn-log-'));
    const writer = new PredictionLogWriter({ dir, flushIntervalMs: 60_000 });
    writer.append(prediction('late', '2024-05-01T23:59:59.123Z'));
    writer.append(prediction('early', '2024-05-02T00:00:00.500Z'));
    writer.append(prediction('other', '2024-05-01T10:00:00Z', 'n'));
    writer.append(prediction('late-2', '2024-05-01T23:59:59.999Z'));
    await writer.close();
    const files = (readdirSync(dir, { recursive: true }) as string[]).filter((f) => f.endsWith('.arrow') || f.endsWith('.tmp')).map((f) => f.split(path.sep).join('/')).sort();
    const pid = process.pid;
    assert.deepEqual(files, [`m/2024-05-01/235959123-${pid}-000001.arrow`, `m/2024-05-02/000000500-${pid}-000002.arrow`, `n/2024-05-01/100000000-${pid}-000003.arrow`]);
    const first = tableFromIPC(readFileSync(path.join(dir, 'm', '2024-05-01', `235959123-${pid}-000001.arrow`)));
    assert.equal(first.numRows, 2);
  });

  test('segments are written 0640 and the folders the writer makes 0750: nothing world-readable', async () => {
    const dir = path.join(mkdtempSync(path.join(os.tmpdir(), 'relearn-log-')), 'predictions');
    // The usual umask (022) would leave 0644 and 0755 had the writer asked for them.
    const umask = process.umask(0o022);
    try {
      const writer = new PredictionLogWriter({ dir, flushIntervalMs: 60_000 });
      writer.append(prediction('a', '2024-05-01T10:00:00Z'));
      await writer.close();
    } finally {
      process.umask(umask);
    }
    const mode = (p: string): string => (statSync(p).mode & 0o777).toString(8);
    assert.deepEqual([dir, path.join(dir, 'm'), path.join(dir, 'm', '2024-05-01')].map(mode), ['750', '750', '750']);
    const segments = readdirSync(path.join(dir, 'm', '2024-05-01'));
    assert.equal(segments.length, 1);
    assert.equal(mode(path.join(dir, 'm', '2024-05-01', segments[0]!)), '640');
  });

  test('the Arrow schema of a segment, column by column', () => {
    const table = entriesToTable([prediction('a', '2024-05-01T10:00:00Z')]);
    assert.deepEqual(
      table.schema.fields.map((f) => `${f.name}: ${String(f.type)}`),
      [
        'kind: Utf8', 'requestId: Utf8', 'at: Timestamp<MILLISECOND>', 'model: Utf8', 'version: Int32', 'role: Utf8', 'rows: Int32',
        'inputsSha256: Utf8', 'inputs: Utf8', 'outputs: Utf8', 'labels: Utf8', 'latencyMs: Float64', 'clientId: Utf8',
      ],
    );
  });
});
