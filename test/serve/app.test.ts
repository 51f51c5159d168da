import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { openSession, releaseSessions, scoreRows } from '../../src/onnx';
import { joinFeedback, readPredictionLog } from '../../src/prediction-log';
import { type Serving, createServing } from '../../src/serve';
import { FIXTURES, expected, jsonRows, serveFixture, table } from './helpers';

const TOKEN = 'serve-test-token-0123456789';
const auth = { Authorization: `Bearer ${TOKEN}` };
const FEEDBACK_TOKEN = 'serve-test-feedback-token-0123456789';
const feedbackAuth = { Authorization: `Bearer ${FEEDBACK_TOKEN}` };
const json = { 'Content-Type': 'application/json' };

const fixture = serveFixture();
let serving: Serving;

async function post(url: string, body: unknown, headers: Record<string, string> = auth): Promise<Response> {
  return serving.app.request(url, { method: 'POST', headers: { ...json, ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });
}

async function errorOf(res: Response): Promise<{ status: number; error: string; code: string }> {
  const body = (await res.json()) as { error: string; code: string };
  return { status: res.status, ...body };
}

before(async () => {
  await fixture.promote('flights', await fixture.register('flights', 'classifier-binary.onnx', [0, 1]));
  await fixture.promote('delay-minutes', await fixture.register('delay-minutes', 'regressor.onnx'));
  await fixture.promote('three', await fixture.register('three', 'classifier-3class.onnx', ['low', 'mid', 'high']));
  // Registered but never promoted: known to the registry, not served.
  await fixture.register('unpromoted', 'classifier-binary.onnx', [0, 1]);
  serving = await createServing({
    registry: fixture.registry,
    store: fixture.store,
    predictionLogDir: fixture.predictionsDir,
    logInputs: 'full',
    token: TOKEN,
    feedbackToken: FEEDBACK_TOKEN,
    processMetrics: false,
    pool: { threads: 2 },
    batchWindowMs: 1,
    logFlushIntervalMs: 60_000,
    limits: { maxRows: 400, maxBodyBytes: 200_000 },
  });
});

after(async () => {
  await serving?.close();
  fixture.registry.close();
  await releaseSessions();
});

describe('health, metadata and auth', () => {
  test('health routes answer without a token; ready once every champion is loaded', async () => {
    const live = await serving.app.request('/v2/health/live');
    assert.equal(live.status, 200);
    const ready = await serving.app.request('/v2/health/ready');
    assert.equal(ready.status, 200);
    assert.deepEqual(await ready.json(), { ready: true });
  });

  test('every other route needs the bearer token: missing or wrong → 401 with WWW-Authenticate', async () => {
    const missing = await post('/models/flights/predict', { rows: jsonRows(0, 1) }, {});
    assert.equal(missing.status, 401);
    assert.match(missing.headers.get('www-authenticate') ?? '', /^Bearer/);
    assert.match((await errorOf(missing)).error, /missing bearer token/);
    const wrong = await post('/models/flights/predict', { rows: jsonRows(0, 1) }, { Authorization: 'Bearer not-the-token' });
    assert.equal(wrong.status, 401);
    assert.match((await errorOf(wrong)).error, /invalid bearer token/);
    assert.equal((await serving.app.request('/metrics')).status, 401);
    assert.equal((await serving.app.request('/v2/models/flights')).status, 401);
  });

  test('OIP model metadata lists the features as inputs and the outputs with their shapes', async () => {
    const res = await serving.app.request('/v2/models/flights', { headers: auth });
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), {
      name: 'flights',
      versions: ['1'],
      platform: 'onnxruntime_onnx',
      inputs: [
        { name: 'distance', datatype: 'FP32', shape: [-1, 1] },
        { name: 'delay', datatype: 'FP32', shape: [-1, 1] },
        { name: 'hour', datatype: 'FP32', shape: [-1, 1] },
        { name: 'origin', datatype: 'BYTES', shape: [-1, 1] },
      ],
      outputs: [
        { name: 'probabilities', datatype: 'FP32', shape: [-1, 2] },
        { name: 'label', datatype: 'INT64', shape: [-1] },
      ],
    });
    assert.deepEqual(await (await serving.app.request('/v2/models/flights/ready', { headers: auth })).json(), { name: 'flights', ready: true });
    assert.equal((await serving.app.request('/v2/models/flights/versions/1', { headers: auth })).status, 200);
    assert.equal((await serving.app.request('/v2/models/flights/versions/7', { headers: auth })).status, 404);
  });

  test('unknown model → 404; registered without a champion → 503', async () => {
    const unknown = await errorOf(await post('/models/nope/predict', { rows: jsonRows(0, 1) }));
    assert.deepEqual([unknown.status, unknown.code], [404, 'not_found']);
    assert.match(unknown.error, /model 'nope' is not in the registry/);
    const unpromoted = await errorOf(await post('/models/unpromoted/predict', { rows: jsonRows(0, 1) }));
    assert.deepEqual([unpromoted.status, unpromoted.code], [503, 'not_ready']);
    assert.match(unpromoted.error, /no champion loaded/);
  });
});

describe('inference', () => {
  test('predict on all 300 fixture rows equals src/onnx scoreRows on the same rows, and scikit-learn within 1e-5', async () => {
    const res = await post('/models/flights/predict', { id: 'req-all-rows', rows: jsonRows(0, expected.rows) });
    assert.equal(res.status, 200);
    // The id is the server's; the client's own id is only echoed back.
    assert.match(res.headers.get('x-request-id') ?? '', /^rq_[0-9a-f]{32}$/);
    assert.equal(res.headers.get('x-client-request-id'), 'req-all-rows');
    assert.equal(res.headers.get('x-model-version'), '1');
    const text = await res.text();
    const body = JSON.parse(text) as { id: string; clientId: string; version: number; classes: number[]; predictions: number[]; probabilities: number[][] };
    // Byte for byte what JSON.stringify writes for the response object, fields in this order.
    assert.equal(res.headers.get('content-type'), 'application/json');
    assert.equal(text, JSON.stringify({ id: body.id, clientId: 'req-all-rows', model: 'flights', version: 1, classes: [0, 1], predictions: body.predictions, probabilities: body.probabilities }));
    assert.equal(body.id, res.headers.get('x-request-id'));
    assert.equal(body.clientId, 'req-all-rows');
    assert.equal(body.version, 1);
    assert.deepEqual(body.classes, [0, 1]);
    const session = await openSession(path.join(FIXTURES, 'classifier-binary.onnx'));
    const direct = await scoreRows({ session, table, rows: { start: 0, end: table.numRows }, features: expected, task: 'binary' });
    assert.deepEqual(body.probabilities.flat(), Array.from(direct.probabilities!));
    body.probabilities.flat().forEach((p, i) => assert.ok(Math.abs(p - expected.classifierBinary.probabilities.flat()[i]!) <= 1e-5, `row ${i >> 1}`));
    body.probabilities.forEach((p, r) => assert.equal(body.predictions[r], p[1]! > p[0]! ? 1 : 0));
  });

  test('OIP v2 infer with per-feature tensors returns the same outputs as predict', async () => {
    const rows = jsonRows(10, 20);
    const inputs = [
      ...expected.numeric.map((f) => ({ name: f, datatype: 'FP32', shape: [10, 1], data: rows.map((r) => r[f]) })),
      ...expected.categorical.map((f) => ({ name: f, datatype: 'BYTES', shape: [10, 1], data: rows.map((r) => r[f]) })),
    ];
    const oip = await post('/v2/models/flights/infer', { id: 'oip-1', inputs });
    assert.equal(oip.status, 200);
    const body = (await oip.json()) as { model_name: string; model_version: string; id: string; parameters: { client_request_id: string }; outputs: Array<{ name: string; datatype: string; shape: number[]; data: number[] }> };
    assert.deepEqual([body.model_name, body.model_version, body.parameters.client_request_id], ['flights', '1', 'oip-1']);
    assert.match(body.id, /^rq_[0-9a-f]{32}$/);
    const simple = (await (await post('/models/flights/predict', { rows })).json()) as { probabilities: number[][]; predictions: number[] };
    const probabilities = body.outputs.find((o) => o.name === 'probabilities')!;
    assert.deepEqual(probabilities.shape, [10, 2]);
    assert.deepEqual(probabilities.data, simple.probabilities.flat());
    const label = body.outputs.find((o) => o.name === 'label')!;
    assert.deepEqual([label.datatype, label.shape, label.data], ['INT64', [10], simple.predictions]);
    // Only the outputs asked for.
    const onlyLabel = (await (await post('/v2/models/flights/infer', { inputs, outputs: [{ name: 'label' }] })).json()) as { outputs: Array<{ name: string }> };
    assert.deepEqual(onlyLabel.outputs.map((o) => o.name), ['label']);
  });

  test('regression: predictions equal scikit-learn within 1e-3 relative; classes come from the lineage', async () => {
    const regText = await (await post('/models/delay-minutes/predict', { rows: jsonRows(0, 50) })).text();
    const reg = JSON.parse(regText) as { id: string; version: number; predictions: number[]; classes?: unknown };
    assert.equal(reg.classes, undefined);
    assert.equal(regText, JSON.stringify({ id: reg.id, model: 'delay-minutes', version: reg.version, predictions: reg.predictions }));
    reg.predictions.forEach((p, i) => {
      const want = expected.regressor.predictions[i]!;
      assert.ok(Math.abs(p - want) <= 1e-3 * Math.max(1, Math.abs(want)), `row ${i}: ${p} vs ${want}`);
    });
    const threeText = await (await post('/models/three/predict', { rows: jsonRows(0, 5) })).text();
    const three = JSON.parse(threeText) as { id: string; version: number; classes: string[]; predictions: string[]; probabilities: number[][] };
    assert.deepEqual(three.classes, ['low', 'mid', 'high']);
    assert.equal(threeText, JSON.stringify({ id: three.id, model: 'three', version: three.version, classes: three.classes, predictions: three.predictions, probabilities: three.probabilities }));
    three.probabilities.forEach((p, r) => assert.equal(three.predictions[r], three.classes[p.indexOf(Math.max(...p))]));
  });
});

describe('input validation and limits', () => {
  const row = (): Record<string, unknown> => ({ ...jsonRows(0, 1)[0]! });

  test('a missing feature, a wrong type and an unknown key are 400s naming the feature', async () => {
    const { hour: _, ...noHour } = row();
    const missing = await errorOf(await post('/models/flights/predict', { rows: [row(), noHour] }));
    assert.deepEqual([missing.status, missing.code], [400, 'bad_request']);
    assert.match(missing.error, /row 1: missing feature 'hour'/);
    const wrongType = await errorOf(await post('/models/flights/predict', { rows: [{ ...row(), distance: 'far' }] }));
    assert.equal(wrongType.status, 400);
    assert.match(wrongType.error, /row 0, feature 'distance': expected a number or null, got string "far"/);
    const wrongCategory = await errorOf(await post('/models/flights/predict', { rows: [{ ...row(), origin: { code: 'ORD' } }] }));
    assert.match(wrongCategory.error, /feature 'origin': expected a string or null, got an object/);
    const extra = await errorOf(await post('/models/flights/predict', { rows: [{ ...row(), distnace: 3 }] }));
    assert.match(extra.error, /'distnace' is not a feature of model flights \(features: distance, delay, hour, origin\)/);
  });

  test('OIP: unknown input, missing input, wrong datatype and a shape that does not match the data are 400s', async () => {
    const base = [
      { name: 'distance', datatype: 'FP32', shape: [1, 1], data: [500] },
      { name: 'delay', datatype: 'FP32', shape: [1, 1], data: [3] },
      { name: 'hour', datatype: 'FP32', shape: [1, 1], data: [12] },
      { name: 'origin', datatype: 'BYTES', shape: [1, 1], data: ['ORD'] },
    ];
    const ok = await post('/v2/models/flights/infer', { inputs: base });
    assert.equal(ok.status, 200);
    const cases: Array<[unknown[], RegExp]> = [
      [[...base, { name: 'dest', datatype: 'BYTES', shape: [1, 1], data: ['SFO'] }], /input 'dest' is not a feature/],
      [base.slice(1), /missing input 'distance'/],
      [[{ ...base[0]!, datatype: 'BYTES' }, ...base.slice(1)], /input 'distance': datatype BYTES, expected a numeric datatype/],
      [[...base.slice(0, 3), { ...base[3]!, datatype: 'FP32' }], /input 'origin': datatype FP32, expected BYTES/],
      [[{ ...base[0]!, shape: [2, 1] }, ...base.slice(1)], /input 'distance': data has 1 values for shape \[2,1\]/],
      [[{ ...base[0]!, data: ['500'] }, ...base.slice(1)], /input 'distance', element 0: expected a number or null, got string "500"/],
    ];
    for (const [inputs, message] of cases) {
      const res = await errorOf(await post('/v2/models/flights/infer', { inputs }));
      assert.equal(res.status, 400, message.source);
      assert.match(res.error, message);
    }
  });

  test('malformed bodies: not JSON, no rows key, empty rows → 400 with a message', async () => {
    const notJson = await errorOf(await post('/models/flights/predict', '{"rows": [}'));
    assert.equal(notJson.status, 400);
    assert.match(notJson.error, /not valid JSON/);
    const noRows = await errorOf(await post('/models/flights/predict', { instances: [] }));
    assert.match(noRows.error, /rows: .*expected \{"rows"/);
    const empty = await errorOf(await post('/models/flights/predict', { rows: [] }));
    assert.match(empty.error, /no rows/);
  });

  test('more rows than the limit → 413; a body over the size limit → 413 from Content-Length, before it is read', async () => {
    const many = await errorOf(await post('/models/flights/predict', { rows: jsonRows(0, 300).concat(jsonRows(0, 101)) }));
    assert.deepEqual([many.status, many.code], [413, 'too_large']);
    assert.match(many.error, /401 rows, more than the limit of 400/);
    let pulled = 0;
    // A stream that counts what is read: the limit must refuse it without pulling the body.
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulled += 1;
        controller.enqueue(new Uint8Array(64 * 1024).fill(32));
        if (pulled > 10) controller.close();
      },
    });
    const res = await serving.app.request('/models/flights/predict', {
      method: 'POST',
      headers: { ...json, ...auth, 'Content-Length': String(10 * 1024 * 1024) },
      body,
      duplex: 'half',
    } as RequestInit);
    const big = await errorOf(res);
    assert.deepEqual([big.status, big.code], [413, 'too_large']);
    assert.match(big.error, /larger than the limit of 200000 bytes/);
    assert.ok(pulled <= 1, `the body was read (${pulled} chunks pulled)`);
  });
});

describe('feedback and the prediction log', () => {
  test('feedback checks labels against the classes and the row count of the request it names', async () => {
    const { id } = (await (await post('/models/flights/predict', { id: 'fb-1', rows: jsonRows(0, 3) })).json()) as { id: string };
    const wrongClass = await errorOf(await post('/models/flights/feedback', { id, labels: [0, 1, 'yes'] }, feedbackAuth));
    assert.equal(wrongClass.status, 400);
    assert.match(wrongClass.error, /"yes" is not a class of model 'flights' \(classes: 0, 1\)/);
    const wrongCount = await errorOf(await post('/models/flights/feedback', { id, labels: [0, 1] }, feedbackAuth));
    assert.match(wrongCount.error, new RegExp(`request ${id} had 3 rows, got 2 labels`));
    // The client's own id is not a request id the server answered.
    const byClientId = await errorOf(await post('/models/flights/feedback', { id: 'fb-1', labels: [0, 1, 1] }, feedbackAuth));
    assert.deepEqual([byClientId.status, byClientId.code], [404, 'not_found']);
    const ok = await post('/models/flights/feedback', [{ id, labels: [0, '1', 1] }], feedbackAuth);
    assert.equal(ok.status, 202);
    assert.deepEqual(await ok.json(), { accepted: 1, labels: 3, matched: 1 });
  });

  test('the log round-trips through Arrow IPC: ids, versions, digests, inputs, outputs and joined labels', async () => {
    const rows = jsonRows(40, 44);
    const predicted = (await (await post('/models/flights/predict', { id: 'log-1', rows })).json()) as { id: string; probabilities: number[][]; predictions: number[] };
    assert.equal((await post('/models/flights/feedback', { id: predicted.id, labels: [1, 0, 1, 1] }, feedbackAuth)).status, 202);
    // The same rows through OIP (different key order, same values) give the same inputs digest.
    const inputs = [...expected.categorical, ...expected.numeric].map((f) => ({
      name: f,
      datatype: expected.categorical.includes(f) ? 'BYTES' : 'FP64',
      shape: [4],
      data: rows.map((r) => r[f]),
    }));
    const oip = await post('/v2/models/flights/infer', { id: 'log-2', inputs });
    assert.equal(oip.status, 200);
    const oipBody = (await oip.json()) as { id: string; parameters: { client_request_id: string } };
    assert.deepEqual([oipBody.id, oipBody.parameters.client_request_id], [oip.headers.get('x-request-id'), 'log-2']);
    await serving.predictionLog!.flush();

    const entries = await readPredictionLog({ dir: fixture.predictionsDir, model: 'flights' });
    const first = entries.find((e) => e.requestId === predicted.id && e.kind === 'prediction')!;
    const second = entries.find((e) => e.requestId === oipBody.id)!;
    // The client's ids are kept beside the server's, only to correlate.
    assert.deepEqual([first.clientId, second.clientId], ['log-1', 'log-2']);
    assert.equal(first.version, 1);
    assert.equal(first.role, 'champion');
    assert.equal(first.rows, 4);
    assert.match(first.inputsSha256!, /^[0-9a-f]{64}$/);
    assert.equal(second.inputsSha256, first.inputsSha256);
    assert.deepEqual(JSON.parse(first.inputs!).features, ['distance', 'delay', 'hour', 'origin']);
    assert.ok(first.latencyMs! > 0);
    assert.deepEqual(JSON.parse(first.outputs!), { predictions: predicted.predictions, probabilities: predicted.probabilities });

    const joined = joinFeedback(entries).find((p) => p.requestId === predicted.id)!;
    assert.deepEqual(joined.labels, [1, 0, 1, 1]);
    assert.deepEqual(joined.predictions, predicted.predictions);
    assert.equal(joinFeedback(entries).find((p) => p.requestId === oipBody.id)!.labels, null);
  });
});

describe('metrics', () => {
  test('/metrics is Prometheus text with request counts, latency histograms, errors per version and the shadow gauges', async () => {
    const res = await serving.app.request('/metrics', { headers: auth });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    const count = (pattern: RegExp): number => Number(pattern.exec(text)?.[1] ?? Number.NaN);
    assert.ok(count(/^relearn_serve_requests_total\{model="flights",version="1",route="predict",status="200"\} (\d+)$/m) >= 4);
    assert.ok(count(/^relearn_serve_requests_total\{model="flights",version="",route="predict",status="401"\} (\d+)$/m) >= 1);
    assert.ok(count(/^relearn_serve_request_errors_total\{model="flights",route="predict",reason="bad_request"\} (\d+)$/m) >= 3);
    assert.ok(count(/^relearn_serve_request_errors_total\{model="flights",route="predict",reason="too_large"\} (\d+)$/m) >= 2);
    assert.match(text, /^relearn_serve_request_duration_seconds_bucket\{le="0\.005",model="flights",version="1",route="predict"\} \d+$/m);
    assert.ok(count(/^relearn_serve_rows_scored_total\{model="flights",version="1"\} (\d+)$/m) >= 300);
    assert.match(text, /^relearn_serve_model_version\{model="flights",alias="champion"\} 1$/m);
    assert.match(text, /^relearn_serve_batch_rows_count\{model="flights"\} \d+$/m);
    assert.ok(count(/^relearn_serve_feedback_labels_total\{model="flights"\} (\d+)$/m) >= 4);
    assert.match(text, /^# TYPE relearn_serve_shadow_queue_depth gauge$/m);
    assert.match(text, /^# TYPE relearn_serve_shadow_dropped_total counter$/m);
    // An unknown model name never becomes a label value.
    assert.doesNotMatch(text, /model="nope"/);
  });
});
