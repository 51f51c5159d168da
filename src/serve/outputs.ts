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

/** A number as JSON.stringify writes it (non-finite values are null). */
function jsonNumber(v: number): string {
  return Number.isFinite(v) ? String(v) : 'null';
}

/**
 * `serializeOutputs(rowOutputs(...))` written straight from the output tensor, character for character: the
 * prediction log's `outputs` text and the tail of the predict response. At 100 rows the per-row arrays and the two
 * JSON.stringify passes over them cost 5-8× this (and ~12% of the serving thread).
 */
export function outputsJson(signature: ModelSignature, out: { data: Float32Array; width: number }, rows: number): string {
  const { data, width } = out;
  if (signature.kind === 'regression') {
    let predictions = '';
    for (let r = 0; r < rows; r++) predictions += (r > 0 ? ',' : '') + jsonNumber(data[r]!);
    return `{"predictions":[${predictions}]}`;
  }
  const classes = signature.classes.map((c) => JSON.stringify(c));
  let predictions = '';
  let probabilities = '';
  for (let r = 0; r < rows; r++) {
    const at = r * width;
    let best = 0;
    let row = '';
    for (let c = 0; c < width; c++) {
      const v = data[at + c]!;
      row += (c > 0 ? ',' : '') + jsonNumber(v);
      if (v > data[at + best]!) best = c;
    }
    // JSON.stringify writes a missing class in an array as null.
    predictions += (r > 0 ? ',' : '') + (classes[best] ?? 'null');
    probabilities += `${r > 0 ? ',' : ''}[${row}]`;
  }
  return `{"predictions":[${predictions}],"probabilities":[${probabilities}]}`;
}
