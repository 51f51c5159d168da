// The registry page's handlers with app.request (no port): pages and JSON over the hand-written sample registry,
// authentication by bearer token or the login cookie, Web UI links, not-found answers, and that reading changes nothing.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { RegistryStore } from '../../src/registry';
import type { ArtifactStore } from '../../src/store';
import { TOKEN_COOKIE, createRegistryUiApp, webUiBase, webUiRunLink } from '../../src/ui';
import type { LoadedConfig } from '../../src/config';
import { MODEL, buildSampleRegistry } from '../report/sample-registry';

const TOKEN = 'registry-page-token-0123456789';

describe('registry page', () => {
  let dir: string;
  let registry: RegistryStore;
  let store: ArtifactStore;
  let app: ReturnType<typeof createRegistryUiApp>;
  let open: ReturnType<typeof createRegistryUiApp>;

  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'relearn-ui-'));
    ({ registry, store } = await buildSampleRegistry(dir));
    const runLink = webUiRunLink('http://127.0.0.1:8233', 'default');
    app = createRegistryUiApp({ registry, store, jobsDir: path.join(dir, 'jobs'), token: TOKEN, ...(runLink ? { runLink } : {}) });
    open = createRegistryUiApp({ registry, store, jobsDir: path.join(dir, 'jobs'), token: null });
  });

  after(async () => {
    await registry.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const auth = { headers: { authorization: `Bearer ${TOKEN}` } };

  test('without the token: 401 with a sign-in form for pages, JSON for the API; health needs none', async () => {
    const page = await app.request('/');
    assert.equal(page.status, 401);
    assert.match(await page.text(), /<form method="post" action="\/login">/);
    const api = await app.request('/api/models', { headers: { authorization: 'Bearer wrong-token-wrong-token' } });
    assert.equal(api.status, 401);
    assert.deepEqual(await api.json(), { error: 'missing or invalid bearer token', code: 'unauthorized' });
    assert.equal((await app.request('/healthz')).status, 200);
  });

  test('the login form trades the right token for an HttpOnly cookie that opens the pages; a wrong one is refused', async () => {
    const wrong = await app.request('/login', { method: 'POST', body: new URLSearchParams({ token: 'nope' }) });
    assert.equal(wrong.status, 401);
    const right = await app.request('/login', { method: 'POST', body: new URLSearchParams({ token: TOKEN }) });
    assert.equal(right.status, 303);
    const cookie = right.headers.get('set-cookie') ?? '';
    assert.match(cookie, new RegExp(`^${TOKEN_COOKIE}=${TOKEN}; Path=/; HttpOnly; SameSite=Strict`));
    const page = await app.request('/', { headers: { cookie: cookie.split(';')[0]! } });
    assert.equal(page.status, 200);
  });

  test('models: each with its version count, champion and aliases', async () => {
    const body = await (await app.request('/', auth)).text();
    assert.match(body, /<a class="model" href="\/models\/flights">flights<\/a><\/td><td class="num">3<\/td>/);
    assert.match(body, /champion → v1, previous → v1/);
    assert.deepEqual(await (await app.request('/api/models', auth)).json(), await registry.listModels());
  });

  test('a model: versions newest first with metric, gate, evaluations and outcome; the alias timeline in order; links', async () => {
    const res = await open.request(`/models/${MODEL}`);
    assert.equal(res.status, 200);
    const body = await res.text();
    const rows = [...body.matchAll(/<tr data-version="(\d+)">/g)].map((m) => Number(m[1]));
    assert.deepEqual(rows, [3, 2, 1]);
    assert.match(body, /<b>shadow<\/b>: <span class="promote">promote<\/span> \(not-worse\)/);
    assert.match(body, /<b>guard<\/b>: <span class="rollback">rollback<\/span> \(fail\)/);
    assert.match(body, /<td class="rolled-back">rolled-back<\/td>/);
    const timeline = [...body.matchAll(/data-action="([a-z-]+)" data-alias="([a-z]+)" data-from="(\d*)" data-to="(\d*)"/g)].map((m) => `${m[2]} ${m[1]} ${m[3]}→${m[4]}`);
    assert.deepEqual(timeline, ['champion promote →1', 'champion promote 1→2', 'previous promote →1', 'champion rollback 2→1']);
    assert.match(body, /href="\/models\/flights\/versions\/2\/report"/);
  });

  test('Web UI links name the workflow and run; without a Web UI there are none', async () => {
    const body = await (await app.request(`/models/${MODEL}/versions/2`, auth)).text();
    assert.match(body, /href="http:\/\/127\.0\.0\.1:8233\/namespaces\/default\/workflows\/retrain%2Fflights\/run-2222\/history" data-workflow-id="retrain\/flights" data-run-id="run-2222"/);
    assert.doesNotMatch(await (await open.request(`/models/${MODEL}/versions/2`)).text(), /class="web-ui"/);
  });

  test('a version: its lineage from snapshot to promotions, and the same as JSON', async () => {
    const body = await (await open.request(`/models/${MODEL}/versions/2`)).text();
    const order = ['Data snapshot', 'Training jobs', 'ONNX artifact', 'Evaluations', 'Promotions and rollbacks'].map((h) => body.indexOf(`<h3>${h}`));
    assert.ok(order.every((i, k) => i > 0 && (k === 0 || i > order[k - 1]!)), `sections in order: ${order.join(', ')}`);
    assert.match(body, /guard: harm shown/);
    const json = (await (await open.request(`/api/models/${MODEL}/versions/2`)).json()) as { version: number; events: unknown[] };
    assert.equal(json.version, 2);
    assert.equal(json.events.length, 2, 'the moves to and from v2: its promotion and its rollback');
  });

  test('the run report of a version is served, drawn from the stored evaluation', async () => {
    const res = await open.request(`/models/${MODEL}/versions/2/report`);
    assert.equal(res.status, 200);
    const body = await res.text();
    assert.match(body, /<title>flights v2 — rolled-back<\/title>/);
    assert.match(body, /data-chart="roc"/);
  });

  test('unknown models, versions and paths are 404; the page writes nothing', async () => {
    const before = (await registry.auditLog(MODEL)).length;
    for (const url of ['/models/nope', `/models/${MODEL}/versions/9`, `/models/${MODEL}/versions/x`, `/models/${MODEL}/versions/9/report`, '/nowhere', '/api/models/nope']) {
      assert.equal((await open.request(url)).status, 404, url);
    }
    assert.equal((await registry.auditLog(MODEL)).length, before);
  });

  test('webUiBase: the flag, then TEMPORAL_WEB_UI, then temporal.webUi, else the embedded dev server', () => {
    const loaded = (temporal: Record<string, unknown>) => ({ config: { temporal: { devServer: { uiPort: 8233 }, ...temporal } } }) as unknown as LoadedConfig;
    assert.equal(webUiBase(loaded({}), undefined, {}), 'http://127.0.0.1:8233');
    assert.equal(webUiBase(loaded({ address: 'temporal:7233' }), undefined, {}), undefined);
    assert.equal(webUiBase(loaded({ address: 'temporal:7233', webUi: 'https://ui.example/' }), undefined, {}), 'https://ui.example');
    assert.equal(webUiBase(loaded({}), undefined, { TEMPORAL_WEB_UI: 'http://env-ui' }), 'http://env-ui');
    assert.equal(webUiBase(loaded({}), 'http://flag-ui', { TEMPORAL_WEB_UI: 'http://env-ui' }), 'http://flag-ui');
  });
});
