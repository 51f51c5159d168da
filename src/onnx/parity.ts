import type { Table } from 'apache-arrow';
import type * as ort from 'onnxruntime-node';
import { JobContractError, ModelRejectedError } from '../errors';
import { scoreRows } from './score-rows';
import { type FeatureSpec, type ModelTask, isClassifierTask } from './types';

/** The native model's outputs on the probe rows, in probe-row order (the trainer's probe.json). */
export interface ProbeExpectation {
  probabilities?: ReadonlyArray<ReadonlyArray<number>>;
  predictions?: ReadonlyArray<number>;
}

/** What checkParity compares: the ONNX session against the native model on the same rows. */
export interface CheckParityOptions {
  session: ort.InferenceSession;
  table: Table;
  probeRows: ReadonlyArray<number> | Int32Array;
  features: FeatureSpec;
  task: ModelTask;
  expected: ProbeExpectation;
  /**
   * Largest allowed |onnx − native|, times the scale of the outputs: the largest |native| value on the probe rows, or
   * 1 if that is smaller. So the bound is absolute for probabilities, and relative to the range of the predictions for
   * a regression: its float32 outputs hold about 7 significant digits, and the float32 sums behind a prediction near 0
   * (terms in the hundred thousands that cancel) are as far off as those behind the largest one.
   */
  tolerance: number;
  /** Names the model in error messages (a file name or artifact URI). */
  modelName?: string;
}

/** Result of a passed parity check; the worst row is reported for the run's log. */
export interface ParityResult {
  ok: true;
  /** Largest |onnx − native| over every probe row and output column. */
  maxAbsDiff: number;
  /** max(1, largest |native| on the probe rows): the tolerance is `tolerance` × scale. */
  scale: number;
  /** maxAbsDiff / scale: what is compared with the tolerance. */
  maxScaledDiff: number;
  /** The probe row of maxAbsDiff. */
  worstProbeIndex: number;
}

/**
 * Scores the probe rows with onnxruntime and compares with the native model's outputs; a difference above
 * `tolerance` × max(1, largest |native|) (or a NaN on either side) rejects the model, naming the worst row and both values.
 */
export async function checkParity(options: CheckParityOptions): Promise<ParityResult> {
  const { session, table, features, task, expected, tolerance } = options;
  const name = options.modelName ?? 'model';
  const probeRows = Int32Array.from(options.probeRows);
  const classifier = isClassifierTask(task);
  const reference = classifier ? expected.probabilities : expected.predictions;
  if (reference === undefined) {
    throw new JobContractError(
      `probe.json has no '${classifier ? 'probabilities' : 'predictions'}' for a ${task} model`,
    );
  }
  if (reference.length !== probeRows.length) {
    throw new JobContractError(
      `probe.json has ${reference.length} ${classifier ? 'probability rows' : 'predictions'} for ${probeRows.length} probe rows`,
    );
  }
  const scored = await scoreRows({ session, table, rows: probeRows, features, task, modelName: name });
  const actual = (classifier ? scored.probabilities : scored.predictions) ?? new Float32Array(0);
  const width = classifier ? (scored.numClasses ?? 0) : 1;

  let scale = 1;
  for (const row of reference) {
    for (const native of typeof row === 'number' ? [row] : row) if (Number.isFinite(native)) scale = Math.max(scale, Math.abs(native));
  }
  let maxAbsDiff = 0;
  let worst = { probe: 0, column: 0, onnx: 0, native: 0 };
  for (let i = 0; i < probeRows.length; i++) {
    const row = reference[i]!;
    const values: ReadonlyArray<number> = typeof row === 'number' ? [row] : row;
    if (values.length !== width) {
      throw new ModelRejectedError(
        `${name}: outputs ${width} ${classifier ? 'class probabilities' : 'values'} per row, but the native model gave ${values.length} (probe row ${i}, table row ${probeRows[i]})`,
      );
    }
    for (let c = 0; c < width; c++) {
      const onnx = actual[i * width + c]!;
      const native = values[c]!;
      // NaN on either side counts as an infinite difference: a model that outputs NaN is not at parity.
      const diff = Number.isNaN(onnx) || Number.isNaN(native) ? Number.POSITIVE_INFINITY : Math.abs(onnx - native);
      if (diff > maxAbsDiff) {
        maxAbsDiff = diff;
        worst = { probe: i, column: c, onnx, native };
      }
    }
  }
  if (!(maxAbsDiff <= tolerance * scale)) {
    const column = classifier ? `, class column ${worst.column}` : '';
    const allowed = scale === 1 ? `tolerance ${tolerance}` : `tolerance ${tolerance} × ${scale} (the largest |native| on the probe rows) = ${tolerance * scale}`;
    throw new ModelRejectedError(
      `${name}: ONNX output differs from the native model at probe row ${worst.probe} (table row ${probeRows[worst.probe]}${column}): ` +
        `onnx ${worst.onnx} vs native ${worst.native}, |diff| ${maxAbsDiff} > ${allowed}`,
    );
  }
  return { ok: true, maxAbsDiff, scale, maxScaledDiff: maxAbsDiff / scale, worstProbeIndex: worst.probe };
}
