import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Piscina } from 'piscina';
import type { PartOutcome } from './batcher';
import { HttpError } from './http-error';
import type { FeatureColumns } from './inputs';
import type { LoadReport, ModelSignature } from './signature';

const WORKER_FILE = pathToFileURL(path.join(import.meta.dirname, 'score-worker.mjs')).href;
// Keys of retired versions are announced in the next tasks; a short list, since the workers' LRU is the backstop.
const MAX_RELEASE_NOTICES = 32;

/** How the scoring pool is sized. */
export interface ScorePoolOptions {
  /** Worker threads; each runs one onnxruntime call at a time. Default: the core count, at most 4. */
  threads?: number;
  /** onnxruntime threads inside one call (1 keeps workers from competing for the same cores). */
  intraOpNumThreads?: number;
  /** Batches waiting for a free worker beyond which scoring is refused with 503. */
  maxQueue?: number;
  /** Sessions a worker keeps open at most (least recently used are closed first). */
  maxSessionsPerWorker?: number;
}

/** A model version the pool can score: a unique key and its verified bytes in shared memory. */
export interface PoolModel {
  key: string;
  bytes: SharedArrayBuffer;
}

/** Scores on worker threads (piscina), so onnxruntime's blocking run() never holds up the HTTP event loop. */
export class ScorePool {
  private readonly pool: Piscina;
  private readonly released: string[] = [];

  constructor(options: ScorePoolOptions = {}) {
    const threads = options.threads ?? Math.max(1, Math.min(4, os.availableParallelism()));
    this.pool = new Piscina({
      filename: WORKER_FILE,
      minThreads: threads,
      maxThreads: threads,
      maxQueue: options.maxQueue ?? 256,
      // Workers hold open sessions: they must not be shut down for being idle.
      idleTimeout: Number.POSITIVE_INFINITY,
      workerData: { intraOpNumThreads: options.intraOpNumThreads ?? 1, maxSessions: options.maxSessionsPerWorker ?? 16 },
    });
  }

  /** Worker threads in the pool. */
  get threads(): number {
    return this.pool.maxThreads;
  }

  /** Batches waiting for a free worker. */
  get queueSize(): number {
    return this.pool.queueSize;
  }

  /** Opens the model on a worker and runs it on one row: the check a version passes before it is served. */
  async load(model: PoolModel): Promise<LoadReport> {
    this.released.splice(0, this.released.length, ...this.released.filter((k) => k !== model.key));
    return (await this.pool.run({ type: 'load', key: model.key, bytes: model.bytes, release: [...this.released] })) as LoadReport;
  }

  /**
   * Scores several loaded models' columns in one task (one message to one worker, run in the given order), e.g. a
   * champion's batch and the shadow's mirrored rows; one outcome per part, a part's failure leaving the others'.
   */
  async scoreParts(parts: ReadonlyArray<{ model: PoolModel; signature: ModelSignature; columns: FeatureColumns }>): Promise<PartOutcome[]> {
    try {
      return (await this.pool.run({
        type: 'score',
        release: [...this.released],
        parts: parts.map(({ model, signature, columns }) => ({
          key: model.key,
          bytes: model.bytes,
          output: signature.output,
          n: columns.rows,
          // The worker feeds tensors by ONNX input name; requests and columns use the feature names.
          numericNames: signature.inputNames?.numeric ?? signature.numeric,
          numeric: columns.numeric,
          categoricalNames: signature.inputNames?.categorical ?? signature.categorical,
          categorical: columns.categorical,
        })),
      })) as PartOutcome[];
    } catch (err) {
      if (err instanceof Error && /queue is at limit/i.test(err.message)) {
        throw new HttpError('overloaded', 'the server is overloaded (scoring queue full); retry later');
      }
      throw err;
    }
  }

  /** Tells the workers (with their next tasks) that a retired version's sessions can be closed. */
  release(key: string): void {
    if (this.released.includes(key)) return;
    this.released.push(key);
    if (this.released.length > MAX_RELEASE_NOTICES) this.released.shift();
  }

  /** Stops the workers (after the queued tasks when not forced). */
  async close(): Promise<void> {
    await this.pool.close();
  }
}
