import { createHash } from 'node:crypto';
import { serializeInputs } from '../prediction-log';
import { HttpError } from './http-error';
import { type ModelSignature, featureList } from './signature';

/** Rows of one request as columns, in the signature's feature order: what the scoring worker turns into tensors. */
export interface FeatureColumns {
  rows: number;
  /** One float32 column per numeric feature (null → NaN, false/true → 0/1). */
  numeric: Float32Array[];
  /** One string column per categorical feature (null → ""). */
  categorical: string[][];
}

const MAX_SHOWN_CHARS = 40;

function shown(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  const text = JSON.stringify(value) ?? String(value);
  return `${typeof value} ${text.length > MAX_SHOWN_CHARS ? `${text.slice(0, MAX_SHOWN_CHARS)}…` : text}`;
}

function bad(message: string): HttpError {
  return new HttpError('bad_request', message);
}

const FLOAT32_MAX = 3.4028234663852886e38;

/**
 * A numeric feature's value: finite numbers as they are, booleans as 0/1, null as NaN (the trainer's missing value).
 * Infinity (what JSON.parse makes of `1e999`) and numbers float32 cannot hold are refused: the model would score
 * them as ±Infinity and the log would keep them as null.
 */
function numericValue(value: unknown, where: () => string): number {
  if (typeof value === 'number') {
    // NaN arrives only from binary tensors, where it is the missing value (JSON has null for that).
    if (Number.isNaN(value)) return value;
    if (!Number.isFinite(value)) {
      throw bad(`${where()}: expected a finite number or null, got ${value > 0 ? '' : '-'}Infinity (a number too large for a double, such as 1e999, reads as Infinity)`);
    }
    if (Math.abs(value) > FLOAT32_MAX && !Number.isFinite(Math.fround(value))) {
      throw bad(`${where()}: expected a finite number or null, got ${value}, outside the float32 range (±3.4028235e38) the model takes`);
    }
    return value;
  }
  if (value === null) return Number.NaN;
  if (typeof value === 'boolean') return value ? 1 : 0;
  throw bad(`${where()}: expected a number or null, got ${shown(value)}`);
}

/** A categorical feature's value: strings as they are, numbers and booleans as their text, null as "". */
function categoricalValue(value: unknown, where: () => string): string {
  if (typeof value === 'string') return value;
  if (value === null) return '';
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  throw bad(`${where()}: expected a string or null, got ${shown(value)}`);
}

/**
 * Turns rows given as JSON objects keyed by feature name into columns. Every feature must be present in every
 * row and no other key may be; a wrong or missing value is a 400 naming the row and the feature.
 */
export function columnsFromRows(model: string, signature: ModelSignature, rows: readonly unknown[]): FeatureColumns {
  const n = rows.length;
  const known = new Set([...signature.numeric, ...signature.categorical]);
  const numeric = signature.numeric.map(() => new Float32Array(n));
  const categorical = signature.categorical.map(() => new Array<string>(n));
  for (let r = 0; r < n; r++) {
    const row = rows[r];
    if (row === null || typeof row !== 'object' || Array.isArray(row)) {
      throw bad(`row ${r}: expected an object keyed by feature name, got ${shown(row)}`);
    }
    const record = row as Record<string, unknown>;
    for (const key of Object.keys(record)) {
      if (!known.has(key)) {
        throw bad(`row ${r}: '${key}' is not a feature of model ${model} (features: ${featureList(signature)})`);
      }
    }
    signature.numeric.forEach((feature, i) => {
      if (!Object.hasOwn(record, feature)) throw bad(`row ${r}: missing feature '${feature}' (a number; null for missing)`);
      numeric[i]![r] = numericValue(record[feature], () => `row ${r}, feature '${feature}'`);
    });
    signature.categorical.forEach((feature, i) => {
      if (!Object.hasOwn(record, feature)) throw bad(`row ${r}: missing feature '${feature}' (a string; null for missing)`);
      categorical[i]![r] = categoricalValue(record[feature], () => `row ${r}, feature '${feature}'`);
    });
  }
  return { rows: n, numeric, categorical };
}

/** One input tensor of an Open Inference Protocol v2 request. */
export interface OipInput {
  name: string;
  shape: number[];
  datatype: string;
  data: unknown;
}

const OIP_NUMERIC_TYPES = new Set(['FP32', 'FP64', 'FP16', 'BF16', 'INT8', 'INT16', 'INT32', 'INT64', 'UINT8', 'UINT16', 'UINT32', 'UINT64', 'BOOL']);

/**
 * Turns OIP v2 input tensors (one per feature, shape [n,1] or [n], data flat or nested row-major) into columns.
 * Numeric features take any numeric datatype (converted to float32); categorical features take BYTES.
 */
export function columnsFromOip(model: string, signature: ModelSignature, inputs: readonly OipInput[]): FeatureColumns {
  const byName = new Map<string, OipInput>();
  const known = new Set([...signature.numeric, ...signature.categorical]);
  for (const input of inputs) {
    if (!known.has(input.name)) {
      throw bad(`input '${input.name}' is not a feature of model ${model} (features: ${featureList(signature)})`);
    }
    if (byName.has(input.name)) throw bad(`input '${input.name}' is given twice`);
    byName.set(input.name, input);
  }
  let rows: number | undefined;
  const flatData = (feature: string): unknown[] => {
    const input = byName.get(feature);
    if (input === undefined) throw bad(`missing input '${feature}' (model ${model} takes: ${featureList(signature)})`);
    const { shape } = input;
    if (!(shape.length === 1 || (shape.length === 2 && shape[1] === 1))) {
      throw bad(`input '${feature}': shape [${shape.join(',')}], expected [n,1] or [n] (one value per row)`);
    }
    const n = shape[0]!;
    if (rows === undefined) rows = n;
    else if (n !== rows) throw bad(`input '${feature}': ${n} rows, but another input has ${rows}`);
    const data = Array.isArray(input.data) ? (input.data as unknown[]).flat(2) : undefined;
    if (data === undefined) throw bad(`input '${feature}': data must be an array`);
    if (data.length !== n) throw bad(`input '${feature}': data has ${data.length} values for shape [${shape.join(',')}]`);
    return data;
  };
  const numeric = signature.numeric.map((feature) => {
    const data = flatData(feature);
    const datatype = byName.get(feature)!.datatype;
    if (!OIP_NUMERIC_TYPES.has(datatype)) {
      throw bad(`input '${feature}': datatype ${datatype}, expected a numeric datatype such as FP32 for a numeric feature`);
    }
    const column = new Float32Array(data.length);
    for (let r = 0; r < data.length; r++) column[r] = numericValue(data[r], () => `input '${feature}', element ${r}`);
    return column;
  });
  const categorical = signature.categorical.map((feature) => {
    const data = flatData(feature);
    const datatype = byName.get(feature)!.datatype;
    if (datatype !== 'BYTES') throw bad(`input '${feature}': datatype ${datatype}, expected BYTES for a categorical feature`);
    return data.map((v, r) => categoricalValue(v, () => `input '${feature}', element ${r}`));
  });
  return { rows: rows ?? 0, numeric, categorical };
}

/** The rows as the prediction log keeps them: feature names once, then one array of values per row (NaN → null). */
export function canonicalInputs(signature: ModelSignature, columns: FeatureColumns): string {
  const features = [...signature.numeric, ...signature.categorical];
  const rows: Array<Array<number | string | null>> = [];
  for (let r = 0; r < columns.rows; r++) {
    const row: Array<number | string | null> = [];
    for (const column of columns.numeric) {
      const v = column[r]!;
      row.push(Number.isNaN(v) ? null : v);
    }
    for (const column of columns.categorical) row.push(column[r]!);
    rows.push(row);
  }
  return serializeInputs({ features, rows });
}

/** SHA-256 of the canonical inputs: the same rows give the same digest whichever API or key order sent them. */
export function inputsDigest(canonical: string): string {
  return createHash('sha256').update(canonical).digest('hex');
}
