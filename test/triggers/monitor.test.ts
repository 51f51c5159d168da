import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { before, describe, it } from 'node:test';
import { pullSnapshot } from '../../src/data';
import { numericValues, stringValues, timeKeysMs } from '../../src/data/columns';
import { ArtifactStore } from '../../src/store';
import { connectClient } from '../../src/temporal/connection';
import { createRelearnWorker } from '../../src/temporal/worker';
import type { DriftMonitorInput, MonitorState } from '../../workflows/monitor';
import { runPipeline, smallFlightsModel, testConfig, uniqueModelName } from '../helpers/pipeline-env';

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
    const store = new ArtifactStore(path.join(loaded.stateDir, 'store'));
    const report = JSON.parse(readFileSync(store.resolve(state.lastCheck!.report!.json), 'utf8'));
    assert.equal(report.championVersion, 1);
    assert.equal(report.features.length, 3);
    assert.match(readFileSync(store.resolve(state.lastCheck!.report!.html), 'utf8'), /No dataset drift/);
  });

  it('a burst of drifted windows starts exactly one run (trigger=drift); the cooldown holds across continue-as-new', async () => {
    const csv = path.join(path.dirname(loaded.configPath), 'drifted.csv');
    await writeDriftedCsv(csv, base);
    const cfg = structuredClone(loaded.config.models[model]!);
    cfg.drift = { ...cfg.drift!, path: csv };
    cfg.contract = { ...cfg.contract, columns: { ...cfg.contract.columns, date: { type: 'timestamp', nullable: false } } };
    const { state, retrains, finalRunId, firstRunId } = await runMonitor({ model, modelConfig: cfg, configDigest: loaded.digest, maxChecks: 3 }, true);
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
