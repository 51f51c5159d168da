import { randomBytes } from 'node:crypto';
import { mkdir, open, rename, unlink } from 'node:fs/promises';
import path from 'node:path';
import { tableToIPC } from 'apache-arrow';
import { entriesToTable } from './arrow-table';
import { dayFolder, segmentFileName, tempSegmentName, utcDay } from './layout';
import type { PredictionLogEntry } from './record';

/** How the log is written. */
export interface PredictionLogOptions {
  /** Folder of the log: files go to `<dir>/<model>/<YYYY-MM-DD>/<time>-<pid>-<seq>.arrow`. */
  dir: string;
  /** A model's buffer is written once it holds this many records. */
  flushRows?: number;
  /** Buffers are written at least this often. */
  flushIntervalMs?: number;
  /** Records held in memory at most; beyond, new records are dropped and counted rather than slow the server. */
  maxPendingRecords?: number;
  /** Counters for written, dropped and pending records and failed flushes. */
  onWritten?: (records: number) => void;
  onDropped?: (records: number) => void;
  onPending?: (records: number) => void;
  onFlushError?: (err: unknown) => void;
}

/**
 * Buffers log entries in memory and writes them as Arrow IPC files off the request path: a request only pushes
 * an entry; a timer (or a full buffer) writes each model's entries, grouped by UTC day, to a new file made
 * atomically (temp file, fsync, rename), so a reader never sees half a file.
 */
export class PredictionLogWriter {
  private buffers = new Map<string, PredictionLogEntry[]>();
  private pending = 0;
  private seq = 0;
  private flushing: Promise<void> = Promise.resolve();
  private scheduled = false;
  private readonly timer: NodeJS.Timeout;
  private readonly flushRows: number;
  private readonly maxPending: number;

  constructor(private readonly options: PredictionLogOptions) {
    this.flushRows = options.flushRows ?? 1000;
    this.maxPending = options.maxPendingRecords ?? 100_000;
    this.timer = setInterval(() => void this.flush(), options.flushIntervalMs ?? 1000);
    this.timer.unref();
  }

  /** Queues one entry; never waits for the disk. Returns false when the buffer was full and the entry dropped. */
  append(entry: PredictionLogEntry): boolean {
    if (this.pending >= this.maxPending) {
      this.options.onDropped?.(1);
      return false;
    }
    let buffer = this.buffers.get(entry.model);
    if (buffer === undefined) {
      buffer = [];
      this.buffers.set(entry.model, buffer);
    }
    buffer.push(entry);
    this.pending += 1;
    this.options.onPending?.(this.pending);
    if (buffer.length >= this.flushRows && !this.scheduled) {
      this.scheduled = true;
      setImmediate(() => {
        this.scheduled = false;
        void this.flush();
      });
    }
    return true;
  }

  /** Writes everything buffered so far; resolves once it is on disk. Flushes run one at a time. */
  flush(): Promise<void> {
    this.flushing = this.flushing.then(() => this.writeBuffers());
    return this.flushing;
  }

  /** Stops the timer and writes what is left. */
  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
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
        try {
          await this.writeFile(model, day, dayEntries);
          this.pending -= dayEntries.length;
          this.options.onWritten?.(dayEntries.length);
        } catch (err) {
          this.options.onFlushError?.(err);
          // Kept for the next flush; the buffer's cap still bounds memory if the disk stays broken.
          const back = this.buffers.get(model) ?? [];
          this.buffers.set(model, [...dayEntries, ...back]);
        }
      }
    }
    this.options.onPending?.(this.pending);
  }

  private async writeFile(model: string, day: string, entries: PredictionLogEntry[]): Promise<void> {
    const dir = dayFolder(this.options.dir, model, day);
    await mkdir(dir, { recursive: true });
    this.seq += 1;
    const name = segmentFileName(entries[0]!.at, process.pid, this.seq);
    const bytes = tableToIPC(entriesToTable(entries), 'file');
    const temp = path.join(dir, tempSegmentName(name, randomBytes(4).toString('hex')));
    const handle = await open(temp, 'wx', 0o644);
    try {
      await handle.writeFile(bytes);
      await handle.sync();
    } finally {
      await handle.close();
    }
    try {
      await rename(temp, path.join(dir, name));
    } catch (err) {
      await unlink(temp).catch(() => undefined);
      throw err;
    }
  }
}
