import assert from 'node:assert/strict';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { openSession, releaseSessions, scoreRows } from '../../src/onnx';
import { type PredictionLogEntry, joinFeedback, readPredictionLog } from '../../src/prediction-log';
import { type PoolModel, createServing, startServer } from '../../src/serve';
import { FIXTURES, expected, jsonRows, serveFixture, table } from './helpers';

const TOKEN = 'shadow-test-token-0123456789';
const headers = { 'Content-Type': 'application/json', Authorization: `Bearer ${TOKEN}` };
const ROWS_PER_REQUEST = 3;

after(releaseSessions);

/** Probabilities of onnxruntime-node run directly on the fixture model, one flat array per request of 3 rows. */
async function reference(file: string, task: 'binary' | 'multiclass', requests: number): Promise<number[][]> {
  const session = await openSession(path.join(FIXTURES, file));
  const scored = await scoreRows({ session, table, rows: { start: 0, end: requests * ROWS_PER_REQUEST }, features: expected, task });
  const width = scored.numClasses!;
  const per = ROWS_PER_REQUEST * width;
  return Array.from({ length: requests }, (_, k) => Array.from(scored.probabilities!.subarray(k * per, (k + 1) * per)));
}

/** A fixture model `name` with champion = binary classifier v1 and (unless `shadow` is false) shadow = 3-class v2. */
async function shadowedModel(name: string, shadow = true) {
  const fixture = serveFixture();
  const v1 = await fixture.register(name, 'classifier-binary.onnx', [0, 1]);
  const v2 = await fixture.register(name, 'classifier-3class.onnx', [0, 1, 2]);
  await fixture.promote(name, v1);
  if (shadow) {
    const moved = await fixture.registry.moveAlias({ model: name, alias: 'shadow', toVersion: v2, expectedVersion: null, reason: 'test', workflowId: 'test', runId: 'shadow-1' });
    assert.ok(moved.moved);
  }
  return { fixture, v1, v2 };
}

function metricValue(text: string, pattern: RegExp): number {
  const m = pattern.exec(text);
  return m === null ? 0 : Number(m[1]);
}

describe('shadow mirroring on a real port', () => {
  test('mirrored outputs are logged beside the champion’s with the same request id and equal onnxruntime-node on the shadow model', async () => {
    const requests = 12;
    const { fixture, v1, v2 } = await shadowedModel('mirrored');
    const [championRef, shadowRef] = await Promise.all([
      reference('classifier-binary.onnx', 'binary', requests),
      reference('classifier-3class.onnx', 'multiclass', requests),
    ]);
    const server = await startServer({
      registry: fixture.registry,
      store: fixture.store,
      port: 0,
      token: TOKEN,
      processMetrics: false,
      pool: { threads: 2 },
      predictionLogDir: fixture.predictionsDir,
      logFlushIntervalMs: 60_000,
    });
    try {
      assert.deepEqual(
        server.models.list().map((v) => [v.alias, v.version]),
        [['champion', v1], ['shadow', v2]],
      );
      const responses = await Promise.all(
        Array.from({ length: requests }, async (_, k) => {
          const res = await fetch(`${server.url}/models/mirrored/predict`, {
            method: 'POST',
            headers,
            body: JSON.stringify({ id: `req-${k}`, rows: jsonRows(k * ROWS_PER_REQUEST, (k + 1) * ROWS_PER_REQUEST) }),
          });
          return { status: res.status, body: (await res.json()) as { id: string; version: number; probabilities: number[][] } };
        }),
      );
      for (const [k, r] of responses.entries()) {
        assert.equal(r.status, 200);
        assert.equal(r.body.version, v1, 'the champion answers; the shadow never does');
        assert.deepEqual(r.body.probabilities.flat(), championRef[k]);
      }
      await server.shadowMirror!.drained();
      await server.predictionLog!.flush();
      const entries = await readPredictionLog({ dir: fixture.predictionsDir, model: 'mirrored' });
      const byId = new Map<string, PredictionLogEntry[]>();
      for (const e of entries) byId.set(e.requestId, [...(byId.get(e.requestId) ?? []), e]);
      for (let k = 0; k < requests; k++) {
        // The shadow's entry carries the champion's request id: the server's, from the response.
        const pair = byId.get(responses[k]!.body.id) ?? [];
        const champion = pair.find((e) => e.role === 'champion');
        const shadow = pair.find((e) => e.role === 'shadow');
        assert.ok(champion && shadow, `req-${k}: ${pair.length} entries`);
        assert.equal(champion.version, v1);
        assert.equal(shadow.version, v2);
        assert.equal(shadow.kind, 'prediction');
        assert.equal(shadow.rows, ROWS_PER_REQUEST);
        assert.equal(shadow.inputsSha256, champion.inputsSha256);
        assert.ok(shadow.latencyMs !== null && shadow.latencyMs >= 0);
        const outputs = JSON.parse(shadow.outputs!) as { predictions: number[]; probabilities: number[][] };
        assert.deepEqual(Object.keys(outputs), Object.keys(JSON.parse(champion.outputs!) as object), 'same JSON shape as the champion entry');
        assert.deepEqual(outputs.probabilities.flat(), shadowRef[k], `req-${k}: shadow outputs`);
        assert.equal(outputs.predictions.length, ROWS_PER_REQUEST);
      }
      // Both entries of a request get its feedback.
      const joined = joinFeedback(entries);
      assert.equal(joined.filter((p) => p.role === 'shadow').length, requests);

      const metrics = await (await fetch(`${server.url}/metrics`, { headers })).text();
      assert.equal(metricValue(metrics, /^relearn_serve_shadow_requests_total\{model="mirrored",version="2"\} (\d+)$/m), requests);
      assert.equal(metricValue(metrics, /^relearn_serve_shadow_dropped_total\{model="mirrored"\} (\d+)$/m), 0);
      assert.match(metrics, /^relearn_serve_shadow_queue_depth\{model="mirrored"\} 0$/m);
      assert.match(metrics, /^relearn_serve_model_version\{model="mirrored",alias="shadow"\} 2$/m);
    } finally {
      await server.close();
      fixture.registry.close();
    }
  });

  test('a queue of size 1 under a burst: every champion response is 200 and correct, drops are counted and equal offered − scored', async () => {
    const requests = 40;
    const { fixture, v1, v2 } = await shadowedModel('burst');
    const championRef = await reference('classifier-binary.onnx', 'binary', requests);
    const server = await startServer({
      registry: fixture.registry,
      store: fixture.store,
      port: 0,
      token: TOKEN,
      processMetrics: false,
      pool: { threads: 1 },
      predictionLogDir: fixture.predictionsDir,
      logFlushIntervalMs: 60_000,
      shadow: { queueSize: 1, concurrency: 1 },
    });
    try {
      const responses = await Promise.all(
        Array.from({ length: requests }, async (_, k) => {
          const res = await fetch(`${server.url}/models/burst/predict`, {
            method: 'POST',
            headers,
            body: JSON.stringify({ id: `burst-${k}`, rows: jsonRows(k * ROWS_PER_REQUEST, (k + 1) * ROWS_PER_REQUEST) }),
          });
          return { status: res.status, body: (await res.json()) as { version: number; probabilities: number[][]; error?: string } };
        }),
      );
      const failed = responses.filter((r) => r.status !== 200);
      assert.deepEqual(failed.slice(0, 3), [], `${failed.length} of ${requests} champion responses failed`);
      for (const [k, r] of responses.entries()) {
        assert.equal(r.body.version, v1);
        assert.deepEqual(r.body.probabilities.flat(), championRef[k]);
      }
      await server.shadowMirror!.drained();
      const stats = server.shadowMirror!.stats();
      assert.equal(stats.offered, requests, 'every answered request was offered');
      assert.equal(stats.failed, 0);
      assert.ok(stats.dropped > 0, `a queue of 1 under a burst of ${requests} dropped nothing (${JSON.stringify(stats)})`);
      assert.equal(stats.dropped, stats.offered - stats.scored);

      const metrics = await (await fetch(`${server.url}/metrics`, { headers })).text();
      assert.equal(metricValue(metrics, /^relearn_serve_shadow_dropped_total\{model="burst"\} (\d+)$/m), stats.dropped);
      assert.equal(metricValue(metrics, /^relearn_serve_shadow_requests_total\{model="burst",version="2"\} (\d+)$/m), stats.scored);
      await server.predictionLog!.flush();
      const entries = await readPredictionLog({ dir: fixture.predictionsDir, model: 'burst' });
      assert.equal(entries.filter((e) => e.role === 'champion').length, requests);
      assert.equal(entries.filter((e) => e.role === 'shadow' && e.version === v2).length, stats.scored);
      console.log(`# burst of ${requests}: ${stats.scored} mirrored, ${stats.dropped} dropped with a queue of 1`);
    } finally {
      await server.close();
      fixture.registry.close();
    }
  });
});

describe('no shadow, shadow off, server-side errors', () => {
  test('no shadow alias → nothing offered, mirrored or logged as shadow', async () => {
    const { fixture } = await shadowedModel('lonely', false);
    const serving = await fixture.serve({
      predictionLogDir: fixture.predictionsDir,
      logFlushIntervalMs: 60_000,
    });
    try {
      for (let k = 0; k < 3; k++) {
        const res = await serving.app.request('/models/lonely/predict', { method: 'POST', body: JSON.stringify({ rows: jsonRows(k, k + 1) }) });
        assert.equal(res.status, 200);
      }
      await serving.shadowMirror!.drained();
      assert.deepEqual(serving.shadowMirror!.stats(), { offered: 0, dropped: 0, scored: 0, failed: 0, queued: 0, inflight: 0 });
      await serving.predictionLog!.flush();
      const entries = await readPredictionLog({ dir: fixture.predictionsDir, model: 'lonely' });
      assert.equal(entries.length, 3);
      assert.ok(entries.every((e) => e.role === 'champion'));
      const metrics = await (await serving.app.request('/metrics')).text();
      assert.doesNotMatch(metrics, /^relearn_serve_shadow_(requests|dropped)_total\{/m);
    } finally {
      await serving.close();
      fixture.registry.close();
    }
  });

  test('the shadow’s mirrored rows ride in the champion’s next batch: one worker task for both, the champion’s part first; both answers still equal onnxruntime-node', async () => {
    const { fixture, v1, v2 } = await shadowedModel('riding');
    const [championRef, shadowRef] = await Promise.all([reference('classifier-binary.onnx', 'binary', 2), reference('classifier-3class.onnx', 'multiclass', 2)]);
    // A long window, so the second request lands in the window the first one's mirror opened.
    const serving = await createServing({
      registry: fixture.registry,
      store: fixture.store,
      token: null,
      processMetrics: false,
      pool: { threads: 1 },
      predictionLogDir: fixture.predictionsDir,
      logFlushIntervalMs: 60_000,
      batchWindowMs: 300,
    });
    try {
      const versionOf = new Map<string, number>([
        [(serving.models.peek('riding', 'champion') as unknown as { poolModel: PoolModel }).poolModel.key, v1],
        [(serving.models.peek('riding', 'shadow') as unknown as { poolModel: PoolModel }).poolModel.key, v2],
      ]);
      const tasks: Array<Array<{ version: number | undefined; rows: number }>> = [];
      const scoreParts = serving.pool.scoreParts.bind(serving.pool);
      serving.pool.scoreParts = (parts) => {
        tasks.push(parts.map((p) => ({ version: versionOf.get(p.model.key), rows: p.columns.rows })));
        return scoreParts(parts);
      };
      const predict = async (k: number) => {
        const res = await serving.app.request('/models/riding/predict', { method: 'POST', body: JSON.stringify({ rows: jsonRows(k * ROWS_PER_REQUEST, (k + 1) * ROWS_PER_REQUEST) }) });
        assert.equal(res.status, 200);
        return (await res.json()) as { id: string; probabilities: number[][] };
      };
      const first = await predict(0);
      const second = await predict(1);
      await serving.shadowMirror!.drained();
      assert.deepEqual(tasks, [
        [{ version: v1, rows: ROWS_PER_REQUEST }],
        [{ version: v1, rows: ROWS_PER_REQUEST }, { version: v2, rows: ROWS_PER_REQUEST }],
        [{ version: v2, rows: ROWS_PER_REQUEST }],
      ]);
      assert.deepEqual(first.probabilities.flat(), championRef[0]);
      assert.deepEqual(second.probabilities.flat(), championRef[1]);
      await serving.predictionLog!.flush();
      const entries = await readPredictionLog({ dir: fixture.predictionsDir, model: 'riding' });
      for (const [k, answer] of [first, second].entries()) {
        const shadow = entries.find((e) => e.requestId === answer.id && e.role === 'shadow');
        assert.equal(shadow?.version, v2);
        assert.deepEqual((JSON.parse(shadow.outputs!) as { probabilities: number[][] }).probabilities.flat(), shadowRef[k]);
      }
    } finally {
      await serving.close();
      fixture.registry.close();
    }
  });

  test('shadow: false, or no prediction log to write to, loads no shadow version even when the alias exists', async () => {
    const { fixture } = await shadowedModel('off');
    const base = { registry: fixture.registry, store: fixture.store, token: null, processMetrics: false, pool: { threads: 1 } };
    for (const options of [{ ...base, shadow: false as const, predictionLogDir: fixture.predictionsDir }, base]) {
      const serving = await createServing(options);
      try {
        assert.equal(serving.shadowMirror, undefined);
        assert.deepEqual(serving.models.list().map((v) => v.alias), ['champion']);
      } finally {
        await serving.close();
      }
    }
    fixture.registry.close();
  });

  test('a champion scoring failure (5xx) is logged as an error entry of its version; a 400 input error is not', async () => {
    const { fixture, v1 } = await shadowedModel('failing', false);
    const serving = await fixture.serve({
      predictionLogDir: fixture.predictionsDir,
      logFlushIntervalMs: 60_000,
    });
    try {
      const predict = (body: unknown) => serving.app.request('/models/failing/predict', { method: 'POST', body: JSON.stringify(body) });
      assert.equal((await predict({ id: 'ok-1', rows: jsonRows(0, 2) })).status, 200);
      assert.equal((await predict({ id: 'bad-1', rows: [{ distance: 'far' }] })).status, 400);
      // The version's shared bytes are zeroed and its sessions released: the workers' next open of it fails in
      // onnxruntime, a real server-side failure of this version.
      const served = serving.models.peek('failing') as unknown as { poolModel: PoolModel };
      new Uint8Array(served.poolModel.bytes).fill(0);
      serving.pool.release(served.poolModel.key);
      const failed = await predict({ id: 'fail-1', rows: jsonRows(0, 2) });
      assert.equal(failed.status, 500);
      await serving.predictionLog!.flush();
      const entries = await readPredictionLog({ dir: fixture.predictionsDir, model: 'failing' });
      assert.deepEqual(
        entries.map((e) => [e.kind, e.clientId, e.version, e.role]),
        [
          ['prediction', 'ok-1', v1, 'champion'],
          ['error', 'fail-1', v1, 'champion'],
        ],
      );
      const error = entries[1]!;
      assert.equal(error.rows, 2);
      assert.equal((JSON.parse(error.outputs!) as { code: string }).code, 'internal');
      assert.ok(error.latencyMs !== null);
      // Readers that join feedback skip error entries.
      assert.deepEqual(joinFeedback(entries).map((p) => p.requestId), [entries[0]!.requestId]);
    } finally {
      await serving.close();
      fixture.registry.close();
    }
  });
});
