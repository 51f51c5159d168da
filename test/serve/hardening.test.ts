// Leftovers of the trust-boundary work: numbers JSON cannot carry as floats are refused, and server-side failures
// answer with an error id while their detail (store paths, stack frames) goes to the server's log only.
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, describe, test } from 'node:test';
import { releaseSessions } from '../../src/onnx';
import { readPredictionLog } from '../../src/prediction-log';
import type { Serving } from '../../src/serve';
import { jsonRows, serveFixture } from './helpers';

const json = { 'Content-Type': 'application/json' };
const stacks: Serving[] = [];

after(async () => {
  for (const s of stacks) await s.close().catch(() => undefined);
  await releaseSessions();
});

async function post(serving: Serving, url: string, body: string): Promise<Response> {
  return serving.app.request(url, { method: 'POST', headers: json, body });
}

/** An absolute POSIX path of two or more segments, as store paths, temp folders and stack frames have. */
const ABSOLUTE_PATH = /(^|[\s:("'=])\/[A-Za-z0-9._-]+\/[A-Za-z0-9._/-]+/;

describe('non-finite numbers', () => {
  test('1e999 (Infinity once parsed) and numbers past float32 are 400s naming the row or element and the feature; null still means missing and is logged as null', async () => {
    const fixture = serveFixture();
    await fixture.promote('flights', await fixture.register('flights', 'classifier-binary.onnx', [0, 1]));
    const serving = await fixture.serve({
      predictionLogDir: fixture.predictionsDir,
      logInputs: 'full',
      logFlushIntervalMs: 60_000,
    });
    stacks.push(serving);
    const rows = jsonRows(0, 2);
    const text = (distance: string, row = 1): string =>
      JSON.stringify({ rows: rows.map((r, i) => (i === row ? { ...r, distance: 0 } : r)) }).replace('"distance":0', `"distance":${distance}`);

    const cases: Array<[string, RegExp]> = [
      [text('1e999'), /^row 1, feature 'distance': expected a finite number or null, got Infinity \(.*1e999.*\)/],
      [text('-1e999', 0), /^row 0, feature 'distance': expected a finite number or null, got -Infinity/],
      [text('1e39'), /^row 1, feature 'distance': expected a finite number or null, got 1e\+39, outside the float32 range/],
    ];
    for (const [body, message] of cases) {
      const res = await post(serving, '/models/flights/predict', body);
      assert.equal(res.status, 400, message.source);
      const error = (await res.json()) as { error: string; code: string };
      assert.equal(error.code, 'bad_request');
      assert.match(error.error, message);
    }
    const oip = (value: string): string =>
      `{"inputs":[{"name":"distance","datatype":"FP32","shape":[2,1],"data":[500,${value}]},` +
      '{"name":"delay","datatype":"FP32","shape":[2,1],"data":[3,4]},{"name":"hour","datatype":"FP32","shape":[2,1],"data":[12,13]},' +
      '{"name":"origin","datatype":"BYTES","shape":[2,1],"data":["ORD","SFO"]}]}';
    const infinite = await post(serving, '/v2/models/flights/infer', oip('1e999'));
    assert.equal(infinite.status, 400);
    assert.match(((await infinite.json()) as { error: string }).error, /^input 'distance', element 1: expected a finite number or null, got Infinity/);

    // The largest float32 is taken; null is the missing value as before, and the log keeps it as null.
    const accepted = [{ ...rows[0]!, delay: 3.4028234663852886e38 }, { ...rows[1]!, distance: null }];
    const ok = await post(serving, '/models/flights/predict', JSON.stringify({ rows: accepted }));
    assert.equal(ok.status, 200, await ok.clone().text());
    await serving.predictionLog!.flush();
    const logged = (await readPredictionLog({ dir: fixture.predictionsDir, model: 'flights' })).filter((e) => e.kind === 'prediction');
    assert.equal(logged.length, 1, 'the refused requests are not logged as predictions');
    const inputs = JSON.parse(logged[0]!.inputs!) as { features: string[]; rows: unknown[][] };
    assert.equal(inputs.rows[1]![inputs.features.indexOf('distance')], null);
    assert.equal(inputs.rows[0]![inputs.features.indexOf('delay')], Math.fround(3.4028234663852886e38));
  });
});

describe('server-side failures', () => {
  test('a 503 for a champion that cannot load and a 500 for a failed scoring carry an error id, no path; the log line has the id and the detail', async () => {
    const fixture = serveFixture();
    const version = await fixture.register('gone', 'classifier-binary.onnx', [0, 1]);
    await fixture.promote('gone', version);
    const file = fixture.store.resolve((await fixture.registry.getVersion('gone', version))!.artifactUri);
    rmSync(file);
    await fixture.promote('ok', await fixture.register('ok', 'regressor.onnx'));
    const lines: string[] = [];
    const serving = await fixture.serve({
      pollMs: 3_600_000,
      log: (l) => lines.push(l),
    });
    stacks.push(serving);

    const notReady = await post(serving, '/models/gone/predict', JSON.stringify({ rows: jsonRows(0, 1) }));
    assert.equal(notReady.status, 503);
    const body503 = (await notReady.json()) as { error: string; code: string; errorId: string };
    assert.equal(body503.code, 'not_ready');
    assert.match(body503.errorId, /^err_[0-9a-f]{16}$/);
    assert.match(body503.error, new RegExp(`^model 'gone' has no loadable champion \\(error id ${body503.errorId};`));
    assert.doesNotMatch(JSON.stringify(body503), ABSOLUTE_PATH);
    assert.ok(!JSON.stringify(body503).includes(fixture.stateDir));
    const line503 = lines.find((l) => l.includes(body503.errorId));
    assert.ok(line503 !== undefined, `no log line names ${body503.errorId}: ${lines.join('\n')}`);
    assert.ok(line503.includes(file), `the log line has the store path: ${line503}`);

    // Scoring fails inside the server with an error that names a file, as a failed read of a store file does.
    const storeFile = `${fixture.stateDir}/store/models/0123/model.onnx`;
    serving.pool.scoreParts = async () => {
      throw new Error(`ENOENT: no such file or directory, open '${storeFile}'`);
    };
    const failed = await post(serving, '/models/ok/predict', JSON.stringify({ rows: jsonRows(0, 1) }));
    assert.equal(failed.status, 500);
    const text500 = await failed.text();
    const body500 = JSON.parse(text500) as { error: string; code: string; errorId: string };
    assert.equal(body500.code, 'internal');
    assert.match(body500.error, new RegExp(`^internal error \\(error id ${body500.errorId};`));
    assert.doesNotMatch(text500, ABSOLUTE_PATH);
    assert.doesNotMatch(text500, /\bat [\w.<>]+ \(|node_modules|\.ts:\d+/);
    const line500 = lines.find((l) => l.includes(body500.errorId));
    assert.ok(line500 !== undefined, `no log line names ${body500.errorId}`);
    assert.match(line500, /POST \/models\/ok\/predict → 500 internal: \S/);
    assert.match(line500, /\n\s+at /, 'the log line keeps the stack');
    assert.ok(line500.includes(storeFile), 'the log line has the path the error named');
  });
});
