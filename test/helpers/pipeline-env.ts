// Test environment for pipeline tests: one real Temporal dev server shared by the test files (started once, reused),
// and per test a fresh state folder (store, registry, job folders), its own task queue and its own model names.
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { type LoadedConfig, loadConfig } from '../../src/config';
import type { RelearnConfigInput } from '../../src/config/schema';
import { RELEARN_ROOT } from '../../src/paths';
import { ApplicationFailure } from '@temporalio/common';
import { WorkflowFailedError } from '@temporalio/client';
import type { LaunchRecord } from '../../src/jobs/launcher';
import { connectClient } from '../../src/temporal/connection';
import { type DevServerInfo, type DevServerOptions, ensureDevServer, recordedDevServer } from '../../src/temporal/dev-server';
import { startRetrain } from '../../src/temporal/runs';
import { createRelearnWorker, type RelearnWorkerOptions } from '../../src/temporal/worker';
import type { RetrainResult } from '../../src/contracts';
import { freePorts } from './free-port';
import { TEST_SERVER_STATE, withFileLock } from './file-lock';

export { TEST_SERVER_STATE, withFileLock };

const TEST_SERVER = { stateDir: TEST_SERVER_STATE, dbFile: 'temporal.db', namespace: 'default' };
const START_LOCK = path.join(TEST_SERVER_STATE, 'start.lock');

/**
 * Starts a dev server on free ports. A port found free can be taken again before the server binds it (and the server
 * binds ports of its own too), so a start that fails is retried on new ports.
 */
export async function startDevServerOnFreePorts(
  opts: Omit<DevServerOptions, 'port' | 'uiPort'>,
): Promise<DevServerInfo & { port: number; uiPort: number }> {
  for (let attempt = 1; ; attempt++) {
    const [port, uiPort] = (await freePorts(2)) as [number, number];
    try {
      return { ...(await ensureDevServer({ ...opts, port, uiPort })), port, uiPort };
    } catch (err) {
      if (attempt >= 3) throw err;
    }
  }
}

function withStartLock<T>(fn: () => Promise<T>): Promise<T> {
  return withFileLock(START_LOCK, fn);
}

/**
 * Reuses the shared test dev server, or starts it again on the ports it last had (configs written meanwhile name that
 * address), or, when those are taken, on free ports. Returns where it answers.
 */
export function testServer(): Promise<DevServerInfo> {
  return withStartLock(async () => {
    const recorded = recordedDevServer(TEST_SERVER_STATE);
    if (recorded !== undefined) {
      try {
        return await ensureDevServer({ ...TEST_SERVER, port: recorded.port, uiPort: recorded.uiPort });
      } catch (err) {
        if (recorded.running) throw err;
      }
    }
    return startDevServerOnFreePorts(TEST_SERVER);
  });
}

/** Starts (or reuses) the shared test dev server and returns its address. */
export async function testServerAddress(): Promise<string> {
  return (await testServer()).address;
}

let counter = 0;
/** A model name unique to this process and call (workflow ids are global in the namespace). */
export function uniqueModelName(base: string): string {
  counter += 1;
  return `${base}-${process.pid.toString(36)}-${Date.now().toString(36)}-${counter}`;
}

/** The flights data the demo uses, shrunk so a run takes seconds. */
export function smallFlightsModel(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    task: 'binary',
    source: {
      format: 'parquet',
      path: path.join(RELEARN_ROOT, 'node_modules/vega-datasets/data/flights-3m.parquet'),
      timeColumn: 'date',
      window: { from: '2001-02-01', to: '2001-02-08' },
      sample: { maxRows: 3000, seed: 3 },
      derive: [
        { name: 'hour', from: 'date', op: 'hour' },
        { name: 'delayed', from: 'delay', op: 'greaterThan', value: 15 },
      ],
    },
    features: { numeric: ['distance', 'hour'], categorical: ['origin'] },
    label: 'delayed',
    contract: {
      minRows: 500,
      columns: { date: { type: 'timestamp' }, delay: { type: 'int' }, distance: { type: 'int', min: 1 }, origin: { type: 'string' } },
    },
    split: { folds: 3, strategy: 'stratified', holdoutFraction: 0.2, seed: 1 },
    trainer: { estimator: 'logistic_regression', params: { C: 1.0, max_iter: 200 }, maxParallel: 2, maxAttempts: 2, retryInitialIntervalMs: 200, probeRows: 50 },
    gate: { primaryMetric: 'roc_auc', minimums: { roc_auc: 0.5 }, maxDropVsChampion: 0.2 },
    ...overrides,
  };
}

/**
 * Writes a temporal.yaml for a test into a fresh folder and loads it: the shared test server unless `address` is
 * given; `prefix` names the temp folder and the task queue.
 */
export async function testConfig(
  models: Record<string, Record<string, unknown>>,
  opts: { address?: string; prefix?: string } = {},
): Promise<LoadedConfig> {
  const prefix = opts.prefix ?? 'test';
  const dir = mkdtempSync(path.join(os.tmpdir(), `relearn-${prefix}-`));
  const address = opts.address ?? (await testServerAddress());
  const config: RelearnConfigInput = {
    temporal: { address, namespace: 'default', taskQueue: `${prefix}-${path.basename(dir)}` },
    stateDir: path.join(dir, 'state'),
    // Test configs live in temp folders and read fixtures from the repository and from other temp folders.
    dataRoot: '/',
    models: models as RelearnConfigInput['models'],
  };
  const file = path.join(dir, 'temporal.yaml');
  writeFileSync(file, stringify(config));
  return loadConfig(file);
}

/** Outcome of one pipeline run driven by a test. */
export interface PipelineOutcome {
  workflowId: string;
  runId: string;
  result?: RetrainResult;
  /** The failure message chain of a failed run (workflow → activity → cause). */
  failure?: string;
  /** The failure type of the root cause (e.g. DataContractError). */
  failureType?: string;
  launches: LaunchRecord[];
}

function failureChain(err: unknown): { message: string; type?: string } {
  const parts: string[] = [];
  let type: string | undefined;
  let current: unknown = err;
  while (current instanceof Error) {
    parts.push(current.message);
    if (current instanceof ApplicationFailure && current.type) type = current.type;
    current = current.cause;
  }
  return { message: parts.join(' ← '), type };
}

/** Starts `retrain/<model>` with an in-process worker and waits for the outcome. */
export async function runPipeline(
  loaded: LoadedConfig,
  model: string,
  opts: { window?: { from?: string; to?: string }; worker?: RelearnWorkerOptions } = {},
): Promise<PipelineOutcome> {
  const { client, target, close } = await connectClient(loaded);
  const { worker, deps, close: closeWorker } = await createRelearnWorker(loaded, target, opts.worker);
  try {
    const started = await startRetrain(client, target, loaded, model, { window: opts.window });
    const handle = client.workflow.getHandle(started.workflowId, started.runId);
    const outcome: PipelineOutcome = { workflowId: started.workflowId, runId: started.runId, launches: [] };
    await worker.runUntil(async () => {
      try {
        outcome.result = (await handle.result()) as RetrainResult;
      } catch (err) {
        if (!(err instanceof WorkflowFailedError)) throw err;
        const chain = failureChain(err);
        outcome.failure = chain.message;
        outcome.failureType = chain.type;
      }
    });
    outcome.launches = await deps.launcher.launches();
    return outcome;
  } finally {
    await closeWorker();
    await close();
  }
}
