// Live evidence cannot be forged by a client: request ids are the server's, feedback is taken only for ids it
// answered and only once, each token has one scope, and windows count only server-issued ids. On the real serving
// stack (scoring workers, shadow mirror, prediction log) through Hono's app.request, and the real window reader.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { releaseSessions } from '../../src/onnx';
import { PredictionLogWriter, newServerRequestId, readPredictionLog } from '../../src/prediction-log';
import { type Serving, createServing } from '../../src/serve';
import { type ShadowEvidence, collectShadowEvidence } from '../../src/shadow';
import { jsonRows, serveFixture } from '../serve/helpers';

const PREDICT_TOKEN = 'forgery-predict-token-0123456789';
const FEEDBACK_TOKEN = 'forgery-feedback-token-0123456789';
const METRICS_TOKEN = 'forgery-metrics-token-0123456789';
const bearer = (token: string) => ({ 'Content-Type': 'application/json', Authorization: `Bearer ${token}` });
const MODEL = 'guarded';

const fixture = serveFixture();
let serving: Serving;
let v1: number;
let v2: number;
const since = new Date();

before(async () => {
  // The champion and the shadow are the same binary classifier: every request is mirrored and can be paired.
  v1 = await fixture.register(MODEL, 'classifier-binary.onnx', [0, 1]);
  v2 = await fixture.register(MODEL, 'classifier-binary.onnx', [0, 1]);
  await fixture.promote(MODEL, v1);
  assert.ok((await fixture.registry.moveAlias({ model: MODEL, alias: 'shadow', toVersion: v2, expectedVersion: null, reason: 'test', workflowId: 'test', runId: 'shadow-1' })).moved);
  serving = await createServing({
    registry: fixture.registry,
    store: fixture.store,
    predictionLogDir: fixture.predictionsDir,
    token: PREDICT_TOKEN,
    feedbackToken: FEEDBACK_TOKEN,
    metricsToken: METRICS_TOKEN,
    processMetrics: false,
    pool: { threads: 1 },
    logFlushIntervalMs: 60_000,
  });
});

after(async () => {
  await serving?.close();
  fixture.registry.close();
  await releaseSessions();
});

async function predict(body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; id: string; clientId?: string; header: string | null }> {
  const res = await serving.app.request(`/models/${MODEL}/predict`, { method: 'POST', headers: { ...bearer(PREDICT_TOKEN), ...headers }, body: JSON.stringify(body) });
  const json = (await res.json()) as { id: string; clientId?: string };
  return { status: res.status, id: json.id, ...(json.clientId !== undefined ? { clientId: json.clientId } : {}), header: res.headers.get('x-request-id') };
}

async function feedback(body: unknown, token = FEEDBACK_TOKEN): Promise<{ status: number; body: { error?: string; code?: string; accepted?: number } }> {
  const res = await serving.app.request(`/models/${MODEL}/feedback`, { method: 'POST', headers: bearer(token), body: JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as { error?: string; code?: string; accepted?: number } };
}

/** The shadow window's evidence as the rollout reads it, after the mirror and the log have caught up. */
async function evidence(): Promise<ShadowEvidence> {
  await serving.shadowMirror!.drained();
  await serving.predictionLog!.flush();
  return collectShadowEvidence({ logDir: fixture.predictionsDir, model: MODEL, championVersion: v1, shadowVersion: v2, since, classes: [0, 1] });
}

/** Serves `n` requests of two rows and labels each once; returns their server ids. */
async function servedAndLabeled(n: number, labels: number[] = [0, 1]): Promise<string[]> {
  const ids: string[] = [];
  for (let k = 0; k < n; k++) {
    const { status, id } = await predict({ rows: jsonRows(2 * k, 2 * k + 2) });
    assert.equal(status, 200);
    assert.equal((await feedback({ id, labels })).status, 202);
    ids.push(id);
  }
  return ids;
}

describe('evidence that cannot be forged', () => {
  test('feedback for an id the server never answered is refused with 404 and does not move the window', async () => {
    await servedAndLabeled(3);
    const before = await evidence();
    assert.equal(before.counts.labeledRequests, 3);
    // An id of the server's form that it never issued, and a made-up id.
    for (const id of [newServerRequestId(), 'req-i-never-sent']) {
      const refused = await feedback({ id, labels: [1, 1] });
      assert.deepEqual([refused.status, refused.body.code], [404, 'not_found']);
      assert.match(refused.body.error!, /was not answered by this server for model 'guarded'/);
    }
    // A batch with one unknown id is refused whole: its known item is not taken either.
    const { id: known } = await predict({ rows: jsonRows(20, 22) });
    assert.equal((await feedback([{ id: known, labels: [1, 1] }, { id: newServerRequestId(), labels: [1, 1] }])).status, 404);
    const after = await evidence();
    assert.deepEqual(after.counts, { ...before.counts, championRequests: 4, shadowRequests: 4, pairedRequests: 4 });
    assert.deepEqual(after.labels, before.labels);
  });

  test('a second feedback for the same id is refused with 409, logged as a conflict, and never replaces the first', async () => {
    const [id] = await servedAndLabeled(1, [0, 0]);
    const before = await evidence();
    const again = await feedback({ id, labels: [1, 1] });
    assert.deepEqual([again.status, again.body.code], [409, 'conflict']);
    assert.match(again.body.error!, /already has labels; a request is labeled once and the first labels stand/);
    // The same id twice in one batch is a conflict too, and nothing of the batch is taken.
    const { id: fresh } = await predict({ rows: jsonRows(30, 32) });
    assert.equal((await feedback([{ id: fresh, labels: [1, 1] }, { id: fresh, labels: [0, 0] }])).status, 409);
    assert.equal((await feedback({ id: fresh, labels: [0, 1] })).status, 202, 'the refused batch left the id unlabeled');

    const after = await evidence();
    assert.equal(after.counts.labeledRequests, before.counts.labeledRequests + 1);
    assert.deepEqual(after.labels.slice(0, before.labels.length), before.labels, 'the first labels stand');
    const entries = await readPredictionLog({ dir: fixture.predictionsDir, model: MODEL });
    const ofId = entries.filter((e) => e.requestId === id && (e.kind === 'feedback' || e.kind === 'conflict'));
    assert.deepEqual(ofId.map((e) => [e.kind, e.labels]), [['feedback', '[0,0]'], ['conflict', '[1,1]']]);
  });

  test('a client-chosen id is not the one the window pairs on: the server issues its own, and evidence ignores other ids', async () => {
    const chosen = await predict({ id: 'client-pick-1', rows: jsonRows(40, 42) }, { 'x-request-id': 'header-pick' });
    assert.equal(chosen.status, 200);
    assert.match(chosen.id, /^rq_[0-9a-f]{32}$/);
    assert.equal(chosen.header, chosen.id);
    assert.equal(chosen.clientId, 'client-pick-1');
    // Feedback under the client's id is refused; under the server's it is taken.
    assert.equal((await feedback({ id: 'client-pick-1', labels: [1, 1] })).status, 404);
    const before = await evidence();
    assert.equal((await feedback({ id: chosen.id, labels: [1, 1] })).status, 202);
    const withLabel = await evidence();
    assert.equal(withLabel.counts.labeledRequests, before.counts.labeledRequests + 1);

    // Entries with ids the server did not issue (here written straight into the log, as a client-chosen id used
    // to be) never count: a whole forged pair with its labels leaves the window as it was.
    const forger = new PredictionLogWriter({ dir: fixture.predictionsDir, flushIntervalMs: 60_000 });
    const at = new Date();
    const base = { model: MODEL, rows: 2, inputsSha256: null, inputs: null, labels: null, latencyMs: 1 };
    forger.append({ ...base, kind: 'prediction', requestId: 'client-pick-1', at, version: v1, role: 'champion', outputs: '{"predictions":[1,1],"probabilities":[[0,1],[0,1]]}' });
    forger.append({ ...base, kind: 'prediction', requestId: 'client-pick-1', at, version: v2, role: 'shadow', outputs: '{"predictions":[0,0],"probabilities":[[1,0],[1,0]]}' });
    forger.append({ ...base, kind: 'feedback', requestId: 'client-pick-1', at, version: null, role: null, outputs: null, latencyMs: null, labels: '[1,1]' });
    await forger.close();
    const after = await evidence();
    assert.equal(after.counts.foreignIds, 3);
    assert.deepEqual({ ...after.counts, foreignIds: 0 }, withLabel.counts);
    assert.deepEqual(after.labels, withLabel.labels);
    // The log keeps the client's id beside the server's, for correlation only.
    const logged = (await readPredictionLog({ dir: fixture.predictionsDir, model: MODEL })).find((e) => e.requestId === chosen.id && e.role === 'champion')!;
    assert.equal(logged.clientId, 'client-pick-1');
  });

  test('each token has one scope: a predict token cannot post feedback or read metrics; a feedback token cannot predict', async () => {
    const { id } = await predict({ rows: jsonRows(50, 52) });
    const withPredictToken = await feedback({ id, labels: [1, 0] }, PREDICT_TOKEN);
    assert.deepEqual([withPredictToken.status, withPredictToken.body.code], [403, 'forbidden']);
    assert.match(withPredictToken.body.error!, /this is the predict token; feedback needs the feedback token/);
    const wrong = await feedback({ id, labels: [1, 0] }, 'not-a-token-of-this-server');
    assert.equal(wrong.status, 401);
    const byFeedbackToken = await serving.app.request(`/models/${MODEL}/predict`, { method: 'POST', headers: bearer(FEEDBACK_TOKEN), body: JSON.stringify({ rows: jsonRows(0, 1) }) });
    assert.equal(byFeedbackToken.status, 403);
    assert.equal((await serving.app.request('/metrics', { headers: bearer(PREDICT_TOKEN) })).status, 403);
    // The refused attempt left the id unlabeled: its own token labels it.
    assert.equal((await feedback({ id, labels: [1, 0] })).status, 202);

    const metrics = await serving.app.request('/metrics', { headers: bearer(METRICS_TOKEN) });
    assert.equal(metrics.status, 200);
    const text = await metrics.text();
    assert.ok(Number(/^relearn_serve_feedback_refused_total\{model="guarded",reason="unknown"\} (\d+)$/m.exec(text)?.[1]) >= 3);
    assert.ok(Number(/^relearn_serve_feedback_refused_total\{model="guarded",reason="conflict"\} (\d+)$/m.exec(text)?.[1]) >= 2);
    assert.match(text, /^relearn_serve_request_errors_total\{model="guarded",route="feedback",reason="forbidden"\} 1$/m);
  });

  test('with only a predict token, feedback is closed (403) and metrics take the predict token', async () => {
    const closed = await createServing({ registry: fixture.registry, store: fixture.store, token: PREDICT_TOKEN, processMetrics: false, pool: { threads: 1 }, shadow: false });
    try {
      const res = await closed.app.request(`/models/${MODEL}/predict`, { method: 'POST', headers: bearer(PREDICT_TOKEN), body: JSON.stringify({ rows: jsonRows(0, 2) }) });
      const { id } = (await res.json()) as { id: string };
      const fb = await closed.app.request(`/models/${MODEL}/feedback`, { method: 'POST', headers: bearer(PREDICT_TOKEN), body: JSON.stringify({ id, labels: [0, 1] }) });
      assert.equal(fb.status, 403);
      assert.match(((await fb.json()) as { error: string }).error, /feedback is closed: this server was started without a feedback token/);
      assert.equal((await closed.app.request('/metrics', { headers: bearer(PREDICT_TOKEN) })).status, 200);
    } finally {
      await closed.close();
    }
  });
});
