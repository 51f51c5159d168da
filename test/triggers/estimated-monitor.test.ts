import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { before, describe, it } from 'node:test';
import { modelDigest } from '../../src/config';
import { pullSnapshot } from '../../src/data';
import { tableFromArrays } from 'apache-arrow';
import { numericValues, stringValues } from '../../src/data/columns';
import { runDriftCheck } from '../../src/drift/run-check';
import { openSession, scoreRows } from '../../src/onnx';
import { openRegistry } from '../../src/registry';
import { PredictionLogWriter, newServerRequestId } from '../../src/prediction-log';
import { openArtifactStore } from '../../src/store';
import { connectClient } from '../../src/temporal/connection';
import { createRelearnWorker } from '../../src/temporal/worker';
import { runPipeline, smallFlightsModel, testConfig, uniqueModelName } from '../helpers/pipeline-env';
import type { DriftMonitorInput, MonitorState } from '../../src/contracts';

// The monitor's trigger on estimated performance (drift.estimated, CBPE) on windows WITHOUT labels: the serving
// prediction log's champion requests with no feedback, judged only by the champion's own probabilities calibrated on
// its holdout.
const CHECK_WINDOW = { from: '2001-02-08', to: '2001-02-15' };
// The champion (logistic regression on a week of flights) ranks delays only a little better than chance: its holdout
// ROC AUC is about 0.55, so a drop of 0.02 is a large part of what it knows.
const MAX_DROP = 0.02;
const FEATURES = ['distance', 'hour', 'origin'];

interface Row {
  distance: number;
  hour: number;
  origin: string;
}

describe('estimated performance triggers a retrain without labels (real dev server)', { timeout: 300_000 }, () => {
  const model = uniqueModelName('estimated');
  // Dataset drift needs every feature to drift and prediction drift only reports: the estimate decides here.
  const drift = { every: '1s', cooldown: '1h', checksPerRun: 5, driftShare: 1, prediction: { triggers: false }, estimated: { maxDrop: MAX_DROP } };
  let loaded: Awaited<ReturnType<typeof testConfig>>;
  let rows: Row[] = [];
  let scores: Float64Array;
  let session: Awaited<ReturnType<typeof openSession>>;

  before(async () => {
    // More rows than the other pipeline tests train on: the estimate is compared with a holdout value that must mean something.
    const base = smallFlightsModel() as { source: Record<string, unknown> };
    loaded = await testConfig({ [model]: { ...base, source: { ...base.source, sample: { maxRows: 20_000, seed: 3 } }, drift } });
    const first = await runPipeline(loaded, model);
    assert.equal(first.result?.decision, 'promoted', first.failure);
    // The window's flights and the champion's P(delayed) on each.
    const cfg = loaded.config.models[model]!;
    const { table } = await pullSnapshot({
      source: { ...cfg.source, window: CHECK_WINDOW, sample: { maxRows: cfg.drift!.maxRows, seed: 1 } },
      contract: { minRows: 1, columns: {} },
      requiredColumns: ['date', 'delay', ...FEATURES],
    });
    const distance = numericValues(table.getChild('distance')!);
    const hour = numericValues(table.getChild('hour')!);
    const origin = stringValues(table.getChild('origin')!);
    rows = Array.from({ length: table.numRows }, (_, i) => ({ distance: distance[i]!, hour: hour[i]!, origin: origin[i]! }));
    session = await openSession(await openArtifactStore(loaded).readVerified(first.result!.candidate.artifact));
    scores = await championScores(rows);
  });

  /** The champion's P(delayed) on rows. */
  async function championScores(of: Row[]): Promise<Float64Array> {
    const table = tableFromArrays({
      distance: Float64Array.from(of, (r) => r.distance),
      hour: Float64Array.from(of, (r) => r.hour),
      origin: of.map((r) => r.origin),
    });
    const cfg = loaded.config.models[model]!;
    const scored = await scoreRows({ session, table, rows: { start: 0, end: of.length }, features: cfg.features, task: cfg.task });
    return Float64Array.from(of, (_, i) => scored.probabilities![2 * i + 1]!);
  }

  /** Logs rows as champion requests of 100 rows at `at`, with the champion's outputs and no feedback. */
  async function logRequests(of: Row[], at: Date): Promise<void> {
    const p = await championScores(of);
    const writer = new PredictionLogWriter({ dir: path.join(loaded.stateDir, 'predictions') });
    for (let from = 0; from < of.length; from += 100) {
      const idx = Array.from({ length: Math.min(100, of.length - from) }, (_, j) => from + j);
      writer.append({
        requestId: newServerRequestId(),
        at,
        model,
        version: 1,
        rows: idx.length,
        inputsSha256: 'x'.repeat(64),
        latencyMs: 1,
        kind: 'prediction',
        role: 'champion',
        inputs: JSON.stringify({ features: FEATURES, rows: idx.map((i) => [of[i]!.distance, of[i]!.hour, of[i]!.origin]) }),
        outputs: JSON.stringify({ predictions: idx.map((i) => p[i]! > 0.5), probabilities: idx.map((i) => [1 - p[i]!, p[i]!]) }),
        labels: null,
      });
    }
    await writer.close();
  }

  /** Logs the rows, then runs one check of the monitor on the log around `at`. */
  async function runMonitor(of: Row[], at: Date): Promise<{ state: MonitorState; triggers: unknown[] }> {
    await logRequests(of, at);
    const cfg = structuredClone(loaded.config.models[model]!);
    cfg.drift = { ...cfg.drift!, source: 'predictions' };
    // A worker runs only its own config: this test's worker reads the log as an edit of temporal.yaml would tell it.
    loaded.config.models[model] = cfg;
    const window = { from: new Date(at.getTime() - 60_000).toISOString(), to: new Date(at.getTime() + 60_000).toISOString() };
    const input: DriftMonitorInput = { model, modelConfig: cfg, configDigest: loaded.digest, modelDigest: modelDigest(loaded, model), window, maxChecks: 1 };
    const { client, target, close } = await connectClient(loaded);
    const { worker, close: closeWorker } = await createRelearnWorker(loaded, target);
    try {
      const handle = await client.workflow.start('driftMonitor', { taskQueue: target.taskQueue, workflowId: `monitor/${model}-${Date.now()}`, args: [input] });
      return await worker.runUntil(async () => {
        const state = (await handle.result()) as MonitorState;
        const triggers: unknown[] = [];
        for await (const wf of client.workflow.list({ query: `WorkflowId = 'retrain/${model}'` })) {
          triggers.push(wf.typedSearchAttributes.get({ name: 'RelearnTrigger', type: 'KEYWORD' }));
        }
        // The run it started retrains on the logged window, which the parquet source has no rows of: it fails at once.
        if (state.lastTrigger?.runId) await client.workflow.getHandle(`retrain/${model}`, state.lastTrigger.runId).result().catch(() => undefined);
        return { state, triggers };
      });
    } finally {
      await closeWorker();
      await close();
    }
  }

  function report(state: MonitorState): Record<string, any> {
    assert.ok(state.lastCheck?.report, `a report: ${JSON.stringify(state.lastCheck)}`);
    return JSON.parse(readFileSync(openArtifactStore(loaded).locate(state.lastCheck!.report!.json), 'utf8'));
  }

  it('harmless covariate drift: long flights over-represented at every confidence level — distance drifts, the estimate holds, no run', async () => {
    // Among flights from the same origin, in the same hour and the same tenth of the champion's scores, keep the longer
    // half: the distance distribution moves, origins, hours and the model's confidence (so its calibrated
    // performance) do not.
    const order = Array.from(scores.keys()).sort((a, b) => scores[a]! - scores[b]!);
    const cells = new Map<string, number[]>();
    order.forEach((i, rank) => {
      const key = `${Math.floor((rank * 10) / order.length)}|${rows[i]!.origin}|${rows[i]!.hour}`;
      cells.set(key, [...(cells.get(key) ?? []), i]);
    });
    const keep: Row[] = [];
    for (const cell of cells.values()) {
      cell.sort((a, b) => rows[b]!.distance - rows[a]!.distance);
      for (const i of cell.slice(0, Math.ceil(cell.length / 2))) keep.push(rows[i]!);
    }
    const { state, triggers } = await runMonitor(keep, new Date(Date.now() - 3_600_000));
    const r = report(state);
    assert.equal(state.lastCheck?.skipped, undefined, state.lastCheck?.skipped);
    assert.equal(r.features.find((f: { feature: string }) => f.feature === 'distance').drifted, true, 'the shift is there');
    assert.equal(r.metric, undefined, 'no labels in the window');
    assert.equal(r.estimated.metric, 'roc_auc');
    assert.equal(r.estimated.drifted, false, JSON.stringify({ value: r.estimated.value, holdout: r.estimated.championHoldout }));
    assert.ok(Math.abs(r.estimated.drop) < MAX_DROP);
    assert.equal(state.triggered, 0);
    assert.deepEqual(triggers, ['manual']);
    assert.match(readFileSync(openArtifactStore(loaded).locate(state.lastCheck!.report!.html), 'utf8'), /Estimated performance \(CBPE, no labels needed\)[\s\S]*The window has no labels/);
  });

  it('a performance drop with no labels: the evening rush from one airport, which the model cannot rank — a run starts, trigger=estimated-performance', async () => {
    // Every flight of the window now leaves the busiest origin at the same hour: the champion's scores differ by distance
    // alone, so it can hardly tell the delayed ones apart. Distances keep their distribution (not every feature drifts).
    const counts = new Map<string, number>();
    for (const r of rows) counts.set(r.origin, (counts.get(r.origin) ?? 0) + 1);
    const busiest = [...counts.entries()].sort((a, b) => b[1] - a[1])[0]![0];
    const collapsed = rows.map((r) => ({ distance: r.distance, hour: 17, origin: busiest }));
    const { state, triggers } = await runMonitor(collapsed, new Date());
    const r = report(state);
    assert.equal(r.metric, undefined, 'no labels in the window');
    assert.equal(r.datasetDrift, false, 'not every feature drifted: dataset drift alone would not have fired');
    assert.equal(r.estimated.drifted, true);
    assert.ok(r.estimated.drop > MAX_DROP, JSON.stringify({ value: r.estimated.value, holdout: r.estimated.championHoldout }));
    assert.ok(r.estimated.lower <= r.estimated.value && r.estimated.value <= r.estimated.upper);
    assert.equal(state.lastCheck?.estimated?.drifted, true);
    assert.equal(state.triggered, 1);
    assert.match(state.lastTrigger!.reason, /estimated roc_auc 0\.\d{4} \[0\.\d{4}, 0\.\d{4}\] vs holdout 0\.\d{4}/);
    assert.deepEqual([...triggers].sort(), ['estimated-performance', 'manual']);
  });

  it('a window with labels: the realized value beside the estimate, in the JSON and the HTML report', async () => {
    const cfg = structuredClone(loaded.config.models[model]!);
    cfg.drift = { ...cfg.drift!, source: 'data' };
    const registry = openRegistry(loaded);
    const store = openArtifactStore(loaded);
    try {
      const deps = { store, registry, baseDir: loaded.baseDir, dataRoot: loaded.dataRoot, stateDir: loaded.stateDir };
      const { report, summary } = await runDriftCheck(deps, { model, modelConfig: cfg, window: CHECK_WINDOW, checkedAt: new Date().toISOString() });
      const e = report!.estimated!;
      assert.ok(!('note' in e), JSON.stringify(e));
      assert.equal(e.realized?.labelsFrom, 'data');
      assert.equal(e.realized?.rows, report!.metric!.labelled);
      // The realized ROC AUC is the labelled metric the check computes anyway, on the same rows.
      assert.ok(Math.abs(e.realized!.value! - report!.metric!.value!) < 1e-12);
      assert.equal(summary.estimated?.realized, e.realized!.value);
      const html = readFileSync(store.locate(summary.report!.html), 'utf8');
      assert.match(html, new RegExp(`Realized on the window's ${e.realized!.rows} labelled rows \\(from data\\): <strong>${e.realized!.value!.toFixed(4)}</strong>`));
      assert.match(html, /no concept shift/);
    } finally {
      await registry.close();
    }
  });
});
