// The prediction log is bounded: a byte cap on what it holds in memory (drops are counted in /metrics, one log line
// per burst, and the process's memory stays flat), a failed write drops its entries instead of keeping them, and
// retention deletes old segments by age and by bytes per model.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { releaseSessions } from '../../src/onnx';
import { type DropReason, type PredictionLogEntry, PredictionLogWriter, newServerRequestId, readPredictionLog } from '../../src/prediction-log';
import { createServing } from '../../src/serve';
import { jsonRows, serveFixture } from '../serve/helpers';

setFlagsFromString('--expose-gc');
const collect = runInNewContext('gc') as () => void;

/**
 * A full collection after one turn of the event loop: the test runner tracks async context, and the crypto job
 * behind each request id's random bytes is released only once the loop turns (a server turns it between requests).
 */
async function gc(): Promise<void> {
  await new Promise((resolve) => setImmediate(resolve));
  collect();
}

after(releaseSessions);

/** A prediction entry of about `outputBytes` bytes of outputs. */
function entry(at: Date, outputBytes = 1000, model = 'm'): PredictionLogEntry {
  return {
    kind: 'prediction', requestId: newServerRequestId(), at, model, version: 1, role: 'champion', rows: 1,
    inputsSha256: 'a'.repeat(64), inputs: null, outputs: `{"predictions":[${'1,'.repeat(outputBytes / 2)}1]}`, labels: null, latencyMs: 1,
  };
}

function files(dir: string): string[] {
  return (readdirSync(dir, { recursive: true }) as string[]).filter((f) => f.endsWith('.arrow')).map((f) => f.split(path.sep).join('/')).sort();
}

describe('bounded prediction log', () => {
  test('at its byte cap the writer drops new entries, counts them, logs one line per burst, and memory stays flat', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'relearn-bounded-'));
    const dropped: Record<DropReason, number> = { buffer_full: 0, write_failed: 0 };
    const lines: string[] = [];
    const cap = 512 * 1024;
    const writer = new PredictionLogWriter({
      dir, maxBufferedBytes: cap, flushRows: 1e9, flushIntervalMs: 3_600_000,
      onDropped: (n, reason) => (dropped[reason] += n), log: (line) => lines.push(line),
    });
    const at = new Date();
    let kept = 0;
    while (writer.append(entry(at))) kept += 1;
    assert.ok(writer.pending.bytes <= cap && writer.pending.bytes > cap - 2000, `buffered ${writer.pending.bytes} bytes of a ${cap} cap`);
    // A first stretch of drops warms the code path up, so that the measure below sees only what drops keep.
    const warmUp = 10_000;
    for (let i = 0; i < warmUp; i++) writer.append(entry(at));
    await gc();
    const heapBefore = process.memoryUsage().heapUsed;
    // 200 000 entries of ~1 kB: ~200 MB if they were kept.
    const attempts = 200_000;
    const growth: number[] = [];
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < attempts / 2; i++) writer.append(entry(at));
      await gc();
      growth.push((process.memoryUsage().heapUsed - heapBefore) / 1024 / 1024);
    }
    const grewMiB = growth.at(-1)!;
    console.log(`heap growth while dropping ${attempts} entries at a ${cap / 1024} KiB cap: ${growth.map((g) => g.toFixed(2)).join(' then ')} MiB (${kept} entries buffered)`);
    assert.ok(grewMiB < 4, `heap grew by ${grewMiB.toFixed(1)} MiB while the buffer was full`);
    assert.deepEqual(dropped, { buffer_full: 1 + warmUp + attempts, write_failed: 0 });
    assert.equal(writer.pending.records, kept);
    assert.equal(lines.length, 1, lines.join('\n'));
    assert.match(lines[0]!, /dropping entries \(buffer full: the buffer holds 0\.\d MiB, its cap is 0\.5 MiB\)/);
    // Once written, the buffer takes entries again; a new burst logs a new line.
    await writer.flush();
    assert.equal((await readPredictionLog({ dir, model: 'm' })).length, kept);
    assert.equal(writer.append(entry(at)), true);
    await writer.close();
  });

  test('through the server: drops are counted in relearn_serve_prediction_log_dropped_total and logged once', async () => {
    const fixture = serveFixture();
    await fixture.promote('flights', await fixture.register('flights', 'classifier-binary.onnx', [0, 1]));
    const lines: string[] = [];
    const serving = await createServing({
      registry: fixture.registry, store: fixture.store, predictionLogDir: fixture.predictionsDir, token: null,
      processMetrics: false, pool: { threads: 1 }, shadow: false,
      logBufferBytes: 4096, logFlushIntervalMs: 3_600_000, logFlushRows: 1_000_000, log: (line) => lines.push(line),
    });
    try {
      const requests = 40;
      for (let k = 0; k < requests; k++) {
        const res = await serving.app.request('/models/flights/predict', { method: 'POST', body: JSON.stringify({ rows: jsonRows(k, k + 1) }) });
        assert.equal(res.status, 200, 'a full log never fails a prediction');
      }
      const kept = serving.predictionLog!.pending.records;
      assert.ok(kept > 0 && kept < requests, `${kept} kept`);
      const text = await (await serving.app.request('/metrics')).text();
      assert.match(text, new RegExp(`^relearn_serve_prediction_log_dropped_total\\{reason="buffer_full"\\} ${requests - kept}$`, 'm'));
      assert.match(text, /^relearn_serve_prediction_log_pending_bytes \d+$/m);
      assert.equal(lines.filter((l) => l.includes('dropping entries')).length, 1, lines.join('\n'));
    } finally {
      await serving.close();
      fixture.registry.close();
    }
  });

  test('a failed write drops its entries instead of keeping them (a full disk never grows memory)', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'relearn-bounded-'));
    // A file where the model's folder should be: every write of model m fails.
    writeFileSync(path.join(dir, 'm'), 'in the way');
    const dropped: Record<DropReason, number> = { buffer_full: 0, write_failed: 0 };
    const lines: string[] = [];
    let flushErrors = 0;
    const writer = new PredictionLogWriter({
      dir, flushIntervalMs: 3_600_000,
      onDropped: (n, reason) => (dropped[reason] += n), onFlushError: () => (flushErrors += 1), log: (line) => lines.push(line),
    });
    for (let i = 0; i < 10; i++) writer.append(entry(new Date()));
    await writer.flush();
    for (let i = 0; i < 5; i++) writer.append(entry(new Date()));
    await writer.flush();
    assert.deepEqual(dropped, { buffer_full: 0, write_failed: 15 });
    assert.deepEqual(writer.pending, { records: 0, bytes: 0 });
    assert.equal(flushErrors, 2);
    assert.equal(lines.length, 1, 'one line for the burst');
    assert.match(lines[0]!, /dropping entries \(write failed: /);
    // The disk comes back: writes succeed and the burst is over.
    rmSync(path.join(dir, 'm'));
    writer.append(entry(new Date()));
    await writer.close();
    assert.equal(files(dir).length, 1);
  });

  test('retention deletes day folders older than the retention, then the oldest segments over the bytes per model', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'relearn-bounded-'));
    const now = new Date('2025-03-31T12:00:00Z');
    const retained: Array<[string, number]> = [];
    const writer = new PredictionLogWriter({ dir, flushIntervalMs: 3_600_000, retentionDays: 30, now: () => now, onRetention: (model, n) => retained.push([model, n]) });
    for (const day of ['2025-02-20', '2025-02-28', '2025-03-01', '2025-03-30']) writer.append(entry(new Date(`${day}T10:00:00Z`)));
    writer.append(entry(new Date('2025-02-20T10:00:00Z'), 1000, 'other'));
    await writer.close();
    // 30 days before 2025-03-31 is 2025-03-01: that day is kept, the two before it go, for each model.
    assert.deepEqual(files(dir).map((f) => f.split('/').slice(0, 2).join('/')), ['m/2025-03-01', 'm/2025-03-30']);
    assert.ok(!existsSync(path.join(dir, 'm', '2025-02-20')), 'the emptied day folder is removed');
    assert.deepEqual(retained.sort(), [['m', 2], ['other', 1]]);

    // By bytes: each flush writes a segment of ~20 kB; the cap holds three.
    const bytesDir = mkdtempSync(path.join(os.tmpdir(), 'relearn-bounded-'));
    const probe = new PredictionLogWriter({ dir: bytesDir, flushIntervalMs: 3_600_000 });
    for (let i = 0; i < 10; i++) probe.append(entry(now, 2000));
    await probe.close();
    const segmentBytes = statSync(path.join(bytesDir, files(bytesDir)[0]!)).size;
    rmSync(bytesDir, { recursive: true });
    const capped = new PredictionLogWriter({ dir: bytesDir, flushIntervalMs: 3_600_000, maxBytesPerModel: Math.floor(3.5 * segmentBytes), now: () => now });
    const written: string[][] = [];
    for (let flush = 0; flush < 7; flush++) {
      for (let i = 0; i < 10; i++) capped.append(entry(new Date(now.getTime() + flush * 1000), 2000));
      await capped.flush();
      written.push(files(bytesDir));
    }
    await capped.close();
    const left = files(bytesDir);
    assert.equal(left.length, 3, left.join(', '));
    // The newest three remain: the files are named by the time of their first record.
    assert.deepEqual(left, written.at(-1));
    assert.deepEqual(left.map((f) => f.split('/').at(-1)!.slice(0, 9)), ['120004000', '120005000', '120006000']);
    const total = left.reduce((sum, f) => sum + statSync(path.join(bytesDir, f)).size, 0);
    assert.ok(total <= 3.5 * segmentBytes);
    assert.equal((await readPredictionLog({ dir: bytesDir, model: 'm' })).length, 30);
  });
});
