// The worker decides what runs: a run's input names the model and the digests of the config it was started with, and
// the worker runs the command, opens the paths and applies the limits of its own temporal.yaml. Runs started by hand
// with a changed command or an unknown digest are refused before anything runs; every file a source or a drift check
// reads is confined to the data root and names no glob pattern.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { before, describe, it } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { stringify } from 'yaml';
import { confineSourcePath, loadConfig, modelConfig, modelDigest } from '../../src/config';
import { runDriftCheck } from '../../src/drift/run-check';
import { ConfigError } from '../../src/errors';
import { RELEARN_ROOT } from '../../src/paths';
import { openSqliteRegistry } from '../../src/registry';
import { LocalArtifactStore } from '../../src/store';
import { connectClient } from '../../src/temporal/connection';
import { createRelearnWorker } from '../../src/temporal/worker';
import { FailureType, type DriftMonitorInput, type MonitorState, type RetrainInput } from '../../src/contracts';
import { smallFlightsModel, testConfig, uniqueModelName } from '../helpers/pipeline-env';

const FLIGHTS = path.join(RELEARN_ROOT, 'node_modules/vega-datasets/data/flights-3m.parquet');
const fakeRef = { uri: 'store://snapshots/none.arrow', sha256: '0'.repeat(64), sizeBytes: 1 };

/** The root cause of a failed run: its message chain and the type of the innermost ApplicationFailure. */
function rootFailure(err: unknown): { type?: string; message: string } {
  let current = err;
  let found: ApplicationFailure | undefined;
  while (current instanceof Error) {
    if (current instanceof ApplicationFailure) found = current;
    current = current.cause;
  }
  return { type: found?.type ?? undefined, message: found?.message ?? String(err) };
}

/** Writes a temporal.yaml with the given top level into a fresh folder and loads it. */
function loadYaml(top: Record<string, unknown>): ReturnType<typeof loadConfig> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'relearn-worker-decides-'));
  const file = path.join(dir, 'temporal.yaml');
  writeFileSync(file, stringify({ temporal: { address: '127.0.0.1:1' }, stateDir: 'state', ...top }));
  return loadConfig(file);
}

describe('the worker decides what runs (real dev server)', { timeout: 120_000 }, () => {
  const model = uniqueModelName('worker-decides');
  const drift = { every: '1h', window: { from: '2001-02-08', to: '2001-02-15' } };
  let loaded: Awaited<ReturnType<typeof testConfig>>;
  let marker: string;

  before(async () => {
    loaded = await testConfig({ [model]: { ...smallFlightsModel(), drift } }, { prefix: 'worker-decides' });
    marker = path.join(path.dirname(loaded.configPath), 'ran-the-command');
  });

  /** Starts `type` with `input` by hand (as anyone with access to the namespace can) and returns how it ended. */
  async function startByHand<T>(type: string, input: object, workflowId: string): Promise<{ result?: T; failure?: { type?: string; message: string }; launches: number }> {
    const { client, target, close } = await connectClient(loaded);
    const { worker, deps, close: closeWorker } = await createRelearnWorker(loaded, target);
    try {
      const handle = await client.workflow.start(type, { taskQueue: target.taskQueue, workflowId, args: [input] });
      return await worker.runUntil(async () => {
        try {
          return { result: (await handle.result()) as T, launches: (await deps.launcher.launches()).length };
        } catch (err) {
          if (!(err instanceof WorkflowFailedError)) throw err;
          return { failure: rootFailure(err), launches: (await deps.launcher.launches()).length };
        }
      });
    } finally {
      await closeWorker();
      await close();
    }
  }

  /** The model's config with a command that would leave a marker file behind, as a hand-written input might carry. */
  function withMarkerCommand() {
    const cfg = structuredClone(modelConfig(loaded, model));
    cfg.trainer.command = ['/bin/sh', '-c', `touch '${marker}'`];
    return cfg;
  }

  function assertNothingRan(launches: number): void {
    assert.equal(existsSync(marker), false, 'the changed command ran');
    assert.equal(launches, 0, 'a training job was launched');
    const jobsDir = path.join(loaded.stateDir, 'jobs');
    assert.deepEqual(existsSync(jobsDir) ? readdirSync(jobsDir).filter((f) => f !== 'launches.jsonl') : [], [], 'a job folder was made');
  }

  it('a retrain started by hand with a changed trainer.command: refused with a ConfigError, nothing runs', async () => {
    const input: RetrainInput = {
      model,
      modelConfig: withMarkerCommand(),
      trigger: 'manual',
      configDigest: loaded.digest,
      modelDigest: modelDigest(loaded, model),
    };
    const outcome = await startByHand('retrain', input, `retrain/${model}`);
    assert.equal(outcome.failure?.type, FailureType.Config, outcome.failure?.message);
    assert.match(outcome.failure!.message, new RegExp(`models\\.${model}: this run's model config is not the worker's \\(it differs at models\\.${model}\\.trainer\\.command;`));
    assertNothingRan(outcome.launches);
  });

  it('a search trial started by hand with a changed command (no pull step before its jobs): refused, nothing runs', async () => {
    const cfg = withMarkerCommand();
    const input = {
      model,
      modelConfig: cfg,
      configDigest: loaded.digest,
      modelDigest: modelDigest(loaded, model),
      snapshot: fakeRef,
      split: fakeRef,
      probeRows: [0],
      params: {},
      folds: 1,
      rowShare: 1,
      key: `retrain/${model}/by-hand/search/trial-x`,
    };
    const outcome = await startByHand('searchTrial', input, input.key);
    assert.equal(outcome.failure?.type, FailureType.Config, outcome.failure?.message);
    assert.match(outcome.failure!.message, new RegExp(`models\\.${model}\\.trainer\\.command: this run's value is not the worker's temporal\\.yaml's`));
    assertNothingRan(outcome.launches);
  });

  it('a run started with digests the worker does not have: refused, naming the model and both digests', async () => {
    const unknown = 'e'.repeat(64);
    const cfg = modelConfig(loaded, model);
    const outcome = await startByHand('retrain', { model, modelConfig: cfg, trigger: 'manual', configDigest: 'f'.repeat(64), modelDigest: unknown }, `retrain/${model}`);
    assert.equal(outcome.failure?.type, FailureType.Config, outcome.failure?.message);
    assert.equal(
      outcome.failure!.message,
      `temporal.yaml: models.${model}: the worker's temporal.yaml is at sha256 ${loaded.digest} (this model's block at sha256 ${modelDigest(loaded, model)}); ` +
        `this run was started with the model's block at sha256 ${unknown}; restart the worker with that config or start the run again`,
    );
    // A starter without model digests (an older client) is held to the file's digest.
    const older = await startByHand('retrain', { model, modelConfig: cfg, trigger: 'manual', configDigest: 'f'.repeat(64) }, `retrain/${model}`);
    assert.match(older.failure?.message ?? '', new RegExp(`this run was started with sha256 ${'f'.repeat(64)}; restart the worker`));
    assertNothingRan(outcome.launches + older.launches);
  });

  it('a drift monitor started by hand with its check aimed at another file: the check is refused, no run starts', async () => {
    const cfg = structuredClone(modelConfig(loaded, model));
    cfg.drift = { ...cfg.drift!, path: '/etc/hosts' };
    const input: DriftMonitorInput = { model, modelConfig: cfg, configDigest: loaded.digest, modelDigest: modelDigest(loaded, model), maxChecks: 1 };
    const outcome = await startByHand<MonitorState>('driftMonitor', input, `monitor/${model}-by-hand`);
    assert.equal(outcome.failure, undefined);
    const state = outcome.result!;
    assert.equal(state.triggered, 0);
    assert.match(state.lastCheck?.skipped ?? '', new RegExp(`check failed: .*this run's model config is not the worker's \\(it differs at models\\.${model}\\.drift\\.path`));
  });
});

describe('paths a source or a drift check reads', () => {
  const dataRoot = mkdtempSync(path.join(os.tmpdir(), 'relearn-data-root-'));
  const outside = mkdtempSync(path.join(os.tmpdir(), 'relearn-outside-'));
  const inside = path.join(dataRoot, 'flights.parquet');
  symlinkSync(FLIGHTS, path.join(outside, 'flights.parquet'));
  writeFileSync(inside, 'PAR1');
  const model = (source: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
    ...smallFlightsModel(),
    source: { ...(smallFlightsModel().source as object), ...source },
    ...extra,
  });

  it('a drift check aimed at a file outside the data root is refused before it reads anything', async () => {
    const stateDir = mkdtempSync(path.join(os.tmpdir(), 'relearn-drift-state-'));
    const registry = openSqliteRegistry(path.join(stateDir, 'registry.db'));
    try {
      const loaded = loadYaml({ dataRoot, models: { m: model({ path: inside }, { drift: { window: { last: '7d' } } }) } });
      const cfg = { ...modelConfig(loaded, 'm'), drift: { ...modelConfig(loaded, 'm').drift!, path: path.join(outside, 'flights.parquet') } };
      const deps = { store: new LocalArtifactStore(path.join(stateDir, 'store')), registry, baseDir: loaded.baseDir, dataRoot };
      await assert.rejects(
        runDriftCheck(deps, { model: 'm', modelConfig: cfg, window: { from: '2001-01-01', to: '2001-02-01' }, checkedAt: new Date().toISOString() }),
        (err: unknown) =>
          err instanceof ConfigError &&
          err.message.startsWith(`models.m.drift.path: '${path.join(outside, 'flights.parquet')}' (it resolves to '${FLIGHTS}') is outside the data root '${dataRoot}'`),
      );
    } finally {
      await registry.close();
    }
  });

  it('temporal.yaml: a drift.path outside the data root is refused at load, naming the key', () => {
    assert.throws(
      () => loadYaml({ dataRoot, models: { m: model({ path: inside }, { drift: { path: path.join(outside, 'flights.parquet') } }) } }),
      (err: unknown) => err instanceof ConfigError && /^temporal\.yaml: models\.m\.drift\.path: '.*' \(it resolves to '.*'\) is outside the data root/.test(err.message),
    );
  });

  it('a source path with a glob character is refused at load and when it is opened; a symlink out of the root too', () => {
    for (const pattern of ['*.parquet', 'flights-?.parquet', 'flights[12].parquet', '{a,b}.parquet']) {
      assert.throws(
        () => loadYaml({ dataRoot, models: { m: model({ path: path.join(dataRoot, pattern) }) } }),
        (err: unknown) => err instanceof ConfigError && err.message.startsWith(`temporal.yaml: models.m.source.path: '${path.join(dataRoot, pattern)}' contains a glob character`),
        pattern,
      );
    }
    // A link whose target's name is a pattern: the name opened is the real one, so that is what is checked.
    const odd = path.join(dataRoot, 'odd[1].parquet');
    writeFileSync(odd, 'PAR1');
    symlinkSync(odd, path.join(dataRoot, 'plain.parquet'));
    assert.throws(() => confineSourcePath('where', dataRoot, path.join(dataRoot, 'plain.parquet')), /contains a glob character/);
    // A link inside the root to a file outside it.
    mkdirSync(path.join(dataRoot, 'links'));
    symlinkSync(FLIGHTS, path.join(dataRoot, 'links', 'flights.parquet'));
    assert.throws(() => confineSourcePath('where', dataRoot, path.join(dataRoot, 'links', 'flights.parquet')), /\(it resolves to '.*'\) is outside the data root/);
    // Inside the root: the real path comes back, the one the reader opens.
    assert.equal(confineSourcePath('where', dataRoot, path.join(dataRoot, '.', 'flights.parquet')), inside);
  });
});
