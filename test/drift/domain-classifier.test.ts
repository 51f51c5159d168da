// Multivariate drift with the real trainer (scikit-learn through the local launcher) and onnxruntime: a change in the
// correlation of two features with unchanged marginals is caught by the domain classifier and missed by the
// univariate tests; an identical-distribution window is not flagged; the explained drift ranks the shifted features
// first, weighted by a champion (trained by the same trainer) that uses one of them and ignores the other.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type Table, tableToIPC } from 'apache-arrow';
import { parseConfig } from '../../src/config';
import type { ModelConfig } from '../../src/config/schema';
import type { DriftCheckSummary } from '../../src/contracts';
import { checkDrift } from '../../src/drift/check';
import { domainClassifierDrift, explainDrift, type MultivariateDrift } from '../../src/drift/domain-classifier';
import { renderDriftHtml } from '../../src/drift/report-html';
import { runDriftCheck, type DriftCheckReport } from '../../src/drift/run-check';
import { trainingJobRunner } from '../../src/drift/training-job-runner';
import { LocalLauncher } from '../../src/jobs/local';
import { openSession } from '../../src/onnx';
import { RELEARN_ROOT, VENV_PYTHON } from '../../src/paths';
import { CHAMPION_ALIAS, openSqliteRegistry, type RegistryStore } from '../../src/registry';
import { splitToIpc } from '../../src/split';
import { LocalArtifactStore } from '../../src/store';
import { correlatedWindow, writeWindowCsv } from '../helpers/correlated-window';

const window = correlatedWindow;

/** The model's config; its drift block reads the window from `windowFile`. */
const configWith = (windowFile: string) =>
  parseConfig(
    `
models:
  m:
    task: binary
    source: { path: data.parquet, timeColumn: ts }
    features: { numeric: [x1, x2, x3], categorical: [c] }
    label: y
    trainer: { estimator: logistic_regression }
    drift:
      path: ${JSON.stringify(windowFile)}
      multivariate: { maxAuc: 0.55, folds: 2, maxRows: 2000, permutations: 2, sensitivityRows: 1000 }
`,
    'temporal.yaml',
  ).models.m as ModelConfig;

describe('multivariate drift: a domain classifier trained through the launcher, scored on ONNX', () => {
  let dir: string;
  let cfg: ModelConfig;
  let options: Parameters<typeof domainClassifierDrift>[1]['options'];
  let registry: RegistryStore;
  let summary: DriftCheckSummary;
  let store: LocalArtifactStore;
  let runJob: ReturnType<typeof trainingJobRunner>;
  let reference: Table;
  let champion: { session: Awaited<ReturnType<typeof openSession>>; task: 'binary'; name: string };
  let correlated: MultivariateDrift;
  let report: DriftCheckReport;

  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'relearn-domain-'));
    cfg = configWith(path.join(dir, 'window.csv'));
    options = { ...cfg.drift!.multivariate!, seed: 42 };
    store = new LocalArtifactStore(path.join(dir, 'store'));
    registry = openSqliteRegistry(path.join(dir, 'registry.db'));
    runJob = trainingJobRunner({ launcher: new LocalLauncher(path.join(dir, 'jobs')), cfg, baseDir: RELEARN_ROOT, commandVars: { python: VENV_PYTHON, relearn: RELEARN_ROOT }, pollMs: 200 });
    reference = window(4000, 0, 1);
    // The champion: the model's own trainer on the reference (it uses x1 and x3, not x2).
    const snapshot = await store.putBytes('test', 'reference.arrow', tableToIPC(reference, 'file'));
    const split = await store.putBytes('test', 'split.arrow', splitToIpc(new Int8Array(reference.numRows)));
    const job = await runJob({
      jobKey: 'champion',
      spec: {
        role: 'final',
        task: 'binary',
        snapshotPath: await store.verifiedPath(snapshot),
        splitPath: await store.verifiedPath(split),
        trainFolds: [0],
        features: cfg.features,
        label: 'y',
        estimator: 'logistic_regression',
        params: {},
        seed: 42,
        probeRows: [],
      },
    });
    champion = { session: await openSession(readFileSync(path.join(job.outputDir, 'model.onnx'))), task: 'binary', name: 'champion' };
    // The champion registered as the retrain workflow leaves it: its model, its training snapshot, the champion alias.
    const artifact = await store.putFile('models', 'model.onnx', path.join(job.outputDir, 'model.onnx'));
    const version = await registry.registerVersion({
      model: 'm',
      artifactUri: artifact.uri,
      artifactSha256: artifact.sha256,
      sizeBytes: artifact.sizeBytes,
      snapshotUri: snapshot.uri,
      snapshotSha256: snapshot.sha256,
      params: {},
      metrics: {},
      gate: { verdict: 'PASS' },
      lineage: { classes: [0, 1] },
      workflowId: 'retrain/m',
      runId: 'r1',
    });
    await registry.promote({ model: 'm', version: version.version, expectedChampion: null, reason: 'test', workflowId: 'retrain/m', runId: 'r1' });
    assert.equal((await registry.getAlias('m', CHAMPION_ALIAS))?.version, version.version);
    // The check as the monitor's activity runs it, on a window whose x1–x2 correlation moved from 0 to 0.8.
    writeWindowCsv(path.join(dir, 'window.csv'), window(4000, 0.8, 2));
    const check = await runDriftCheck(
      { store, registry, baseDir: dir, dataRoot: dir, runJob },
      { model: 'm', modelConfig: cfg, window: { from: '2026-01-01', to: '2026-02-01' }, checkedAt: '2026-02-01T00:00:00.000Z' },
    );
    summary = check.summary;
    report = check.report!;
    correlated = report.multivariate!;
  });

  after(async () => {
    await registry.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('the check asks for a retrain on multivariate drift alone, and its summary names the features that explain it', () => {
    assert.equal(summary.skipped, undefined, summary.skipped);
    assert.equal(summary.datasetDrift, false);
    assert.equal(summary.drifted, 0);
    assert.equal(summary.predictionDrift, false, 'the champion ignores x2: its outputs did not move');
    assert.equal(summary.multivariate?.drifted, true);
    assert.equal(summary.retrain, true);
    assert.equal(summary.multivariate?.explained[0]?.feature, 'x1');
    assert.equal(summary.multivariate?.auc, correlated.auc);
  });

  it('catches a correlation change that every univariate test misses', () => {
    const current = window(4000, 0.8, 2);
    for (const decision of ['effect-size', 'p-value', 'size-based'] as const) {
      const univariate = checkDrift(reference, current, { numeric: ['x1', 'x2', 'x3'], categorical: ['c'], decision });
      assert.equal(univariate.drifted, 0, `${decision}: ${univariate.features.map((f) => `${f.feature} ${f.method} ${f.statistic}`).join(', ')}`);
    }
    assert.equal(correlated.drifted, true);
    assert.ok(correlated.auc > 0.6, `cross-validated ROC AUC ${correlated.auc}`);
    assert.equal(correlated.foldAucs.length, 2);
    assert.equal(correlated.jobIds.length, 2);
    assert.equal(correlated.referenceRows, 2000);
  });

  it('explains the drift: the correlated pair carries the signal, the champion’s sensitivity ranks x1 over x2', () => {
    const [first, second] = correlated.explained;
    assert.deepEqual(new Set([first!.feature, second!.feature]), new Set(['x1', 'x2']));
    const byName = Object.fromEntries(correlated.explained.map((f) => [f.feature, f]));
    assert.ok(byName.x1!.share + byName.x2!.share > 0.8, `shares ${JSON.stringify(correlated.explained)}`);
    assert.equal(first!.feature, 'x1', 'the champion uses x1 and ignores x2');
    assert.ok(byName.x1!.championSensitivity! > 5 * byName.x2!.championSensitivity!);
    assert.ok(byName.x3!.championSensitivity! > 5 * byName.x2!.championSensitivity!, 'x3 moves the champion, but did not drift');
    assert.ok(byName.x3!.impact < byName.x1!.impact);
  });

  it('does not fire on a window from the same distribution', async () => {
    const same = await domainClassifierDrift({ store, runJob }, { jobKey: 'same', modelConfig: cfg, reference, current: window(4000, 0, 3), options });
    assert.equal(same.drifted, false, `cross-validated ROC AUC ${same.auc}`);
    assert.ok(same.auc < 0.55);
    assert.equal(same.explained[0]!.championSensitivity, null, 'no champion: ranked by share');
  });

  it('the HTML report shows the explained drift first', () => {
    const html = renderDriftHtml(report, { model: 'm', window: summary.window, championVersion: summary.championVersion!, checkedAt: summary.checkedAt });
    const explained = html.indexOf('<h2>Explained drift');
    assert.ok(explained > 0, 'the section is there');
    assert.ok(explained < html.indexOf('<table><thead><tr><th>feature</th><th>kind</th>'), 'before the per-feature table');
    assert.ok(explained < html.indexOf('<h2>', explained - 1) + 1 && html.indexOf('<h2>') === explained, 'the first section');
    assert.match(html, /MULTIVARIATE DRIFT/);
    assert.ok(html.indexOf('<td>x1</td>', explained) < html.indexOf('<td>x2</td>', explained), 'ranked by impact');
  });

  it('explainDrift: shares of the positive importances, weighted by sensitivity, ranked', () => {
    const ranked = explainDrift(
      new Map([
        ['a', 0.1],
        ['b', 0.3],
        ['c', -0.02],
      ]),
      new Map([
        ['a', 0.4],
        ['b', 0.05],
        ['c', 0.3],
      ]),
    );
    assert.deepEqual(ranked.map((f) => f.feature), ['a', 'b', 'c']);
    assert.equal(ranked[0]!.share, 0.25);
    assert.ok(Math.abs(ranked[0]!.impact - (0.25 * 0.4) / (0.25 * 0.4 + 0.75 * 0.05)) < 1e-12);
    assert.equal(ranked[2]!.share, 0);
  });
});
