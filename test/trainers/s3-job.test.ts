// The reference trainer as a job on another machine would run it: its spec names the snapshot and split by store URI
// (no local paths) and an S3 prefix for its outputs; it reads and writes the real S3 server with boto3.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { Float64, Int8, Table, tableToIPC, vectorFromArray } from 'apache-arrow';
import * as ort from 'onnxruntime-node';
import { mulberry32 } from '../../src/contracts';
import { EXIT_BAD_PARAMS, jobStatusSchema } from '../../src/jobs/contract';
import { RELEARN_ROOT, VENV_PYTHON } from '../../src/paths';
import { type ArtifactRef, S3ArtifactStore } from '../../src/store';
import { type S3Server, freshBucket, rootClient, s3Env, testS3Server } from '../helpers/s3';

const TRAIN_PY = path.join(RELEARN_ROOT, 'trainers', 'sklearn', 'train.py');
const ROWS = 400;

function snapshotBytes(): { snapshot: Uint8Array; split: Uint8Array } {
  const rand = mulberry32(11);
  const x1: number[] = [];
  const x2: number[] = [];
  const y: number[] = [];
  for (let i = 0; i < ROWS; i++) {
    const a = rand() * 4 - 2;
    const b = rand() * 4 - 2;
    x1.push(a);
    x2.push(b);
    y.push(a - 0.5 * b + (rand() - 0.5) > 0 ? 1 : 0);
  }
  const snapshot = new Table({ x1: vectorFromArray(x1, new Float64()), x2: vectorFromArray(x2, new Float64()), y: vectorFromArray(y, new Int8()) });
  const split = new Table({ fold: vectorFromArray(Array.from({ length: ROWS }, (_, i) => (i >= 360 ? -1 : i % 3)), new Int8()) });
  return { snapshot: tableToIPC(snapshot, 'file'), split: tableToIPC(split, 'file') };
}

async function runJob(spec: Record<string, unknown>, env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'relearn-s3-job-'));
  const specPath = path.join(dir, 'spec.json');
  writeFileSync(specPath, JSON.stringify(spec));
  // Only what a job on a bare machine would have: a PATH and the AWS chain's variables.
  const child = spawn(VENV_PYTHON, [TRAIN_PY, specPath], { cwd: dir, env: { PATH: process.env.PATH ?? '', HOME: dir, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  rmSync(dir, { recursive: true, force: true });
  return { code, stderr };
}

// The timeout leaves room for building the S3 server when this file is the first to need it.
describe('the reference trainer reads and writes the S3 store by URI', { timeout: 300_000 }, () => {
  let server: S3Server;
  let bucket: string;
  let store: S3ArtifactStore;
  let snapshot: ArtifactRef;
  let split: ArtifactRef;
  let cacheDir: string;

  before(async () => {
    server = await testS3Server();
    bucket = await freshBucket(server, 'jobs');
    cacheDir = mkdtempSync(path.join(os.tmpdir(), 'relearn-s3-job-cache-'));
    store = new S3ArtifactStore({ bucket, prefix: 'relearn', endpoint: server.endpoint, forcePathStyle: true, cacheDir, credentials: server });
    const bytes = snapshotBytes();
    snapshot = await store.putBytes('snapshots', 'snapshot.arrow', bytes.snapshot);
    split = await store.putBytes('splits', 'split.arrow', bytes.split);
  });
  after(() => rmSync(cacheDir, { recursive: true, force: true }));

  const specOf = (outputUri: string, overrides: Record<string, unknown> = {}) => ({
    jobId: `s3-job-${randomBytes(3).toString('hex')}`,
    role: 'final',
    task: 'binary',
    store: { url: `s3://${bucket}/relearn`, endpoint: server.endpoint, forcePathStyle: true },
    snapshot: { uri: snapshot.uri, sha256: snapshot.sha256 },
    split: { uri: split.uri, sha256: split.sha256 },
    outputUri,
    trainFolds: [0, 1, 2],
    features: { numeric: ['x1', 'x2'], categorical: [] },
    label: 'y',
    estimator: 'logistic_regression',
    params: {},
    seed: 1,
    probeRows: [0, 1, 2, 370],
    ...overrides,
  });

  async function outputs(prefix: string): Promise<Map<string, Buffer>> {
    const client = rootClient(server);
    const listed = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: `${prefix}/` }));
    const files = new Map<string, Buffer>();
    for (const o of listed.Contents ?? []) {
      const got = await client.send(new GetObjectCommand({ Bucket: bucket, Key: o.Key! }));
      files.set(o.Key!.slice(prefix.length + 1), Buffer.from(await got.Body!.transformToByteArray()));
    }
    return files;
  }

  it('trains from inputs it downloads and checks, and uploads model, probe outputs and status.json to outputUri', async () => {
    const prefix = 'relearn/jobs/ok/run-1';
    const { code, stderr } = await runJob(specOf(`s3://${bucket}/${prefix}`), s3Env(server));
    assert.equal(code, 0, stderr);
    const files = await outputs(prefix);
    for (const name of ['model.onnx', 'probe.json', 'status.json']) assert.ok(files.has(name), `${name} in ${[...files.keys()].join(', ')}`);
    const status = jobStatusSchema.parse(JSON.parse(files.get('status.json')!.toString('utf8')));
    assert.equal(status.status, 'succeeded');
    assert.equal(status.status === 'succeeded' && status.trainRows, 360);
    const session = await ort.InferenceSession.create(files.get('model.onnx')!);
    assert.ok(session.inputNames.includes('x1') && session.inputNames.includes('x2'), session.inputNames.join(', '));
  });

  it('an input whose bytes do not match its digest fails with exit 2 naming it, and the failure is uploaded', async () => {
    const forged = Buffer.from('not the split the spec names');
    const digest = 'f'.repeat(64);
    await rootClient(server).send(new PutObjectCommand({ Bucket: bucket, Key: `relearn/splits/ff/${digest}/split.arrow`, Body: forged }));
    const prefix = 'relearn/jobs/forged/run-1';
    const { code, stderr } = await runJob(specOf(`s3://${bucket}/${prefix}`, { split: { uri: `store://splits/${digest}/split.arrow`, sha256: digest } }), s3Env(server));
    assert.equal(code, EXIT_BAD_PARAMS, stderr);
    assert.match(stderr, new RegExp(`store://splits/${digest}/split.arrow: SHA-256 of s3://${bucket}/relearn/splits/ff/${digest}/split.arrow is [0-9a-f]{64}, expected ${digest}`));
    const status = JSON.parse((await outputs(prefix)).get('status.json')!.toString('utf8')) as { status: string; error: string };
    assert.equal(status.status, 'failed');
    assert.match(status.error, /expected f{64}/);
  });
});
