import type { Table } from 'apache-arrow';
import * as ort from 'onnxruntime-node';
import { ModelRejectedError } from '../errors';
import { inputNameOf } from './feature-inputs';
import { sessionInputNames } from './sessions';
import { selectionLength, sliceSelection, tensorsFromTable } from './tensors';
import { type FeatureSpec, type ModelTask, type RowSelection, type ScoreResult, isClassifierTask } from './types';

/** Output a classifier's class probabilities come from (zipmap disabled: a float32 [N,C] tensor). */
export const PROBABILITIES_OUTPUT = 'probabilities';
/** Output a classifier's predicted labels come from. */
export const LABEL_OUTPUT = 'label';
/** Output a regressor's predictions come from (float32 [N,1]). */
export const VARIABLE_OUTPUT = 'variable';

/** What scoreRows needs: a session, the rows to score and how to read the model. */
export interface ScoreRowsOptions {
  session: ort.InferenceSession;
  table: Table;
  rows: RowSelection;
  features: FeatureSpec;
  task: ModelTask;
  /** Rows per onnxruntime run; bounds the memory of one batch's tensors. */
  batchSize?: number;
  /** Called after each batch with the rows scored so far and the total. */
  onProgress?: (rowsDone: number, rowsTotal: number) => void;
  /** Names the model in error messages (a file name or artifact URI). */
  modelName?: string;
  /** Feature → ONNX input name; by default what the model's metadata says (see openSession). */
  inputNames?: ReadonlyMap<string, string>;
}

/** Scores `rows` of `table` batch by batch: probabilities (n×C row-major) for classifiers, predictions for regressors. */
export async function scoreRows(options: ScoreRowsOptions): Promise<ScoreResult> {
  const { session, table, rows, features, task, onProgress } = options;
  const name = options.modelName ?? 'model';
  const batchSize = options.batchSize ?? 8192;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new RangeError(`batchSize must be a positive integer, got ${batchSize}`);
  const classifier = isClassifierTask(task);
  const outputName = classifier ? PROBABILITIES_OUTPUT : VARIABLE_OUTPUT;
  if (!session.outputNames.includes(outputName)) {
    throw new ModelRejectedError(
      `${name}: has no output '${outputName}' for a ${task} model (outputs: ${session.outputNames.join(', ')})`,
    );
  }
  const inputNames = options.inputNames ?? sessionInputNames(session);
  for (const feature of [...features.numeric, ...features.categorical]) {
    const input = inputNameOf(feature, inputNames);
    if (!session.inputNames.includes(input)) {
      const as = input === feature ? '' : ` (ONNX input '${input}')`;
      throw new ModelRejectedError(`${name}: has no input for feature '${feature}'${as} (inputs: ${session.inputNames.join(', ')})`);
    }
  }
  const total = selectionLength(rows);
  let numClasses = classifier ? staticClassCount(session) : 1;
  let out: Float32Array | undefined = numClasses !== undefined ? new Float32Array(total * numClasses) : undefined;
  // When the model declares its output float32 [N,C], onnxruntime writes each batch straight into `out`: no output
  // buffer for the binding to allocate, wrap and copy per batch, and no copy from it into `out`.
  const writeInPlace = out !== undefined && declaresFloat32Matrix(session, outputName, numClasses!);

  for (let from = 0; from < total; from += batchSize) {
    const to = Math.min(total, from + batchSize);
    const feeds = tensorsFromTable(table, sliceSelection(rows, from, to), features, inputNames);
    const fetches = writeInPlace
      ? { [outputName]: new ort.Tensor('float32', out!.subarray(from * numClasses!, to * numClasses!), [to - from, numClasses!]) }
      : [outputName];
    const results = await session.run(feeds, fetches);
    const tensor = results[outputName];
    if (tensor === undefined) throw new ModelRejectedError(`${name}: returned no '${outputName}' output`);
    const n = to - from;
    const width = n === 0 ? (numClasses ?? 0) : tensor.size / n;
    if (!Number.isInteger(width) || (classifier ? width < 1 : width !== 1)) {
      throw new ModelRejectedError(
        `${name}: output '${outputName}' has shape [${tensor.dims.join(',')}] for ${n} rows, expected [${n},${classifier ? 'C' : 1}]`,
      );
    }
    if (numClasses === undefined) {
      numClasses = width;
      out = new Float32Array(total * numClasses);
    } else if (width !== numClasses) {
      throw new ModelRejectedError(`${name}: output '${outputName}' changed width between batches (${numClasses} → ${width})`);
    }
    if (tensor.type !== 'float32') {
      throw new ModelRejectedError(`${name}: output '${outputName}' has type ${tensor.type}, expected float32`);
    }
    if (!writeInPlace) out!.set(tensor.data as Float32Array, from * numClasses);
    for (const t of Object.values(results)) t.dispose();
    onProgress?.(to, total);
  }
  out ??= new Float32Array(0);
  return classifier ? { probabilities: out, numClasses: numClasses ?? 0 } : { predictions: out };
}

/** The class count when the model declares it in the `probabilities` shape; undefined when symbolic. */
function staticClassCount(session: ort.InferenceSession): number | undefined {
  const meta = session.outputMetadata.find((m) => m.name === PROBABILITIES_OUTPUT);
  if (meta === undefined || !meta.isTensor) return undefined;
  const width = meta.shape[1];
  return typeof width === 'number' && width > 0 ? width : undefined;
}

/** True when the session declares `output` as float32 [N, width] with that static width. */
function declaresFloat32Matrix(session: ort.InferenceSession, output: string, width: number): boolean {
  const meta = session.outputMetadata.find((m) => m.name === output);
  return meta !== undefined && meta.isTensor && meta.type === 'float32' && meta.shape.length === 2 && meta.shape[1] === width;
}
