import { createHash } from 'node:crypto';
import { constants as fsConstants } from 'node:fs';
import { open, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { ModelRejectedError } from '../errors';
import { scrubSecrets, secretValuesOf } from '../jobs/scrub-secrets';
import { type ChildOutcome, type ChildValue, EXIT_LIMIT_NOT_APPLIED, ModelCheckPool } from './check-pool';
import { checkExternalLocation, scanExternalData } from './external-data';
import { featureInputNames, inputNameOf } from './feature-inputs';
import { LABEL_OUTPUT, PROBABILITIES_OUTPUT, VARIABLE_OUTPUT } from './score-rows';
import { type FeatureSpec, type ModelTask, isClassifierTask } from './types';

// Below this the Node.js runtime of the child itself would not start, and the model would be blamed.
const MIN_MEMORY_LIMIT_BYTES = 128 * 1024 * 1024;
const OUT_OF_MEMORY =
  /bad_alloc|bad allocation|failed to allocate|out of memory|cannot allocate memory|allocation failed|Fatal process OOM|std::length_error/i;

/** A job's model copied to a folder only the worker writes, with the digest and size of exactly what was copied. */
export interface PrivateModelCopy {
  path: string;
  sha256: string;
  sizeBytes: number;
}

/**
 * Copies an untrusted model file (a job's `model.onnx`) into `destDir` for checking, refusing it before a byte is
 * copied when it is not a regular file (a symlink could lead the worker to read any file it can) or over
 * `maxSizeBytes`, and stopping the copy at the cap if the file grows meanwhile. Every check afterwards, and the copy
 * into the store, read this private copy: the job can no longer change what is checked. `destDir` must exist and be
 * the worker's own.
 */
export async function copyModelForCheck(opts: { srcPath: string; destDir: string; maxSizeBytes: number; modelName: string }): Promise<PrivateModelCopy> {
  const { srcPath, maxSizeBytes, modelName: name } = opts;
  let source;
  try {
    source = await open(srcPath, fsConstants.O_RDONLY | (fsConstants.O_NOFOLLOW ?? 0));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ELOOP') throw new ModelRejectedError(`${name}: is a symbolic link (${srcPath}); a model must be a regular file`);
    throw new ModelRejectedError(`${name}: cannot be read (${errorMessage(err)})`);
  }
  const destPath = path.join(opts.destDir, path.basename(srcPath));
  try {
    const info = await source.stat();
    if (!info.isFile()) throw new ModelRejectedError(`${name}: is not a regular file (${srcPath})`);
    if (info.size > maxSizeBytes) throw new ModelRejectedError(`${name}: ${sizeVersusCap(info.size, maxSizeBytes)}`);
    const dest = await open(destPath, 'wx', 0o600);
    const hash = createHash('sha256');
    let sizeBytes = 0;
    try {
      const chunk = Buffer.alloc(1 << 20);
      for (;;) {
        const { bytesRead } = await source.read(chunk, 0, chunk.length, null);
        if (bytesRead === 0) break;
        sizeBytes += bytesRead;
        if (sizeBytes > maxSizeBytes) throw new ModelRejectedError(`${name}: grew past the cap of ${formatBytes(maxSizeBytes)} while it was copied`);
        hash.update(chunk.subarray(0, bytesRead));
        await dest.write(chunk, 0, bytesRead);
      }
    } finally {
      await dest.close();
    }
    return { path: destPath, sha256: hash.digest('hex'), sizeBytes };
  } finally {
    await source.close();
  }
}

/** Limits and expectations for checking one untrusted ONNX file. */
export interface CheckModelOptions {
  modelPath: string;
  /** Cap on the file plus any external-data files it references. */
  maxSizeBytes: number;
  /** Data-segment limit (RLIMIT_DATA) of the child process that loads and runs the model. */
  memoryLimitBytes: number;
  /** Wall-clock limit for loading the model and the latency runs; the child is killed after it. */
  timeoutMs: number;
  /**
   * The features the model must take as inputs, no more and no fewer; each through the ONNX input the model's
   * metadata maps it to (see feature-inputs.ts), or an input of its own name.
   */
  expectedInputs: FeatureSpec;
  task: ModelTask;
  /** Single-row runs timed for the latency median (after one untimed first run). */
  latencyRuns?: number;
  /** Values for the latency row, by feature name; missing features get 0 or "". */
  sampleRow?: Record<string, number | string>;
  /** Names the model in messages; the file's base name by default. */
  modelName?: string;
  /** The check processes to use; the worker's shared pool by default. */
  pool?: ModelCheckPool;
}

/** One input or output as the model declares it, in ONNX type notation (`tensor(float)`). */
export interface ModelValueInfo {
  name: string;
  type: string;
  dims: Array<number | string>;
}

/** What a passed check learned about the model. */
export interface CheckModelResult {
  ok: true;
  inputs: ModelValueInfo[];
  outputs: ModelValueInfo[];
  /** Median of `latencyRuns` single-row runs, one thread. */
  singleRowLatencyMs: number;
  firstRunMs: number;
  loadMs: number;
  /** The model file plus its external-data files. */
  sizeBytes: number;
}

let sharedPool: ModelCheckPool | undefined;

/** The worker's pool of check processes, made on first use (see check-pool.ts). */
export function sharedCheckPool(): ModelCheckPool {
  sharedPool ??= new ModelCheckPool();
  return sharedPool;
}

/**
 * Checks an untrusted ONNX file without loading it into this process: size cap and external-data
 * paths first, then a check process (under a memory limit, killed at a timeout; one of a small pool,
 * reused only after checks that passed) loads the model, reports its inputs and outputs and times
 * single-row runs. Throws ModelRejectedError with a reason naming the file when any check fails.
 */
export async function checkModelIsolated(options: CheckModelOptions): Promise<CheckModelResult> {
  const { maxSizeBytes, memoryLimitBytes, timeoutMs } = options;
  if (memoryLimitBytes < MIN_MEMORY_LIMIT_BYTES) {
    throw new RangeError(`memoryLimitBytes must be at least ${formatBytes(MIN_MEMORY_LIMIT_BYTES)}, got ${memoryLimitBytes}`);
  }
  const modelPath = path.resolve(options.modelPath);
  const name = options.modelName ?? path.basename(modelPath);

  let fileSizeBytes: number;
  try {
    const info = await stat(modelPath);
    if (!info.isFile()) throw new ModelRejectedError(`${name}: is not a regular file (${modelPath})`);
    fileSizeBytes = info.size;
  } catch (err) {
    if (err instanceof ModelRejectedError) throw err;
    throw new ModelRejectedError(`${name}: cannot be read (${errorMessage(err)})`);
  }
  if (fileSizeBytes > maxSizeBytes) {
    throw new ModelRejectedError(`${name}: ${sizeVersusCap(fileSizeBytes, maxSizeBytes)}`);
  }

  const bytes = await readFile(modelPath);
  const scan = scanExternalData(bytes);
  if (!scan.ok) {
    throw new ModelRejectedError(`${name}: is not a valid ONNX model (protobuf parsing failed: ${scan.parseError})`);
  }
  const inputNames = featureInputNames(bytes, name);
  const externalFiles = new Map<string, number>();
  for (const ref of scan.refs) {
    const locations = ref.locations.length > 0 ? ref.locations : [undefined];
    for (const location of locations) {
      const checked = await checkExternalLocation(path.dirname(modelPath), ref.tensorName, location);
      if (!checked.ok) throw new ModelRejectedError(`${name}: ${checked.reason}`);
      externalFiles.set(checked.realPath, checked.sizeBytes);
    }
  }
  let sizeBytes = fileSizeBytes;
  for (const size of externalFiles.values()) sizeBytes += size;
  if (sizeBytes > maxSizeBytes) {
    throw new ModelRejectedError(`${name}: with its external data, ${sizeVersusCap(sizeBytes, maxSizeBytes)}`);
  }

  const outcome = await (options.pool ?? sharedCheckPool()).check({
    modelPath,
    memoryLimitBytes,
    timeoutMs,
    config: {
      latencyRuns: options.latencyRuns ?? 50,
      sampleRow: Object.fromEntries(Object.entries(options.sampleRow ?? {}).map(([f, v]) => [inputNameOf(f, inputNames), v])),
    },
  });
  return judge(name, options, outcome, sizeBytes, inputNames);
}

function judge(
  name: string,
  options: CheckModelOptions,
  outcome: ChildOutcome,
  sizeBytes: number,
  inputNames: ReadonlyMap<string, string> | undefined,
): CheckModelResult {
  const loaded = outcome.events.find((e) => e.event === 'loaded');
  const ran = outcome.events.find((e) => e.event === 'ran');
  const reported = outcome.events.find((e) => e.event === 'error');
  // onnxruntime's messages quote the untrusted file (node and tensor names): scrubbed like a job's stderr.
  const error = reported && { ...reported, message: tail(String(reported.message)) };
  const limit = formatBytes(options.memoryLimitBytes);
  const stage = loaded === undefined ? 'session creation' : 'the first run on one row';

  if (outcome.timedOut) {
    const what = loaded === undefined ? 'loading the model' : 'running the model on one row';
    throw new ModelRejectedError(
      `${name}: ${what} exceeded the timeout of ${options.timeoutMs} ms (the check process was killed)`,
    );
  }
  if (outcome.exitCode === EXIT_LIMIT_NOT_APPLIED && outcome.events.length === 0) {
    // Not the model's fault, and worth a retry elsewhere: a plain Error.
    throw new Error(`could not apply a memory limit of ${limit} to the model check process: ${tail(outcome.stderr)}`);
  }
  if (loaded === undefined && error !== undefined) {
    if (OUT_OF_MEMORY.test(error.message)) {
      throw new ModelRejectedError(`${name}: ${stage} exceeded the memory limit of ${limit} (onnxruntime: ${firstLine(error.message)})`);
    }
    throw new ModelRejectedError(`${name}: onnxruntime could not load the model: ${error.message}`);
  }
  if (loaded === undefined) throw crashed(name, outcome, stage, limit);

  const inputs = loaded.inputs.map(valueInfo);
  const outputs = loaded.outputs.map(valueInfo);
  const problems = [
    ...inputProblems(loaded.inputs, options.expectedInputs, inputNames),
    ...outputProblems(loaded.outputs, options.task),
  ];
  if (problems.length > 0) throw new ModelRejectedError(`${name}: ${problems.join('; ')}`);

  if (ran === undefined) {
    if (error !== undefined) {
      if (OUT_OF_MEMORY.test(error.message)) {
        throw new ModelRejectedError(`${name}: ${stage} exceeded the memory limit of ${limit} (onnxruntime: ${firstLine(error.message)})`);
      }
      throw new ModelRejectedError(`${name}: running the model on one row failed: ${error.message}`);
    }
    throw crashed(name, outcome, stage, limit);
  }
  return {
    ok: true,
    inputs,
    outputs,
    singleRowLatencyMs: ran.medianMs,
    firstRunMs: ran.firstRunMs,
    loadMs: loaded.loadMs,
    sizeBytes,
  };
}

function crashed(name: string, outcome: ChildOutcome, stage: string, limit: string): ModelRejectedError {
  const how = outcome.signal !== null ? `signal ${outcome.signal}` : `exit code ${outcome.exitCode}`;
  if (OUT_OF_MEMORY.test(outcome.stderr)) {
    return new ModelRejectedError(`${name}: ${stage} exceeded the memory limit of ${limit} (the check process died: ${how})`);
  }
  return new ModelRejectedError(`${name}: the check process died during ${stage} (${how}): ${tail(outcome.stderr) || 'no output'}`);
}

const ONNX_TYPE_NAMES: Record<string, string> = {
  float32: 'float',
  float64: 'double',
  float16: 'float16',
  string: 'string',
  bool: 'bool',
  int8: 'int8',
  int16: 'int16',
  int32: 'int32',
  int64: 'int64',
  uint8: 'uint8',
  uint16: 'uint16',
  uint32: 'uint32',
  uint64: 'uint64',
  int4: 'int4',
  uint4: 'uint4',
};

function onnxType(v: ChildValue): string {
  if (!v.isTensor) return 'non-tensor (sequence or map)';
  return `tensor(${ONNX_TYPE_NAMES[v.type ?? ''] ?? v.type})`;
}

function valueInfo(v: ChildValue): ModelValueInfo {
  return { name: v.name, type: onnxType(v), dims: v.shape ?? [] };
}

function shapeText(shape: Array<number | string>): string {
  return `[${shape.map((d) => (typeof d === 'number' ? String(d) : d || '?')).join(',')}]`;
}

function inputProblems(actual: ChildValue[], expected: FeatureSpec, inputNames: ReadonlyMap<string, string> | undefined): string[] {
  // Keyed by ONNX input name; `feature` says which column it stands for, for messages.
  const want = new Map<string, { type: string; feature: string }>();
  for (const f of expected.numeric) want.set(inputNameOf(f, inputNames), { type: 'tensor(float)', feature: f });
  for (const f of expected.categorical) want.set(inputNameOf(f, inputNames), { type: 'tensor(string)', feature: f });
  const have = new Map(actual.map((v) => [v.name, v]));
  const problems: string[] = [];
  for (const [feature, input] of inputNames ?? []) {
    // The model says which column each input stands for: it must be the one the config feeds it.
    const fed = want.get(input)?.feature;
    if (have.has(input) && fed !== undefined && fed !== feature) {
      problems.push(`input '${input}' stands for feature '${feature}' (the model's metadata), not for '${fed}'`);
    }
  }
  for (const [input, { type, feature }] of want) {
    if (have.has(input)) continue;
    const named = input === feature ? `input '${input}'` : `input '${input}' for feature '${feature}'`;
    problems.push(`has no ${named} (expected ${type} [N,1])`);
  }
  const expectedList = `numeric: ${expected.numeric.join(', ') || 'none'}; categorical: ${expected.categorical.join(', ') || 'none'}`;
  for (const v of actual) {
    const type = want.get(v.name)?.type;
    if (type === undefined) {
      problems.push(`input '${v.name}' is not one of the expected features (${expectedList})`);
      continue;
    }
    if (onnxType(v) !== type) {
      problems.push(`input '${v.name}' has type ${onnxType(v)}, expected ${type}`);
      continue;
    }
    const shape = v.shape ?? [];
    const [batch, width] = shape;
    if (shape.length !== 2 || (typeof width === 'number' && width !== 1)) {
      problems.push(`input '${v.name}' has shape ${shapeText(shape)}, expected [N,1]`);
    } else if (typeof batch === 'number') {
      problems.push(`input '${v.name}' has a fixed batch size ${shapeText(shape)}, expected a dynamic first dimension [N,1]`);
    }
  }
  return problems;
}

function outputProblems(actual: ChildValue[], task: ModelTask): string[] {
  const byName = new Map(actual.map((v) => [v.name, v]));
  const names = actual.map((v) => `'${v.name}' ${onnxType(v)}`).join(', ');
  const problems: string[] = [];
  if (isClassifierTask(task)) {
    const label = byName.get(LABEL_OUTPUT);
    const probabilities = byName.get(PROBABILITIES_OUTPUT);
    if (label === undefined) problems.push(`has no output '${LABEL_OUTPUT}' for a ${task} model (outputs: ${names})`);
    if (probabilities === undefined) {
      const zipmap = actual.some((v) => !v.isTensor) ? '; export it with zipmap disabled' : '';
      problems.push(`has no output '${PROBABILITIES_OUTPUT}' for a ${task} model (outputs: ${names}${zipmap})`);
    } else if (onnxType(probabilities) !== 'tensor(float)' || (probabilities.shape ?? []).length !== 2) {
      problems.push(
        `output '${PROBABILITIES_OUTPUT}' is ${onnxType(probabilities)} ${shapeText(probabilities.shape ?? [])}, expected tensor(float) [N,C]`,
      );
    } else {
      const classes = probabilities.shape?.[1];
      if (task === 'binary' && typeof classes === 'number' && classes !== 2) {
        problems.push(`output '${PROBABILITIES_OUTPUT}' has ${classes} columns, a binary classifier needs 2`);
      }
    }
  } else {
    const variable = byName.get(VARIABLE_OUTPUT);
    if (variable === undefined) {
      problems.push(`has no output '${VARIABLE_OUTPUT}' for a regression model (outputs: ${names})`);
    } else {
      const shape = variable.shape ?? [];
      const oneColumn = shape.length === 1 || (shape.length === 2 && (typeof shape[1] !== 'number' || shape[1] === 1));
      if (onnxType(variable) !== 'tensor(float)' || !oneColumn) {
        problems.push(`output '${VARIABLE_OUTPUT}' is ${onnxType(variable)} ${shapeText(shape)}, expected tensor(float) [N,1]`);
      }
    }
  }
  return problems;
}

/** Sizes as people read them: binary units, one decimal at most (`95 MB`, `1.5 KB`, `812 bytes`). */
export function formatBytes(bytes: number): string {
  const units: Array<[number, string]> = [
    [1024 ** 3, 'GB'],
    [1024 ** 2, 'MB'],
    [1024, 'KB'],
  ];
  for (const [size, unit] of units) {
    if (bytes >= size) return `${Number((bytes / size).toFixed(1))} ${unit}`;
  }
  return `${bytes} bytes`;
}

function sizeVersusCap(sizeBytes: number, capBytes: number): string {
  const size = formatBytes(sizeBytes);
  const cap = formatBytes(capBytes);
  // When rounding makes both look alike, the exact counts say why one exceeds the other.
  return size === cap
    ? `${size} (${sizeBytes} bytes) exceeds the cap of ${cap} (${capBytes} bytes)`
    : `${size} exceeds the cap of ${cap}`;
}

function firstLine(text: string): string {
  return text.split('\n', 1)[0]!.trim();
}

// The check child's stderr comes from onnxruntime parsing an untrusted file, and ends up in failure messages.
function tail(text: string): string {
  return scrubSecrets(text.trim().slice(-2000), secretValuesOf(process.env));
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
