// The drift monitor on the real dev server with drift.multivariate: a window whose x1–x2 correlation changed (every
// marginal unchanged, so no feature drifts) starts a retrain, its reason naming the multivariate drift and the
// features that explain it; the domain classifier's fold jobs ran through the worker's launcher, owned by the monitor.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { before, describe, it } from 'node:test';
import { tableToIPC } from 'apache-arrow';
import type { DriftMonitorInput, MonitorState } from '../../src/contracts';
import { trainingJobRunner, jobCommandVars } from '../../src/drift/training-job-runner';
import { openLaunchers } from '../../src/jobs/launchers';
import { openRegistry } from '../../src/registry';
import { splitToIpc } from '../../src/split';
import { openArtifactStore } from '../../src/store';
import { connectClient } from '../../src/temporal/connection';
import { createRelearnWorker } from '../../src/temporal/worker';
import { correlatedWindow, writeWindowCsv } from '../helpers/correlated-window';
import { testConfig, uniqueModelName } from '../helpers/pipeline-env';

describe('drift monitor: multivariate drift starts a retrain', { timeout: 300_000 }, () => {
  const model = uniqueModelName('mv');
  let loaded: Awaited<ReturnType<typeof testConfig>>;

  before(async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'relearn-mv-'));
    const reference = correlatedWindow(3000, 0, 1);
    writeWindowCsv(path.join(dir, 'reference.csv'), reference);
    writeWindowCsv(path.join(dir, 'window.csv'), correlatedWindow(3000, 0.8, 2), Date.UTC(2026, 1, 1));
    loaded = await testConfig({
      [model]: {
        task: 'binary',
        source: { path: path.join(dir, 'reference.csv'), timeColumn: 'ts' },
        features: { numeric: ['x1', 'x2', 'x3'], categorical: ['c'] },
        label: 'y',
        trainer: { estimator: 'logistic_regression' },
        drift: {
          every: '1s',
          cooldown: '1h',
          checksPerRun: 1,
          path: path.join(dir, 'window.csv'),
          window: { from: '2026-02-01', to: '2026-03-01' },
          multivariate: { folds: 2, maxRows: 2000, permutations: 1, sensitivityRows: 500 },
        },
      },
    });
    // The champion as a finished run leaves it (its ONNX model, its training snapshot, the champion alias), trained by
    // the model's own trainer; a whole pipeline run would add a minute and test nothing more here.
    const cfg = loaded.config.models[model]!;
    const store = openArtifactStore(loaded);
    const registry = openRegistry(loaded);
    try {
      const snapshot = await store.putBytes('snapshots', 'reference.arrow', tableToIPC(reference, 'file'));
      const split = await store.putBytes('splits', 'split.arrow', splitToIpc(new Int8Array(reference.numRows)));
      const runJob = trainingJobRunner({
        launcher: openLaunchers(loaded.stateDir, [cfg]).for(cfg.trainer.launcher),
        cfg,
        baseDir: loaded.baseDir,
        commandVars: jobCommandVars(loaded),
        pollMs: 200,
      });
      const job = await runJob({
        jobKey: `${model}-champion`,
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
      const artifact = await store.putBytes('models', 'model.onnx', readFileSync(path.join(job.outputDir, 'model.onnx')));
      const version = await registry.registerVersion({
        model,
        artifactUri: artifact.uri,
        artifactSha256: artifact.sha256,
        sizeBytes: artifact.sizeBytes,
        snapshotUri: snapshot.uri,
        snapshotSha256: snapshot.sha256,
        params: {},
        metrics: {},
        gate: { verdict: 'PASS' },
        lineage: { classes: [0, 1] },
        workflowId: `retrain/${model}`,
        runId: 'seeded',
      });
      await registry.promote({ model, version: version.version, expectedChampion: null, reason: 'test champion', workflowId: `retrain/${model}`, runId: 'seeded' });
    } finally {
      await registry.close();
    }
  });

  it('a correlation change alone asks for a retrain; the reason names the multivariate drift', async () => {
    const cfg = loaded.config.models[model]!;
    const input: DriftMonitorInput = { model, modelConfig: cfg, configDigest: loaded.digest, maxChecks: 1 };
    const { client, target, close } = await connectClient(loaded);
    const { worker, close: closeWorker } = await createRelearnWorker(loaded, target);
    try {
      const handle = await client.workflow.start('driftMonitor', { taskQueue: target.taskQueue, workflowId: `monitor/${model}`, args: [input] });
      const state = (await worker.runUntil(handle.result())) as MonitorState;
      const check = state.lastCheck!;
      assert.equal(check.skipped, undefined, check.skipped);
      assert.equal(check.drifted, 0, `univariate: ${JSON.stringify(check.driftedFeatures)}`);
      assert.equal(check.multivariate?.drifted, true, JSON.stringify(check.multivariate));
      assert.equal(check.retrain, true);
      assert.equal(state.triggered, 1);
      assert.equal(state.lastTrigger?.action, 'started');
      assert.match(state.lastTrigger?.reason ?? '', /multivariate drift \(domain classifier AUC 0\.\d+ > 0\.55; explained by x1, /, 'x1: drifted and used by the champion');
      // The fold jobs ran on the worker's launcher, keyed by the check, owned by the monitor's run.
      const launches = await openLaunchers(loaded.stateDir, [cfg]).launches();
      const folds = launches.filter((l) => l.jobId.includes('-domain-fold'));
      assert.equal(new Set(folds.map((l) => l.jobId)).size, 2, JSON.stringify(launches.map((l) => l.jobId)));
      // The retrain it started is not this test's subject: stop it.
      await client.workflow.getHandle(`retrain/${model}`, state.lastTrigger!.runId).terminate('test done');
    } finally {
      await closeWorker();
      await close();
    }
  });
});
