import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ArtifactIntegrityError } from '../../src/errors';
import { LocalArtifactStore, parseStoreUri } from '../../src/store';
import type { ArtifactRef } from '../../src/store';
import { waitFor } from '../helpers/wait';

const sha256Of = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

let workDir: string;
before(async () => {
  workDir = await mkdtemp(path.join(tmpdir(), 'relearn-store-'));
});
after(async () => {
  await rm(workDir, { recursive: true, force: true });
});

async function freshStore(): Promise<LocalArtifactStore> {
  return new LocalArtifactStore(await mkdtemp(path.join(workDir, 'root-')));
}

async function listTree(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name)))
    .sort();
}

async function tamper(ref: ArtifactRef, store: LocalArtifactStore, edit: (bytes: Buffer) => Buffer): Promise<string> {
  const filePath = store.resolve(ref.uri);
  const bytes = await readFile(filePath);
  await chmod(filePath, 0o644);
  await writeFile(filePath, edit(bytes));
  return filePath;
}

describe('content addressing', () => {
  test('same bytes give the same URI, stored at <kind>/<sha[0:2]>/<sha>/<name>', async () => {
    const store = await freshStore();
    const bytes = Buffer.from('fold,delay\n0,12\n');
    const first = await store.putBytes('snapshots', 'flights.arrow', bytes);
    const second = await store.putBytes('snapshots', 'flights.arrow', Buffer.from(bytes));

    const digest = sha256Of(bytes);
    assert.deepEqual(first, { uri: `store://snapshots/${digest}/flights.arrow`, sha256: digest, sizeBytes: bytes.byteLength });
    assert.deepEqual(second, first);
    const expectedPath = path.join(store.rootDir, 'snapshots', digest.slice(0, 2), digest, 'flights.arrow');
    assert.equal(store.resolve(first.uri), expectedPath);
    assert.deepEqual(await readFile(expectedPath), bytes);
    assert.deepEqual(await listTree(store.rootDir), [path.relative(store.rootDir, expectedPath)]);
  });

  test('different bytes give different URIs; the same bytes under another kind or name are separate artifacts', async () => {
    const store = await freshStore();
    const a = await store.putBytes('models', 'model.onnx', Buffer.from('a'));
    const b = await store.putBytes('models', 'model.onnx', Buffer.from('b'));
    const c = await store.putBytes('reports', 'model.onnx', Buffer.from('a'));
    const d = await store.putBytes('models', 'other.onnx', Buffer.from('a'));
    assert.equal(new Set([a.uri, b.uri, c.uri, d.uri]).size, 4);
    assert.equal(a.sha256, c.sha256);
    assert.equal(a.sha256, d.sha256);
    assert.notEqual(a.sha256, b.sha256);
  });

  test('an existing complete file is kept, not rewritten', async () => {
    const store = await freshStore();
    const bytes = randomBytes(4096);
    const ref = await store.putBytes('models', 'model.onnx', bytes);
    const before = await stat(store.resolve(ref.uri));
    // A rewrite shows in the mtime only once the file system's clock has moved past the first write (its granularity
    // may be coarse): wait until a file written now gets a later mtime.
    const probe = path.join(workDir, 'mtime-probe');
    await waitFor('the file system clock to pass the first write', async () => {
      await writeFile(probe, '');
      return (await stat(probe)).mtimeMs > before.mtimeMs ? true : undefined;
    }, 10_000, 5);
    await store.putBytes('models', 'model.onnx', bytes);
    await store.putFile('models', 'model.onnx', store.resolve(ref.uri));
    const afterPut = await stat(store.resolve(ref.uri));
    assert.equal(afterPut.ino, before.ino);
    assert.equal(afterPut.mtimeMs, before.mtimeMs);
  });

  test('putFile streams a large file and gives the same ref as putBytes of its content', async () => {
    const store = await freshStore();
    const src = path.join(workDir, 'large.bin');
    const bytes = randomBytes(9 * 1024 * 1024 + 17); // several read chunks plus a ragged tail
    await writeFile(src, bytes);

    const fromFile = await store.putFile('snapshots', 'large.bin', src);
    assert.deepEqual(fromFile, {
      uri: `store://snapshots/${sha256Of(bytes)}/large.bin`,
      sha256: sha256Of(bytes),
      sizeBytes: bytes.byteLength,
    });
    const fromBytes = await store.putBytes('snapshots', 'large.bin', bytes);
    assert.deepEqual(fromBytes, fromFile);
    assert.ok((await readFile(store.resolve(fromFile.uri))).equals(bytes));
  });

  test('putJson is independent of key order and reads back equal', async () => {
    const store = await freshStore();
    const a = await store.putJson('reports', 'gate.json', { decision: 'PASS', metrics: { f1: 0.8, auc: 0.9 }, reasons: ['ok'] });
    const b = await store.putJson('reports', 'gate.json', { reasons: ['ok'], metrics: { auc: 0.9, f1: 0.8 }, decision: 'PASS' });
    assert.equal(a.uri, b.uri);
    const parsed: unknown = JSON.parse((await store.readVerified(a)).toString('utf8'));
    assert.deepEqual(parsed, { decision: 'PASS', metrics: { auc: 0.9, f1: 0.8 }, reasons: ['ok'] });
  });

  test('an empty artifact is valid', async () => {
    const store = await freshStore();
    const ref = await store.putBytes('reports', 'empty.txt', new Uint8Array(0));
    assert.equal(ref.sizeBytes, 0);
    assert.equal((await store.readVerified(ref)).byteLength, 0);
  });
});

describe('atomic writes', () => {
  test('stored files are read-only and not world-readable, folders not world-readable; no temp file remains after concurrent puts of the same content', async () => {
    const store = await freshStore();
    const src = path.join(workDir, 'concurrent.bin');
    const bytes = randomBytes(2 * 1024 * 1024);
    await writeFile(src, bytes);

    const refs = await Promise.all([
      ...Array.from({ length: 4 }, () => store.putFile('models', 'model.onnx', src)),
      ...Array.from({ length: 4 }, () => store.putBytes('models', 'model.onnx', bytes)),
    ]);
    assert.equal(new Set(refs.map((r) => r.uri)).size, 1);
    const [ref] = refs;
    assert.ok(ref);
    const files = await listTree(store.rootDir);
    assert.deepEqual(files, [path.relative(store.rootDir, store.resolve(ref.uri))]);
    assert.equal((await stat(store.resolve(ref.uri))).mode & 0o777, 0o440);
    assert.equal((await stat(path.dirname(store.resolve(ref.uri)))).mode & 0o007, 0, 'no access for others to the folder');
    assert.ok((await store.readVerified(ref)).equals(bytes));
  });

  test('a temp file left by a crashed writer is never visible under the artifact URI', async () => {
    const store = await freshStore();
    const bytes = Buffer.from('complete model bytes');
    const digest = sha256Of(bytes);
    const uri = `store://models/${digest}/model.onnx`;
    const dir = path.dirname(store.resolve(uri));
    await mkdir(dir, { recursive: true });
    // What an interrupted put leaves behind: half the bytes under a temp name.
    const leftover = path.join(dir, '.model.onnx.4242-deadbeefcafe.tmp');
    await writeFile(leftover, bytes.subarray(0, 8));

    await assert.rejects(store.readVerified({ uri, sha256: digest }), (err: unknown) => {
      assert.ok(err instanceof ArtifactIntegrityError);
      assert.match(err.message, /missing from the store/);
      return true;
    });
    // Temp names start with a dot, which no URI may address.
    assert.throws(() => store.resolve(`store://models/${digest}/.model.onnx.4242-deadbeefcafe.tmp`), ArtifactIntegrityError);

    const ref = await store.putBytes('models', 'model.onnx', bytes);
    assert.equal(ref.uri, uri);
    assert.ok((await store.readVerified(ref)).equals(bytes));
  });

  test('a failed putFile leaves nothing behind', async () => {
    const store = await freshStore();
    await assert.rejects(store.putFile('models', 'model.onnx', path.join(workDir, 'does-not-exist.onnx')), /ENOENT/);
    assert.deepEqual(await listTree(store.rootDir), []);
  });

  test('a damaged file of the wrong size is replaced on the next put of the right content', async () => {
    const store = await freshStore();
    const bytes = Buffer.from('0123456789');
    const ref = await store.putBytes('splits', 'split.arrow', bytes);
    await tamper(ref, store, (b) => b.subarray(0, 4));
    await assert.rejects(store.readVerified(ref), ArtifactIntegrityError);
    await store.putBytes('splits', 'split.arrow', bytes);
    assert.ok((await store.readVerified(ref)).equals(bytes));
  });

  test('a stored file of the right size but other content is replaced on the next put (its digest is checked)', async () => {
    const store = await freshStore();
    const bytes = Buffer.from('0123456789');
    const ref = await store.putBytes('splits', 'split.arrow', bytes);
    await tamper(ref, store, () => Buffer.from('9876543210'));
    await assert.rejects(store.readVerified(ref), ArtifactIntegrityError);
    await store.putBytes('splits', 'split.arrow', bytes);
    assert.ok((await store.readVerified(ref)).equals(bytes));
  });
});

describe('URI parsing and path traversal', () => {
  const digest = sha256Of(Buffer.from('x'));
  const hostile: Array<[string, RegExp]> = [
    ['store://models/../../etc/passwd', /has 5 path segments; expected exactly 3/],
    [`store://models/${digest}/../../../etc/passwd`, /path segments; expected exactly 3/],
    [`store://../${digest}/passwd`, /kind "\.\." starts with "\."/],
    [`store://./${digest}/passwd`, /kind "\." starts with "\."/],
    [`store://models/${digest}/..`, /name "\.\." starts with "\."/],
    [`store://models/${digest}/%2e%2e%2f%2e%2e%2fetc%2fpasswd`, /percent-encoding/],
    [`store://models/${digest}/..%2F..%2Fetc%2Fpasswd`, /name "\.\.%2F\.\.%2Fetc%2Fpasswd" contains percent-encoding/],
    [`store://%2e%2e/${digest}/passwd`, /percent-encoding/],
    [`store://models/${digest}/..\\..\\etc\\passwd`, /path separator/],
    [`store://models/${digest}/model.onnx\0.txt`, /NUL/],
    ['/etc/passwd', /not a store URI/],
    ['file:///etc/passwd', /not a store URI/],
    ['store:///etc/passwd', /kind "" is empty/],
    [`store://models/${digest}//etc/passwd`, /path segments/],
    [`store://models/${digest}/`, /name "" is empty/],
    [`STORE://models/${digest}/model.onnx`, /not a store URI/],
    [`s3://bucket/models/${digest}/model.onnx`, /not a store URI/],
    [`store://models/${digest.toUpperCase()}/model.onnx`, /64 lowercase hex/],
    [`store://models/${digest.slice(1)}/model.onnx`, /64 lowercase hex/],
    [`store://models/${digest}/model onnx`, /outside \[A-Za-z0-9\._-\]/],
    [`store://mo~dels/${digest}/model.onnx`, /outside/],
  ];

  for (const [uri, message] of hostile) {
    test(`rejects ${JSON.stringify(uri)}`, async () => {
      const store = await freshStore();
      assert.throws(
        () => store.resolve(uri),
        (err: unknown) => {
          assert.ok(err instanceof ArtifactIntegrityError, `expected ArtifactIntegrityError, got ${String(err)}`);
          assert.match(err.message, message);
          return true;
        },
      );
      await assert.rejects(store.readVerified({ uri, sha256: digest }), ArtifactIntegrityError);
      await assert.rejects(store.verifiedPath({ uri, sha256: digest }), ArtifactIntegrityError);
    });
  }

  test('rejects unsafe kinds and names on write, before touching the disk', async () => {
    const store = await freshStore();
    for (const [kind, name] of [
      ['..', 'x'],
      ['models', '..'],
      ['models', '../x'],
      ['models', '/etc/passwd'],
      ['models/evil', 'x'],
      ['', 'x'],
      ['models', ''],
      ['models', '.hidden'],
      ['models', 'a\\b'],
      ['models', 'a\0b'],
    ] as const) {
      await assert.rejects(store.putBytes(kind, name, Buffer.from('x')), ArtifactIntegrityError, `${kind}/${name}`);
    }
    assert.deepEqual(await listTree(store.rootDir), []);
  });

  test('parseStoreUri returns the parts of a valid URI', () => {
    assert.deepEqual(parseStoreUri(`store://models/${digest}/model-v1_final.onnx`), {
      kind: 'models',
      sha256: digest,
      name: 'model-v1_final.onnx',
    });
  });
});

describe('verified reads', () => {
  test('tampering with the bytes after writing is detected with a message naming the URI and both digests', async () => {
    const store = await freshStore();
    const bytes = Buffer.from('{"weights":[1,2,3]}');
    const ref = await store.putBytes('models', 'model.onnx', bytes);
    assert.ok((await store.readVerified(ref)).equals(bytes));
    assert.equal(await store.verifiedPath(ref), store.resolve(ref.uri));

    const tampered = Buffer.from(bytes);
    tampered[2] = 'X'.charCodeAt(0); // same size, different bytes
    await tamper(ref, store, () => tampered);
    const expected = `${ref.uri}: SHA-256 is ${sha256Of(tampered)}, expected ${ref.sha256} (changed after it was written)`;
    await assert.rejects(store.readVerified(ref), (err: unknown) => {
      assert.ok(err instanceof ArtifactIntegrityError);
      assert.equal(err.message, expected);
      assert.equal(err.type, 'ArtifactIntegrityError');
      return true;
    });
    await assert.rejects(store.verifiedPath(ref), { message: expected });
  });

  test('a missing file is an ArtifactIntegrityError naming the URI and the expected path', async () => {
    const store = await freshStore();
    const ref = await store.putBytes('models', 'model.onnx', Buffer.from('m'));
    const filePath = store.resolve(ref.uri);
    await rm(filePath);
    await assert.rejects(store.readVerified(ref), {
      name: 'ArtifactIntegrityError',
      message: `${ref.uri}: missing from the store (expected at ${filePath})`,
    });
    await rm(store.rootDir, { recursive: true });
    await assert.rejects(store.verifiedPath(ref), ArtifactIntegrityError);
  });

  test('a reference whose digest differs from the one in its URI is refused', async () => {
    const store = await freshStore();
    const ref = await store.putBytes('models', 'model.onnx', Buffer.from('m'));
    const other = sha256Of(Buffer.from('n'));
    await assert.rejects(store.readVerified({ uri: ref.uri, sha256: other }), {
      name: 'ArtifactIntegrityError',
      message: `${ref.uri}: the URI names SHA-256 ${ref.sha256} but the reference records ${other}`,
    });
  });

  test('a stored file replaced by a symlink is refused, even if the target has the right bytes', async () => {
    const store = await freshStore();
    const bytes = Buffer.from('model');
    const ref = await store.putBytes('models', 'model.onnx', bytes);
    const outside = path.join(workDir, 'outside.onnx');
    await writeFile(outside, bytes);
    const filePath = store.resolve(ref.uri);
    await rm(filePath);
    await symlink(outside, filePath);
    await assert.rejects(store.readVerified(ref), { name: 'ArtifactIntegrityError', message: /symbolic link/ });
  });

  test('a stored folder replaced by a symlink to outside the root is refused', async () => {
    const store = await freshStore();
    const bytes = Buffer.from('model');
    const ref = await store.putBytes('models', 'model.onnx', bytes);
    const outsideDir = await mkdtemp(path.join(workDir, 'outside-'));
    await writeFile(path.join(outsideDir, 'model.onnx'), bytes);
    const digestDir = path.dirname(store.resolve(ref.uri));
    await rm(digestDir, { recursive: true, force: true });
    await symlink(outsideDir, digestDir);
    await assert.rejects(store.verifiedPath(ref), { name: 'ArtifactIntegrityError', message: /leads outside the store root/ });
  });
});
