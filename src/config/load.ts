import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import type { z } from 'zod';
import { ConfigError } from '../errors';
import { confineSourcePath } from './data-root';
import { configSchema, type ModelConfig, type RelearnConfig } from './schema';

/** A parsed temporal.yaml with every relative path made absolute. */
export interface LoadedConfig {
  config: RelearnConfig;
  /** Absolute path of the file it came from. */
  configPath: string;
  /** The folder of temporal.yaml; relative paths in it are resolved against this. */
  baseDir: string;
  /** Absolute state folder (store, registry, jobs, dev server database). */
  stateDir: string;
  /** Absolute folder that every source path must lie in. */
  dataRoot: string;
  /** SHA-256 of the file's bytes, recorded in each run's lineage. */
  digest: string;
}

/** Default config file: $RELEARN_CONFIG, else ./temporal.yaml. */
export function defaultConfigPath(): string {
  return path.resolve(process.env.RELEARN_CONFIG ?? 'temporal.yaml');
}

function formatPath(segments: readonly PropertyKey[]): string {
  return segments.map((s) => String(s)).join('.') || '(top level)';
}

/** Formats zod issues as `file: a.b.c: message`, one per line. */
export function formatConfigIssues(file: string, issues: readonly z.core.$ZodIssue[]): string {
  return issues
    .map((issue) => {
      const where = formatPath(issue.path);
      if (issue.code === 'unrecognized_keys') {
        return `${file}: ${where}: unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `'${k}'`).join(', ')}`;
      }
      return `${file}: ${where}: ${issue.message}`;
    })
    .join('\n');
}

/** Parses and validates config text; throws ConfigError naming the file and the path in it. */
export function parseConfig(text: string, file: string): RelearnConfig {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  if (doc.errors.length > 0) {
    const first = doc.errors[0]!;
    const pos = lineCounter.linePos(first.pos[0]);
    throw new ConfigError(`${file}:${pos.line}:${pos.col}: invalid YAML: ${first.message.split('\n')[0]}`);
  }
  const raw: unknown = doc.toJS();
  if (raw === null || typeof raw !== 'object') {
    throw new ConfigError(`${file}: expected a mapping with a 'models' key at the top level`);
  }
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) throw new ConfigError(formatConfigIssues(file, parsed.error.issues));
  return parsed.data;
}

/** Loads temporal.yaml, validates it and resolves relative paths against its folder. */
export function loadConfig(configPath: string = defaultConfigPath()): LoadedConfig {
  const absolute = path.resolve(configPath);
  let text: string;
  try {
    text = readFileSync(absolute, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ConfigError(
      code === 'ENOENT'
        ? `${configPath}: file not found (pass --config <file> or set RELEARN_CONFIG)`
        : `${configPath}: cannot read (${code ?? String(err)})`,
    );
  }
  const file = path.basename(absolute);
  const config = parseConfig(text, file);
  const baseDir = path.dirname(absolute);
  const resolveHere = (p: string) => (path.isAbsolute(p) ? p : path.resolve(baseDir, p));
  const dataRoot = resolveHere(config.dataRoot ?? '.');
  for (const [name, model] of Object.entries(config.models)) {
    model.source.path = resolveHere(model.source.path);
    confineSourcePath(`${file}: models.${name}.source.path`, dataRoot, model.source.path);
    if (model.drift?.path !== undefined) {
      model.drift.path = resolveHere(model.drift.path);
      confineSourcePath(`${file}: models.${name}.drift.path`, dataRoot, model.drift.path);
    }
  }
  const stateDir = resolveHere(config.stateDir);
  return {
    config,
    configPath: absolute,
    baseDir,
    stateDir,
    dataRoot,
    digest: createHash('sha256').update(text).digest('hex'),
  };
}

/** Returns the named model's config or a ConfigError that lists the known models. */
export function modelConfig(loaded: LoadedConfig, model: string): ModelConfig {
  const found = loaded.config.models[model];
  if (!found) {
    const known = Object.keys(loaded.config.models);
    throw new ConfigError(
      `${path.basename(loaded.configPath)}: models.${model}: no such model (known: ${known.length ? known.join(', ') : 'none'})`,
    );
  }
  return found;
}
