import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { HeadObjectCommand, ListMultipartUploadsCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { ApplicationFailure } from '@temporalio/common';
import { ArtifactIntegrityError, FailureType, RelearnError, StoreAccessError, toActivityFailure } from '../../src/errors';
import { S3ArtifactStore, type S3StoreOptions } from '../../src/store';
import { freePort } from '../helpers/free-port';
import { type S3Server, freshBucket, rootClient, startS3Server, stopS3Server, testS3Server } from '../helpers/s3';
import { waitFor } from '../helpers/wait';

const MiB = 1024 * 1024;
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

let server: S3Server;
let bucket: string;
let workDir: string;

function storeOn(s: Pick<S3Server, 'endpoint' | 'accessKeyId' | 'secretAccessKey'>, extra: Partial<S3StoreOptions> = {}): S3ArtifactStore {
  return new S3ArtifactStore({
    bucket,
    prefix: `t-${randomBytes(3).toString('hex')}`,
    endpoint: s.endpoint,
    forcePathStyle: true,
    cacheDir: path.join(workDir, `cache-${randomBytes(3).toString('hex')}`),
    credentials: { accessKeyId: s.accessKeyId, secretAccessKey: s.secretAccessKey },
    partSizeBytes: 5 * MiB,
    ...extra,
  });
}

async function keysUnder(b: string, prefix: string, s: S3Server = server): Promise<string[]> {
  const listed = await rootClient(s).send(new ListObjectsV2Command({ Bucket: b, Prefix: `${prefix}/` }));
  return (listed.Contents ?? []).map((o) => o.Key!).sort();
}

before(async () => {
  server = await testS3Server();
  bucket = await freshBucket(server, 'store');
  workDir = await mkdtemp(path.join(os.tmpdir(), 'relearn-s3-store-'));
});
after(async () => {
  await rm(workDir, { recursive: true, force: true });
});

describe('S3 artifact store: create-once writes', () => {
  it('stores bytes under <prefix>/<kind>/<sha[0:2]>/<sha>/<name>, and the same bytes again give the same ref and one object', async () => {
    const store = storeOn(server);
    const bytes = Buffer.from('flights snapshot bytes\n');
    const digest = sha(bytes);
    const first = await store.putBytes('snapshots', 'snapshot.arrow', bytes);
    const second = await store.putBytes('snapshots', 'snapshot.arrow', bytes);
    assert.deepEqual(second, first);
    assert.deepEqual(first, { uri: `store://snapshots/${digest}/snapshot.arrow`, sha256: digest, sizeBytes: bytes.byteLength });
    const key = `${store.prefix}/snapshots/${digest.slice(0, 2)}/${digest}/snapshot.arrow`;
    assert.deepEqual(await keysUnder(bucket, store.prefix), [key]);
    assert.equal(store.locate(first.uri), `s3://${bucket}/${key}`);
    assert.ok((await store.readVerified(first)).equals(bytes));
  });

  it('refuses to accept an object of other bytes under the key, naming both digests', async () => {
    const store = storeOn(server);
    const bytes = Buffer.from('the model the run trained');
    const planted = Buffer.from('something else entirely');
    const key = `${store.prefix}/models/${sha(bytes).slice(0, 2)}/${sha(bytes)}/model.onnx`;
    await rootClient(server).send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: planted }));
    await assert.rejects(store.putBytes('models', 'model.onnx', bytes), (err: unknown) => {
      assert.ok(err instanceof ArtifactIntegrityError, String(err));
      assert.match(err.message, new RegExp(sha(planted)));
      assert.match(err.message, new RegExp(sha(bytes)));
      assert.match(err.message, new RegExp(`s3://${bucket}/${key}`));
      return true;
    });
    // Never overwritten: the planted object is still there, unchanged.
    const head = await rootClient(server).send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    assert.equal(head.ContentLength, planted.byteLength);
  });

  it('uploads a file larger than a part in parts, and a second put of it finds the first', async () => {
    const store = storeOn(server);
    const file = path.join(workDir, 'big.bin');
    const bytes = randomBytes(11 * MiB);
    await writeFile(file, bytes);
    const ref = await store.putFile('snapshots', 'big.arrow', file);
    assert.deepEqual(ref, { uri: `store://snapshots/${sha(bytes)}/big.arrow`, sha256: sha(bytes), sizeBytes: bytes.byteLength });
    const head = await rootClient(server).send(new HeadObjectCommand({ Bucket: bucket, Key: store.keyOf(ref.uri) }));
    // A multipart object's ETag ends in -<number of parts>: 11 MiB in 5 MiB parts is 3.
    assert.match(head.ETag ?? '', /-3"?$/);
    assert.deepEqual(await store.putFile('snapshots', 'big.arrow', file), ref);
    assert.ok((await store.readVerified(ref)).equals(bytes));
    const uploads = await rootClient(server).send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: store.prefix }));
    assert.deepEqual(uploads.Uploads ?? [], []);
  });
});

describe('S3 artifact store: verified reads', () => {
  it('a tampered object fails the read and leaves no cached copy', async () => {
    const store = storeOn(server);
    const ref = await store.putJson('stats', 'stats.json', { rows: 3000, features: ['distance', 'hour'] });
    await rootClient(server).send(new PutObjectCommand({ Bucket: bucket, Key: store.keyOf(ref.uri), Body: '{"rows": 3}\n' }));
    await assert.rejects(store.readVerified(ref), (err: unknown) => {
      assert.ok(err instanceof ArtifactIntegrityError, String(err));
      assert.match(err.message, new RegExp(`expected ${ref.sha256}`));
      return true;
    });
    await assert.rejects(store.verifiedPath(ref), ArtifactIntegrityError);
    assert.equal(existsSync(path.join(store.cacheDir, 'stats')) ? readdirSync(path.join(store.cacheDir, 'stats'), { recursive: true }).filter((f) => statSync(path.join(store.cacheDir, 'stats', String(f))).isFile()).length : 0, 0);
  });

  it('verifiedPath downloads into the cache once checked, and replaces a cached copy that was changed', async () => {
    const store = storeOn(server);
    const bytes = randomBytes(4096);
    const ref = await store.putBytes('splits', 'split.arrow', bytes);
    const local = await store.verifiedPath(ref);
    assert.ok(local.startsWith(store.cacheDir + path.sep));
    assert.ok((await readFile(local)).equals(bytes));
    await chmod(local, 0o600);
    await writeFile(local, 'damaged');
    assert.equal(await store.verifiedPath(ref), local);
    assert.ok((await readFile(local)).equals(bytes));
  });

  it('a missing object is an integrity error naming where it was expected', async () => {
    const store = storeOn(server);
    const digest = sha(Buffer.from('never stored'));
    await assert.rejects(store.readVerified({ uri: `store://models/${digest}/model.onnx`, sha256: digest }), /missing from the store \(expected at s3:\/\//);
  });
});

describe('S3 artifact store: access and reachability', () => {
  it('wrong credentials are a non-retryable StoreAccessError that says what to check', async () => {
    const store = storeOn({ ...server, secretAccessKey: 'not-the-secret' });
    const err = await store.putBytes('models', 'model.onnx', Buffer.from('x')).then(
      () => assert.fail('the put succeeded with a wrong secret'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof StoreAccessError, String(err));
    assert.match(err.message, new RegExp(`S3 store at ${server.endpoint}`));
    assert.match(err.message, /SignatureDoesNotMatch/);
    assert.match(err.message, /AWS_ACCESS_KEY_ID/);
    // As an activity failure it is not retried.
    assert.throws(() => toActivityFailure(err), (f: unknown) => f instanceof ApplicationFailure && f.nonRetryable && f.type === FailureType.StoreAccess);
    const unknownKey = storeOn({ ...server, accessKeyId: 'nobody' });
    await assert.rejects(unknownKey.readVerified({ uri: `store://models/${'a'.repeat(64)}/m.onnx`, sha256: 'a'.repeat(64) }), StoreAccessError);
  });

  it('a missing bucket is a non-retryable StoreAccessError naming the bucket', async () => {
    const store = storeOn(server, { bucket: 'no-such-bucket-here' });
    await assert.rejects(store.putBytes('models', 'model.onnx', Buffer.from('x')), (err: unknown) => {
      assert.ok(err instanceof StoreAccessError, String(err));
      assert.match(err.message, /NoSuchBucket/);
      assert.match(err.message, /no-such-bucket-here/);
      return true;
    });
  });

  it('an unreachable endpoint is a retryable error naming the URL and what failed', async () => {
    const endpoint = `http://127.0.0.1:${await freePort()}`;
    const store = storeOn({ ...server, endpoint }, { maxAttempts: 1 });
    await assert.rejects(store.putBytes('models', 'model.onnx', Buffer.from('x')), (err: unknown) => {
      assert.ok(err instanceof Error && !(err instanceof RelearnError), `a plain (retryable) Error, got ${String(err)}`);
      assert.match(err.message, new RegExp(`S3 store at ${endpoint}: write s3://${bucket}/`));
      assert.match(err.message, /cannot reach the server \(ECONNREFUSED\)/);
      return true;
    });
  });
});

describe('S3 artifact store: the server restarts during an upload', () => {
  let own: Awaited<ReturnType<typeof startS3Server>> | undefined;
  after(async () => {
    if (!own) return;
    await stopS3Server(own);
    await rm(own.dataDir, { recursive: true, force: true });
    await rm(own.log, { force: true });
  });

  it('the put fails while the server is down, nothing is visible under the key, and a retried put stores it once', async () => {
    own = await startS3Server();
    const ownBucket = await freshBucket(own, 'restart');
    const store = storeOn(own, { bucket: ownBucket, maxAttempts: 2 });
    const file = path.join(workDir, 'restart.bin');
    const bytes = randomBytes(64 * MiB);
    await writeFile(file, bytes);
    const staging = path.join(own.dataDir, ownBucket, '.sgwtmp', 'multipart');
    const put = store.putFile('snapshots', 'snapshot.arrow', file).then(
      () => 'stored' as const,
      (err: unknown) => err,
    );
    // Crash the server as soon as the first part reaches its disk.
    await waitFor('a part of the upload on the server', () =>
      existsSync(staging) && readdirSync(staging, { recursive: true }).some((f) => statSync(path.join(staging, String(f))).isFile()) ? true : undefined,
      30_000,
      5,
    );
    await stopS3Server(own, 'SIGKILL');
    const failure = await put;
    assert.ok(failure instanceof Error && !(failure instanceof RelearnError), `the interrupted put fails retryably, got ${String(failure)}`);
    assert.match(failure.message, new RegExp(`S3 store at ${own.endpoint}`));

    own = await startS3Server({ dataDir: own.dataDir, port: own.port, keys: own });
    const ref = { uri: `store://snapshots/${sha(bytes)}/snapshot.arrow`, sha256: sha(bytes), sizeBytes: bytes.byteLength };
    assert.deepEqual(await keysUnder(ownBucket, store.prefix, own), [], 'no object under its final key after the crash');
    assert.deepEqual(await store.putFile('snapshots', 'snapshot.arrow', file), ref);
    assert.deepEqual(await keysUnder(ownBucket, store.prefix, own), [store.keyOf(ref.uri)]);
    assert.ok((await store.readVerified(ref)).equals(bytes));
  });
});
