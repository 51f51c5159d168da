// The official Triton/KServe Python client (tritonclient.http, pinned in test/requirements.txt and installed by the
// test set-up) against a real `relearn serve` process: with its defaults (binary inputs and outputs), with JSON
// tensors, and mixed; numeric and BYTES inputs; INT64, BYTES and FP32 outputs. Every output is held to
// onnxruntime-node run directly on the same model and rows. Raw HTTP requests check a malformed header length and
// that a body over the limit is refused before it is sent.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { openSession, releaseSessions, scoreRows } from '../../src/onnx';
import { RELEARN_ROOT, VENV_PYTHON } from '../../src/paths';
import { freePort } from '../helpers/free-port';
import { waitFor } from '../helpers/wait';
import { FIXTURES, expected, jsonRows, serveFixture, table } from './helpers';

const TOKEN = 'tritonclient-test-token-0123456789';
const MAX_BODY_BYTES = 64 * 1024;
const SCRIPT = path.join(RELEARN_ROOT, 'test', 'fixtures', 'serve', 'tritonclient-infer.py');
const ROWS = { start: 0, end: 40 };

let server: ChildProcess | undefined;
let serverOutput = '';
let port = 0;

before(async () => {
  const client = spawnSync(VENV_PYTHON, ['-c', 'import tritonclient.http'], { encoding: 'utf8' });
  if (client.status !== 0) {
    throw new Error(
      `tritonclient is not installed in the project's Python environment: run the set-up for the tests ('npm test' runs it first; alone: 'npm run setup -- --test-clients')\n${client.stderr}`,
    );
  }
  const fixture = serveFixture();
  await fixture.promote('flights', await fixture.register('flights', 'classifier-binary.onnx', [0, 1]));
  await fixture.promote('three', await fixture.register('three', 'classifier-3class.onnx', ['low', 'mid', 'high']));
  await fixture.promote('delay-minutes', await fixture.register('delay-minutes', 'regressor.onnx'));
  fixture.registry.close();
  const config = path.join(fixture.stateDir, 'temporal.yaml');
  writeFileSync(config, 'stateDir: .\nmodels: {}\n');
  port = await freePort();
  server = spawn(
    process.execPath,
    ['--import', 'tsx', path.join(RELEARN_ROOT, 'src', 'cli', 'main.ts'), '--config', config, 'serve', '--port', String(port), '--threads', '1', '--max-body-bytes', String(MAX_BODY_BYTES)],
    { cwd: RELEARN_ROOT, env: { ...process.env, RELEARN_SERVE_TOKEN: TOKEN }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  server.stdout!.on('data', (d: Buffer) => (serverOutput += d.toString()));
  server.stderr!.on('data', (d: Buffer) => (serverOutput += d.toString()));
  await waitFor('relearn serve to be ready', async () => {
    if (server!.exitCode !== null) throw new Error(`relearn serve exited with code ${server!.exitCode}:\n${serverOutput}`);
    const res = await fetch(`http://127.0.0.1:${port}/v2/health/ready`).catch(() => undefined);
    return res?.status === 200 ? true : undefined;
  }, 60_000, 100);
});

after(async () => {
  if (server !== undefined && server.exitCode === null) {
    const exited = new Promise((resolve) => server!.once('exit', resolve));
    server.kill('SIGTERM');
    await exited;
  }
  await releaseSessions();
});

type Value = number | string | boolean | null;

interface CaseInput {
  name: string;
  datatype: string;
  values: Value[];
  binary: boolean;
}

interface ClientCase {
  name: string;
  model: string;
  inputs: CaseInput[];
  outputs: Array<{ name: string; binary: boolean }> | null;
}

interface DecodedOutput {
  datatype: string;
  shape: number[];
  binary: boolean;
  values: Value[];
}

interface ClientReport {
  live: boolean;
  server: { extensions: string[] };
  models: Record<string, { inputs: Array<{ name: string; datatype: string }> }>;
  cases: Record<string, { id?: string; model_version?: string; outputs?: Record<string, DecodedOutput>; error?: string; status?: string | null }>;
}

/** Runs the Python client on the cases; its stdout is one JSON report. */
function runClient(cases: ClientCase[]): ClientReport {
  const run = spawnSync(VENV_PYTHON, [SCRIPT], {
    input: JSON.stringify({ url: `127.0.0.1:${port}`, token: TOKEN, cases }),
    encoding: 'utf8',
    timeout: 120_000,
  });
  assert.equal(run.status, 0, `the client script failed:\n${run.stderr}\nserver:\n${serverOutput}`);
  return JSON.parse(run.stdout) as ClientReport;
}

/** The fixture rows of `selection` as one value list per feature (null for missing; "" for a missing origin, as the server reads it). */
function columnsOf(indices: number[]): Record<string, Value[]> {
  const rows = indices.map((r) => jsonRows(r, r + 1)[0]!);
  const out: Record<string, Value[]> = {};
  for (const f of [...expected.numeric, ...expected.categorical]) out[f] = rows.map((row) => row[f] ?? (expected.categorical.includes(f) ? '' : null));
  return out;
}

const range = (start: number, end: number): number[] => Array.from({ length: end - start }, (_, i) => start + i);

function inputs(columns: Record<string, Value[]>, datatypes: Record<string, string>, binary: boolean | Record<string, boolean>): CaseInput[] {
  return Object.entries(datatypes).map(([name, datatype]) => ({
    name,
    datatype,
    values: columns[name]!,
    binary: typeof binary === 'boolean' ? binary : binary[name]!,
  }));
}

/** What onnxruntime-node gives for the rows, straight from the fixture model file. */
async function reference(file: string, task: 'binary' | 'multiclass' | 'regression', indices: number[]) {
  const session = await openSession(path.join(FIXTURES, file));
  return scoreRows({ session, table, rows: Int32Array.from(indices), features: expected, task });
}

function assertClose(actual: Value[], wanted: Float32Array, what: string): void {
  assert.equal(actual.length, wanted.length, what);
  actual.forEach((v, i) => assert.ok(Math.abs((v as number) - wanted[i]!) <= 1e-6, `${what}[${i}]: ${v} vs ${wanted[i]}`));
}

function argmaxLabels(probabilities: Float32Array, width: number, classes: Value[]): Value[] {
  const labels: Value[] = [];
  for (let r = 0; r < probabilities.length / width; r++) {
    const row = Array.from(probabilities.subarray(r * width, (r + 1) * width));
    labels.push(classes[row.indexOf(Math.max(...row))]!);
  }
  return labels;
}

describe('tritonclient.http against relearn serve', () => {
  test('defaults (binary in and out), JSON tensors and a mix: numeric and BYTES inputs, FP32, INT64 and BYTES outputs equal onnxruntime-node', async () => {
    const all = range(ROWS.start, ROWS.end);
    const columns = columnsOf(all);
    // Rows without missing numbers, for JSON tensors (JSON has no NaN) and distance as INT64.
    const known = range(0, 120)
      .filter((r) => table.getChild('distance')!.get(r) !== null && table.getChild('delay')!.get(r) !== null)
      .slice(0, 30);
    const knownColumns = columnsOf(known);
    const floats = { distance: 'FP64', delay: 'FP32', hour: 'INT32', origin: 'BYTES' };
    const cases: ClientCase[] = [
      { name: 'flights-defaults', model: 'flights', inputs: inputs(columns, floats, true), outputs: null },
      {
        name: 'flights-json',
        model: 'flights',
        inputs: inputs(knownColumns, { distance: 'FP32', delay: 'FP32', hour: 'FP32', origin: 'BYTES' }, false),
        outputs: [
          { name: 'probabilities', binary: false },
          { name: 'label', binary: false },
        ],
      },
      {
        name: 'flights-mixed',
        model: 'flights',
        inputs: inputs(knownColumns, { distance: 'INT64', delay: 'FP64', hour: 'FP16', origin: 'BYTES' }, { distance: true, delay: false, hour: true, origin: false }),
        outputs: [
          { name: 'probabilities', binary: true },
          { name: 'label', binary: false },
        ],
      },
      { name: 'three-defaults', model: 'three', inputs: inputs(columns, floats, true), outputs: null },
      { name: 'regressor-defaults', model: 'delay-minutes', inputs: inputs(columns, floats, true), outputs: null },
      {
        name: 'unknown-feature',
        model: 'flights',
        inputs: inputs(columns, floats, true).map((i) => (i.name === 'hour' ? { ...i, name: 'hours' } : i)),
        outputs: null,
      },
    ];
    const report = runClient(cases);
    assert.equal(report.live, true);
    assert.ok(report.server.extensions.includes('binary_tensor_data'));
    assert.deepEqual(report.models.flights!.inputs.map((i) => [i.name, i.datatype]), [['distance', 'FP32'], ['delay', 'FP32'], ['hour', 'FP32'], ['origin', 'BYTES']]);

    const binary = await reference('classifier-binary.onnx', 'binary', all);
    const defaults = report.cases['flights-defaults']!;
    assert.equal(defaults.error, undefined, defaults.error);
    // The response's id is the server's own (the client's request id is kept only as a correlation field).
    assert.match(defaults.id ?? '', /^rq_[0-9a-f]{32}$/);
    const probabilities = defaults.outputs!.probabilities!;
    assert.deepEqual([probabilities.datatype, probabilities.shape, probabilities.binary], ['FP32', [ROWS.end, 2], true]);
    assertClose(probabilities.values, binary.probabilities!, 'flights probabilities');
    const label = defaults.outputs!.label!;
    assert.deepEqual([label.datatype, label.shape, label.binary], ['INT64', [ROWS.end], true]);
    assert.deepEqual(label.values, argmaxLabels(binary.probabilities!, 2, [0, 1]));

    const knownReference = await reference('classifier-binary.onnx', 'binary', known);
    const json = report.cases['flights-json']!;
    assert.equal(json.error, undefined, json.error);
    assert.deepEqual([json.outputs!.probabilities!.binary, json.outputs!.label!.binary], [false, false]);
    assertClose(json.outputs!.probabilities!.values, knownReference.probabilities!, 'flights probabilities (JSON)');
    assert.deepEqual(json.outputs!.label!.values, argmaxLabels(knownReference.probabilities!, 2, [0, 1]));

    const mixed = report.cases['flights-mixed']!;
    assert.equal(mixed.error, undefined, mixed.error);
    assert.deepEqual([mixed.outputs!.probabilities!.binary, mixed.outputs!.label!.binary], [true, false]);
    assertClose(mixed.outputs!.probabilities!.values, knownReference.probabilities!, 'flights probabilities (mixed)');
    assert.deepEqual(mixed.outputs!.label!.values, argmaxLabels(knownReference.probabilities!, 2, [0, 1]));

    const three = report.cases['three-defaults']!;
    assert.equal(three.error, undefined, three.error);
    const threeReference = await reference('classifier-3class.onnx', 'multiclass', all);
    assertClose(three.outputs!.probabilities!.values, threeReference.probabilities!, 'three probabilities');
    assert.deepEqual([three.outputs!.label!.datatype, three.outputs!.label!.binary], ['BYTES', true]);
    assert.deepEqual(three.outputs!.label!.values, argmaxLabels(threeReference.probabilities!, 3, ['low', 'mid', 'high']));

    const regressor = report.cases['regressor-defaults']!;
    assert.equal(regressor.error, undefined, regressor.error);
    const regressorReference = await reference('regressor.onnx', 'regression', all);
    assert.deepEqual([regressor.outputs!.variable!.datatype, regressor.outputs!.variable!.shape, regressor.outputs!.variable!.binary], ['FP32', [ROWS.end, 1], true]);
    assertClose(regressor.outputs!.variable!.values, regressorReference.predictions!, 'regressor variable');

    const unknown = report.cases['unknown-feature']!;
    assert.equal(unknown.outputs, undefined);
    assert.match(unknown.error ?? '', /input 'hours' is not a feature of model flights/);
  });
});

/** Sends `request` as it is on a new connection and returns the status and body of the answer. */
function rawRequest(request: Buffer): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.on('data', (d: Buffer) => chunks.push(d));
    socket.on('error', reject);
    socket.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0);
      resolve({ status, body: text.slice(text.indexOf('\r\n\r\n') + 4) });
    });
    socket.end(request);
  });
}

describe('raw HTTP against relearn serve', () => {
  test('a malformed Inference-Header-Content-Length is a 400 naming the header and what it must be', async () => {
    const json = Buffer.from(JSON.stringify({ inputs: [{ name: 'delay', datatype: 'FP32', shape: [1, 1], parameters: { binary_data_size: 4 } }] }));
    const body = Buffer.concat([json, Buffer.alloc(4)]);
    for (const [value, message] of [
      ['12abc', /Inference-Header-Content-Length must be the length in bytes of the JSON part of the body, a positive whole number; got "12abc"/],
      [String(body.length + 10), new RegExp(`Inference-Header-Content-Length ${body.length + 10} is past the end of the ${body.length}-byte body`)],
      ['99999999999', /Inference-Header-Content-Length 99999999999 is larger than the request body limit of 65536 bytes/],
    ] as const) {
      const head =
        `POST /v2/models/flights/infer HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${TOKEN}\r\nContent-Type: application/octet-stream\r\n` +
        `Inference-Header-Content-Length: ${value}\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`;
      const res = await rawRequest(Buffer.concat([Buffer.from(head), body]));
      assert.equal(res.status, 400, `${value}: ${res.body}`);
      const answer = JSON.parse(res.body) as { error: string; code: string };
      assert.equal(answer.code, 'bad_request');
      assert.match(answer.error, message);
    }
  });

  test('a binary request with a Content-Length over the body limit gets 413 before any of its body is sent', async () => {
    const { status, body } = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = http.request(`http://127.0.0.1:${port}/v2/models/flights/infer`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${TOKEN}`, 'Inference-Header-Content-Length': '100', 'Content-Length': String(10 * 1024 * 1024) },
      });
      req.on('response', (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (d: string) => (text += d));
        res.on('end', () => {
          resolve({ status: res.statusCode ?? 0, body: text });
          req.destroy();
        });
      });
      req.on('error', reject);
      // Headers only: not one byte of the 10 MB body is written.
      req.flushHeaders();
    });
    assert.equal(status, 413);
    assert.match(JSON.parse(body).error, /larger than the limit of 65536 bytes/);
  });
});
