import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { lstat, mkdir, readFile, rename, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import { type Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { DeleteObjectCommand, GetObjectCommand, PutObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { MIN_PART_SIZE_BYTES, type S3Location } from '../config/store';
import { ArtifactIntegrityError, StoreAccessError } from '../errors';
import { type ArtifactRef, type ArtifactStore, type VerifiableRef, hashFile, jsonBytes } from './artifact-store';
import { checkSegment, formatStoreUri, parseStoreUri } from './store-uri';

/** How to reach an S3-compatible bucket; credentials are not here (the AWS chain on the worker supplies them). */
export interface S3StoreOptions extends S3Location {
  /** An S3-compatible server's endpoint; default AWS for the region. */
  endpoint?: string;
  region?: string;
  forcePathStyle?: boolean;
  /** Files larger than this go up as a multipart upload in parts of this size. */
  partSizeBytes?: number;
  /** Local folder where verifiedPath keeps checked copies of downloaded artifacts. */
  cacheDir: string;
  /** Attempts per request inside the SDK before an error reaches the caller (default 3). */
  maxAttempts?: number;
  /** Tests and tools only (temporal.yaml never sets it): these keys instead of the AWS chain's. */
  credentials?: { accessKeyId: string; secretAccessKey: string };
}

const DEFAULT_PART_SIZE_BYTES = 8 * 1024 * 1024;
// putFile reads a file up to this size into memory, hashes it once and uploads those very bytes (lib-storage slices a
// Buffer into parts without copying); a larger file is streamed and hashed twice, before and on its way up. Streaming
// a 64 MiB file cost 4-8x the CPU of the buffered path on the store benchmark (stream re-chunking, copies, GC).
const BUFFERED_PUT_MAX_BYTES = 128 * 1024 * 1024;
const CACHED_FILE_MODE = 0o440;
// How far a download may run ahead of the disk: with the streams' default 16 KiB every 64 KiB socket chunk stopped the
// socket until its write finished; with more, chunks queue and go to the file in batches (one writev each).
const DOWNLOAD_BUFFER_BYTES = 4 * 1024 * 1024;
const CACHE_DIR_MODE = 0o750;

// Error codes that no retry can heal: the credentials or the bucket are wrong. Everything else (a dropped connection,
// a 5xx, a throttle) is left as a plain Error so Temporal retries it.
const ACCESS_ERRORS = new Set([
  'AccessDenied',
  'AllAccessDisabled',
  'AuthorizationHeaderMalformed',
  'ExpiredToken',
  'InvalidAccessKeyId',
  'InvalidToken',
  'NoSuchBucket',
  'PermanentRedirect',
  'SignatureDoesNotMatch',
  // Versity's gateway answers an unknown access key with this.
  'XAdminUserNotFound',
]);

const NETWORK_ERRORS = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

/** The S3 client Relearn uses: checksums only where the API requires them, so S3-compatible servers accept requests. */
export function createS3Client(opts: Pick<S3StoreOptions, 'endpoint' | 'region' | 'forcePathStyle' | 'maxAttempts' | 'credentials'>): S3Client {
  return new S3Client({
    ...(opts.credentials !== undefined ? { credentials: opts.credentials } : {}),
    region: opts.region ?? 'us-east-1',
    ...(opts.endpoint !== undefined ? { endpoint: opts.endpoint } : {}),
    forcePathStyle: opts.forcePathStyle ?? false,
    maxAttempts: opts.maxAttempts ?? 3,
    // SDK releases since 2025 add CRC32 checksums (and aws-chunked trailers) to every upload and validate them on every
    // download by default; many S3-compatible servers reject or mangle those. Relearn checks SHA-256 itself.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

/**
 * A content-addressed artifact store in an S3-compatible bucket, with the local store's layout under a key prefix:
 * `<prefix>/<kind>/<sha256[0:2]>/<sha256>/<name>`. Writes are create-once (`If-None-Match: *`); an object that is
 * already there is accepted only when its bytes hash to the same SHA-256. Reads hash every byte before returning it.
 */
export class S3ArtifactStore implements ArtifactStore {
  readonly bucket: string;
  readonly prefix: string;
  readonly cacheDir: string;
  private readonly client: S3Client;
  private readonly partSizeBytes: number;
  private readonly where: string;

  constructor(opts: S3StoreOptions) {
    this.bucket = opts.bucket;
    this.prefix = opts.prefix.replace(/^\/+|\/+$/g, '');
    this.cacheDir = path.resolve(opts.cacheDir);
    this.partSizeBytes = Math.max(opts.partSizeBytes ?? DEFAULT_PART_SIZE_BYTES, MIN_PART_SIZE_BYTES);
    this.client = createS3Client(opts);
    this.where = opts.endpoint !== undefined ? ` at ${opts.endpoint}` : '';
  }

  get location(): string {
    return `s3://${this.bucket}${this.prefix ? `/${this.prefix}` : ''}`;
  }

  /** The object key of a store URI. */
  keyOf(uri: string): string {
    const parts = parseStoreUri(uri);
    const key = [parts.kind, parts.sha256.slice(0, 2), parts.sha256, parts.name].join('/');
    return this.prefix ? `${this.prefix}/${key}` : key;
  }

  locate(uri: string): string {
    return `s3://${this.bucket}/${this.keyOf(uri)}`;
  }

  async putBytes(kind: string, name: string, bytes: Uint8Array): Promise<ArtifactRef> {
    this.checkNames(kind, name);
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const ref = this.refOf(kind, name, sha256, bytes.byteLength);
    const key = this.keyOf(ref.uri);
    if (bytes.byteLength > this.partSizeBytes) {
      await this.upload(ref, key, Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    } else {
      await this.createOnce(ref, key, () =>
        this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: bytes, IfNoneMatch: '*', Metadata: { sha256 } })),
      );
    }
    return ref;
  }

  async putFile(kind: string, name: string, srcPath: string): Promise<ArtifactRef> {
    this.checkNames(kind, name);
    // The digest is of the very bytes that go up, so a file that changes meanwhile cannot land under a wrong key.
    if ((await stat(srcPath)).size <= BUFFERED_PUT_MAX_BYTES) return this.putBytes(kind, name, await readFile(srcPath));
    const first = await hashFile(srcPath);
    const ref = this.refOf(kind, name, first.sha256, first.sizeBytes);
    const key = this.keyOf(ref.uri);
    // The file is hashed again on its way up: a file that changed in between must not land under the first digest.
    const hash = createHash('sha256');
    const source = createReadStream(srcPath, { highWaterMark: 1 << 20 });
    const body = source.pipe(hashing(hash));
    source.on('error', (err) => body.destroy(err));
    await this.upload(ref, key, body, async () => {
      const sent = hash.digest('hex');
      if (sent !== first.sha256) {
        // The object just created holds other bytes than its key names: take it back before anyone reads it.
        await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
        // A plain Error: the source is still being written by someone, so trying again can succeed.
        throw new Error(`${srcPath} changed while it was being stored (SHA-256 ${first.sha256}, then ${sent})`);
      }
    });
    return ref;
  }

  async putJson(kind: string, name: string, value: unknown): Promise<ArtifactRef> {
    return this.putBytes(kind, name, jsonBytes(kind, name, value));
  }

  async readVerified(ref: VerifiableRef): Promise<Buffer> {
    const chunks: Buffer[] = [];
    await this.download(ref, async (body, hash) => {
      for await (const chunk of body as AsyncIterable<Buffer>) {
        hash.update(chunk);
        chunks.push(chunk);
      }
    });
    return Buffer.concat(chunks);
  }

  /**
   * A checked local copy under cacheDir (same layout as a local store). A copy already there is hashed again before
   * use; a missing or damaged one is downloaded to a temp file, hashed, and renamed into place only if it matches.
   */
  async verifiedPath(ref: VerifiableRef): Promise<string> {
    const parts = this.checkRef(ref);
    const finalPath = path.join(this.cacheDir, parts.kind, parts.sha256.slice(0, 2), parts.sha256, parts.name);
    if (await isCopyOf(finalPath, ref.sha256)) return finalPath;
    const dir = path.dirname(finalPath);
    await mkdir(dir, { recursive: true, mode: CACHE_DIR_MODE });
    const tempPath = path.join(dir, `.${parts.name}.${process.pid}-${randomBytes(6).toString('hex')}.tmp`);
    try {
      await this.download(ref, async (body, hash) => {
        await pipeline(
          body,
          hashing(hash, DOWNLOAD_BUFFER_BYTES),
          createWriteStream(tempPath, { mode: CACHED_FILE_MODE, flags: 'wx', highWaterMark: DOWNLOAD_BUFFER_BYTES }),
        );
      });
      await rename(tempPath, finalPath);
    } finally {
      await unlink(tempPath).catch(() => undefined);
    }
    return finalPath;
  }

  private refOf(kind: string, name: string, sha256: string, sizeBytes: number): ArtifactRef {
    return { uri: formatStoreUri({ kind, sha256, name }), sha256, sizeBytes };
  }

  private checkNames(kind: string, name: string): void {
    checkSegment('kind', kind, `artifact store ${this.location}`);
    checkSegment('name', name, `artifact store ${this.location}`);
  }

  private checkRef(ref: VerifiableRef) {
    const parts = parseStoreUri(ref.uri);
    if (parts.sha256 !== ref.sha256) {
      throw new ArtifactIntegrityError(`${ref.uri}: the URI names SHA-256 ${parts.sha256} but the reference records ${ref.sha256}`);
    }
    return parts;
  }

  /** Multipart when larger than a part (lib-storage's Upload; S3 shows the object only once the upload completes). */
  private async upload(ref: ArtifactRef, key: string, body: Buffer | Readable, afterCreate?: () => Promise<void>): Promise<void> {
    const created = await this.createOnce(ref, key, async () => {
      const upload = new Upload({
        client: this.client,
        params: { Bucket: this.bucket, Key: key, Body: body, IfNoneMatch: '*', Metadata: { sha256: ref.sha256 }, ContentLength: ref.sizeBytes },
        partSize: this.partSizeBytes,
        // Parts in flight at once: 4 × partSizeBytes of memory; more gained little on the benchmark (bench/store.ts).
        queueSize: 4,
        leavePartsOnError: false,
      });
      await upload.done();
    });
    if (created) await afterCreate?.();
  }

  /**
   * Runs a conditional write and returns true when it created the object. When the key is taken (412), the object
   * there is read and hashed: the same digest is an earlier write of these bytes (success, false), another one is an
   * error naming both.
   */
  private async createOnce(ref: ArtifactRef, key: string, write: () => Promise<unknown>): Promise<boolean> {
    try {
      await write();
      return true;
    } catch (err) {
      // 409: a conditional write raced another one for the same key; reading back decides, as for 412.
      if (!(err instanceof S3ServiceException) || ![412, 409].includes(err.$metadata.httpStatusCode ?? 0)) {
        throw this.failure(`write ${this.locate(ref.uri)}`, err);
      }
    }
    const existing = await this.download(ref, async (body, hash) => {
      for await (const chunk of body as AsyncIterable<Buffer>) hash.update(chunk);
    }, { compare: false });
    if (existing !== ref.sha256) {
      throw new ArtifactIntegrityError(
        `${this.locate(ref.uri)}: an object is already stored under this key with SHA-256 ${existing}, but its URI names ${ref.sha256}; ` +
          'the stored object was changed or written by something else (the store never overwrites: remove it to store these bytes)',
      );
    }
    return false;
  }

  /** Streams an object through `consume` and SHA-256; returns the digest, or checks it against `ref` (default). */
  private async download(
    ref: VerifiableRef,
    consume: (body: Readable, hash: ReturnType<typeof createHash>) => Promise<void>,
    opts: { compare?: boolean } = {},
  ): Promise<string> {
    if (opts.compare !== false) this.checkRef(ref);
    const s3Url = this.locate(ref.uri);
    let body: Readable;
    try {
      const res = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.keyOf(ref.uri) }));
      body = res.Body as Readable;
    } catch (err) {
      if (err instanceof S3ServiceException && (err.name === 'NoSuchKey' || (err.$metadata.httpStatusCode === 404 && !ACCESS_ERRORS.has(err.name)))) {
        throw new ArtifactIntegrityError(`${ref.uri}: missing from the store (expected at ${s3Url})`);
      }
      throw this.failure(`read ${s3Url}`, err);
    }
    const hash = createHash('sha256');
    try {
      await consume(body, hash);
    } catch (err) {
      throw this.failure(`read ${s3Url}`, err);
    }
    const actual = hash.digest('hex');
    if (opts.compare !== false && actual !== ref.sha256) {
      throw new ArtifactIntegrityError(`${ref.uri}: SHA-256 of ${s3Url} is ${actual}, expected ${ref.sha256} (changed after it was written)`);
    }
    return actual;
  }

  /** A non-retryable StoreAccessError for wrong credentials or bucket; a plain (retryable) Error for the rest. */
  private failure(what: string, err: unknown): Error {
    if (err instanceof ArtifactIntegrityError || err instanceof StoreAccessError) return err;
    if (err instanceof S3ServiceException) {
      const status = err.$metadata.httpStatusCode;
      const detail = `${err.name}${status !== undefined ? ` (HTTP ${status})` : ''}: ${err.message}`;
      if (ACCESS_ERRORS.has(err.name)) {
        const hint =
          err.name === 'NoSuchBucket'
            ? `create the bucket ${this.bucket} or fix store.url`
            : 'check AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY (or the AWS profile) on this machine and store.region';
        return new StoreAccessError(`S3 store${this.where}: ${what} refused, ${detail}; ${hint}`);
      }
      return new Error(`S3 store${this.where}: ${what} failed, ${detail}`, { cause: err });
    }
    const e = err instanceof Error ? err : new Error(String(err));
    if (e.name === 'CredentialsProviderError') {
      return new StoreAccessError(
        `S3 store${this.where}: ${what}: no AWS credentials found (set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE, on this machine): ${e.message}`,
      );
    }
    const code = (e as { code?: unknown }).code;
    if ((e as { syscall?: unknown }).syscall === 'connect' || (typeof code === 'string' && NETWORK_ERRORS.has(code)) || e.name === 'TimeoutError') {
      return new Error(`S3 store${this.where}: ${what} failed, cannot reach the server (${typeof code === 'string' ? code : e.name}): ${e.message}`, { cause: e });
    }
    return new Error(`S3 store${this.where}: ${what} failed: ${e.message}`, { cause: e });
  }
}

/** A pass-through stream that feeds every chunk to `hash`. */
function hashing(hash: ReturnType<typeof createHash>, highWaterMark?: number): Transform {
  return new Transform({
    ...(highWaterMark !== undefined ? { highWaterMark } : {}),
    transform(chunk: Buffer, _encoding, done) {
      hash.update(chunk);
      done(null, chunk);
    },
  });
}

async function isCopyOf(filePath: string, sha256: string): Promise<boolean> {
  try {
    const info = await lstat(filePath);
    if (!info.isFile()) return false;
  } catch {
    return false;
  }
  return (await hashFile(filePath)).sha256 === sha256;
}
