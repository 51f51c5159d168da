import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { resolveServeToken } from '../../src/cli/serve';
import { ConfigError } from '../../src/errors';
import { MicroBatcher, PredictionLogWriter, readPredictionLog } from '../../src/serve';
import type { FeatureColumns } from '../../src/serve';

describe('serve token', () => {
  test('auth on needs a token of at least 16 characters from --token-file or RELEARN_SERVE_TOKEN; --no-auth needs none', () => {
    assert.throws(() => resolveServeToken({ auth: true }, {}), (err: unknown) => err instanceof ConfigError && /set RELEARN_SERVE_TOKEN or pass --token-file/.test(err.message));
    assert.throws(() => resolveServeToken({ auth: true }, { RELEARN_SERVE_TOKEN: 'short' }), /at least 16 characters/);
    assert.equal(resolveServeToken({ auth: true }, { RELEARN_SERVE_TOKEN: ' 0123456789abcdef0123 ' }), '0123456789abcdef0123');
    const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'relearn-token-')), 'token');
    writeFileSync(file, 'file-token-0123456789abcdef\n');
    assert.equal(resolveServeToken({ auth: true, tokenFile: file }, { RELEARN_SERVE_TOKEN: 'ignored-env-token-0123456789' }), 'file-token-0123456789abcdef');
    assert.throws(() => resolveServeToken({ auth: true, tokenFile: `${file}-missing` }, {}), /--token-file .*cannot be read/);
    assert.equal(resolveServeToken({ auth: false }, {}), null);
  });
});

describe('micro-batcher', () => {
  test('requests of one window share a run and each gets its own rows back, in order', async () => {
    const runs: number[] = [];
    const batcher = new MicroBatcher(
      async (columns) => {
        runs.push(columns.rows);
        // Output per row: its numeric value times 10, so every request can check its own rows.
        return { data: Float32Array.from(columns.numeric[0]!, (v) => v * 10), width: 1 };
      },
      { windowMs: 5, maxBatchRows: 6 },
    );
    const request = (values: number[]): FeatureColumns => ({ rows: values.length, numeric: [Float32Array.from(values)], categorical: [] });
    const outs = await Promise.all([batcher.score(request([1, 2])), batcher.score(request([3])), batcher.score(request([4, 5, 6])), batcher.score(request([7, 8]))]);
    assert.deepEqual(outs.map((o) => Array.from(o.data)), [[10, 20], [30], [40, 50, 60], [70, 80]]);
    // 6 rows fill the first batch at once; the last request waits for the window.
    assert.deepEqual(runs, [6, 2]);
  });
});

describe('prediction log writer', () => {
  test('entries past the buffer cap are dropped and counted, never waited for', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'relearn-log-'));
    let dropped = 0;
    let written = 0;
    const writer = new PredictionLogWriter({ dir, maxPendingRecords: 2, flushIntervalMs: 60_000, onDropped: (n) => (dropped += n), onWritten: (n) => (written += n) });
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
});
