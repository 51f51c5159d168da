import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { bundleWorkflowCode, DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { type ActivityDeps, createActivities } from '../../activities';
import type { LoadedConfig } from '../config';
import { LocalLauncher } from '../jobs/local';
import { RELEARN_ROOT, VENV_PYTHON } from '../paths';
import { Registry } from '../registry';
import { ArtifactStore } from '../store';
import { connectWorker, type TemporalTarget } from './connection';

const WORKFLOWS_DIR = path.join(RELEARN_ROOT, 'workflows');

/** Builds the activities' dependencies from the loaded config: store, registry, launcher, command variables. */
export function buildActivityDeps(loaded: LoadedConfig): ActivityDeps {
  const { stateDir, config } = loaded;
  return {
    store: new ArtifactStore(path.join(stateDir, 'store')),
    registry: Registry.open(path.resolve(stateDir, config.registry.sqlite)),
    launcher: new LocalLauncher(path.join(stateDir, 'jobs')),
    predictionLogDir: path.join(stateDir, 'predictions'),
    baseDir: loaded.baseDir,
    stateDir,
    dataRoot: loaded.dataRoot,
    commandVars: { python: config.python ? path.resolve(loaded.baseDir, config.python) : VENV_PYTHON, relearn: RELEARN_ROOT },
  };
}

function workflowSourceDigest(): string {
  const hash = createHash('sha256');
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const full = path.join(dir, name);
      if (name.endsWith('.ts')) hash.update(name).update(readFileSync(full));
    }
  };
  walk(WORKFLOWS_DIR);
  walk(path.join(RELEARN_ROOT, 'src', 'config'));
  hash.update(readFileSync(path.join(RELEARN_ROOT, 'package-lock.json')));
  return hash.digest('hex').slice(0, 16);
}

/**
 * The workflow bundle, built once per change of the workflow sources and cached under the state folder: bundling
 * takes seconds, and tests and the demo start workers often.
 */
export async function workflowBundle(stateDir: string): Promise<{ code: string }> {
  const cacheDir = path.join(stateDir, 'cache');
  const file = path.join(cacheDir, `workflow-bundle-${workflowSourceDigest()}.js`);
  if (existsSync(file)) return { code: readFileSync(file, 'utf8') };
  const bundle = await bundleWorkflowCode({
    workflowsPath: path.join(WORKFLOWS_DIR, 'index.ts'),
    logger: { log: () => undefined, trace: () => undefined, debug: () => undefined, info: () => undefined, warn: console.warn, error: console.error },
  });
  mkdirSync(cacheDir, { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, bundle.code);
  renameSync(tmp, file);
  return bundle;
}

/** Options of a Relearn worker. */
export interface RelearnWorkerOptions {
  /** How long running activities get to finish or heartbeat after a shutdown request. */
  shutdownGraceMs?: number;
  maxConcurrentActivities?: number;
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
  const deps = buildActivityDeps(loaded);
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
  return {
    worker,
    deps,
    async close() {
      deps.registry.close();
      await connection.close();
    },
  };
}
