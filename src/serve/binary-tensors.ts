import { HttpError } from './http-error';

// The Open Inference Protocol's binary tensor data extension, as Triton and KServe implement it: the body is a JSON
// header of `Inference-Header-Content-Length` bytes followed by the raw tensors of the inputs that carry
// `"parameters": {"binary_data_size": N}`, in the order of those inputs; elements are little-endian, row-major,
// BOOL one byte, BYTES a 4-byte little-endian length and that many bytes. Responses use the same layout for the
// outputs a request asks for in binary.

/** The header giving the length of the JSON part of a binary request or response body. */
export const INFERENCE_HEADER = 'Inference-Header-Content-Length';

/** Bytes per element of each fixed-size datatype. */
const ELEMENT_BYTES: Readonly<Record<string, number>> = {
  BOOL: 1,
  INT8: 1,
  UINT8: 1,
  INT16: 2,
  UINT16: 2,
  FP16: 2,
  BF16: 2,
  INT32: 4,
  UINT32: 4,
  FP32: 4,
  INT64: 8,
  UINT64: 8,
  FP64: 8,
};

/** The datatypes a binary input may have. */
export const BINARY_DATATYPES: readonly string[] = [...Object.keys(ELEMENT_BYTES), 'BYTES'];

function bad(message: string): HttpError {
  return new HttpError('bad_request', message);
}

/**
 * The JSON header's length from the `Inference-Header-Content-Length` header, checked before the body is read:
 * undefined when the header is absent; a 400 when it is not a positive whole number or exceeds the body limit.
 */
export function inferenceHeaderLength(value: string | undefined, maxBodyBytes: number): number | undefined {
  if (value === undefined) return undefined;
  const text = value.trim();
  if (!/^[0-9]{1,16}$/.test(text) || Number(text) === 0) {
    throw bad(`${INFERENCE_HEADER} must be the length in bytes of the JSON part of the body, a positive whole number; got ${JSON.stringify(value.slice(0, 40))}`);
  }
  const length = Number(text);
  if (length > maxBodyBytes) {
    throw bad(`${INFERENCE_HEADER} ${length} is larger than the request body limit of ${maxBodyBytes} bytes`);
  }
  return length;
}

/** Splits a binary request body into its parsed JSON header and the tensor bytes after it. */
export function splitInferBody(body: Uint8Array, headerLength: number): { header: unknown; binary: Uint8Array } {
  if (headerLength > body.byteLength) {
    throw bad(`${INFERENCE_HEADER} ${headerLength} is past the end of the ${body.byteLength}-byte body`);
  }
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder().decode(body.subarray(0, headerLength)));
  } catch (err) {
    throw bad(`the first ${headerLength} bytes of the body (the JSON part, by ${INFERENCE_HEADER}) are not valid JSON (${err instanceof Error ? err.message : String(err)})`);
  }
  return { header, binary: body.subarray(headerLength) };
}

/** An input tensor as the request's JSON gives it, before its binary data (if any) is attached. */
export interface RequestTensor {
  name: string;
  shape: number[];
  datatype: string;
  data?: unknown;
  parameters?: Record<string, unknown>;
}

/** The element count of a shape, as a float (a shape from a request may multiply past 2^53; it is then refused). */
function elementCount(shape: readonly number[]): number {
  return shape.reduce((n, d) => n * d, 1);
}

function shapeText(shape: readonly number[]): string {
  return `[${shape.join(',')}]`;
}

/**
 * Gives every input with `binary_data_size` its data, decoded from the bytes after the JSON header (in input
 * order). The sizes must add up to exactly those bytes and each must fit the input's shape and datatype; an input
 * with a size and JSON `data` too, or a size without binary bytes (no `Inference-Header-Content-Length`), is a 400.
 */
export function attachBinaryInputs<T extends RequestTensor>(inputs: readonly T[], binary: Uint8Array | undefined): T[] {
  const sizes = inputs.map((input) => {
    const size = input.parameters?.binary_data_size;
    if (size === undefined) return undefined;
    if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) {
      throw bad(`input '${input.name}': binary_data_size must be a whole number of bytes, got ${JSON.stringify(size)}`);
    }
    if (input.data !== undefined) throw bad(`input '${input.name}': has both JSON data and binary_data_size; give one`);
    if (binary === undefined) {
      throw bad(`input '${input.name}' has binary_data_size but the request has no ${INFERENCE_HEADER} header giving the length of its JSON part`);
    }
    return size;
  });
  if (binary === undefined) return [...inputs];
  const total = sizes.reduce<number>((sum, s) => sum + (s ?? 0), 0);
  if (total !== binary.byteLength) {
    throw bad(
      `the body has ${binary.byteLength} bytes of binary tensor data after the JSON part (${INFERENCE_HEADER}), but the inputs' binary_data_size add up to ${total}`,
    );
  }
  let offset = 0;
  return inputs.map((input, i) => {
    const size = sizes[i];
    if (size === undefined) return input;
    const bytes = binary.subarray(offset, offset + size);
    offset += size;
    return { ...input, data: decodeBinaryTensor(input.name, input.datatype, input.shape, bytes) };
  });
}

/**
 * The elements of one binary tensor: numbers for the numeric datatypes (BOOL as 0/1, 64-bit integers rounded to
 * the nearest double), strings (UTF-8) for BYTES. The byte count must be what the shape and datatype make.
 */
export function decodeBinaryTensor(name: string, datatype: string, shape: readonly number[], bytes: Uint8Array): Array<number | string> {
  const count = elementCount(shape);
  if (datatype === 'BYTES') return decodeBytesTensor(name, shape, count, bytes);
  const width = ELEMENT_BYTES[datatype];
  if (width === undefined) {
    throw bad(`input '${name}': datatype ${datatype} has no binary form (expected one of ${BINARY_DATATYPES.join(', ')})`);
  }
  if (bytes.byteLength !== count * width) {
    throw bad(
      `input '${name}': binary_data_size ${bytes.byteLength} does not fit shape ${shapeText(shape)} of ${datatype}: expected ${count * width} bytes (${count} elements × ${width})`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const values = new Array<number>(count);
  for (let i = 0; i < count; i++) values[i] = readElement(view, datatype, i * width);
  return values;
}

function readElement(view: DataView, datatype: string, at: number): number {
  switch (datatype) {
    case 'BOOL':
      return view.getUint8(at) === 0 ? 0 : 1;
    case 'INT8':
      return view.getInt8(at);
    case 'UINT8':
      return view.getUint8(at);
    case 'INT16':
      return view.getInt16(at, true);
    case 'UINT16':
      return view.getUint16(at, true);
    case 'FP16':
      return halfToNumber(view.getUint16(at, true));
    case 'BF16':
      return bfloat16ToNumber(view.getUint16(at, true));
    case 'INT32':
      return view.getInt32(at, true);
    case 'UINT32':
      return view.getUint32(at, true);
    case 'FP32':
      return view.getFloat32(at, true);
    case 'INT64':
      return Number(view.getBigInt64(at, true));
    case 'UINT64':
      return Number(view.getBigUint64(at, true));
    default:
      return view.getFloat64(at, true);
  }
}

/** IEEE 754 half precision to a number (Node 20 has no Float16Array). */
function halfToNumber(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24;
  if (exponent === 0x1f) return fraction === 0 ? sign * Number.POSITIVE_INFINITY : Number.NaN;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}

const bf16View = new DataView(new ArrayBuffer(4));

/** bfloat16 is the upper half of a float32. */
function bfloat16ToNumber(bits: number): number {
  bf16View.setUint32(0, bits << 16);
  return bf16View.getFloat32(0);
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function decodeBytesTensor(name: string, shape: readonly number[], count: number, bytes: Uint8Array): string[] {
  // Each element takes at least its 4-byte length: a shape asking for more cannot fit, whatever it multiplies to.
  if (count * 4 > bytes.byteLength) {
    throw bad(
      `input '${name}': binary_data_size ${bytes.byteLength} cannot hold the ${count} BYTES elements of shape ${shapeText(shape)} (each is a 4-byte little-endian length and that many bytes)`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const values = new Array<string>(count);
  let at = 0;
  for (let i = 0; i < count; i++) {
    if (at + 4 > bytes.byteLength) {
      throw bad(`input '${name}': BYTES data ends before element ${i} of the ${count} of shape ${shapeText(shape)} (binary_data_size ${bytes.byteLength})`);
    }
    const length = view.getUint32(at, true);
    at += 4;
    if (at + length > bytes.byteLength) {
      throw bad(`input '${name}': BYTES element ${i} is ${length} bytes long but only ${bytes.byteLength - at} bytes of its binary_data_size are left`);
    }
    try {
      values[i] = utf8.decode(bytes.subarray(at, at + length));
    } catch {
      throw bad(`input '${name}': BYTES element ${i} is not valid UTF-8 (a categorical feature takes text)`);
    }
    at += length;
  }
  if (at !== bytes.byteLength) {
    throw bad(
      `input '${name}': the ${count} BYTES elements of shape ${shapeText(shape)} take ${at} bytes but binary_data_size is ${bytes.byteLength}`,
    );
  }
  return values;
}

/** Values of an output tensor to send in binary: float32 data, or labels (INT64, BOOL or BYTES). */
export type OutputValues = { datatype: 'FP32'; data: Float32Array } | { datatype: 'INT64' | 'BOOL' | 'BYTES'; data: ReadonlyArray<string | number | boolean> };

/** One output tensor in the extension's binary layout (little-endian; BYTES as 4-byte length + UTF-8). */
export function encodeBinaryTensor(values: OutputValues): Uint8Array {
  if (values.datatype === 'FP32') {
    const out = Buffer.alloc(values.data.length * 4);
    values.data.forEach((v, i) => out.writeFloatLE(v, i * 4));
    return out;
  }
  if (values.datatype === 'INT64') {
    const out = Buffer.alloc(values.data.length * 8);
    values.data.forEach((v, i) => out.writeBigInt64LE(BigInt(v as number), i * 8));
    return out;
  }
  if (values.datatype === 'BOOL') return Uint8Array.from(values.data, (v) => (v === true || v === 1 ? 1 : 0));
  const texts = values.data.map((v) => Buffer.from(String(v), 'utf8'));
  const out = Buffer.alloc(texts.reduce((n, t) => n + 4 + t.length, 0));
  let at = 0;
  for (const t of texts) {
    out.writeUInt32LE(t.length, at);
    t.copy(out, at + 4);
    at += 4 + t.length;
  }
  return out;
}

/** A response body of the JSON header followed by the binary outputs, and the header's byte length. */
export function binaryResponseBody(header: unknown, tensors: readonly Uint8Array[]): { body: Uint8Array<ArrayBuffer>; headerLength: number } {
  const json = new TextEncoder().encode(JSON.stringify(header));
  const body = new Uint8Array(tensors.reduce((n, t) => n + t.byteLength, json.byteLength));
  body.set(json, 0);
  let at = json.byteLength;
  for (const t of tensors) {
    body.set(t, at);
    at += t.byteLength;
  }
  return { body, headerLength: json.byteLength };
}
