// A Ray job as it would run on another machine than the worker: with an S3 store, the Ray launcher submits the spec
// itself (inputs by store URI, outputs to an S3 prefix; no path of the worker's disk), the real trainer on Ray reads
// and writes the real S3 server with credentials of the Ray node's own (a file it reads, never in the submission),
// and the worker copies the outputs back into the run folder, where the job contract reads them.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { Float64, Int8, Table, tableToIPC, vectorFromArray } from 'apache-arrow';
import { type JobState, type LaunchOptions } from '../../src/jobs/launcher';
import { RayLauncher } from '../../src/jobs/ray';
import { RELEARN_ROOT, VENV_PYTHON } from '../../src/paths';
import { type ArtifactRef, S3ArtifactStore } from '../../src/store';
import { envDuringSuite } from '../helpers/env';
import { type RayHead, testRayHead } from '../helpers/ray';
import { type S3Server, freshBucket, rootClient, s3Env, testS3Server } from '../helpers/s3';
import { waitFor } from '../helpers/wait';

const TRAIN_PY = path.join(RELEARN_ROOT, 'trainers', 'sklearn', 'train.py');
const ROWS = 300;

function tables(): { snapshot: Uint8Array; split: Uint8Array } {
  const x1 = Array.from({ length: ROWS }, (_, i) => ((i * 37) % 101) / 25 - 2);
  const x2 = Array.from({ length: ROWS }, (_, i) => ((i * 53) % 97) / 24 - 2);
  const y = x1.map((a, i) => (a - 0.5 * x2[i]! > 0 ? 1 : 0));
  const snapshot = new Table({ x1: vectorFromArray(x1, new Float64()), x2: vectorFromArray(x2, new Float64()), y: vectorFromArray(y, new Int8()) });
  const split = new Table({ fold: vectorFromArray(Array.from({ length: ROWS }, (_, i) => (i >= 270 ? -1 : i % 2)), new Int8()) });
  return { snapshot: tableToIPC(snapshot, 'file'), split: tableToIPC(split, 'file') };
}

describe('a Ray job on an S3 store needs nothing from the worker\'s disk', { timeout: 420_000 }, () => {
  let server: S3Server;
  let head: RayHead;
  let bucket: string;
  let snapshot: ArtifactRef;
  let split: ArtifactRef;
  let scratch: string;
  let credentialsFile: string;

  before(async () => {
    [server, head] = await Promise.all([testS3Server(), testRayHead()]);
    bucket = await freshBucket(server, 'rayjobs');
    scratch = mkdtempSync(path.join(os.tmpdir(), 'relearn-ray-remote-'));
    const store = new S3ArtifactStore({ bucket, prefix: 'relearn', endpoint: server.endpoint, forcePathStyle: true, cacheDir: path.join(scratch, 'cache'), credentials: server });
    const bytes = tables();
    snapshot = await store.putBytes('snapshots', 'snapshot.arrow', bytes.snapshot);
    split = await store.putBytes('splits', 'split.arrow', bytes.split);
    // The Ray node's own credentials, as a file on the node: the submission never carries them.
    credentialsFile = path.join(scratch, 'node-credentials.env');
    writeFileSync(credentialsFile, Object.entries(s3Env(server)).map(([k, v]) => `export ${k}='${v}'\n`).join(''), { mode: 0o600 });
  });
  after(() => rmSync(scratch, { recursive: true, force: true }));
  // The worker reads the outputs with the standard AWS chain of its own environment.
  envDuringSuite({ AWS_ACCESS_KEY_ID: 'set-in-before', AWS_SECRET_ACCESS_KEY: 'set-in-before' });
  before(() => Object.assign(process.env, s3Env(server)));

  test('the trainer on Ray reads its inputs by URI and uploads its outputs; the worker copies them back and judges the run', async () => {
    const jobsDir = path.join(scratch, 'worker-jobs');
    const ray = new RayLauncher({ address: head.address, jobsDir });
    const jobId = `remote-${randomBytes(4).toString('hex')}`;
    const opts: LaunchOptions = {
      jobId,
      command: ['sh', '-c', `. ${credentialsFile} && exec "$0" "$@"`, VENV_PYTHON, TRAIN_PY, '{spec}'],
      cwd: RELEARN_ROOT,
      spec: {
        role: 'final',
        task: 'binary',
        // The worker's own copies: a remote job must not need them (the submitted spec leaves them out).
        snapshotPath: path.join(scratch, 'not-on-the-node', 'snapshot.arrow'),
        splitPath: path.join(scratch, 'not-on-the-node', 'split.arrow'),
        trainFolds: [0, 1],
        features: { numeric: ['x1', 'x2'], categorical: [] },
        label: 'y',
        estimator: 'logistic_regression',
        params: {},
        seed: 1,
        probeRows: [0, 1, 280],
        store: { url: `s3://${bucket}/relearn`, endpoint: server.endpoint, forcePathStyle: true },
        snapshot: { uri: snapshot.uri, sha256: snapshot.sha256 },
        split: { uri: split.uri, sha256: split.sha256 },
      },
    };
    const handle = await ray.launchOrAttach(opts);
    const state = await waitFor('the remote job to finish', async () => {
      const s = await ray.poll(handle);
      return s.kind === 'succeeded' || s.kind === 'failed' ? s : undefined;
    }, 180_000, 250);
    assert.equal(state.kind, 'succeeded', (state as { message?: string }).message);
    assert.equal((state as Extract<JobState, { kind: 'succeeded' }>).status.trainRows, 270);
    for (const name of ['model.onnx', 'probe.json', 'status.json']) assert.ok(existsSync(path.join(handle.outputDir, name)), `${name} copied back`);

    // What Ray holds of the submission: no path of the worker's disk, no credential (Ray shows env values as redacted).
    const record = await (await fetch(`${head.address}/api/jobs/${jobId}`)).text();
    assert.ok(!record.includes(jobsDir), 'the submission names no folder of the worker');
    assert.ok(!record.includes(server.secretAccessKey), 'the submission carries no credential');
    const outputUri = `s3://${bucket}/relearn/jobs/${jobId}/run-1`;
    assert.equal((JSON.parse(record) as { metadata: Record<string, string> }).metadata['relearn.outputUri'], outputUri);
    // The outputs went through the store: the job uploaded them under outputUri.
    const listed = await rootClient(server).send(new ListObjectsV2Command({ Bucket: bucket, Prefix: `relearn/jobs/${jobId}/run-1/` }));
    assert.deepEqual((listed.Contents ?? []).map((o) => path.basename(o.Key!)).filter((n) => n === 'status.json' || n === 'model.onnx').sort(), ['model.onnx', 'status.json']);
    assert.equal(JSON.parse(readFileSync(path.join(handle.runDir, 'spec.json'), 'utf8')).outputUri, outputUri, 'the run folder keeps the spec for people');
  });
});
