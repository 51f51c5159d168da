import { createHash, randomBytes } from 'node:crypto';
import { constants as fsConstants, createReadStream } from 'node:fs';
import { lstat, mkdir, open, realpath, rename, unlink } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { ArtifactIntegrityError } from '../errors';
import { Sha256Schema, checkSegment, formatStoreUri, parseStoreUri } from './store-uri';

/** What a write to the store returns and what later reads are checked against. */
export const ArtifactRefSchema = z.object({
  uri: z.string(),
  sha256: Sha256Schema,
  sizeBytes: z.number().int().nonnegative(),
});
/** What a write to the store returns and what later reads are checked against. */
export type ArtifactRef = z.infer<typeof ArtifactRefSchema>;

/** The part of an ArtifactRef a verified read needs: where it is and the digest recorded for it. */
export type VerifiableRef = Pick<ArtifactRef, 'uri' | 'sha256'>;

const READ_CHUNK_BYTES = 1 << 20;
// Stored files are never edited in place; read-only permissions make an accidental edit fail loudly. Nothing is
// world-readable: the owner and its group (a job user that must read snapshots, see docs/security.md) only.
const STORED_FILE_MODE = 0o440;
const STORE_DIR_MODE = 0o750;
const TEMP_SUFFIX = '.tmp';

/**
 * A content-addressed artifact store, a local folder or an S3-compatible bucket with the same layout
 * (`<kind>/<sha256[0:2]>/<sha256>/<name>`): writes are create-once, every read checks the SHA-256 before use.
 */
export interface ArtifactStore {
  /** Where the store is, for people: an absolute folder or `s3://bucket/prefix` (never with credentials). */
  readonly location: string;
  /** Stores `bytes` under `kind`/`name`; the same bytes and name always give the same URI. */
  putBytes(kind: string, name: string, bytes: Uint8Array): Promise<ArtifactRef>;
  /** Stores a copy of the file at `srcPath`. */
  putFile(kind: string, name: string, srcPath: string): Promise<ArtifactRef>;
  /** Stores `value` as JSON with sorted keys, so equal values give equal URIs whatever their key order. */
  putJson(kind: string, name: string, value: unknown): Promise<ArtifactRef>;
  /** Reads an artifact whole and checks its SHA-256 against the one recorded in `ref`. */
  readVerified(ref: VerifiableRef): Promise<Buffer>;
  /** A local file with the artifact's bytes, returned once its SHA-256 matches `ref`. */
  verifiedPath(ref: VerifiableRef): Promise<string>;
  /** Where a person finds the artifact of a store URI: a local path or an `s3://` URL (not checked to exist). */
  locate(uri: string): string;
}

/** A content-addressed folder of artifacts: `<root>/<kind>/<sha256[0:2]>/<sha256>/<name>`. */
export class LocalArtifactStore implements ArtifactStore {
  /** Absolute path of the store's root folder. */
  readonly rootDir: string;

  constructor(rootDir: string) {
    this.rootDir = path.resolve(rootDir);
  }

  get location(): string {
    return this.rootDir;
  }

  /** The absolute path of a store URI (see resolve). */
  locate(uri: string): string {
    return this.resolve(uri);
  }

  /** Stores `bytes` under `kind`/`name`; the same bytes and name always give the same URI. */
  async putBytes(kind: string, name: string, bytes: Uint8Array): Promise<ArtifactRef> {
    this.checkNames(kind, name);
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    return this.commit(kind, name, sha256, bytes.byteLength, async (handle) => {
      await writeAll(handle, bytes);
    });
  }

  /** Stores a copy of the file at `srcPath`, streaming it (it is read twice: to hash, then to copy). */
  async putFile(kind: string, name: string, srcPath: string): Promise<ArtifactRef> {
    this.checkNames(kind, name);
    const first = await hashFile(srcPath);
    return this.commit(kind, name, first.sha256, first.sizeBytes, async (handle) => {
      const hash = createHash('sha256');
      let sizeBytes = 0;
      for await (const chunk of createReadStream(srcPath, { highWaterMark: READ_CHUNK_BYTES }) as AsyncIterable<Buffer>) {
        hash.update(chunk);
        sizeBytes += chunk.byteLength;
        await writeAll(handle, chunk);
      }
      const copied = hash.digest('hex');
      if (copied !== first.sha256 || sizeBytes !== first.sizeBytes) {
        // A plain Error: the source is still being written by someone, so trying again can succeed.
        throw new Error(`${srcPath} changed while it was being stored (SHA-256 ${first.sha256}, then ${copied})`);
      }
    });
  }

  /** Stores `value` as JSON with sorted keys, so equal values give equal URIs whatever their key order. */
  async putJson(kind: string, name: string, value: unknown): Promise<ArtifactRef> {
    return this.putBytes(kind, name, jsonBytes(kind, name, value));
  }

  /** Absolute path of a store URI, after checking that it cannot point outside the root. */
  resolve(uri: string): string {
    const parts = parseStoreUri(uri);
    const resolved = path.resolve(this.rootDir, parts.kind, parts.sha256.slice(0, 2), parts.sha256, parts.name);
    const relative = path.relative(this.rootDir, resolved);
    if (relative === '' || relative.startsWith('..') || path.isAbsolute(relative)) {
      throw new ArtifactIntegrityError(`artifact URI ${JSON.stringify(uri)} resolves outside the store root ${this.rootDir}`);
    }
    return resolved;
  }

  /** Reads an artifact whole and checks its SHA-256 against the one recorded in `ref`. */
  async readVerified(ref: VerifiableRef): Promise<Buffer> {
    const chunks: Buffer[] = [];
    await this.verify(ref, (chunk) => chunks.push(chunk));
    return Buffer.concat(chunks);
  }

  /** Streams an artifact through SHA-256 and returns its path once the digest matches `ref`. */
  async verifiedPath(ref: VerifiableRef): Promise<string> {
    return this.verify(ref, () => undefined);
  }

  private checkNames(kind: string, name: string): void {
    checkSegment('kind', kind, `artifact store ${this.rootDir}`);
    checkSegment('name', name, `artifact store ${this.rootDir}`);
  }

  private async verify(ref: VerifiableRef, onChunk: (chunk: Buffer) => void): Promise<string> {
    const filePath = this.resolve(ref.uri);
    const parts = parseStoreUri(ref.uri);
    if (parts.sha256 !== ref.sha256) {
      throw new ArtifactIntegrityError(
        `${ref.uri}: the URI names SHA-256 ${parts.sha256} but the reference records ${ref.sha256}`,
      );
    }
    await this.checkInsideRoot(ref.uri, filePath);
    let handle: FileHandle;
    try {
      // O_NOFOLLOW: a stored file replaced by a symlink must not lead the read elsewhere.
      handle = await open(filePath, fsConstants.O_RDONLY | (fsConstants.O_NOFOLLOW ?? 0));
    } catch (err) {
      throw openFailure(ref.uri, filePath, err);
    }
    try {
      const info = await handle.stat();
      if (!info.isFile()) {
        throw new ArtifactIntegrityError(`${ref.uri}: ${filePath} is not a regular file`);
      }
      const hash = createHash('sha256');
      for await (const chunk of handle.createReadStream({ highWaterMark: READ_CHUNK_BYTES, autoClose: false }) as AsyncIterable<Buffer>) {
        hash.update(chunk);
        onChunk(chunk);
      }
      const actual = hash.digest('hex');
      if (actual !== ref.sha256) {
        throw new ArtifactIntegrityError(
          `${ref.uri}: SHA-256 is ${actual}, expected ${ref.sha256} (changed after it was written)`,
        );
      }
      return filePath;
    } finally {
      await handle.close();
    }
  }

  // Catches a symlinked folder inside the store, which the lexical check in resolve() cannot see.
  private async checkInsideRoot(uri: string, filePath: string): Promise<void> {
    let realRoot: string;
    let realDir: string;
    try {
      realRoot = await realpath(this.rootDir);
      realDir = await realpath(path.dirname(filePath));
    } catch (err) {
      throw openFailure(uri, filePath, err);
    }
    if (!realDir.startsWith(realRoot + path.sep)) {
      throw new ArtifactIntegrityError(`${uri}: ${path.dirname(filePath)} leads outside the store root ${this.rootDir}`);
    }
  }

  /** Writes a new file atomically (temp file in the same folder, fsync, rename), unless it is already there. */
  private async commit(
    kind: string,
    name: string,
    sha256: string,
    sizeBytes: number,
    write: (handle: FileHandle) => Promise<void>,
  ): Promise<ArtifactRef> {
    const uri = formatStoreUri({ kind, sha256, name });
    const ref: ArtifactRef = { uri, sha256, sizeBytes };
    const finalPath = this.resolve(uri);
    // Files appear only by rename after fsync, so one that exists is complete; its content is still hashed, since a
    // file of the right size is not necessarily the right file. A mismatch means damage; it is replaced below, which
    // is safe because the content is known.
    if (await isStoredCopyOf(finalPath, sha256, sizeBytes)) return ref;

    const dir = path.dirname(finalPath);
    const firstCreated = await mkdir(dir, { recursive: true, mode: STORE_DIR_MODE });
    // The leading dot keeps temp files out of reach of any URI (names may not start with a dot).
    const tempPath = path.join(dir, `.${name}.${process.pid}-${randomBytes(6).toString('hex')}${TEMP_SUFFIX}`);
    const handle = await open(tempPath, 'wx', STORED_FILE_MODE);
    let renamed = false;
    try {
      try {
        await write(handle);
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(tempPath, finalPath);
      renamed = true;
    } finally {
      if (!renamed) await unlink(tempPath).catch(() => undefined);
    }
    await syncDirs(dir, firstCreated);
    return ref;
  }
}

/** SHA-256 and size of a file, read in chunks. */
export async function hashFile(filePath: string): Promise<{ sha256: string; sizeBytes: number }> {
  const hash = createHash('sha256');
  let sizeBytes = 0;
  for await (const chunk of createReadStream(filePath, { highWaterMark: READ_CHUNK_BYTES }) as AsyncIterable<Buffer>) {
    hash.update(chunk);
    sizeBytes += chunk.byteLength;
  }
  return { sha256: hash.digest('hex'), sizeBytes };
}

async function writeAll(handle: FileHandle, bytes: Uint8Array): Promise<void> {
  let offset = 0;
  while (offset < bytes.byteLength) {
    const { bytesWritten } = await handle.write(bytes, offset, bytes.byteLength - offset);
    offset += bytesWritten;
  }
}

async function isStoredCopyOf(filePath: string, sha256: string, sizeBytes: number): Promise<boolean> {
  try {
    // lstat: a symlink planted in the store is not a stored copy (it is replaced by the rename below).
    const info = await lstat(filePath);
    if (!info.isFile() || info.size !== sizeBytes) return false;
  } catch (err) {
    if (errorCode(err) === 'ENOENT') return false;
    throw err;
  }
  return (await hashFile(filePath)).sha256 === sha256;
}

// The rename, and any folders just created, are durable only once their parent folders are synced.
async function syncDirs(dir: string, firstCreated: string | undefined): Promise<void> {
  const dirs = [dir];
  if (firstCreated !== undefined) {
    for (let current = dir; current !== firstCreated && current !== path.dirname(current); ) {
      current = path.dirname(current);
      dirs.push(current);
    }
    dirs.push(path.dirname(firstCreated));
  }
  for (const d of new Set(dirs)) {
    let handle: FileHandle | undefined;
    try {
      handle = await open(d, 'r');
      await handle.sync();
    } catch (err) {
      // Some platforms (Windows) cannot open or fsync a folder; the data itself is already synced.
      if (!['EISDIR', 'EPERM', 'EINVAL', 'EACCES'].includes(errorCode(err) ?? '')) throw err;
    } finally {
      await handle?.close();
    }
  }
}

function openFailure(uri: string, filePath: string, err: unknown): Error {
  const code = errorCode(err);
  if (code === 'ENOENT' || code === 'ENOTDIR') {
    return new ArtifactIntegrityError(`${uri}: missing from the store (expected at ${filePath})`);
  }
  if (code === 'ELOOP') {
    return new ArtifactIntegrityError(`${uri}: ${filePath} is a symbolic link; stored artifacts must be regular files`);
  }
  return err instanceof Error ? err : new Error(String(err));
}

function errorCode(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string' ? err.code : undefined;
}

/** The bytes putJson stores: JSON with sorted keys, two-space indents and a final newline. */
export function jsonBytes(kind: string, name: string, value: unknown): Buffer {
  const text = JSON.stringify(value, sortKeysReplacer, 2);
  if (text === undefined) {
    throw new TypeError(`putJson(${kind}, ${name}): value ${String(value)} has no JSON form`);
  }
  return Buffer.from(`${text}\n`, 'utf8');
}

function sortKeysReplacer(_key: string, value: unknown): unknown {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
  const sorted: Record<string, unknown> = {};
  for (const key of Object.keys(value).sort()) {
    sorted[key] = (value as Record<string, unknown>)[key];
  }
  return sorted;
}
