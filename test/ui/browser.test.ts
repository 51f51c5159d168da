// The run report and the registry page in a real headless Chromium (Debian's package, driven by playwright-core),
// after two real runs on the dev server with the real trainer: run 1 promotes v1; run 2 promotes v2 and a person
// rolls it back during its guard window, while a later week of flights is replayed through the server as traffic. The report is written by the real CLI; the page is served on a free port
// with a token and signed into through its form. Screenshots go to .relearn-test/output/report/.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { type Browser, chromium, type Page } from 'playwright-core';
import { type LoadedConfig, modelConfig } from '../../src/config';
import { type TrafficReplay, startTrafficReplay } from '../../src/cli/live-traffic';
import { type RetrainResult, type RetrainStatus, rollbackUpdate } from '../../src/contracts';
import { RELEARN_ROOT } from '../../src/paths';
import { openRegistry, type RegistryStore } from '../../src/registry';
import { type RunningServer, startServer } from '../../src/serve';
import { openArtifactStore } from '../../src/store';
import { connectClient } from '../../src/temporal/connection';
import { startRetrain } from '../../src/temporal/runs';
import { createRelearnWorker } from '../../src/temporal/worker';
import { type RunningRegistryUi, startRegistryUi, webUiRunLink } from '../../src/ui';
import { CHROMIUM_FLAGS, chromiumPath } from '../helpers/chromium';
import { runPipeline, smallFlightsModel, TEST_SERVER_STATE, testConfig, testServer, uniqueModelName } from '../helpers/pipeline-env';
import { waitFor } from '../helpers/wait';

const execFileAsync = promisify(execFile);

/** Where this test writes its screenshots (docs/ holds copies). */
export const REPORT_OUTPUT = path.join(TEST_SERVER_STATE, 'output', 'report');
const TOKEN = 'browser-test-token-0123456789abcdef';
// A guard window that would wait minutes for traffic: the test rolls back by hand while it waits.
const GUARD = { minDuration: '10m', maxDuration: '15m', minLabeledRows: 1000, pollInterval: '1s', margin: 0.05, maxErrorRate: 0.05, maxP99LatencyMs: 5000 };

/** Every chart box has rendered an SVG with data marks; returns the marks per chart. */
async function renderedCharts(page: Page): Promise<Record<string, number>> {
  await page.waitForSelector('body[data-charts-done]', { timeout: 30_000 });
  return page.evaluate(() => {
    // Runs in the page, where `document` exists (the project's types have no DOM).
    const document = (globalThis as unknown as { document: { querySelectorAll(s: string): ArrayLike<{ getAttribute(n: string): string | null; textContent: string | null; querySelectorAll(s: string): { length: number } }> & Iterable<{ getAttribute(n: string): string | null; textContent: string | null; querySelectorAll(s: string): { length: number } }> } }).document;
    const out: Record<string, number> = {};
    for (const box of document.querySelectorAll('[data-chart]')) {
      const id = box.getAttribute('data-chart')!;
      if (box.getAttribute('data-rendered') !== 'true') throw new Error(`chart ${id} did not render: ${box.textContent}`);
      // Data marks: vega draws each line, point, cell, bar and rule as a path or line inside a g.mark-* group.
      out[id] = box.querySelectorAll('svg g[class^="mark-"] path, svg g[class^="mark-"] line').length;
    }
    return out;
  });
}

describe('the run report and the registry page in headless Chromium', { timeout: 900_000 }, () => {
  const model = uniqueModelName('report');
  let loaded: LoadedConfig;
  let uiBase: string;
  let first: RetrainResult;
  let second: RetrainResult;
  let secondRun: { workflowId: string; runId: string };
  let registry: RegistryStore;
  let ui: RunningRegistryUi;
  let server: RunningServer | undefined;
  let traffic: TrafficReplay | undefined;
  let browser: Browser;
  const shots = (name: string) => path.join(REPORT_OUTPUT, name);

  before(async () => {
    const executablePath = chromiumPath();
    uiBase = (await testServer()).uiUrl;
    loaded = await testConfig({ [model]: smallFlightsModel({ rollout: { guard: GUARD } }) }, { prefix: 'report' });
    const run1 = await runPipeline(loaded, model);
    assert.equal(run1.result?.decision, 'promoted', run1.failure);
    first = run1.result!;

    // The champion is served and a later week replayed as labeled traffic, so the guard window has rows to measure.
    registry = openRegistry(loaded);
    const store = openArtifactStore(loaded);
    server = await startServer({ registry, store, predictionLogDir: path.join(loaded.stateDir, 'predictions'), token: null, port: 0, pollMs: 200, logFlushIntervalMs: 500, processMetrics: false });
    traffic = await startTrafficReplay({ model, modelConfig: modelConfig(loaded, model), window: { from: '2001-02-08', to: '2001-02-15' }, url: server.url, token: null, sampleRows: 2000, rowsPerRequest: 20, intervalMs: 50 });

    // Run 2 on that week: promoted, then rolled back by hand while its guard window runs.
    const { client, target, close } = await connectClient(loaded);
    const { worker, close: closeWorker } = await createRelearnWorker(loaded, target);
    try {
      const started = await startRetrain(client, target, loaded, model, { window: { from: '2001-02-08', to: '2001-02-15' } });
      secondRun = { workflowId: started.workflowId, runId: started.runId };
      const handle = client.workflow.getHandle(started.workflowId, started.runId);
      await worker.runUntil(async () => {
        await waitFor('the guard window', async () => ((await handle.query<RetrainStatus>('status')).stage === 'guard' ? true : undefined), 300_000, 250);
        // Some requests answered by v2 (mirrored to v1) and written to the log before the rollback is measured.
        const servedBefore = traffic!.stats.requests;
        await waitFor('traffic during the guard window', () => (traffic!.stats.requests >= servedBefore + 60 ? true : undefined), 60_000, 100);
        await handle.executeUpdate(rollbackUpdate, { args: [{ by: 'browser-test', reason: 'the report test rolls v2 back' }] });
        second = (await handle.result()) as RetrainResult;
      });
    } finally {
      await closeWorker();
      await close();
    }
    await traffic.stop();
    await server.close();
    assert.equal(second.decision, 'rolled-back');

    const runLink = webUiRunLink(uiBase, 'default')!;
    ui = await startRegistryUi({ registry, store, jobsDir: path.join(loaded.stateDir, 'jobs'), token: TOKEN, runLink, port: 0 });
    mkdirSync(REPORT_OUTPUT, { recursive: true });
    browser = await chromium.launch({ executablePath, headless: true, args: CHROMIUM_FLAGS });
  });

  after(async () => {
    await browser?.close();
    await ui?.close();
    await traffic?.stop();
    await server?.close();
    registry?.close();
  });

  it('relearn report writes one file that draws every chart offline from the stored evaluation', async () => {
    const t0 = performance.now();
    const { stdout } = await execFileAsync(process.execPath, [path.join(RELEARN_ROOT, 'bin', 'relearn.mjs'), '--config', loaded.configPath, 'report', model, 'v2', '--json'], {
      cwd: RELEARN_ROOT,
      // The test config names a server but no Web UI: the CLI takes it from the environment, as an operator would give it.
      env: { ...process.env, TEMPORAL_WEB_UI: uiBase },
    });
    const cliMs = performance.now() - t0;
    const written = JSON.parse(stdout) as { path: string; sizeBytes: number; version: number; runId: string; buildMs: number };
    assert.equal(written.version, 2);
    assert.equal(written.runId, secondRun.runId);
    assert.equal(statSync(written.path).size, written.sizeBytes);
    console.log(`report: ${(written.sizeBytes / 1024).toFixed(0)} KiB, built in ${written.buildMs} ms (the CLI took ${cliMs.toFixed(0)} ms)`);

    // Nothing but the file itself may be fetched: the charts' code is inlined.
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    const elsewhere: string[] = [];
    await page.route('**/*', (route) => (route.request().url().startsWith('file:') ? route.continue() : (elsewhere.push(route.request().url()), route.abort())));
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(pathToFileURL(written.path).href);
    const marks = await renderedCharts(page);
    assert.deepEqual(Object.keys(marks), ['roc', 'pr', 'calibration', 'confusion', 'per-fold', 'windows', 'versions']);
    for (const [id, n] of Object.entries(marks)) assert.ok(n > 0, `chart ${id} has data marks`);
    assert.deepEqual(errors, []);
    assert.deepEqual(elsewhere, []);
    // Candidate and champion on the same holdout: two ROC curves, named by version.
    const rocLegend = (await page.locator('#chart-roc svg .role-legend').textContent()) ?? '';
    assert.match(rocLegend, /candidate v2/);
    assert.match(rocLegend, /champion v1/);
    assert.equal(await page.locator('#chart-roc svg g.mark-line path').count(), 3, 'the diagonal and two curves');
    assert.match(await page.locator('h1').innerText(), new RegExp(`${model} v2 — rolled-back`));
    const timeline = await page.locator('ol.timeline li').evaluateAll((lis) => lis.map((li) => `${li.getAttribute('data-alias')} ${li.getAttribute('data-action')} ${li.getAttribute('data-from')}→${li.getAttribute('data-to')}`));
    assert.deepEqual(timeline.filter((t) => t.startsWith('champion')), ['champion promote →1', 'champion promote 1→2', 'champion rollback 2→1']);
    assert.equal(await page.locator('#web-ui-run').getAttribute('href'), `${uiBase}/namespaces/default/workflows/${encodeURIComponent(secondRun.workflowId)}/${secondRun.runId}/history`);
    await page.screenshot({ path: shots('report.png'), fullPage: true });
    await context.close();
  });

  it('the registry page: sign in, the alias timeline in order, every link resolves, the report of each run draws', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    const first401 = await page.goto(ui.url);
    assert.equal(first401?.status(), 401);
    await page.fill('input[name=token]', TOKEN);
    await Promise.all([page.waitForURL(`${ui.url}/`), page.click('button[type=submit]')]);
    await page.locator(`a.model`, { hasText: model }).click();
    await page.waitForURL(new RegExp(`/models/${model}$`));
    const timeline = await page.locator('ol.timeline li').evaluateAll((lis) => lis.map((li) => `${li.getAttribute('data-alias')} ${li.getAttribute('data-action')} ${li.getAttribute('data-from')}→${li.getAttribute('data-to')}`));
    // Oldest first: the two promotions, then the guard window's shadow alias on the old champion, then the rollback.
    assert.deepEqual(timeline.filter((t) => t.startsWith('champion')), ['champion promote →1', 'champion promote 1→2', 'champion rollback 2→1']);
    assert.ok(timeline.indexOf('shadow move →1') > timeline.indexOf('champion promote 1→2'), timeline.join(', '));
    assert.equal(timeline.at(-1), 'champion rollback 2→1');
    assert.match(await page.locator('ol.timeline li[data-action=rollback] .reason').innerText(), /the report test rolls v2 back/);
    assert.deepEqual(await page.locator('tr[data-version]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-version'))), ['2', '1']);
    assert.match(await page.locator('tr[data-version="2"]').innerText(), /rolled-back/);
    await page.screenshot({ path: shots('registry-model.png'), fullPage: true });

    // Every link on the model page and on each version's lineage page: internal ones answer 200; Web UI ones name
    // a run of this model and the Web UI answers them.
    assert.equal(first.version, 1);
    const runIds = new Set([(await registry.getVersion(model, 1))!.runId, secondRun.runId]);
    const pages = [page.url(), `${ui.url}/models/${model}/versions/1`, `${ui.url}/models/${model}/versions/2`];
    const checked = new Set<string>();
    for (const url of pages) {
      await page.goto(url);
      const hrefs = await page.locator('a[href]').evaluateAll((as) => as.map((a) => (a as unknown as { href: string }).href));
      for (const href of hrefs) {
        if (checked.has(href)) continue;
        checked.add(href);
        if (href.startsWith(ui.url)) {
          assert.equal((await page.request.get(href)).status(), 200, href);
        } else {
          const m = new RegExp(`^${uiBase.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/namespaces/default/workflows/retrain%2F${model}/([0-9a-f-]{36})/history$`).exec(href);
          assert.ok(m, `a Web UI link names this model's workflow and a run: ${href}`);
          assert.ok(runIds.has(m[1]!), `${href} is a run of ${model}`);
          assert.equal((await page.request.get(href)).status(), 200, href);
        }
      }
    }
    assert.ok([...checked].some((h) => h.endsWith('/versions/2/report')), 'the model page links each run report');
    await page.goto(`${ui.url}/models/${model}/versions/2`);
    await page.screenshot({ path: shots('registry-lineage.png'), fullPage: true });

    await page.goto(`${ui.url}/models/${model}/versions/1/report`);
    const marks = await renderedCharts(page);
    assert.ok(marks.roc! > 0 && marks.versions! > 0);
    await context.close();
  });
});
