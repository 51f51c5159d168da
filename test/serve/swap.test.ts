import assert from 'node:assert/strict';
import { chmodSync, appendFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { openSession, releaseSessions, scoreRows } from '../../src/onnx';
import { type Serving, startServer } from '../../src/serve';
import { waitFor } from '../helpers/wait';
import { FIXTURES, expected, jsonRows, serveFixture, table } from './helpers';

const TOKEN = 'swap-test-token-0123456789';
const headers = { 'Content-Type': 'application/json', Authorization: `Bearer ${TOKEN}` };
const ROWS_PER_REQUEST = 3;
const DISTINCT_REQUESTS = 20;

after(releaseSessions);

/** What src/onnx gives for each request's rows with a fixture model: the reference every response is held to. */
async function referenceOutputs(file: string, task: 'binary' | 'multiclass'): Promise<number[][]> {
  const session = await openSession(path.join(FIXTURES, file));
  const scored = await scoreRows({ session, table, rows: { start: 0, end: DISTINCT_REQUESTS * ROWS_PER_REQUEST }, features: expected, task });
  const width = scored.numClasses!;
  return Array.from({ length: DISTINCT_REQUESTS }, (_, k) =>
    Array.from(scored.probabilities!.subarray(k * ROWS_PER_REQUEST * width, (k + 1) * ROWS_PER_REQUEST * width)),
  );
}

describe('hot swap on a real port', () => {
  test('concurrent clients through two swaps: no error, no lost request, every response tagged with the version that produced it', async () => {
    const fixture = serveFixture();
    const v1 = await fixture.register('swap', 'classifier-binary.onnx', [0, 1]);
    const v2 = await fixture.register('swap', 'classifier-3class.onnx', [0, 1, 2]);
    await fixture.promote('swap', v1);
    const reference = new Map([
      [v1, await referenceOutputs('classifier-binary.onnx', 'binary')],
      [v2, await referenceOutputs('classifier-3class.onnx', 'multiclass')],
    ]);
    const server = await startServer({
      registry: fixture.registry,
      store: fixture.store,
      port: 0,
      token: TOKEN,
      pollMs: 50,
      processMetrics: false,
      pool: { threads: 2 },
      predictionLogDir: fixture.predictionsDir,
    });
    try {
      let sent = 0;
      let stop = false;
      const results: Array<{ k: number; status: number; version: number; header: string | null; probabilities: number[][] | undefined; error?: string }> = [];
      const client = async (c: number): Promise<void> => {
        for (let i = 0; !stop; i++) {
          const k = (c * 7 + i) % DISTINCT_REQUESTS;
          sent += 1;
          const res = await fetch(`${server.url}/models/swap/predict`, {
            method: 'POST',
            headers,
            body: JSON.stringify({ rows: jsonRows(k * ROWS_PER_REQUEST, (k + 1) * ROWS_PER_REQUEST) }),
          });
          const body = (await res.json()) as { version: number; probabilities?: number[][]; error?: string };
          results.push({ k, status: res.status, version: body.version, header: res.headers.get('x-model-version'), probabilities: body.probabilities, error: body.error });
        }
      };
      // Each phase lasts until 15 responses came from its version (whatever the machine's load), 20 s at most.
      const answeredBy = async (version: number, from: number): Promise<void> => {
        const count = () => results.slice(from).filter((r) => r.version === version).length;
        await waitFor(`15 responses from v${version} after response ${from}`, () => (count() >= 15 ? true : undefined), 20_000);
      };
      const started = Date.now();
      const swaps = (async () => {
        await answeredBy(v1, 0);
        await fixture.promote('swap', v2);
        await answeredBy(v2, results.length);
        const back = results.length;
        await fixture.promote('swap', v1);
        await answeredBy(v1, back);
        stop = true;
      })();
      await Promise.all([...Array.from({ length: 6 }, (_, c) => client(c)), swaps]);
      const elapsedS = (Date.now() - started) / 1000;

      const failed = results.filter((r) => r.status !== 200);
      assert.deepEqual(failed.slice(0, 3), [], `${failed.length} of ${results.length} requests failed`);
      assert.equal(results.length, sent, 'every request got a response');
      const byVersion = new Map<number, number>();
      for (const r of results) {
        byVersion.set(r.version, (byVersion.get(r.version) ?? 0) + 1);
        assert.equal(r.header, String(r.version));
        assert.deepEqual(r.probabilities!.flat(), reference.get(r.version)![r.k], `request ${r.k} answered as v${r.version}`);
      }
      assert.ok((byVersion.get(v1) ?? 0) >= 30 && (byVersion.get(v2) ?? 0) >= 15, `responses per version: ${JSON.stringify([...byVersion])}`);
      // Served v1, then v2, then v1 again: the last responses come from v1.
      assert.equal(results.at(-1)!.version, v1);
      console.log(`# ${results.length} requests in ${elapsedS.toFixed(1)} s through 2 swaps, per version: ${JSON.stringify(Object.fromEntries(byVersion))}`);

      const metrics = await (await fetch(`${server.url}/metrics`, { headers })).text();
      assert.match(metrics, /^relearn_serve_model_loads_total\{model="swap",outcome="ok"\} 3$/m);
      assert.match(metrics, /^relearn_serve_model_version\{model="swap",alias="champion"\} 1$/m);
    } finally {
      await server.close();
      fixture.registry.close();
    }
  });

  test('a body streamed in chunks past the limit is cut off with 413; a request without a token is 401', async () => {
    const fixture = serveFixture();
    await fixture.promote('chunked', await fixture.register('chunked', 'classifier-binary.onnx', [0, 1]));
    const server = await startServer({
      registry: fixture.registry,
      store: fixture.store,
      port: 0,
      token: TOKEN,
      processMetrics: false,
      pool: { threads: 1 },
      limits: { maxBodyBytes: 64 * 1024 },
    });
    try {
      const { status, body, chunksWritten } = await new Promise<{ status: number; body: string; chunksWritten: number }>((resolve, reject) => {
        const req = http.request(`${server.url}/models/chunked/predict`, { method: 'POST', headers: { ...headers, 'Transfer-Encoding': 'chunked' } });
        let chunksWritten = 0;
        let answered = false;
        req.on('response', (res) => {
          answered = true;
          let text = '';
          res.setEncoding('utf8').on('data', (d: string) => (text += d));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text, chunksWritten }));
        });
        req.on('error', (err) => {
          // The server may reset the connection while the client is still writing: that also proves it stopped
          // reading early; the chunk count below tells how early.
          if (!answered && (err as NodeJS.ErrnoException).code !== 'ECONNRESET' && (err as NodeJS.ErrnoException).code !== 'EPIPE') reject(err);
        });
        req.on('close', () => {
          if (!answered) resolve({ status: 0, body: '', chunksWritten });
        });
        // Up to 4 MB in 16 KB chunks, stopping as soon as the server has answered.
        const writeMore = (): void => {
          while (!answered && chunksWritten < 256) {
            chunksWritten += 1;
            if (!req.write(Buffer.alloc(16 * 1024, 32))) {
              req.once('drain', writeMore);
              return;
            }
          }
          req.end();
        };
        writeMore();
      });
      if (status !== 0) {
        assert.equal(status, 413);
        assert.match(JSON.parse(body).error, /larger than the limit of 65536 bytes/);
      }
      assert.ok(chunksWritten < 256, `the server read all ${chunksWritten} chunks before answering`);

      const unauthenticated = await fetch(`${server.url}/models/chunked/predict`, { method: 'POST', body: '{}' });
      assert.equal(unauthenticated.status, 401);
    } finally {
      await server.close();
      fixture.registry.close();
    }
  });

  test('behind Node, a body whose Content-Length is past the limit is refused with the same 413 before it is read; one exactly at the limit is read and scored', async () => {
    const fixture = serveFixture();
    await fixture.promote('sized', await fixture.register('sized', 'classifier-binary.onnx', [0, 1]));
    const limit = 2048;
    const server = await startServer({
      registry: fixture.registry,
      store: fixture.store,
      port: 0,
      token: TOKEN,
      processMetrics: false,
      pool: { threads: 1 },
      limits: { maxBodyBytes: limit },
    });
    // JSON padded with trailing spaces to an exact size (fetch sends it with a Content-Length).
    const sized = (bytes: number): string => {
      const json = JSON.stringify({ rows: jsonRows(0, 2) });
      assert.ok(json.length < bytes);
      return json + ' '.repeat(bytes - json.length);
    };
    try {
      const over = await fetch(`${server.url}/models/sized/predict`, { method: 'POST', headers, body: sized(limit + 1) });
      assert.equal(over.status, 413);
      assert.deepEqual(await over.json(), { error: `request body is larger than the limit of ${limit} bytes`, code: 'too_large' });

      const at = await fetch(`${server.url}/models/sized/predict`, { method: 'POST', headers, body: sized(limit) });
      assert.equal(at.status, 200);
      const answer = (await at.json()) as { predictions: unknown[]; probabilities: number[][] };
      assert.equal(answer.predictions.length, 2);
      assert.equal(answer.probabilities.length, 2);

      // Past the limit without a token: authentication is still decided first.
      const anonymous = await fetch(`${server.url}/models/sized/predict`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: sized(limit + 1) });
      assert.equal(anonymous.status, 401);
    } finally {
      await server.close();
      fixture.registry.close();
    }
  });
});

describe('swaps without a port', () => {
  const stacks: Serving[] = [];
  after(async () => {
    for (const s of stacks) await s.close();
  });

  test('a request waiting in the batcher when the alias moves is answered by the version it started on', async () => {
    const fixture = serveFixture();
    const v1 = await fixture.register('inflight', 'classifier-binary.onnx', [0, 1]);
    const v2 = await fixture.register('inflight', 'classifier-3class.onnx', [0, 1, 2]);
    await fixture.promote('inflight', v1);
    // A long batch window holds the first request in the batcher while the swap happens; polling is manual.
    const serving = await fixture.serve({
      pollMs: 3_600_000,
      batchWindowMs: 400,
    });
    stacks.push(serving);
    // A request holds its version from the moment the app acquires it: the alias moves once the first one has.
    const acquired: number[] = [];
    const acquire = serving.models.acquire.bind(serving.models);
    serving.models.acquire = (model, alias) => {
      const loaded = acquire(model, alias);
      if (loaded !== undefined) acquired.push(loaded.version);
      return loaded;
    };
    const predict = async () => {
      const res = await serving.app.request('/models/inflight/predict', { method: 'POST', body: JSON.stringify({ rows: jsonRows(0, 2) }) });
      return (await res.json()) as { version: number; probabilities: number[][] };
    };
    const started = predict();
    await waitFor('the first request to hold v1', () => (acquired.includes(v1) ? true : undefined), 10_000);
    await fixture.promote('inflight', v2);
    await serving.models.sync();
    const after = predict();
    const [first, second] = await Promise.all([started, after]);
    assert.equal(first.version, v1);
    assert.equal(first.probabilities[0]!.length, 2);
    assert.equal(second.version, v2);
    assert.equal(second.probabilities[0]!.length, 3);
  });

  test('a version that fails to load (onnxruntime refuses it, or its bytes no longer match the digest) is not served; the old one stays', async () => {
    const fixture = serveFixture();
    const v1 = await fixture.register('guarded', 'classifier-binary.onnx', [0, 1]);
    const broken = await fixture.register('guarded', 'hostile-random-bytes.onnx');
    const tampered = await fixture.register('guarded', 'regressor.onnx');
    await fixture.promote('guarded', v1);
    const lines: string[] = [];
    // Token off: this stack also shows that --no-auth serves without the Authorization header.
    const serving = await fixture.serve({
      token: null,
      pollMs: 3_600_000,
      log: (l) => lines.push(l),
    });
    stacks.push(serving);
    const version = async () => ((await (await serving.app.request('/models/guarded')).json()) as { version: number }).version;

    await fixture.promote('guarded', broken);
    await serving.models.sync();
    assert.equal(await version(), v1);
    assert.match(lines.at(-1)!, /guarded: cannot serve champion v2: .*still serving v1/);

    const record = (await fixture.registry.getVersion('guarded', tampered))!;
    const file = fixture.store.resolve(record.artifactUri);
    chmodSync(file, 0o644);
    appendFileSync(file, Buffer.from([0]));
    await fixture.promote('guarded', tampered);
    await serving.models.sync();
    assert.equal(await version(), v1);
    assert.match(lines.at(-1)!, /guarded: cannot serve champion v3: .*SHA-256 is [0-9a-f]{64}, expected [0-9a-f]{64}.*still serving v1/);

    const predict = await serving.app.request('/models/guarded/predict', { method: 'POST', body: JSON.stringify({ rows: jsonRows(0, 1) }) });
    assert.equal(predict.status, 200);
    const metrics = await (await serving.app.request('/metrics')).text();
    assert.match(metrics, /^relearn_serve_model_loads_total\{model="guarded",outcome="failed"\} 2$/m);
  });

  test('a request that outlives the timeout gets 504 with code timeout', async () => {
    const fixture = serveFixture();
    await fixture.promote('slow', await fixture.register('slow', 'classifier-binary.onnx', [0, 1]));
    const serving = await fixture.serve({
      batchWindowMs: 300,
      limits: { requestTimeoutMs: 50 },
    });
    stacks.push(serving);
    const res = await serving.app.request('/models/slow/predict', { method: 'POST', body: JSON.stringify({ rows: jsonRows(0, 1) }) });
    assert.equal(res.status, 504);
    const body = (await res.json()) as { error: string; code: string };
    assert.equal(body.code, 'timeout');
    assert.match(body.error, /request timeout of 50 ms/);
  });
});
