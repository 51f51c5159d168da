import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, readdir, rename, unlink } from 'node:fs/promises';
import path from 'node:path';
import {
  Float64,
  Int32,
  Table,
  TimestampMillisecond,
  Utf8,
  tableFromIPC,
  tableToIPC,
  vectorFromArray,
} from 'apache-arrow';
import type { ClassLabel } from './signature';

/**
 * What the server logs about one scored request (`prediction`), one set of ground-truth labels (`feedback`), or a
 * request a version failed to score with a server-side error (`error`: outputs hold `{"error", "code"}`). Readers
 * skip kinds they do not use, so new kinds can be added.
 */
export interface PredictionLogEntry {
  kind: 'prediction' | 'feedback' | 'error';
  requestId: string;
  at: Date;
  model: string;
  /** Version that produced the outputs; null for feedback. */
  version: number | null;
  /** `champion` for the served response, `shadow` for a mirrored one (for errors: the role that failed); null for feedback. */
  role: 'champion' | 'shadow' | null;
  rows: number;
  /** SHA-256 of the canonical inputs (src/serve/inputs.ts canonicalInputs). */
  inputsSha256: string | null;
  /** The canonical inputs as JSON `{features, rows}`, when the server logs inputs in full. */
  inputs: string | null;
  /** JSON `{predictions, probabilities?}`; null for feedback. */
  outputs: string | null;
  /** JSON array of labels, one per row; null for predictions. */
  labels: string | null;
  /** Time from request to scored output, milliseconds; null for feedback. */
  latencyMs: number | null;
}

/** The log entry of a request that `version` failed to score (5xx: worker crash, overload, onnxruntime error). */
export function errorLogEntry(
  version: { model: string; version: number },
  role: 'champion' | 'shadow',
  requestId: string,
  rows: number,
  error: unknown,
  latencyMs: number,
): PredictionLogEntry {
  const code = error instanceof Error && 'reason' in error ? String(error.reason) : 'internal';
  return {
    kind: 'error',
    requestId,
    at: new Date(),
    model: version.model,
    version: version.version,
    role,
    rows,
    inputsSha256: null,
    inputs: null,
    outputs: JSON.stringify({ error: error instanceof Error ? error.message : String(error), code }),
    labels: null,
    latencyMs,
  };
}

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
        const day = e.at.toISOString().slice(0, 10);
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
    const dir = path.join(this.options.dir, model, day);
    await mkdir(dir, { recursive: true });
    this.seq += 1;
    const stamp = entries[0]!.at.toISOString().slice(11, 23).replace(/[:.]/g, '');
    const name = `${stamp}-${process.pid}-${String(this.seq).padStart(6, '0')}.arrow`;
    const bytes = tableToIPC(entriesToTable(entries), 'file');
    const temp = path.join(dir, `.${name}.${randomBytes(4).toString('hex')}.tmp`);
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

/** The log's Arrow schema, column by column. */
export function entriesToTable(entries: readonly PredictionLogEntry[]): Table {
  return new Table({
    kind: vectorFromArray(entries.map((e) => e.kind), new Utf8()),
    requestId: vectorFromArray(entries.map((e) => e.requestId), new Utf8()),
    at: vectorFromArray(entries.map((e) => e.at), new TimestampMillisecond()),
    model: vectorFromArray(entries.map((e) => e.model), new Utf8()),
    version: vectorFromArray(entries.map((e) => e.version), new Int32()),
    role: vectorFromArray(entries.map((e) => e.role), new Utf8()),
    rows: vectorFromArray(entries.map((e) => e.rows), new Int32()),
    inputsSha256: vectorFromArray(entries.map((e) => e.inputsSha256), new Utf8()),
    inputs: vectorFromArray(entries.map((e) => e.inputs), new Utf8()),
    outputs: vectorFromArray(entries.map((e) => e.outputs), new Utf8()),
    labels: vectorFromArray(entries.map((e) => e.labels), new Utf8()),
    latencyMs: vectorFromArray(entries.map((e) => e.latencyMs), new Float64()),
  });
}

/** Which part of the log to read; days are UTC `YYYY-MM-DD`, both ends inclusive. */
export interface ReadPredictionLogOptions {
  dir: string;
  model: string;
  fromDay?: string;
  toDay?: string;
}

/** Reads a model's log back, oldest file first (file names start with the time of their first entry). */
export async function readPredictionLog(options: ReadPredictionLogOptions): Promise<PredictionLogEntry[]> {
  const modelDir = path.join(options.dir, options.model);
  let days: string[];
  try {
    days = (await readdir(modelDir)).filter((d) => /^\d{4}-\d{2}-\d{2}$/.test(d)).sort();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const entries: PredictionLogEntry[] = [];
  for (const day of days) {
    if (options.fromDay !== undefined && day < options.fromDay) continue;
    if (options.toDay !== undefined && day > options.toDay) continue;
    const files = (await readdir(path.join(modelDir, day))).filter((f) => f.endsWith('.arrow') && !f.startsWith('.')).sort();
    for (const file of files) {
      const table = tableFromIPC(await readFile(path.join(modelDir, day, file)));
      for (const row of table) {
        const r = row.toJSON() as Record<string, unknown>;
        entries.push({
          kind: r.kind as PredictionLogEntry['kind'],
          requestId: String(r.requestId),
          at: new Date(Number(r.at)),
          model: String(r.model),
          version: (r.version as number | null) ?? null,
          role: (r.role as PredictionLogEntry['role']) ?? null,
          rows: Number(r.rows),
          inputsSha256: (r.inputsSha256 as string | null) ?? null,
          inputs: (r.inputs as string | null) ?? null,
          outputs: (r.outputs as string | null) ?? null,
          labels: (r.labels as string | null) ?? null,
          latencyMs: (r.latencyMs as number | null) ?? null,
        });
      }
    }
  }
  return entries;
}

/** A logged prediction with its parsed outputs and the labels that feedback attached to it (null when none came). */
export interface LabeledPrediction {
  requestId: string;
  at: Date;
  version: number;
  role: 'champion' | 'shadow';
  predictions: Array<ClassLabel | number>;
  probabilities?: number[][];
  labels: ClassLabel[] | null;
}

/**
 * Joins predictions with feedback by request id (the latest feedback for an id wins), one result per prediction
 * entry, so a champion and a shadow entry of the same request both get the labels.
 */
export function joinFeedback(entries: readonly PredictionLogEntry[]): LabeledPrediction[] {
  const labels = new Map<string, ClassLabel[]>();
  for (const e of entries) {
    if (e.kind === 'feedback' && e.labels !== null) labels.set(e.requestId, JSON.parse(e.labels) as ClassLabel[]);
  }
  const out: LabeledPrediction[] = [];
  for (const e of entries) {
    if (e.kind !== 'prediction' || e.outputs === null || e.version === null || e.role === null) continue;
    const outputs = JSON.parse(e.outputs) as { predictions: Array<ClassLabel | number>; probabilities?: number[][] };
    out.push({
      requestId: e.requestId,
      at: e.at,
      version: e.version,
      role: e.role,
      predictions: outputs.predictions,
      ...(outputs.probabilities !== undefined ? { probabilities: outputs.probabilities } : {}),
      labels: labels.get(e.requestId) ?? null,
    });
  }
  return out;
}
