// Writes one model's block into temporal.yaml through the yaml package's Document API, so the rest of the file (other
// models, comments, key order, quoting) stays as its author wrote it. Nothing is written unless the whole file,
// with the new block, passes the same checks `loadConfig` makes (the zod schema, and the data root).
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Document, isMap, parseDocument, visit } from 'yaml';
import { configSchema, formatConfigIssues, insideDataRoot, outsideDataRootMessage, parseConfig } from '../config';
import { ConfigError } from '../errors';

const MODEL_NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;

/** A temporal.yaml as it is now (or as it will be created), ready to take a model's block. */
export interface ConfigPlan {
  configPath: string;
  /** The file's name, as messages show it. */
  file: string;
  /** True when the file does not exist yet. */
  create: boolean;
  doc: Document;
  /** Folder every source path must lie in. */
  dataRoot: string;
  baseDir: string;
}

/** Throws unless `model` can name a model. */
export function checkModelName(model: string): void {
  if (!MODEL_NAME.test(model)) {
    throw new ConfigError(`model name '${model}': use lowercase letters, digits and dashes (at most 63, starting with a letter or digit)`);
  }
}

function newConfigDocument(): Document {
  const doc = new Document({ temporal: { namespace: 'default', taskQueue: 'relearn' }, models: {} });
  doc.commentBefore =
    ' Relearn: the Temporal connection and one pipeline per model (README, section "temporal.yaml").\n' +
    ' No temporal.address: Relearn starts (or reuses) a local Temporal dev server, its state in .relearn/.';
  return doc;
}

/**
 * Reads the config at `configPath` (a missing file is planned as a new one with the Temporal defaults) and checks it
 * as `loadConfig` would: a file that is already broken is not edited. Refuses an existing model of that name unless
 * `force`.
 */
export function planConfig(configPath: string, model: string, force: boolean): ConfigPlan {
  checkModelName(model);
  const absolute = path.resolve(configPath);
  const file = path.basename(absolute);
  let text: string | null = null;
  try {
    text = readFileSync(absolute, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT') throw new ConfigError(`${configPath}: cannot read (${code ?? String(err)})`);
  }
  const baseDir = path.dirname(absolute);
  if (text === null || text.trim() === '') {
    return { configPath: absolute, file, create: text === null, doc: newConfigDocument(), dataRoot: baseDir, baseDir };
  }
  const doc = parseDocument(text);
  const raw: unknown = doc.errors.length === 0 ? doc.toJS() : undefined;
  // A syntax error, or a top level that is not a mapping: parseConfig says where, as `loadConfig` would.
  if (raw === undefined || raw === null || typeof raw !== 'object' || Array.isArray(raw)) parseConfig(text, file);
  // The schema requires `models`; a file without any is about to get its first.
  const parsed = configSchema.safeParse({ models: {}, ...(raw as object) });
  if (!parsed.success) throw new ConfigError(formatConfigIssues(file, parsed.error.issues));
  if (parsed.data.models[model] && !force) {
    throw new ConfigError(`${file}: models.${model} already exists; pass --force to replace it, or pick another name`);
  }
  const dataRoot = path.resolve(baseDir, parsed.data.dataRoot ?? '.');
  return { configPath: absolute, file, create: false, doc, dataRoot, baseDir };
}

/** The source path as temporal.yaml should hold it: relative to the file's folder when inside it, else absolute. */
export function sourcePathFor(plan: ConfigPlan, dataFile: string): string {
  const absolute = path.resolve(dataFile);
  if (!insideDataRoot(plan.dataRoot, absolute)) {
    throw new ConfigError(outsideDataRootMessage(`--data`, plan.dataRoot, dataFile));
  }
  const relative = path.relative(plan.baseDir, absolute);
  return relative.startsWith('..') || path.isAbsolute(relative) ? absolute : relative.split(path.sep).join('/');
}

/** Puts `block` under models.<model>, validates the whole file and writes it (atomically); returns the new text. */
export function writeModel(plan: ConfigPlan, model: string, block: Record<string, unknown>): { text: string; replaced: boolean } {
  const { doc } = plan;
  const models = doc.get('models', true);
  if (!isMap(models)) doc.set('models', doc.createNode({}));
  const modelsMap = doc.get('models', true);
  // `models: {}` would otherwise keep every model written into it on one line.
  if (isMap(modelsMap)) modelsMap.flow = false;
  const replaced = doc.hasIn(['models', model]);
  const node = doc.createNode(block);
  // Short lists and each column's contract on one line: the block reads like the hand-written ones.
  visit(node, {
    Seq(_, seq) {
      seq.flow = seq.items.reduce<number>((length, item) => length + String(item).length + 2, 0) <= 80;
    },
  });
  const columns = isMap(node) ? node.getIn(['contract', 'columns'], true) : undefined;
  if (isMap(columns)) for (const pair of columns.items) if (isMap(pair.value)) pair.value.flow = true;
  doc.setIn(['models', model], node);
  const text = doc.toString({ lineWidth: 120 });

  const config = parseConfig(text, plan.file);
  const source = config.models[model]!.source.path;
  const absoluteSource = path.resolve(plan.baseDir, source);
  if (!insideDataRoot(plan.dataRoot, absoluteSource)) {
    throw new ConfigError(outsideDataRootMessage(`${plan.file}: models.${model}.source.path`, plan.dataRoot, absoluteSource));
  }
  const temporary = `${plan.configPath}.${process.pid}.tmp`;
  writeFileSync(temporary, text);
  renameSync(temporary, plan.configPath);
  return { text, replaced };
}
