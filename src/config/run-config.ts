// The worker decides what runs. A run's input names the model and the digests of the config it was started with;
// the worker runs the command, opens the paths and applies the limits of its own temporal.yaml, and refuses a run
// whose digest it does not have. Anyone who can start a workflow or edit a Schedule can write any input, so nothing
// the worker executes or opens may come from one.
import { createHash } from 'node:crypto';
import path from 'node:path';
import { ConfigError } from '../errors';
import type { LoadedConfig } from './load';
import type { ModelConfig } from './schema';

/** JSON with object keys sorted at every level, so a digest does not depend on the order keys were written in. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}

/** What outside a model's block changes what its runs execute or open. */
export interface ModelDigestContext {
  /** The resolved `python` of temporal.yaml (the `{python}` of job commands), or null for the set-up's venv. */
  python: string | null;
  dataRoot: string;
  /** The folder job commands run in. */
  baseDir: string;
}

/**
 * SHA-256 of one model's resolved block (paths absolute, defaults filled) and the top-level settings it runs with.
 * Per model rather than per file: an edit of one model leaves the others' running runs and Schedules valid.
 * `schedule.paused` is state, not config: pausing a Schedule in temporal.yaml invalidates nothing.
 */
export function modelDigestOf(model: string, cfg: ModelConfig, context: ModelDigestContext): string {
  const hashed = cfg.schedule ? { ...cfg, schedule: { ...cfg.schedule, paused: undefined } } : cfg;
  return createHash('sha256').update(canonicalJson({ model, cfg: hashed, ...context })).digest('hex');
}

/** The context of a loaded config's models. */
function modelDigestContext(loaded: LoadedConfig): ModelDigestContext {
  return { python: loaded.config.python ? path.resolve(loaded.baseDir, loaded.config.python) : null, dataRoot: loaded.dataRoot, baseDir: loaded.baseDir };
}

/**
 * The model digest of a loaded config's model, from its config as it is now: a program that starts runs and works
 * them in one process (the demo) may adjust its own config in memory, and both sides then agree.
 */
export function modelDigest(loaded: LoadedConfig, model: string): string | undefined {
  const cfg = loaded.config.models[model];
  return cfg ? modelDigestOf(model, cfg, modelDigestContext(loaded)) : undefined;
}

/** What a run's input says about the config it was started with. */
export interface RunConfigRef {
  model: string;
  /** SHA-256 of the starter's temporal.yaml. */
  configDigest?: string;
  /** SHA-256 of the model's block (modelDigestOf); preferred over configDigest when present. */
  modelDigest?: string;
  /** The model config the run carries, when the activity gets it: it must be the worker's own. */
  modelConfig?: unknown;
}

/** Paths (a.b.c) where two JSON values differ, at most `limit` of them. */
function differingPaths(a: unknown, b: unknown, prefix: string, out: string[], limit: number): void {
  if (out.length >= limit) return;
  // Arrays (a command, a feature list) are named whole: `trainer.command`, not each changed element.
  const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
  if (isObject(a) && isObject(b)) {
    for (const key of [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()) {
      differingPaths(a[key], b[key], prefix ? `${prefix}.${key}` : key, out, limit);
    }
    return;
  }
  if (canonicalJson(a) !== canonicalJson(b)) out.push(prefix || '(the whole block)');
}

/** The keys (as `models.<m>.a.b`) where `given` differs from the worker's `own`, for the refusal message. */
export function configDifferences(model: string, given: unknown, own: unknown, under = ''): string[] {
  const out: string[] = [];
  // Through JSON first: a run's input has been through JSON, and undefined keys are gone from it.
  differingPaths(JSON.parse(canonicalJson(given ?? null)), JSON.parse(canonicalJson(own ?? null)), '', out, 5);
  return out.map((p) => `models.${model}${under ? `.${under}` : ''}${p === '(the whole block)' ? '' : `.${p}`}`);
}

/**
 * The worker's own config of the run's model, after checking the run was started with it: the model digest when the
 * run has one (else the file digest) must be the worker's, and a model config the run carries must be the worker's.
 * Throws a ConfigError (never retried) naming the model and both digests.
 */
export function workerModelConfig(loaded: LoadedConfig, run: RunConfigRef): ModelConfig {
  const file = path.basename(loaded.configPath);
  const cfg = loaded.config.models[run.model];
  if (!cfg) {
    throw new ConfigError(
      `${file}: models.${run.model}: the worker's config has no such model (it has ${Object.keys(loaded.config.models).join(', ') || 'none'}); ` +
        `restart the worker with the config the run was started from, or start the run again`,
    );
  }
  const own = modelDigestOf(run.model, cfg, modelDigestContext(loaded));
  const [kind, theirs, ours] = run.modelDigest !== undefined ? ['model', run.modelDigest, own] : ['file', run.configDigest, loaded.digest];
  if (theirs !== ours) {
    throw new ConfigError(
      `${file}: models.${run.model}: the worker's temporal.yaml is at sha256 ${loaded.digest} (this model's block at sha256 ${own}); ` +
        `this run was started with ${theirs === undefined ? 'no config digest' : `${kind === 'model' ? "the model's block at " : ''}sha256 ${theirs}`}; ` +
        'restart the worker with that config or start the run again',
    );
  }
  if (run.modelConfig !== undefined) {
    const given = modelDigestOf(run.model, run.modelConfig as ModelConfig, modelDigestContext(loaded));
    if (given !== own) {
      const where = configDifferences(run.model, run.modelConfig, cfg);
      throw new ConfigError(
        `${file}: models.${run.model}: this run's model config is not the worker's (it differs at ${where.join(', ') || 'some key'}; ` +
          `the worker's block is at sha256 ${own}, the run's at sha256 ${given}); the worker runs only its own temporal.yaml: ` +
          'start the run from that config (relearn run)',
      );
    }
  }
  return cfg;
}

/**
 * Checks that a part of the model config a run passed to an activity (e.g. the trainer block) is the worker's own;
 * `where` names it in the model (`trainer`). The params the search chose may differ, only in keys of its space.
 */
export function assertWorkerPart(loaded: LoadedConfig, model: string, where: string, given: unknown, own: unknown): void {
  const differences = configDifferences(model, given, own, where);
  if (differences.length > 0) {
    throw new ConfigError(
      `${path.basename(loaded.configPath)}: ${differences.join(', ')}: this run's value is not the worker's temporal.yaml's; ` +
        `the worker runs only its own config (model block at sha256 ${modelDigest(loaded, model) ?? '?'}): start the run from that config`,
    );
  }
}
