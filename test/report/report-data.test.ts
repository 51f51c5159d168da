// The run report's data and charts on a registry written by hand: three versions (promoted, promoted then rolled back,
// drift-triggered and rejected), windows recorded in both evidence shapes, curves and a drift report in the store.
// Every chart spec is compiled by vega-lite itself; the page is checked to need no network.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { compile } from 'vega-lite';
import type { RegistryStore } from '../../src/registry';
import { findReportVersion, loadRunReport, renderReportHtml, reportCharts, windowRow, writeRunReport } from '../../src/report';
import type { ArtifactStore } from '../../src/store';
import { MODEL, buildSampleRegistry } from './sample-registry';

describe('run report data', () => {
  let dir: string;
  let registry: RegistryStore;
  let store: ArtifactStore;

  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'relearn-report-'));
    ({ registry, store } = await buildSampleRegistry(dir));
  });

  after(async () => {
    await registry.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('findReportVersion takes v<N>, N, a run id prefix or nothing (the newest), and names what exists otherwise', async () => {
    assert.equal((await findReportVersion(registry, MODEL)).version, 3);
    assert.equal((await findReportVersion(registry, MODEL, 'v2')).version, 2);
    assert.equal((await findReportVersion(registry, MODEL, '1')).version, 1);
    assert.equal((await findReportVersion(registry, MODEL, 'run-22')).version, 2);
    await assert.rejects(() => findReportVersion(registry, MODEL, 'run-'), /ambiguous: run-1111 \(v1\), run-2222 \(v2\), run-3333 \(v3\)/);
    await assert.rejects(() => findReportVersion(registry, MODEL, 'v9'), /has no version 9 \(registered: v1, v2, v3\)/);
    await assert.rejects(() => findReportVersion(registry, 'nothing'), /nothing has no registered versions yet/);
  });

  test('a promoted-then-rolled-back run: its curves, windows against the margin, the versions and the alias history', async () => {
    const data = await loadRunReport({ registry, store, model: MODEL, version: (await registry.getVersion(MODEL, 2))!, runLink: (w, r) => `http://ui/${encodeURIComponent(w)}/${r}/history` });
    assert.equal(data.decision, 'rolled-back');
    assert.equal(data.webUiRun, 'http://ui/retrain%2Fflights/run-2222/history');
    assert.equal(data.curves?.candidate.roc?.length, 1);
    assert.ok(data.curves?.champion, 'the champion curves were stored too');
    assert.deepEqual(data.notes, []);
    assert.deepEqual(
      data.versions.map((v) => [v.version, v.outcome, v.value]),
      [
        [1, 'promoted', 0.7],
        [2, 'rolled-back', 0.72],
        [3, 'rejected', 0.55],
      ],
    );
    assert.deepEqual(
      data.aliasHistory.filter((e) => e.alias === 'champion').map((e) => `${e.action} ${e.fromVersion}→${e.toVersion}`),
      ['promote null→1', 'promote 1→2', 'rollback 2→1'],
    );
    const [shadow, guard] = data.windows;
    assert.deepEqual(shadow?.interval, { what: 'roc_auc difference (contender − baseline, better = positive)', estimate: 0.01, low: -0.01, high: 0.03, threshold: -0.02, harmThreshold: null, rows: 400 });
    assert.equal(shadow?.outcome, 'not-worse');
    assert.deepEqual(guard?.interval, { what: 'mean brier difference (baseline − contender)', estimate: -0.06, low: -0.09, high: -0.04, threshold: -0.01, harmThreshold: -0.02, rows: 300 });
    assert.equal(guard?.outcome, 'fail');
  });

  test('evidence without an interval still lists the decision; unknown shapes do not throw', () => {
    const row = windowRow({ id: 9, model: MODEL, version: 2, phase: 'approval', decision: 'promote', reason: 'approved by ops', evidence: { decidedBy: 'approve', by: 'ops' }, workflowId: 'w', runId: 'r', at: '2001-01-01T00:00:00.000Z' });
    assert.equal(row.interval, null);
    assert.equal(row.decidedBy, 'approve');
    assert.equal(windowRow({ ...row, evidence: { comparison: 'garbage', decision: [1, 2] } } as never).interval, null);
  });

  test('a drift-triggered run shows the drift report that started it; a version without curves says so', async () => {
    const data = await loadRunReport({ registry, store, model: MODEL, version: (await registry.getVersion(MODEL, 3))! });
    assert.equal(data.decision, 'rejected');
    assert.deepEqual(data.drift?.features.map((f) => [f.feature, f.drifted, f.threshold]), [['distance', true, 0.025], ['hour', false, 0.025]]);
    assert.deepEqual(data.notes, ['no holdout curves were stored with this version (it was evaluated before curves were kept)']);
    assert.deepEqual(reportCharts(data).map((c) => c.id), ['per-fold', 'versions', 'drift']);
  });

  test('every chart compiles with vega-lite and carries the stored points', async () => {
    const data = await loadRunReport({ registry, store, model: MODEL, version: (await registry.getVersion(MODEL, 2))! });
    const charts = reportCharts(data);
    assert.deepEqual(charts.map((c) => c.id), ['roc', 'pr', 'calibration', 'confusion', 'per-fold', 'windows', 'versions']);
    for (const chart of charts) {
      const warnings: string[] = [];
      const logger = { level: () => logger, error: (...m: unknown[]) => warnings.push(m.join(' ')), warn: (...m: unknown[]) => warnings.push(m.join(' ')), info: () => logger, debug: () => logger };
      compile(chart.spec as never, { logger: logger as never });
      assert.deepEqual(warnings, [], `${chart.id}: vega-lite warns`);
    }
    const roc = charts.find((c) => c.id === 'roc')!.spec as { layer: Array<{ data: { values: unknown[] } }> };
    const points = data.curves!.candidate.roc![0]!.curve.fpr.length + data.curves!.champion!.roc![0]!.curve.fpr.length;
    assert.equal(roc.layer[1]!.data.values.length, points);
  });

  test('the page inlines the chart libraries, loads nothing from elsewhere, and is stored content-addressed', async () => {
    const written = await writeRunReport({ registry, store, model: MODEL, ref: 'v2' });
    assert.match(written.artifact.uri, /^store:\/\/report\/[0-9a-f]{64}\/flights-v2\.html$/);
    const page = readFileSync(written.path, 'utf8');
    assert.equal(Buffer.byteLength(page), written.artifact.sizeBytes);
    assert.doesNotMatch(page, /<script[^>]+src=/, 'no external script');
    assert.doesNotMatch(page, /<link[^>]+href=/, 'no external stylesheet');
    assert.match(page, /\/\* vega 6\.\d+\.\d+ \*\//);
    assert.match(page, /\/\* vega-lite 6\.\d+\.\d+ \*\//);
    assert.match(page, /\/\* vega-embed 7\.\d+\.\d+ \*\//);
    assert.equal((page.match(/<\/script>/g) ?? []).length, 2, 'the inlined code never closes its script early');
    const again = await writeRunReport({ registry, store, model: MODEL, ref: 'v2' });
    assert.equal(typeof again.buildMs, 'number');
    assert.equal(String(await renderReportHtml(await loadRunReport({ registry, store, model: MODEL, version: (await registry.getVersion(MODEL, 1))! }))).includes('flights v1 — promoted'), true);
  });
});
