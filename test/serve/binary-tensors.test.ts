// The Open Inference Protocol's binary tensor extension on the serving app (no port): binary inputs of every
// datatype against the same values sent as JSON, binary outputs when asked, and every malformed binary body a 400
// naming what is wrong. Tensors are encoded and decoded here with Buffer's own little-endian readers and writers,
// independently of src/serve/binary-tensors.ts.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { releaseSessions } from '../../src/onnx';
import { type Serving, createServing } from '../../src/serve';
import { jsonRows, serveFixture } from './helpers';

const TOKEN = 'binary-test-token-0123456789';
const auth = { Authorization: `Bearer ${TOKEN}` };
const HEADER = 'Inference-Header-Content-Length';
const MAX_BODY_BYTES = 100_000;

const fixture = serveFixture();
let serving: Serving;

before(async () => {
  await fixture.promote('flights', await fixture.register('flights', 'classifier-binary.onnx', [0, 1]));
  await fixture.promote('flights-bool', await fixture.register('flights-bool', 'classifier-binary.onnx', [false, true]));
  await fixture.promote('three', await fixture.register('three', 'classifier-3class.onnx', ['low', 'mid', 'high']));
  await fixture.promote('delay-minutes', await fixture.register('delay-minutes', 'regressor.onnx'));
  serving = await createServing({
    registry: fixture.registry,
    store: fixture.store,
    token: TOKEN,
    processMetrics: false,
    pool: { threads: 1 },
    batchWindowMs: 0,
    limits: { maxBodyBytes: MAX_BODY_BYTES },
  });
});

after(async () => {
  await serving?.close();
  fixture.registry.close();
  await releaseSessions();
});

type Value = number | string | boolean | null;

/** Half-precision bits of a whole number up to 2048 (exact in FP16). */
function halfBits(v: number): number {
  if (v === 0) return 0;
  const exponent = Math.floor(Math.log2(v));
  return ((exponent + 15) << 10) | ((v / 2 ** exponent - 1) * 1024);
}

/** One tensor in the extension's layout, written with Buffer's little-endian writers. */
function encode(datatype: string, values: readonly Value[]): Buffer {
  if (datatype === 'BYTES') {
    return Buffer.concat(
      values.map((v) => {
        const text = Buffer.from(String(v ?? ''), 'utf8');
        const length = Buffer.alloc(4);
        length.writeUInt32LE(text.length);
        return Buffer.concat([length, text]);
      }),
    );
  }
  const widths: Record<string, number> = { BOOL: 1, INT8: 1, UINT8: 1, INT16: 2, UINT16: 2, FP16: 2, BF16: 2, INT32: 4, UINT32: 4, FP32: 4, INT64: 8, UINT64: 8, FP64: 8 };
  const width = widths[datatype]!;
  const out = Buffer.alloc(values.length * width);
  values.forEach((raw, i) => {
    const v = raw === null ? Number.NaN : Number(raw);
    const at = i * width;
    if (datatype === 'BOOL') out.writeUInt8(raw ? 1 : 0, at);
    else if (datatype === 'INT8') out.writeInt8(v, at);
    else if (datatype === 'UINT8') out.writeUInt8(v, at);
    else if (datatype === 'INT16') out.writeInt16LE(v, at);
    else if (datatype === 'UINT16') out.writeUInt16LE(v, at);
    else if (datatype === 'FP16') out.writeUInt16LE(halfBits(v), at);
    else if (datatype === 'BF16') {
      const f = Buffer.alloc(4);
      f.writeFloatLE(v);
      out.writeUInt16LE(f.readUInt16LE(2), at);
    } else if (datatype === 'INT32') out.writeInt32LE(v, at);
    else if (datatype === 'UINT32') out.writeUInt32LE(v, at);
    else if (datatype === 'FP32') out.writeFloatLE(v, at);
    else if (datatype === 'INT64') out.writeBigInt64LE(BigInt(v), at);
    else if (datatype === 'UINT64') out.writeBigUInt64LE(BigInt(v), at);
    else out.writeDoubleLE(v, at);
  });
  return out;
}

interface TensorSpec {
  name: string;
  datatype: string;
  values: Value[];
  binary?: boolean;
}

/** A binary request body: the JSON header, then each binary input's bytes in order; and the header's length. */
function binaryBody(specs: TensorSpec[], extra: Record<string, unknown> = {}): { body: Buffer; headerLength: number } {
  const tensors: Buffer[] = [];
  const inputs = specs.map((s) => {
    const base = { name: s.name, datatype: s.datatype, shape: [s.values.length, 1] };
    if (s.binary === false) return { ...base, data: s.values };
    const bytes = encode(s.datatype, s.values);
    tensors.push(bytes);
    return { ...base, parameters: { binary_data_size: bytes.length } };
  });
  const header = Buffer.from(JSON.stringify({ inputs, ...extra }), 'utf8');
  return { body: Buffer.concat([header, ...tensors]), headerLength: header.length };
}

async function postRaw(url: string, body: Uint8Array | string, headers: Record<string, string> = {}): Promise<Response> {
  return serving.app.request(url, { method: 'POST', headers: { ...auth, ...headers }, body });
}

async function postBinary(url: string, specs: TensorSpec[], extra: Record<string, unknown> = {}): Promise<Response> {
  const { body, headerLength } = binaryBody(specs, extra);
  return postRaw(url, body, { [HEADER]: String(headerLength), 'Content-Type': 'application/octet-stream' });
}

async function postJson(url: string, body: unknown): Promise<Response> {
  return postRaw(url, JSON.stringify(body), { 'Content-Type': 'application/json' });
}

interface OutputTensor {
  name: string;
  datatype: string;
  shape: number[];
  data?: Value[];
  parameters?: { binary_data_size?: number };
}

/** Reads a response as the client does: JSON only, or the JSON header then each binary output's bytes in order. */
async function readInferResponse(res: Response): Promise<{ headerLength: number | null; outputs: OutputTensor[]; values: Record<string, Value[]> }> {
  assert.equal(res.status, 200, await res.clone().text());
  const body = Buffer.from(await res.arrayBuffer());
  const lengthHeader = res.headers.get(HEADER);
  const headerLength = lengthHeader === null ? null : Number(lengthHeader);
  const json = JSON.parse(body.subarray(0, headerLength ?? body.length).toString('utf8')) as { outputs: OutputTensor[] };
  let at = headerLength ?? body.length;
  const values: Record<string, Value[]> = {};
  for (const o of json.outputs) {
    const size = o.parameters?.binary_data_size;
    if (size === undefined) {
      values[o.name] = o.data!;
      continue;
    }
    const bytes = body.subarray(at, at + size);
    at += size;
    const decoded: Value[] = [];
    if (o.datatype === 'FP32') for (let i = 0; i < size; i += 4) decoded.push(bytes.readFloatLE(i));
    else if (o.datatype === 'INT64') for (let i = 0; i < size; i += 8) decoded.push(Number(bytes.readBigInt64LE(i)));
    else if (o.datatype === 'BOOL') for (const b of bytes) decoded.push(b === 1);
    else {
      for (let i = 0; i < size; ) {
        const length = bytes.readUInt32LE(i);
        decoded.push(bytes.subarray(i + 4, i + 4 + length).toString('utf8'));
        i += 4 + length;
      }
    }
    values[o.name] = decoded;
  }
  assert.equal(at, body.length, 'the binary outputs take the whole body after the JSON header');
  return { headerLength, outputs: json.outputs, values };
}

const ROWS = jsonRows(0, 12);
const column = (feature: string): Value[] => ROWS.map((r) => r[feature] ?? null);
/** The fixture rows as binary tensors: float features with NaN for null, origin as BYTES ("" for null). */
const baseSpecs = (): TensorSpec[] => [
  { name: 'distance', datatype: 'FP64', values: column('distance') },
  { name: 'delay', datatype: 'FP32', values: column('delay') },
  { name: 'hour', datatype: 'INT32', values: column('hour') },
  { name: 'origin', datatype: 'BYTES', values: column('origin').map((v) => v ?? '') },
];
const jsonInputs = (hour: Value[] = column('hour')) => [
  { name: 'distance', datatype: 'FP32', shape: [ROWS.length, 1], data: column('distance') },
  { name: 'delay', datatype: 'FP32', shape: [ROWS.length, 1], data: column('delay') },
  { name: 'hour', datatype: 'FP32', shape: [ROWS.length, 1], data: hour },
  { name: 'origin', datatype: 'BYTES', shape: [ROWS.length, 1], data: column('origin') },
];

async function jsonOutputs(model: string, hour?: Value[]): Promise<Record<string, Value[]>> {
  return (await readInferResponse(await postJson(`/v2/models/${model}/infer`, { inputs: jsonInputs(hour) }))).values;
}

describe('binary inputs', () => {
  test('GET /v2 lists the binary_tensor_data extension', async () => {
    const res = await serving.app.request('/v2', { headers: auth });
    assert.deepEqual(((await res.json()) as { extensions: string[] }).extensions, ['binary_tensor_data']);
  });

  test('every numeric datatype, BYTES with non-ASCII text and NaN for missing values give the outputs of the same rows sent as JSON', async () => {
    assert.ok(column('origin').includes('Zürich') || column('origin').some((v) => v === null), 'the rows have a non-ASCII origin or a null');
    const reference = await jsonOutputs('flights');
    for (const datatype of ['FP32', 'FP64', 'FP16', 'BF16', 'INT8', 'UINT8', 'INT16', 'UINT16', 'INT32', 'UINT32', 'INT64', 'UINT64']) {
      const specs = baseSpecs().map((s) => (s.name === 'hour' ? { ...s, datatype } : s));
      const got = await readInferResponse(await postBinary('/v2/models/flights/infer', specs));
      assert.equal(got.headerLength, null, 'JSON outputs unless asked for binary');
      assert.deepEqual(got.values, reference, `hour as ${datatype}`);
    }
    // BOOL: one byte per element, 1 for true; the JSON request sends the same values as true/false.
    const odd = column('hour').map((h) => Number(h) % 2 === 1);
    const bools = await readInferResponse(
      await postBinary('/v2/models/flights/infer', baseSpecs().map((s) => (s.name === 'hour' ? { ...s, datatype: 'BOOL', values: odd } : s))),
    );
    assert.deepEqual(bools.values, await jsonOutputs('flights', odd));
    // A value that changes the answer is read where it belongs: hour 0 everywhere differs from the real hours.
    const zeros = await readInferResponse(
      await postBinary('/v2/models/flights/infer', baseSpecs().map((s) => (s.name === 'hour' ? { ...s, values: s.values.map(() => 0) } : s))),
    );
    assert.notDeepEqual(zeros.values.probabilities, reference.probabilities);
  });

  test('binary and JSON inputs mix in one request; the binary bytes follow in the order of the binary inputs', async () => {
    const specs = baseSpecs().map((s) => (s.name === 'delay' || s.name === 'origin' ? { ...s, binary: false, datatype: s.name === 'delay' ? 'FP32' : 'BYTES', values: column(s.name) } : s));
    const got = await readInferResponse(await postBinary('/v2/models/flights/infer', specs));
    assert.deepEqual(got.values, await jsonOutputs('flights'));
  });
});

describe('binary outputs', () => {
  test('binary_data on one output: it comes as bytes after the JSON (binary_data_size, Inference-Header-Content-Length), the other as JSON data', async () => {
    const res = await postBinary('/v2/models/flights/infer', baseSpecs(), { outputs: [{ name: 'probabilities', parameters: { binary_data: true } }, { name: 'label' }] });
    assert.equal(res.headers.get('content-type'), 'application/octet-stream');
    const got = await readInferResponse(res);
    assert.ok(got.headerLength !== null && got.headerLength > 0);
    const [probabilities, label] = got.outputs;
    assert.deepEqual([probabilities!.name, probabilities!.datatype, probabilities!.shape, probabilities!.parameters], ['probabilities', 'FP32', [12, 2], { binary_data_size: 12 * 2 * 4 }]);
    assert.equal(probabilities!.data, undefined);
    assert.deepEqual([label!.name, label!.datatype, label!.parameters], ['label', 'INT64', undefined]);
    assert.deepEqual(got.values, await jsonOutputs('flights'));
  });

  test('binary_data_output: every output in binary, INT64, BOOL and BYTES labels and a regressor’s variable; binary_data false on one output overrides it', async () => {
    for (const model of ['flights', 'flights-bool', 'three', 'delay-minutes']) {
      const got = await readInferResponse(await postBinary(`/v2/models/${model}/infer`, baseSpecs(), { parameters: { binary_data_output: true } }));
      assert.ok(got.outputs.every((o) => o.parameters?.binary_data_size !== undefined && o.data === undefined), model);
      assert.deepEqual(got.values, await jsonOutputs(model), model);
    }
    const labels = await readInferResponse(await postBinary('/v2/models/three/infer', baseSpecs(), { parameters: { binary_data_output: true } }));
    assert.ok(labels.values.label!.every((l) => ['low', 'mid', 'high'].includes(l as string)));
    assert.equal(labels.outputs.find((o) => o.name === 'label')!.datatype, 'BYTES');
    const bools = await readInferResponse(await postBinary('/v2/models/flights-bool/infer', baseSpecs(), { parameters: { binary_data_output: true } }));
    assert.equal(bools.outputs.find((o) => o.name === 'label')!.datatype, 'BOOL');
    const overridden = await readInferResponse(
      await postBinary('/v2/models/flights/infer', baseSpecs(), {
        parameters: { binary_data_output: true },
        outputs: [{ name: 'probabilities' }, { name: 'label', parameters: { binary_data: false } }],
      }),
    );
    assert.deepEqual(
      overridden.outputs.map((o) => [o.name, o.parameters?.binary_data_size !== undefined]),
      [['probabilities', true], ['label', false]],
    );
  });

  test('a JSON request may ask for binary outputs too', async () => {
    const got = await readInferResponse(await postJson('/v2/models/flights/infer', { inputs: jsonInputs(), parameters: { binary_data_output: true } }));
    assert.ok(got.headerLength !== null);
    assert.deepEqual(got.values, await jsonOutputs('flights'));
  });
});

describe('malformed binary requests are 400s naming what is wrong', () => {
  async function error(res: Response): Promise<{ status: number; error: string }> {
    return { status: res.status, error: ((await res.json()) as { error: string }).error };
  }

  test('Inference-Header-Content-Length: not a positive whole number, over the body limit, past the body, not ending the JSON', async () => {
    const { body, headerLength } = binaryBody(baseSpecs());
    const cases: Array<[string, RegExp]> = [
      ['abc', /Inference-Header-Content-Length must be the length in bytes of the JSON part of the body, a positive whole number; got "abc"/],
      ['-5', /got "-5"/],
      ['0', /got "0"/],
      ['1e3', /got "1e3"/],
      ['12.5', /got "12.5"/],
      [String(MAX_BODY_BYTES + 1), new RegExp(`Inference-Header-Content-Length ${MAX_BODY_BYTES + 1} is larger than the request body limit of ${MAX_BODY_BYTES} bytes`)],
      [String(body.length + 1), new RegExp(`Inference-Header-Content-Length ${body.length + 1} is past the end of the ${body.length}-byte body`)],
      [String(headerLength - 1), new RegExp(`the first ${headerLength - 1} bytes of the body \\(the JSON part, by Inference-Header-Content-Length\\) are not valid JSON`)],
    ];
    for (const [value, message] of cases) {
      const res = await error(await postRaw('/v2/models/flights/infer', body, { [HEADER]: value }));
      assert.equal(res.status, 400, value);
      assert.match(res.error, message);
    }
  });

  test('binary sizes that do not add up, or do not fit the shape and datatype; BYTES cut short, with bytes left over, or not UTF-8', async () => {
    const specs = baseSpecs();
    const { body, headerLength } = binaryBody(specs);
    const extraByte = await error(await postRaw('/v2/models/flights/infer', Buffer.concat([body, Buffer.from([0])]), { [HEADER]: String(headerLength) }));
    assert.equal(extraByte.status, 400);
    assert.match(extraByte.error, new RegExp(`the body has ${body.length - headerLength + 1} bytes of binary tensor data after the JSON part .* but the inputs' binary_data_size add up to ${body.length - headerLength}`));

    /** Sends the base tensors with one input's JSON entry or bytes changed. */
    async function altered(name: string, change: { json?: Record<string, unknown>; bytes?: Buffer }): Promise<{ status: number; error: string }> {
      const tensors: Buffer[] = [];
      const inputs = specs.map((s) => {
        let bytes = encode(s.datatype, s.values);
        if (s.name === name && change.bytes !== undefined) bytes = change.bytes;
        tensors.push(bytes);
        const input = { name: s.name, datatype: s.datatype, shape: [s.values.length, 1], parameters: { binary_data_size: bytes.length } };
        return s.name === name ? { ...input, ...change.json } : input;
      });
      const header = Buffer.from(JSON.stringify({ inputs }), 'utf8');
      return error(await postRaw('/v2/models/flights/infer', Buffer.concat([header, ...tensors]), { [HEADER]: String(header.length) }));
    }

    const cases: Array<[string, { json?: Record<string, unknown>; bytes?: Buffer }, RegExp]> = [
      ['delay', { bytes: encode('FP32', column('delay').slice(0, 11)) }, /input 'delay': binary_data_size 44 does not fit shape \[12,1\] of FP32: expected 48 bytes \(12 elements × 4\)/],
      ['delay', { json: { shape: [13, 1] } }, /input 'delay': binary_data_size 48 does not fit shape \[13,1\] of FP32: expected 52 bytes/],
      ['delay', { json: { datatype: 'FP8' } }, /input 'delay': datatype FP8 has no binary form \(expected one of BOOL, .*BYTES\)/],
      ['delay', { json: { parameters: { binary_data_size: -4 } } }, /input 'delay': binary_data_size must be a whole number of bytes, got -4/],
      ['delay', { json: { data: [1] } }, /input 'delay': has both JSON data and binary_data_size; give one/],
      ['origin', { json: { shape: [1000, 1] } }, /input 'origin': binary_data_size \d+ cannot hold the 1000 BYTES elements of shape \[1000,1\]/],
      ['origin', { bytes: Buffer.concat([encode('BYTES', column('origin').slice(0, 11).map((v) => v ?? '')), Buffer.from([200, 0, 0, 0, 65])]) }, /input 'origin': BYTES element 11 is 200 bytes long but only 1 bytes of its binary_data_size are left/],
      ['origin', { bytes: Buffer.concat([encode('BYTES', column('origin').map((v) => v ?? '')), Buffer.from([1, 2])]) }, /input 'origin': the 12 BYTES elements of shape \[12,1\] take \d+ bytes but binary_data_size is \d+/],
      ['origin', { bytes: Buffer.concat([encode('BYTES', column('origin').slice(0, 11).map((v) => v ?? '')), Buffer.from([2, 0, 0, 0, 0xc3, 0x28])]) }, /input 'origin': BYTES element 11 is not valid UTF-8/],
      // Decoded, then held to the model's inputs like JSON data.
      ['hour', { json: { name: 'hours' } }, /input 'hours' is not a feature of model flights/],
      ['origin', { json: { datatype: 'INT8', shape: [12, 1] }, bytes: Buffer.alloc(12) }, /input 'origin': datatype INT8, expected BYTES for a categorical feature/],
    ];
    for (const [name, change, message] of cases) {
      const res = await altered(name, change);
      assert.equal(res.status, 400, message.source);
      assert.match(res.error, message);
    }
  });

  test('binary_data_size without the header; bad output parameters; the classification extension', async () => {
    const noHeader = await error(
      await postJson('/v2/models/flights/infer', { inputs: [{ name: 'delay', datatype: 'FP32', shape: [1, 1], parameters: { binary_data_size: 4 } }] }),
    );
    assert.equal(noHeader.status, 400);
    assert.match(noHeader.error, /input 'delay' has binary_data_size but the request has no Inference-Header-Content-Length header/);
    const badFlag = await error(await postBinary('/v2/models/flights/infer', baseSpecs(), { outputs: [{ name: 'label', parameters: { binary_data: 'yes' } }] }));
    assert.match(badFlag.error, /output 'label': parameter binary_data must be true or false, got "yes"/);
    const badDefault = await error(await postBinary('/v2/models/flights/infer', baseSpecs(), { parameters: { binary_data_output: 1 } }));
    assert.match(badDefault.error, /request parameter binary_data_output must be true or false, got 1/);
    const classification = await error(await postBinary('/v2/models/flights/infer', baseSpecs(), { outputs: [{ name: 'probabilities', parameters: { classification: 2 } }] }));
    assert.equal(classification.status, 400);
    assert.match(classification.error, /output 'probabilities': the classification extension .* is not supported/);
  });
});
