import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { before, describe, it } from 'node:test';
import { modelDigest } from '../../src/config';
import { pullSnapshot } from '../../src/data';
import { numericValues, stringValues, timeKeysMs } from '../../src/data/columns';
import { runDriftCheck } from '../../src/drift/run-check';
import { openSession, scoreRows } from '../../src/onnx';
import { openRegistry } from '../../src/registry';
import { PredictionLogWriter, newServerRequestId } from '../../src/prediction-log';
import { openArtifactStore } from '../../src/store';
import { connectClient } from '../../src/temporal/connection';
import { createRelearnWorker } from '../../src/temporal/worker';
import { runPipeline, smallFlightsModel, testConfig, uniqueModelName } from '../helpers/pipeline-env';
import type { DriftMonitorInput, MonitorState } from '../../src/contracts';

const CHECK_WINDOW = { from: '2001-02-08', to: '2001-02-15' };

/** The check window's flights with distances doubled and departures six hours later: a drifted copy as CSV. */
async function writeDriftedCsv(file: string, model: Record<string, any>): Promise<void> {
  const { table } = await pullSnapshot({
    source: { ...model.source, window: CHECK_WINDOW, derive: [] },
    contract: { minRows: 1, columns: {} },
    requiredColumns: ['date', 'delay', 'distance', 'origin'],
  });
  const t = timeKeysMs(table.getChild('date')!);
  const delay = numericValues(table.getChild('delay')!);
  const distance = numericValues(table.getChild('distance')!);
  const origin = stringValues(table.getChild('origin')!);
  const lines = ['date,delay,distance,origin'];
  for (let i = 0; i < table.numRows; i++) {
    const shifted = new Date(t[i]! + 6 * 3_600_000).toISOString().replace('T', ' ').slice(0, 19);
    lines.push(`${shifted},${delay[i]},${distance[i]! * 2},${origin[i]}`);
  }
  writeFileSync(file, `${lines.join('\n')}\n`);
}

describe('drift monitor on the real dev server', { timeout: 600_000 }, () => {
  const model = uniqueModelName('drift');
  const base = smallFlightsModel();
  const drift = { every: '1s', cooldown: '1h', checksPerRun: 2, window: CHECK_WINDOW };
  let loaded: Awaited<ReturnType<typeof testConfig>>;

  before(async () => {
    loaded = await testConfig({ [model]: { ...base, drift } });
    const first = await runPipeline(loaded, model);
    assert.equal(first.result?.decision, 'promoted', first.failure);
  });

  async function runMonitor(input: DriftMonitorInput, waitForRetrain: boolean) {
    const { client, target, close } = await connectClient(loaded);
    const { worker, close: closeWorker } = await createRelearnWorker(loaded, target);
    try {
      const handle = await client.workflow.start('driftMonitor', {
        taskQueue: target.taskQueue,
        workflowId: `monitor/${input.model}-${Date.now()}`,
        args: [input],
      });
      return await worker.runUntil(async () => {
        const state = (await handle.result()) as MonitorState;
        const described = await client.workflow.getHandle(handle.workflowId).describe();
        const retrains: Array<{ runId: string; trigger: unknown }> = [];
        for await (const wf of client.workflow.list({ query: `WorkflowId = 'retrain/${model}'` })) {
          retrains.push({ runId: wf.runId, trigger: wf.typedSearchAttributes.get({ name: 'RelearnTrigger', type: 'KEYWORD' }) });
        }
        if (waitForRetrain && state.lastTrigger?.runId) await client.workflow.getHandle(`retrain/${model}`, state.lastTrigger.runId).result();
        return { state, finalRunId: described.runId, firstRunId: handle.firstExecutionRunId, retrains };
      });
    } finally {
      await closeWorker();
      await close();
    }
  }

  it('an undrifted window: a report, no dataset drift, no run started', async () => {
    const cfg = loaded.config.models[model]!;
    const { state, retrains } = await runMonitor({ model, modelConfig: cfg, configDigest: loaded.digest, maxChecks: 1 }, false);
    assert.equal(state.checks, 1);
    assert.equal(state.lastCheck?.skipped, undefined, state.lastCheck?.skipped);
    assert.equal(state.lastCheck?.datasetDrift, false);
    assert.equal(state.triggered, 0);
    assert.deepEqual(retrains.map((r) => r.trigger), ['manual'], 'only the first, manual run');
    const store = openArtifactStore(loaded);
    const report = JSON.parse(readFileSync(store.locate(state.lastCheck!.report!.json), 'utf8'));
    assert.equal(report.championVersion, 1);
    assert.equal(report.features.length, 3);
    assert.match(readFileSync(store.locate(state.lastCheck!.report!.html), 'utf8'), /No dataset drift/);
    // Prediction drift (P(delayed) of the champion, recent vs its training snapshot) and the metric on the labelled window.
    assert.equal(report.prediction.what, 'positive-class probability');
    assert.equal(report.prediction.drifted, false);
    assert.equal(report.metric.metric, 'roc_auc');
    assert.equal(report.metric.labelsFrom, 'data');
    assert.ok(report.metric.value > 0.5 && typeof report.metric.championHoldout === 'number', JSON.stringify(report.metric));
    assert.equal(report.retrain, false);
    assert.equal(state.lastCheck?.retrain, false);
  });

  it('the serving prediction log as the source: champion inputs as columns, logged outputs, feedback labels', async () => {
    const cfg = structuredClone(loaded.config.models[model]!);
    const registry = openRegistry(loaded);
    const store = openArtifactStore(loaded);
    const deps = { store, registry, baseDir: loaded.baseDir, dataRoot: loaded.dataRoot, stateDir: loaded.stateDir };
    try {
      const checkedAt = new Date().toISOString();
      const fromData = await runDriftCheck(deps, { model, modelConfig: cfg, window: CHECK_WINDOW, checkedAt });
      // The same window as logged requests of 100 rows: canonical inputs, the champion's outputs, then feedback.
      const columns = Object.fromEntries(Object.entries(cfg.contract.columns).map(([name, c]) => [name, { type: c.type, nullable: true }]));
      const { table } = await pullSnapshot({
        source: { ...cfg.source, window: CHECK_WINDOW, sample: { maxRows: cfg.drift!.maxRows, seed: 1 } },
        contract: { minRows: 1, columns },
        requiredColumns: ['date', 'distance', 'hour', 'origin'],
      });
      const champion = (await registry.getVersion(model, (await registry.getAlias(model, 'champion'))!.version))!;
      const session = await openSession(await store.readVerified({ uri: champion.artifactUri, sha256: champion.artifactSha256 }));
      const scored = await scoreRows({ session, table, rows: { start: 0, end: table.numRows }, features: cfg.features, task: cfg.task });
      const distance = numericValues(table.getChild('distance')!);
      const hour = numericValues(table.getChild('hour')!);
      const origin = stringValues(table.getChild('origin')!);
      const delayed = table.getChild('delayed')!;
      const writer = new PredictionLogWriter({ dir: path.join(loaded.stateDir, 'predictions') });
      const at = new Date();
      for (let from = 0, k = 0; from < table.numRows; from += 100, k++) {
        const rows = Array.from({ length: Math.min(100, table.numRows - from) }, (_, j) => from + j);
        const base = { requestId: newServerRequestId(), at, model, version: champion.version, rows: rows.length, inputsSha256: 'x'.repeat(64), latencyMs: 1 };
        const outputs = JSON.stringify({ predictions: rows.map(() => true), probabilities: rows.map((i) => Array.from(scored.probabilities!.subarray(2 * i, 2 * i + 2))) });
        const inputs = JSON.stringify({ features: ['distance', 'hour', 'origin'], rows: rows.map((i) => [distance[i], hour[i], origin[i]]) });
        writer.append({ ...base, kind: 'prediction', role: 'champion', inputs, outputs, labels: null });
        // A mirrored shadow answer of the same request must not count.
        writer.append({ ...base, kind: 'prediction', role: 'shadow', version: 99, inputs, outputs: JSON.stringify({ predictions: [], probabilities: rows.map(() => [0, 1]) }), labels: null });
        writer.append({ ...base, kind: 'feedback', version: null, role: null, inputsSha256: null, inputs: null, outputs: null, labels: JSON.stringify(rows.map((i) => delayed.get(i))), latencyMs: null });
      }
      await writer.close();
      const window = { from: new Date(at.getTime() - 3_600_000).toISOString(), to: new Date(at.getTime() + 3_600_000).toISOString() };
      cfg.drift = { ...cfg.drift!, source: 'predictions' };
      const { summary, report } = await runDriftCheck(deps, { model, modelConfig: cfg, window, checkedAt });
      assert.equal(summary.skipped, undefined, summary.skipped);
      assert.equal(report!.source, 'predictions');
      assert.equal(report!.currentRows, table.numRows);
      assert.equal(report!.datasetDrift, false);
      // Same rows, same outputs, same labels as the data source's check.
      for (const f of report!.features) {
        const d = fromData.report!.features.find((x) => x.feature === f.feature)!;
        assert.ok(Math.abs(f.statistic! - d.statistic!) <= 1e-12 * Math.max(1, Math.abs(d.statistic!)), `${f.feature}: ${f.statistic} vs ${d.statistic}`);
      }
      assert.ok(Math.abs(report!.prediction!.statistic! - fromData.report!.prediction!.statistic!) < 1e-9);
      assert.equal(report!.metric!.labelsFrom, 'feedback');
      assert.equal(report!.metric!.labelled, table.numRows);
      assert.ok(Math.abs(report!.metric!.value! - fromData.report!.metric!.value!) < 1e-12);
    } finally {
      await registry.close();
    }
  });

  it('a burst of drifted windows starts exactly one run (trigger=drift); the cooldown holds across continue-as-new', async () => {
    const csv = path.join(path.dirname(loaded.configPath), 'drifted.csv');
    await writeDriftedCsv(csv, base);
    const cfg = structuredClone(loaded.config.models[model]!);
    cfg.drift = { ...cfg.drift!, path: csv };
    cfg.contract = { ...cfg.contract, columns: { ...cfg.contract.columns, date: { type: 'timestamp', nullable: false } } };
    // A worker runs only its own config: this test's worker gets the drifted file as an edit of temporal.yaml would.
    loaded.config.models[model] = cfg;
    const input = { model, modelConfig: cfg, configDigest: loaded.digest, modelDigest: modelDigest(loaded, model), maxChecks: 3 };
    const { state, retrains, finalRunId, firstRunId } = await runMonitor(input, true);
    assert.equal(state.checks, 3);
    assert.equal(state.driftsFound, 3);
    assert.equal(state.triggered, 1);
    assert.equal(state.suppressed, 2, 'two drifts inside the cooldown, counted');
    assert.notEqual(finalRunId, firstRunId, 'the monitor continued as new after 2 checks');
    assert.equal(state.lastTrigger?.action, 'started');
    assert.match(state.lastTrigger!.reason, /drift in \d\/3 features .*report store:\/\//);
    const drifted = retrains.filter((r) => r.trigger === 'drift');
    assert.equal(drifted.length, 1);
    assert.deepEqual(state.lastCheck?.driftedFeatures?.sort(), ['distance', 'hour'].concat(state.lastCheck?.driftedFeatures?.includes('origin') ? ['origin'] : []).sort());
  });
});
