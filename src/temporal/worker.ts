import path from 'node:path';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { type ActivityDeps, createActivities } from '../../activities';
import { type LoadedConfig, resolvePredictionLog } from '../config';
import { openLaunchers } from '../jobs/launchers';
import { RELEARN_ROOT, VENV_PYTHON } from '../paths';
import { openRegistry } from '../registry';
import { openArtifactStore } from '../store';
import { cachedWorkflowBundle } from './bundle-cache';
import { connectWorker, type TemporalTarget } from './connection';
import { startWorkerJobReaper } from './job-reaper';

const WORKFLOWS_DIR = path.join(RELEARN_ROOT, 'workflows');

/** Builds the activities' dependencies from the loaded config: store, registry, launcher, command variables. */
export function buildActivityDeps(loaded: LoadedConfig): ActivityDeps {
  const { stateDir, config } = loaded;
  return {
    config: loaded,
    store: openArtifactStore(loaded),
    registry: openRegistry(loaded),
    launcher: openLaunchers(stateDir, Object.values(config.models)),
    predictionLogDir: resolvePredictionLog(config, stateDir),
    baseDir: loaded.baseDir,
    stateDir,
    dataRoot: loaded.dataRoot,
    commandVars: { python: config.python ? path.resolve(loaded.baseDir, config.python) : VENV_PYTHON, relearn: RELEARN_ROOT },
  };
}

/**
 * The workflow bundle, cached under the state folder and rebuilt when a file it was built from changes (see
 * bundle-cache.ts): bundling takes seconds, and tests and the demo start workers often.
 */
export async function workflowBundle(stateDir: string): Promise<{ code: string }> {
  const { code } = await cachedWorkflowBundle({ workflowsPath: path.join(WORKFLOWS_DIR, 'index.ts'), root: RELEARN_ROOT, stateDir });
  return { code };
}

/** Options of a Relearn worker. */
export interface RelearnWorkerOptions {
  /** How long running activities get to finish or heartbeat after a shutdown request. */
  shutdownGraceMs?: number;
  maxConcurrentActivities?: number;
  /** Shadow and guard windows see time pass this many times faster (tests of week-long windows); default 1. */
  windowClockSpeed?: number;
  /** Pause between two looks of the reaper that stops jobs whose run is closed (src/jobs/reaper.ts); default 10 s. */
  reaperIntervalMs?: number;
}

let runtimeInstalled = false;

/** Installs the SDK runtime once with a quiet logger: workers log warnings and errors, not every state change. */
function installRuntime(): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  const level = process.env.RELEARN_LOG_LEVEL === 'debug' ? 'DEBUG' : process.env.RELEARN_LOG_LEVEL === 'info' ? 'INFO' : 'WARN';
  try {
    Runtime.install({ logger: new DefaultLogger(level) });
  } catch {
    // Already installed by the embedding program.
  }
}

/** Creates a worker on the config's task queue with the retrain workflow and all activities. */
export async function createRelearnWorker(loaded: LoadedConfig, target: TemporalTarget, opts: RelearnWorkerOptions = {}) {
  installRuntime();
  const deps = { ...buildActivityDeps(loaded), ...(opts.windowClockSpeed !== undefined ? { windowClockSpeed: opts.windowClockSpeed } : {}) };
  // A PostgreSQL registry connects and migrates now, so a wrong URL or password stops the worker at start-up.
  await deps.registry.ready();
  const connection = await connectWorker(target);
  const worker = await Worker.create({
    connection,
    namespace: target.namespace,
    taskQueue: target.taskQueue,
    workflowBundle: await workflowBundle(loaded.stateDir),
    activities: createActivities(deps),
    shutdownGraceTime: opts.shutdownGraceMs ?? 20_000,
    maxConcurrentActivityTaskExecutions: opts.maxConcurrentActivities ?? 8,
  });
  const reaper = startWorkerJobReaper(connection, () => deps.launcher.all(), opts.reaperIntervalMs ?? 10_000);
  return {
    worker,
    deps,
    async close() {
      await reaper.stop();
      await deps.registry.close();
      await connection.close();
    },
  };
}
