// The Web UI test: a real headless Chromium (Debian's package, installed by the set-up for the tests, driven by
// playwright-core) opens the dev server's Web UI, finds a run by a search-attribute query, opens it and reads its
// summary and decision off the page. Without the browser it fails, saying how to install it.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { CHROMIUM_FLAGS, chromiumPath } from '../helpers/chromium';
import {
  runPipeline,
  smallFlightsModel,
  TEST_SERVER_STATE,
  testConfig,
  testServer,
  uniqueModelName,
} from '../helpers/pipeline-env';
import { waitFor } from '../helpers/wait';

/** The text of the page and of its frames (the UI renders markdown summaries in sandboxed iframes). */
async function pageText(page: Page): Promise<string> {
  const texts = await Promise.all(page.frames().map((f) => f.innerText('body').catch(() => '')));
  return texts.join('\n');
}

/** Waits until the page's text matches, and returns it; fails with the page's last text. */
async function eventuallyText(page: Page, pattern: RegExp, timeoutMs = 15_000): Promise<string> {
  let text = '';
  const probe = async () => {
    text = await pageText(page);
    return pattern.test(text) ? text : undefined;
  };
  return waitFor(`the page to show ${pattern}`, probe, timeoutMs, 250).catch(() => assert.fail(`the page never showed ${pattern}:\n${text.slice(-2000)}`));
}

/** Where this test writes its screenshots. */
export const WEB_UI_OUTPUT = path.join(TEST_SERVER_STATE, 'output', 'web-ui');

describe('a run in the Temporal Web UI, in headless Chromium', { timeout: 900_000 }, () => {
  const model = uniqueModelName('webui');
  let outcome: Awaited<ReturnType<typeof runPipeline>>;
  let context: BrowserContext;
  let profile: string;
  let ui: string;

  before(async () => {
    // First, so a missing browser fails the test at once instead of after a pipeline run.
    const executablePath = chromiumPath();
    ui = (await testServer()).uiUrl;
    // A gate the model cannot pass, so the page has a rejection and its reason to show.
    const loaded = await testConfig({ [model]: smallFlightsModel({ gate: { primaryMetric: 'roc_auc', minimums: { roc_auc: 0.65 } } }) });
    outcome = await runPipeline(loaded, model);
    profile = mkdtempSync(path.join(os.tmpdir(), 'relearn-chromium-'));
    mkdirSync(WEB_UI_OUTPUT, { recursive: true });
    context = await chromium.launchPersistentContext(profile, {
      executablePath,
      headless: true,
      args: CHROMIUM_FLAGS,
      viewport: { width: 1400, height: 1000 },
    });
  });

  after(async () => {
    await context?.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
  });

  it('finds the run by RelearnModel and RelearnDecision, and its page shows the summary and the decision', async () => {
    assert.equal(outcome.result?.decision, 'rejected', outcome.failure);
    const page = await context.newPage();
    const query = `RelearnModel = "${model}" AND RelearnDecision = "rejected"`;
    await page.goto(`${ui}/namespaces/default/workflows?query=${encodeURIComponent(query)}`);
    const row = page.locator(`a[href*="${outcome.runId}"]`).first();
    await row.waitFor({ timeout: 30_000 });
    assert.equal(await page.locator('a[href*="/workflows/retrain%2F"]').filter({ hasText: outcome.runId }).count(), 1, 'exactly this run matches');
    await page.screenshot({ path: path.join(WEB_UI_OUTPUT, 'run-list.png') });

    await row.click();
    await page.waitForURL(new RegExp(outcome.runId));
    // The timeline lists each activity with its summary; the gate's verdict is the register step's summary.
    const gateLine = page.getByText(/gate: REJECT — roc_auc 0\.\d{4} < 0\.6500/).first();
    await gateLine.waitFor({ timeout: 30_000 });
    await page.getByText('train fold 2/3').first().waitFor();
    const body = await page.innerText('body');
    assert.match(body, /"decision": "rejected"/, 'the result shows the decision');
    // The input's data path names this machine's folders; the docs show this screenshot, so it is masked.
    await page.screenshot({ path: path.join(WEB_UI_OUTPUT, 'run.png'), mask: [page.getByText(/node_modules/)] });

    // The run's tabs: its static summary and details, and the memo with its lineage and decision.
    const runPage = page.url().replace(/\/[a-z-]+$/, '');
    await page.goto(`${runPage}/user-metadata`);
    await page.getByText('Current Details').first().waitFor({ timeout: 15_000 });
    await eventuallyText(page, new RegExp(`retrain ${model} \\(manual\\) on 2001-02-01`));
    await page.screenshot({ path: path.join(WEB_UI_OUTPUT, 'run-summary.png') });

    await page.goto(`${runPage}/memo`);
    const memo = await eventuallyText(page, /"gate": "gate: REJECT — roc_auc/);
    assert.match(memo, /"decision": "rejected"/);
    assert.match(memo, /"parentVersion": "none"/);
    await page.screenshot({ path: path.join(WEB_UI_OUTPUT, 'run-memo.png') });
  });
});
