// Two serving replicas on one shared prediction log (a real S3-compatible server): feedback posted to replica B for a
// request replica A answered is taken once A's segment is in the log, labels a request once across replicas, and
// joins A's prediction in what a window reads.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { releaseSessions } from '../../src/onnx';
import { joinFeedback, readPredictionLog } from '../../src/prediction-log';
import type { Serving } from '../../src/serve';
import { type S3Server, freshBucket, s3Env, testS3Server } from '../helpers/s3';
import { jsonRows, serveFixture } from './helpers';

const fixture = serveFixture();
let server: S3Server;
let log: { url: string; endpoint: string; forcePathStyle: boolean };
let a: Serving;
let b: Serving;
let c: Serving;
const saved: Record<string, string | undefined> = {};

before(async () => {
  server = await testS3Server();
  for (const [k, v] of Object.entries(s3Env(server))) {
    saved[k] = process.env[k];
    process.env[k] = v;
  }
  log = { url: `s3://${await freshBucket(server, 'relearn-serve')}/predictions`, endpoint: server.endpoint, forcePathStyle: true };
  await fixture.promote('flights', await fixture.register('flights', 'classifier-binary.onnx', [0, 1]));
  a = await fixture.serve({ predictionLogDir: log, logFlushIntervalMs: 60_000, shadow: false });
  b = await fixture.serve({ predictionLogDir: log, logFlushIntervalMs: 60_000, shadow: false });
  c = await fixture.serve({ predictionLogDir: log, logFlushIntervalMs: 60_000, shadow: false });
});

after(async () => {
  await a?.close();
  await b?.close();
  await c?.close();
  fixture.registry.close();
  await releaseSessions();
  for (const [k, v] of Object.entries(saved)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
});

const post = (s: Serving, route: string, body: unknown) => s.app.request(route, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });

describe('feedback across replicas on a shared log', () => {
  test('replica B takes labels for a request replica A answered, once, and a reader joins them', async () => {
    const answered = await post(a, '/models/flights/predict', { rows: jsonRows(0, 3) });
    assert.equal(answered.status, 200);
    const { id } = (await answered.json()) as { id: string };

    // Not in the log yet (A has not flushed): B cannot know the request.
    const early = await post(b, '/models/flights/feedback', { id, labels: [0, 1, 1] });
    assert.equal(early.status, 404);

    await a.predictionLog!.flush();
    const wrongCount = await post(b, '/models/flights/feedback', { id, labels: [0, 1] });
    assert.equal(wrongCount.status, 400);
    assert.match(((await wrongCount.json()) as { error: string }).error, /had 3 rows, got 2 labels/);
    const taken = await post(b, '/models/flights/feedback', { id, labels: [0, 1, 1] });
    assert.equal(taken.status, 202);
    await b.predictionLog!.flush();

    // A second label on replica C, which finds A's prediction and B's feedback in the log: refused as a conflict.
    const third = await post(c, '/models/flights/feedback', { id, labels: [1, 1, 1] });
    assert.equal(third.status, 409);
    await c.predictionLog!.flush();
    // An id no replica answered is still refused.
    assert.equal((await post(c, '/models/flights/feedback', { id: `rq_${'0'.repeat(32)}`, labels: [1] })).status, 404);

    const entries = await readPredictionLog({ dir: log, model: 'flights' });
    const joined = joinFeedback(entries).filter((p) => p.requestId === id);
    assert.equal(joined.length, 1);
    assert.deepEqual(joined[0]!.labels, [0, 1, 1]);
  });
});
