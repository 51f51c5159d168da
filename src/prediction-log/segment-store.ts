// Where a prediction log's segments are: a local folder (the default, one machine) or an S3 prefix shared by every
// `relearn serve` replica. Readers go through SegmentStore so shadow and guard windows and the drift monitor read every
// replica's segments the same way; a cache of parsed sealed segments (keyed by key and size/mtime or ETag) means a
// window's second look reads only the segments written since its first.
import { randomBytes } from 'node:crypto';
import { readFile, readdir, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { DeleteObjectCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { tableFromIPC } from 'apache-arrow';
import { parseS3Url } from '../config/store';
import { StoreAccessError } from '../errors';
import { createS3Client } from '../store';
import { entriesFromTable } from './arrow-table';
import { dayFolder, isSegmentFile } from './layout';
import type { PredictionLogEntry } from './record';

const DAY_FOLDER = /^\d{4}-\d{2}-\d{2}$/;
/** `<HHmmssSSS first>-<HHmmssSSS last>-<replica>-<seq>.arrow`: a shared segment names the time span of its records. */
const SHARED_SEGMENT = /^(\d{9})-(\d{9})-([A-Za-z0-9._-]+)-(\d{6})\.arrow$/;

/** One sealed segment: its key, day, size, a tag that changes if its bytes do, and (shared segments) its time span. */
export interface SegmentRef {
  key: string;
  day: string;
  bytes: number;
  tag: string;
  /** First and last record time (ms), from the key; absent for local files (their name holds only the first). */
  firstMs?: number;
  lastMs?: number;
}

/** A log's segments wherever they are kept. */
export interface SegmentStore {
  /** Identifies the log in cache keys and messages (a folder or an s3:// URL, never a credential). */
  readonly where: string;
  /** A model's sealed segments of the UTC days in range (both ends inclusive), oldest day first. */
  list(model: string, fromDay?: string, toDay?: string): Promise<SegmentRef[]>;
  /** A segment's bytes; undefined when retention deleted it after it was listed. */
  get(ref: SegmentRef): Promise<Uint8Array | undefined>;
  /** A segment as error messages name it (a path or an s3:// URL). */
  origin(ref: SegmentRef): string;
}

/** The S3 prefix of a shared log, with how to reach it; credentials come from the AWS chain, never from here. */
export interface SharedLogConfig {
  /** `s3://bucket/prefix`. */
  url: string;
  endpoint?: string;
  region?: string;
  forcePathStyle?: boolean;
}

/** Where a log is: a local folder, a shared S3 prefix, or an opened store. */
export type PredictionLogLocation = string | SharedLogConfig | SegmentStore;

function isStore(location: PredictionLogLocation): location is SegmentStore {
  return typeof location === 'object' && 'list' in location;
}

/** A shared log's URL, or the folder, as messages name it. */
export function describeLocation(location: PredictionLogLocation): string {
  return typeof location === 'string' ? location : isStore(location) ? location.where : location.url;
}

/** The local log: `<dir>/<model>/<YYYY-MM-DD>/<HHmmssSSS>-<pid>-<seq>.arrow` (see layout.ts). */
export class LocalSegmentStore implements SegmentStore {
  constructor(readonly where: string) {}

  async list(model: string, fromDay?: string, toDay?: string): Promise<SegmentRef[]> {
    let days: string[];
    try {
      days = (await readdir(path.join(this.where, model))).filter((d) => DAY_FOLDER.test(d)).sort();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    const refs: SegmentRef[] = [];
    for (const day of days) {
      if ((fromDay !== undefined && day < fromDay) || (toDay !== undefined && day > toDay)) continue;
      const folder = dayFolder(this.where, model, day);
      for (const name of (await readdir(folder).catch(() => [] as string[])).filter(isSegmentFile).sort()) {
        const key = path.join(folder, name);
        const info = await stat(key).catch(() => undefined);
        // A segment is renamed into place whole and never changed: size and mtime tell a replaced one apart.
        if (info !== undefined) refs.push({ key, day, bytes: info.size, tag: `${info.size}:${info.mtimeMs}` });
      }
    }
    return refs;
  }

  origin(ref: SegmentRef): string {
    return ref.key;
  }

  async get(ref: SegmentRef): Promise<Uint8Array | undefined> {
    try {
      return await readFile(ref.key);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }
}

/** A replica id for segment names: the host name, pid and 4 random hex digits, in [A-Za-z0-9._-]. */
export function defaultReplicaId(): string {
  const host = os.hostname().replace(/[^A-Za-z0-9.-]/g, '-').slice(0, 40) || 'host';
  return `${host}.${process.pid}.${randomBytes(2).toString('hex')}`;
}

function stampOf(at: Date): string {
  return at.toISOString().slice(11, 23).replace(/[:.]/g, '');
}

/** A shared segment's name: the time span of its records, the replica that wrote it and that replica's sequence number. */
export function sharedSegmentName(firstAt: Date, lastAt: Date, replica: string, seq: number): string {
  if (!/^[A-Za-z0-9._-]+$/.test(replica)) throw new RangeError(`prediction log: replica id ${JSON.stringify(replica)} must be letters, digits, '.', '_' or '-'`);
  return `${stampOf(firstAt)}-${stampOf(lastAt)}-${replica}-${String(seq).padStart(6, '0')}.arrow`;
}

function stampMs(day: string, stamp: string): number {
  return Date.parse(`${day}T${stamp.slice(0, 2)}:${stamp.slice(2, 4)}:${stamp.slice(4, 6)}.${stamp.slice(6, 9)}Z`);
}

/**
 * The shared log: `<prefix>/<model>/<YYYY-MM-DD>/<first>-<last>-<replica>-<seq>.arrow` in an S3 bucket. Each replica
 * writes its own objects with one PUT (never appended, never overwritten: `If-None-Match: *`), so an object is sealed
 * the moment it exists. A range is listed with one paginated ListObjectsV2 that starts after the first day's key.
 */
export class S3SegmentStore implements SegmentStore {
  readonly where: string;
  readonly bucket: string;
  readonly prefix: string;
  readonly client: S3Client;

  constructor(config: SharedLogConfig & { client?: S3Client }) {
    const s3 = parseS3Url(config.url);
    if (s3 === undefined) throw new RangeError(`prediction log: ${JSON.stringify(config.url)} is not s3://<bucket>/<prefix>`);
    this.bucket = s3.bucket;
    this.prefix = s3.prefix;
    this.where = `s3://${s3.bucket}${s3.prefix === '' ? '' : `/${s3.prefix}`}`;
    this.client =
      config.client ??
      createS3Client({
        ...(config.endpoint !== undefined ? { endpoint: config.endpoint } : {}),
        ...(config.region !== undefined ? { region: config.region } : {}),
        ...(config.forcePathStyle !== undefined ? { forcePathStyle: config.forcePathStyle } : {}),
      });
  }

  private modelPrefix(model: string): string {
    return `${this.prefix === '' ? '' : `${this.prefix}/`}${model}/`;
  }

  private fail(what: string, err: unknown): never {
    const name = (err as { name?: string }).name ?? '';
    const message = err instanceof Error ? err.message : String(err);
    const text = `prediction log ${this.where}: ${what} failed: ${name !== '' && name !== 'Error' ? `${name}: ` : ''}${message}`;
    if (['AccessDenied', 'InvalidAccessKeyId', 'SignatureDoesNotMatch', 'NoSuchBucket', 'XAdminUserNotFound'].includes(name)) throw new StoreAccessError(text);
    throw new Error(text, { cause: err });
  }

  async list(model: string, fromDay?: string, toDay?: string): Promise<SegmentRef[]> {
    const base = this.modelPrefix(model);
    const refs: SegmentRef[] = [];
    let token: string | undefined;
    do {
      let page;
      try {
        page = await this.client.send(
          new ListObjectsV2Command({
            Bucket: this.bucket,
            Prefix: base,
            ...(token !== undefined ? { ContinuationToken: token } : fromDay !== undefined ? { StartAfter: `${base}${fromDay}` } : {}),
          }),
        );
      } catch (err) {
        this.fail(`listing ${base}`, err);
      }
      for (const object of page.Contents ?? []) {
        const rest = (object.Key ?? '').slice(base.length);
        const slash = rest.indexOf('/');
        const day = rest.slice(0, slash);
        const m = SHARED_SEGMENT.exec(rest.slice(slash + 1));
        if (slash < 0 || !DAY_FOLDER.test(day) || m === null) continue;
        if (fromDay !== undefined && day < fromDay) continue;
        if (toDay !== undefined && day > toDay) return refs;
        refs.push({
          key: object.Key!,
          day,
          bytes: object.Size ?? 0,
          tag: object.ETag ?? `${object.Size}`,
          firstMs: stampMs(day, m[1]!),
          lastMs: stampMs(day, m[2]!),
        });
      }
      token = page.IsTruncated === true ? page.NextContinuationToken : undefined;
    } while (token !== undefined);
    return refs;
  }

  origin(ref: SegmentRef): string {
    return `s3://${this.bucket}/${ref.key}`;
  }

  async get(ref: SegmentRef): Promise<Uint8Array | undefined> {
    try {
      const out = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: ref.key }));
      return await out.Body!.transformToByteArray();
    } catch (err) {
      if ((err as { name?: string }).name === 'NoSuchKey') return undefined;
      this.fail(`reading ${ref.key}`, err);
    }
  }

  /** Writes one sealed segment, create-once. */
  async put(model: string, day: string, name: string, bytes: Uint8Array): Promise<void> {
    const key = `${this.modelPrefix(model)}${day}/${name}`;
    try {
      await this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: bytes, IfNoneMatch: '*', ContentType: 'application/vnd.apache.arrow.file' }));
    } catch (err) {
      this.fail(`writing ${key}`, err);
    }
  }

  async remove(ref: SegmentRef): Promise<void> {
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: ref.key }));
    } catch (err) {
      if ((err as { name?: string }).name === 'NoSuchKey') return;
      this.fail(`deleting ${ref.key}`, err);
    }
  }
}

// One store per location and process, so the cache below and the S3 client's connections outlive one window look.
const opened = new Map<string, SegmentStore>();

/** The store of a location: a folder, an `s3://` prefix (clients from the AWS chain) or an already opened store. */
export function openSegmentStore(location: PredictionLogLocation): SegmentStore {
  if (isStore(location)) return location;
  const config: SharedLogConfig = typeof location === 'string' ? { url: location } : location;
  const id = JSON.stringify([config.url, config.endpoint, config.region, config.forcePathStyle]);
  let store = opened.get(id);
  if (store === undefined) {
    store = config.url.startsWith('s3://') ? new S3SegmentStore(config) : new LocalSegmentStore(config.url);
    opened.set(id, store);
  }
  return store;
}

/** What the sealed-segment cache did since the process started (tests and metrics). */
export const segmentCacheStats = { hits: 0, reads: 0, evicted: 0 };

/** Bytes of segments (their file size) whose parsed entries are kept in memory, least recently used out first. */
let cacheCapBytes = 256 * 1024 * 1024;
let cachedBytes = 0;
const cache = new Map<string, { entries: PredictionLogEntry[]; bytes: number }>();

/** Sets the sealed-segment cache's cap in segment bytes (0 turns the cache off). */
export function setSegmentCacheBytes(bytes: number): void {
  cacheCapBytes = bytes;
  evict();
}

function evict(): void {
  for (const [key, value] of cache) {
    if (cachedBytes <= cacheCapBytes) break;
    cache.delete(key);
    cachedBytes -= value.bytes;
    segmentCacheStats.evicted += 1;
  }
}

/**
 * A sealed segment's entries: from the cache when this key with this tag was read before, else read, parsed and
 * kept. The entries are shared between callers and must not be changed. Undefined when the segment is gone.
 */
export async function segmentEntries(store: SegmentStore, ref: SegmentRef): Promise<PredictionLogEntry[] | undefined> {
  const id = `${store.where}\n${ref.key}\n${ref.tag}`;
  const hit = cache.get(id);
  if (hit !== undefined) {
    cache.delete(id);
    cache.set(id, hit);
    segmentCacheStats.hits += 1;
    return hit.entries;
  }
  const bytes = await store.get(ref);
  if (bytes === undefined) return undefined;
  segmentCacheStats.reads += 1;
  const entries = entriesFromTable(tableFromIPC(bytes), store.origin(ref));
  if (ref.bytes <= cacheCapBytes) {
    cache.set(id, { entries, bytes: ref.bytes });
    cachedBytes += ref.bytes;
    evict();
  }
  return entries;
}
