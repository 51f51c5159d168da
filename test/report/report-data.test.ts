// The run report's data and charts on a registry written by hand: three versions (promoted, promoted then rolled back,
// drift-triggered and rejected), windows recorded in both evidence shapes, curves and a drift report in the store.
// Every chart spec is compiled by vega-lite itself; the page is checked to need no network.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { compile } from 'vega-lite';
import type { GateResult } from '../../src/contracts';
import { evaluationCurves } from '../../src/evaluate';
import { Registry } from '../../src/registry';
import { findReportVersion, loadRunReport, renderReportHtml, reportCharts, windowRow, writeRunReport } from '../../src/report';
import { ArtifactStore } from '../../src/store';

const MODEL = 'flights';
const SHA = 'a'.repeat(64);
const fixture = JSON.parse(readFileSync(path.join(import.meta.dirname, '..', 'fixtures', 'evaluate', 'curves.json'), 'utf8')) as {
  binary: Array<{ y: number[]; proba: number[] }>;
};

function gate(verdict: 'PASS' | 'REJECT', value: number): GateResult {
  return { verdict, primaryMetric: 'roc_auc', rules: [{ rule: 'min roc_auc', passed: verdict === 'PASS', reason: `roc_auc ${value} ≥ 0.6` }] };
}

describe('run report data', () => {
  let dir: string;
  let registry: Registry;
  let store: ArtifactStore;

  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'relearn-report-'));
    registry = Registry.open(path.join(dir, 'registry.db'));
    store = new ArtifactStore(path.join(dir, 'store'));
    const [a, b] = fixture.binary as [{ y: number[]; proba: number[] }, { y: number[]; proba: number[] }];
    const scores = (c: { y: number[]; proba: number[] }) => ({ task: 'binary' as const, y: Int32Array.from(c.y), probabilities: Float32Array.from(c.proba), nClasses: 2, classes: [false, true] });
    const curves = await store.putJson('curves', 'holdout-curves.json', evaluationCurves('binary', a.y.length, scores(a), scores(b)));
    const drift = await store.putJson('drift', 'report.json', {
      model: MODEL,
      datasetDrift: true,
      share: 0.5,
      features: [
        { feature: 'distance', method: 'ks', statistic: 0.001, threshold: 0.05, effectiveThreshold: 0.025, drifted: true },
        { feature: 'hour', method: 'ks', statistic: 0.4, threshold: 0.05, effectiveThreshold: 0.025, drifted: false },
      ],
    });
    const register = (run: string, value: number, extra: { curves?: { uri: string; sha256: string; sizeBytes: number }; lineage?: Record<string, unknown>; verdict?: 'PASS' | 'REJECT' } = {}) =>
      registry.registerVersion({
        model: MODEL,
        artifactUri: `store://model/${SHA}/model.onnx`,
        artifactSha256: SHA,
        sizeBytes: 10,
        snapshotUri: `store://snapshot/${SHA}/s.arrow`,
        snapshotSha256: SHA,
        params: {},
        metrics: {
          cv: { roc_auc: { mean: value, std: 0.01, ciLow: value - 0.02, ciHigh: value + 0.02 }, f1: { mean: 0.5, std: 0.02, ciLow: 0.45, ciHigh: 0.55 } },
          perFold: [{ roc_auc: value - 0.01, f1: 0.49 }, { roc_auc: value + 0.01, f1: 0.51 }],
          holdout: { rows: a.y.length, candidate: { roc_auc: value, f1: 0.5 }, ...(extra.curves ? { curves: extra.curves } : {}) },
        },
        gate: gate(extra.verdict ?? 'PASS', value) as unknown as Record<string, never>,
        lineage: { trigger: 'manual', estimator: 'logistic_regression', parentVersion: null, ...extra.lineage },
        workflowId: `retrain/${MODEL}`,
        runId: run,
      });
    register('run-1111', 0.7);
    registry.promote({ model: MODEL, version: 1, expectedChampion: null, reason: 'gate PASS', workflowId: `retrain/${MODEL}`, runId: 'run-1111' });
    register('run-2222', 0.72, { curves, lineage: { parentVersion: 1 } });
    // The shadow window as the bootstrap comparison records it, the guard window as a decision with three outcomes.
    registry.recordEvaluation({
      model: MODEL,
      version: 2,
      phase: 'shadow',
      decision: 'promote',
      reason: 'not worse',
      evidence: { decidedBy: 'evidence', baselineVersion: 1, comparison: { metric: 'roc_auc', rows: 400, diff: 0.01, ciLow: -0.01, ciHigh: 0.03, margin: 0.02, verdict: 'not-worse' } },
      workflowId: `retrain/${MODEL}`,
      runId: 'run-2222',
    });
    registry.promote({ model: MODEL, version: 2, expectedChampion: 1, reason: 'gate PASS; shadow: not worse', workflowId: `retrain/${MODEL}`, runId: 'run-2222' });
    registry.recordEvaluation({
      model: MODEL,
      version: 2,
      phase: 'guard',
      decision: 'rollback',
      reason: 'harm shown',
      evidence: { decidedBy: 'evidence', baselineVersion: 1, decision: { outcome: 'fail', rows: 300, lower: -0.09, upper: -0.04, passAbove: -0.01, failBelow: -0.02, sequential: { loss: 'brier', diff: -0.06 } } },
      workflowId: `retrain/${MODEL}`,
      runId: 'run-2222',
    });
    registry.moveAlias({ model: MODEL, alias: 'champion', toVersion: 1, expectedVersion: 2, reason: 'guard: harm shown', workflowId: `retrain/${MODEL}`, runId: 'run-2222', action: 'rollback' });
    register('run-3333', 0.55, { verdict: 'REJECT', lineage: { trigger: 'drift', parentVersion: 1, reason: `2 of 4 features drifted on 2001-03-01 → 2001-03-08; report ${drift.uri}` } });
  });

  after(() => {
    registry.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('findReportVersion takes v<N>, N, a run id prefix or nothing (the newest), and names what exists otherwise', () => {
    assert.equal(findReportVersion(registry, MODEL).version, 3);
    assert.equal(findReportVersion(registry, MODEL, 'v2').version, 2);
    assert.equal(findReportVersion(registry, MODEL, '1').version, 1);
    assert.equal(findReportVersion(registry, MODEL, 'run-22').version, 2);
    assert.throws(() => findReportVersion(registry, MODEL, 'run-'), /ambiguous: run-1111 \(v1\), run-2222 \(v2\), run-3333 \(v3\)/);
    assert.throws(() => findReportVersion(registry, MODEL, 'v9'), /has no version 9 \(registered: v1, v2, v3\)/);
    assert.throws(() => findReportVersion(registry, 'nothing'), /nothing has no registered versions yet/);
  });

  test('a promoted-then-rolled-back run: its curves, windows against the margin, the versions and the alias history', async () => {
    const data = await loadRunReport({ registry, store, model: MODEL, version: registry.getVersion(MODEL, 2)!, runLink: (w, r) => `http://ui/${encodeURIComponent(w)}/${r}/history` });
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
    const data = await loadRunReport({ registry, store, model: MODEL, version: registry.getVersion(MODEL, 3)! });
    assert.equal(data.decision, 'rejected');
    assert.deepEqual(data.drift?.features.map((f) => [f.feature, f.drifted, f.threshold]), [['distance', true, 0.025], ['hour', false, 0.025]]);
    assert.deepEqual(data.notes, ['no holdout curves were stored with this version (it was evaluated before curves were kept)']);
    assert.deepEqual(reportCharts(data).map((c) => c.id), ['per-fold', 'versions', 'drift']);
  });

  test('every chart compiles with vega-lite and carries the stored points', async () => {
    const data = await loadRunReport({ registry, store, model: MODEL, version: registry.getVersion(MODEL, 2)! });
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
    assert.equal(String(await renderReportHtml(await loadRunReport({ registry, store, model: MODEL, version: registry.getVersion(MODEL, 1)! }))).includes('flights v1 — promoted'), true);
  });
});
