import type { ClassLabel, ModelSignature } from './signature';

/** A scored request's outputs as the simple API returns them and the prediction log keeps them. */
export interface RowOutputs {
  predictions: Array<ClassLabel | number>;
  probabilities?: number[][];
}

/** Per-row outputs of a scored request: a classifier's probability rows and argmax class, or a regressor's values. */
export function rowOutputs(signature: ModelSignature, out: { data: Float32Array; width: number }, rows: number): RowOutputs {
  if (signature.kind === 'regression') return { predictions: Array.from(out.data.subarray(0, rows)) };
  const probabilities: number[][] = [];
  const predictions: ClassLabel[] = [];
  for (let r = 0; r < rows; r++) {
    const row = Array.from(out.data.subarray(r * out.width, (r + 1) * out.width));
    let best = 0;
    for (let c = 1; c < row.length; c++) if (row[c]! > row[best]!) best = c;
    probabilities.push(row);
    predictions.push(signature.classes[best]!);
  }
  return { predictions, probabilities };
}
