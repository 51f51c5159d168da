import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, rename, rmdir, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import { tableToIPC } from 'apache-arrow';
import { entriesToTable } from './arrow-table';
import { dayFolder, isSegmentFile, segmentFileName, tempSegmentName, utcDay } from './layout';
import type { PredictionLogEntry } from './record';
import { S3SegmentStore, type SharedLogConfig, defaultReplicaId, sharedSegmentName } from './segment-store';

/** Why entries were dropped: the in-memory buffer was at its byte cap, or writing them to disk failed. */
export type DropReason = 'buffer_full' | 'write_failed';

const DAY_MS = 86_400_000;
const DAY_FOLDER = /^\d{4}-\d{2}-\d{2}$/;

/** Defaults of the log's bounds as `relearn serve` applies them (each is a flag); a bare writer has no retention unless given. */
export const PREDICTION_LOG_DEFAULTS = {
  flushRows: 1000,
  flushIntervalMs: 1000,
  /** What entries waiting to be written may take in memory (an estimate of their size), 64 MiB. */
  maxBufferedBytes: 64 * 1024 * 1024,
  /** Segments of days older than this are deleted. */
  retentionDays: 30,
  /** A model's segments take at most this much disk; the oldest go first, 1 GiB. */
  maxBytesPerModel: 1024 * 1024 * 1024,
  /** How often a model's folder is measured (sooner when what was written since could pass the cap). */
  retentionCheckMs: 60_000,
} as const;

/** How the log is written and bounded. */
export interface PredictionLogOptions {
  /**
   * Folder of the log: files go to `<dir>/<model>/<YYYY-MM-DD>/<time>-<pid>-<seq>.arrow`. Or a shared log (an
   * `s3://` prefix, or an opened S3SegmentStore): objects go to `<prefix>/<model>/<YYYY-MM-DD>/<first>-<last>-<replica>-<seq>.arrow`.
   */
  dir: string | SharedLogConfig | S3SegmentStore;
  /** A shared log's replica id in segment names (default: host name, pid and 4 random hex digits). */
  replica?: string;
  /** A model's buffer is written once it holds this many records. */
  flushRows?: number;
  /** Buffers are written at least this often. */
  flushIntervalMs?: number;
  /**
   * Bytes of entries held in memory at most (waiting or being written; each entry's size is estimated from its
   * fields). Beyond, new entries are dropped and counted rather than slow the server or grow its memory.
   */
  maxBufferedBytes?: number;
  /** Days kept: a day folder older than this (by its UTC date) is deleted by the writer. Default: kept. */
  retentionDays?: number;
  /** Bytes of segment files kept per model: beyond, the oldest segments are deleted. Default: no cap. */
  maxBytesPerModel?: number;
  retentionCheckMs?: number;
  /** The clock retention measures age by (tests). */
  now?: () => Date;
  /** Counters for written, dropped and pending records and failed flushes. */
  onWritten?: (records: number) => void;
  onDropped?: (records: number, reason: DropReason) => void;
  onPending?: (records: number, bytes: number) => void;
  onFlushError?: (err: unknown) => void;
  /** Segments retention deleted (files and their bytes). */
  onRetention?: (model: string, files: number, bytes: number) => void;
  /** One line when a burst of drops starts (a burst ends at the next successful write), and retention failures. */
  log?: (line: string) => void;
}

/** A rough size of an entry in memory: its strings plus a fixed overhead for the object, date and numbers. */
function entryBytes(e: PredictionLogEntry): number {
  let bytes = 200;
  for (const s of [e.kind, e.requestId, e.model, e.role, e.inputsSha256, e.inputs, e.outputs, e.labels, e.clientId]) {
    if (typeof s === 'string') bytes += 16 + s.length;
  }
  return bytes;
}

function mib(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

/**
 * Buffers log entries in memory and writes them as Arrow IPC files off the request path: a request only pushes
 * an entry; a timer (or a full buffer) writes each model's entries, grouped by UTC day, to a new file made
 * atomically (temp file, fsync, rename), so a reader never sees half a file. Bounded three ways: the buffer by
 * bytes (a full buffer drops new entries), a failed write drops its entries instead of keeping them (a full disk
 * never grows memory), and after writing, a model's old segments are deleted by age and by total bytes.
 */
export class PredictionLogWriter {
  private buffers = new Map<string, PredictionLogEntry[]>();
  private pendingRecords = 0;
  private pendingBytes = 0;
  private seq = 0;
  private flushing: Promise<void> = Promise.resolve();
  private scheduled = false;
  private dropping = false;
  private readonly timer: NodeJS.Timeout;
  private readonly flushRows: number;
  private readonly maxBytes: number;
  private readonly retentionDays: number;
  private readonly maxBytesPerModel: number;
  private readonly retentionCheckMs: number;
  /** Per model: its segment bytes at the last measure plus what was written since, and when it was measured. */
  private readonly diskUse = new Map<string, { bytes: number; measuredAt: number }>();
  /** The shared log this writer puts its segments in; undefined for a local folder. */
  private readonly shared: S3SegmentStore | undefined;
  private readonly replica: string;

  constructor(private readonly options: PredictionLogOptions) {
    const dir = options.dir;
    this.shared =
      dir instanceof S3SegmentStore ? dir : typeof dir === 'string' ? (dir.startsWith('s3://') ? new S3SegmentStore({ url: dir }) : undefined) : new S3SegmentStore(dir);
    this.replica = options.replica ?? defaultReplicaId();
    if (this.shared !== undefined) sharedSegmentName(new Date(0), new Date(0), this.replica, 0);
    this.flushRows = options.flushRows ?? PREDICTION_LOG_DEFAULTS.flushRows;
    this.maxBytes = options.maxBufferedBytes ?? PREDICTION_LOG_DEFAULTS.maxBufferedBytes;
    this.retentionDays = options.retentionDays ?? Number.POSITIVE_INFINITY;
    this.maxBytesPerModel = options.maxBytesPerModel ?? Number.POSITIVE_INFINITY;
    this.retentionCheckMs = options.retentionCheckMs ?? PREDICTION_LOG_DEFAULTS.retentionCheckMs;
    for (const [name, value] of [
      ['maxBufferedBytes', this.maxBytes],
      ['retentionDays', this.retentionDays],
      ['maxBytesPerModel', this.maxBytesPerModel],
    ] as const) {
      if (!(value > 0)) throw new RangeError(`prediction log: ${name} must be positive, got ${value}`);
    }
    this.timer = setInterval(() => void this.flush(), options.flushIntervalMs ?? PREDICTION_LOG_DEFAULTS.flushIntervalMs);
    this.timer.unref();
  }

  /** Entries and their estimated bytes held in memory now. */
  get pending(): { records: number; bytes: number } {
    return { records: this.pendingRecords, bytes: this.pendingBytes };
  }

  /** Queues one entry; never waits for the disk. Returns false when the buffer was full and the entry dropped. */
  append(entry: PredictionLogEntry): boolean {
    const bytes = entryBytes(entry);
    if (this.pendingBytes + bytes > this.maxBytes) {
      this.drop(1, 'buffer_full', `the buffer holds ${mib(this.pendingBytes)}, its cap is ${mib(this.maxBytes)}`);
      return false;
    }
    let buffer = this.buffers.get(entry.model);
    if (buffer === undefined) {
      buffer = [];
      this.buffers.set(entry.model, buffer);
    }
    buffer.push(entry);
    this.pendingRecords += 1;
    this.pendingBytes += bytes;
    this.options.onPending?.(this.pendingRecords, this.pendingBytes);
    if (buffer.length >= this.flushRows && !this.scheduled) {
      this.scheduled = true;
      setImmediate(() => {
        this.scheduled = false;
        void this.flush();
      });
    }
    return true;
  }

  /** Writes everything buffered so far (then applies retention); resolves once it is on disk. Flushes run one at a time. */
  flush(): Promise<void> {
    this.flushing = this.flushing.then(() => this.writeBuffers());
    return this.flushing;
  }

  /** Stops the timer and writes what is left. */
  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }

  private drop(records: number, reason: DropReason, detail: string): void {
    this.options.onDropped?.(records, reason);
    if (!this.dropping) {
      this.dropping = true;
      this.options.log?.(`prediction log: dropping entries (${reason === 'buffer_full' ? 'buffer full' : 'write failed'}: ${detail}) until a write succeeds; the drops are counted, not logged one by one`);
    }
  }

  private async writeBuffers(): Promise<void> {
    const buffers = this.buffers;
    this.buffers = new Map();
    for (const [model, entries] of buffers) {
      const byDay = new Map<string, PredictionLogEntry[]>();
      for (const e of entries) {
        const day = utcDay(e.at);
        const list = byDay.get(day) ?? [];
        list.push(e);
        byDay.set(day, list);
      }
      for (const [day, dayEntries] of byDay) {
        const bytes = dayEntries.reduce((sum, e) => sum + entryBytes(e), 0);
        try {
          const written = await this.writeFile(model, day, dayEntries);
          this.options.onWritten?.(dayEntries.length);
          this.dropping = false;
          const use = this.diskUse.get(model);
          if (use !== undefined) use.bytes += written;
        } catch (err) {
          // Dropped, never kept: with the disk full or broken, keeping them would grow memory without end.
          this.options.onFlushError?.(err);
          this.drop(dayEntries.length, 'write_failed', err instanceof Error ? err.message : String(err));
        } finally {
          this.pendingRecords -= dayEntries.length;
          this.pendingBytes -= bytes;
        }
      }
      await this.applyRetention(model);
    }
    this.options.onPending?.(this.pendingRecords, this.pendingBytes);
  }

  private async writeFile(model: string, day: string, entries: PredictionLogEntry[]): Promise<number> {
    if (this.shared !== undefined) {
      // One PUT of a whole sealed segment: a replica that dies mid-segment leaves no object, only its lost buffer.
      this.seq += 1;
      let first = entries[0]!.at;
      let last = first;
      for (const e of entries) {
        if (e.at < first) first = e.at;
        if (e.at > last) last = e.at;
      }
      const bytes = tableToIPC(entriesToTable(entries), 'file');
      await this.shared.put(model, day, sharedSegmentName(first, last, this.replica, this.seq), bytes);
      return bytes.byteLength;
    }
    const dir = dayFolder(this.localDir(), model, day);
    // Inputs and labels are the clients' data: folders 0750 and segments 0640, nothing world-readable.
    await mkdir(dir, { recursive: true, mode: 0o750 });
    this.seq += 1;
    const name = segmentFileName(entries[0]!.at, process.pid, this.seq);
    const bytes = tableToIPC(entriesToTable(entries), 'file');
    const temp = path.join(dir, tempSegmentName(name, randomBytes(4).toString('hex')));
    let handle;
    try {
      handle = await open(temp, 'wx', 0o640);
      await handle.writeFile(bytes);
      await handle.sync();
    } catch (err) {
      await handle?.close().catch(() => undefined);
      await unlink(temp).catch(() => undefined);
      throw err;
    }
    await handle.close();
    try {
      await rename(temp, path.join(dir, name));
    } catch (err) {
      await unlink(temp).catch(() => undefined);
      throw err;
    }
    return bytes.byteLength;
  }

  /**
   * Deletes a model's day folders older than the retention and then its oldest segments while the rest are over
   * the byte cap. Measures the folder at most every retentionCheckMs, or sooner when what was written since the
   * last measure could have passed the cap.
   */
  private async applyRetention(model: string): Promise<void> {
    if (this.retentionDays === Number.POSITIVE_INFINITY && this.maxBytesPerModel === Number.POSITIVE_INFINITY) return;
    const now = (this.options.now?.() ?? new Date()).getTime();
    const use = this.diskUse.get(model);
    if (use !== undefined && now - use.measuredAt < this.retentionCheckMs && use.bytes <= this.maxBytesPerModel) return;
    try {
      const { bytes, deletedFiles, deletedBytes } = await this.enforce(model, now);
      this.diskUse.set(model, { bytes, measuredAt: now });
      if (deletedFiles > 0) this.options.onRetention?.(model, deletedFiles, deletedBytes);
    } catch (err) {
      this.diskUse.set(model, { bytes: 0, measuredAt: now });
      this.options.log?.(`prediction log: retention of ${model} failed: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  private localDir(): string {
    return this.options.dir as string;
  }

  /** Shared log: the same rules over every replica's objects (deleting one twice is harmless). */
  private async enforceShared(shared: S3SegmentStore, model: string, now: number): Promise<{ bytes: number; deletedFiles: number; deletedBytes: number }> {
    const oldestKept = Number.isFinite(this.retentionDays) ? utcDay(new Date(now - this.retentionDays * DAY_MS)) : '';
    const segments = await shared.list(model);
    let total = segments.reduce((sum, s) => sum + s.bytes, 0);
    let deletedFiles = 0;
    let deletedBytes = 0;
    for (const s of segments) {
      if (s.day >= oldestKept && total <= this.maxBytesPerModel) break;
      await shared.remove(s);
      total -= s.bytes;
      deletedFiles += 1;
      deletedBytes += s.bytes;
    }
    return { bytes: total, deletedFiles, deletedBytes };
  }

  private async enforce(model: string, now: number): Promise<{ bytes: number; deletedFiles: number; deletedBytes: number }> {
    if (this.shared !== undefined) return this.enforceShared(this.shared, model, now);
    const modelDir = path.join(this.localDir(), model);
    const days = (await readdir(modelDir).catch(() => [] as string[])).filter((d) => DAY_FOLDER.test(d)).sort();
    const oldestKept = Number.isFinite(this.retentionDays) ? utcDay(new Date(now - this.retentionDays * DAY_MS)) : '';
    const today = utcDay(new Date(now));
    const segments: Array<{ file: string; bytes: number; day: string }> = [];
    for (const day of days) {
      const folder = dayFolder(this.localDir(), model, day);
      for (const name of (await readdir(folder).catch(() => [] as string[])).filter(isSegmentFile).sort()) {
        const file = path.join(folder, name);
        const info = await stat(file).catch(() => undefined);
        if (info !== undefined) segments.push({ file, bytes: info.size, day });
      }
    }
    let total = segments.reduce((sum, s) => sum + s.bytes, 0);
    let deletedFiles = 0;
    let deletedBytes = 0;
    for (const s of segments) {
      if (s.day >= oldestKept && total <= this.maxBytesPerModel) break;
      await unlink(s.file).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'ENOENT') throw err;
      });
      total -= s.bytes;
      deletedFiles += 1;
      deletedBytes += s.bytes;
    }
    // Empty day folders go too (not today's: a writer may be about to write there).
    for (const day of days) {
      if (day >= today) continue;
      await rmdir(dayFolder(this.localDir(), model, day)).catch(() => undefined);
    }
    return { bytes: total, deletedFiles, deletedBytes };
  }
}
