import { type PredictionLogWriter, errorLogEntry } from '../prediction-log';
import type { MirroredRequest, RequestMirror } from './app';
import type { FeatureColumns } from './inputs';
import type { ServeMetrics } from './metrics';
import { outputsJson } from './outputs';
import type { ServedModels } from './served-models';
import type { ModelSignature } from './signature';

/** The alias a mirror scores on. */
export const SHADOW_ALIAS = 'shadow';

/** How requests are mirrored to each model's shadow version. */
export interface ShadowMirrorOptions {
  models: ServedModels;
  metrics: ServeMetrics;
  /** Where the shadow's outputs go, as `role: 'shadow'` entries beside the champion's. */
  predictionLog?: PredictionLogWriter;
  /** Requests waiting to be mirrored, over all models; an offer beyond it is dropped and counted. */
  queueSize?: number;
  /**
   * Shadow scorings in flight at most. They go through the model's micro-batcher as the shadow's lane, so the ones in
   * flight together ride in the champion's next batch as one part: this caps the shadow's requests per batch.
   */
  concurrency?: number;
  /**
   * True when the scoring pool has no champion work waiting. Shadow scorings start only then, so the champion
   * never queues behind a mirror; while it is busy the mirror's queue fills and drops.
   */
  idle?: () => boolean;
  /** How long the mirror waits before looking again when the pool was busy. */
  busyRetryMs?: number;
  log?: (line: string) => void;
}

/** Counts since the mirror was made; `offered` counts only offers that found a shadow loaded. */
export interface ShadowMirrorStats {
  offered: number;
  dropped: number;
  scored: number;
  failed: number;
  queued: number;
  inflight: number;
}

// 16 in flight: a champion batch under load carries about as many requests (4 let the mirror fall behind and drop
// a third of the requests at 16 connections once its rows waited for the champion's batch).
export const SHADOW_MIRROR_DEFAULTS = { queueSize: 1000, concurrency: 16, busyRetryMs: 2 } as const;

/**
 * Mirrors answered requests to the model's `shadow` version off the hot path: `offer` only pushes onto a bounded
 * queue (or drops and counts when it is full) and returns; a pump scores queued requests a few at a time when the
 * scoring pool is otherwise idle, and logs the outputs with the champion's request id. A request whose model has
 * no shadow loaded is ignored at once (not a drop). The shadow's logged latency is its own scoring time, without
 * the time it waited in the queue.
 */
export class ShadowMirror implements RequestMirror {
  private readonly queue: MirroredRequest[] = [];
  private readonly depthByModel = new Map<string, number>();
  private readonly queueSize: number;
  private readonly concurrency: number;
  private readonly busyRetryMs: number;
  private inflight = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private closed = false;
  private idleWaiters: Array<() => void> = [];
  private readonly counts = { offered: 0, dropped: 0, scored: 0, failed: 0 };

  constructor(private readonly options: ShadowMirrorOptions) {
    this.queueSize = options.queueSize ?? SHADOW_MIRROR_DEFAULTS.queueSize;
    this.concurrency = options.concurrency ?? SHADOW_MIRROR_DEFAULTS.concurrency;
    this.busyRetryMs = options.busyRetryMs ?? SHADOW_MIRROR_DEFAULTS.busyRetryMs;
    if (!Number.isInteger(this.queueSize) || this.queueSize < 1) throw new RangeError(`shadow queue size must be a positive integer, got ${this.queueSize}`);
    if (!Number.isInteger(this.concurrency) || this.concurrency < 1) throw new RangeError(`shadow concurrency must be a positive integer, got ${this.concurrency}`);
  }

  /** Queues the request for the shadow, drops it when the queue is full; never waits. */
  offer(request: MirroredRequest): void {
    if (this.closed || this.options.models.peek(request.model, SHADOW_ALIAS) === undefined) return;
    this.counts.offered += 1;
    if (this.queue.length >= this.queueSize) {
      this.counts.dropped += 1;
      this.options.metrics.shadowDropped.inc({ model: request.model });
      return;
    }
    this.queue.push(request);
    this.setDepth(request.model, 1);
    this.pump();
  }

  /** Counts so far and the current queue. */
  stats(): ShadowMirrorStats {
    return { ...this.counts, queued: this.queue.length, inflight: this.inflight };
  }

  /** Resolves once the queue is empty and no shadow scoring is in flight. */
  drained(): Promise<void> {
    if (this.queue.length === 0 && this.inflight === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Stops taking offers and waits for what is queued to be scored and logged. */
  async close(): Promise<void> {
    this.closed = true;
    await this.drained();
  }

  private pump(): void {
    while (this.inflight < this.concurrency && this.queue.length > 0) {
      if (this.options.idle !== undefined && !this.options.idle()) {
        this.retryTimer ??= setTimeout(() => {
          this.retryTimer = undefined;
          this.pump();
        }, this.busyRetryMs);
        return;
      }
      const request = this.queue.shift()!;
      this.setDepth(request.model, -1);
      this.inflight += 1;
      void this.mirror(request).finally(() => {
        this.inflight -= 1;
        this.pump();
        if (this.queue.length === 0 && this.inflight === 0) {
          const waiters = this.idleWaiters;
          this.idleWaiters = [];
          for (const resolve of waiters) resolve();
        }
      });
    }
  }

  private async mirror(request: MirroredRequest): Promise<void> {
    const { models, metrics, predictionLog } = this.options;
    // The shadow may have moved or gone since the offer: score on whatever serves the alias now, or skip.
    const loaded = models.acquire(request.model, SHADOW_ALIAS);
    if (loaded === undefined) return;
    const startedAt = performance.now();
    try {
      const out = await loaded.score(columnsFor(loaded.signature, request));
      const latencyMs = performance.now() - startedAt;
      predictionLog?.append({
        kind: 'prediction',
        requestId: request.requestId,
        at: new Date(),
        model: request.model,
        version: loaded.version,
        role: 'shadow',
        rows: request.columns.rows,
        inputsSha256: request.inputsSha256,
        inputs: request.inputs,
        outputs: outputsJson(loaded.signature, out, request.columns.rows),
        labels: null,
        latencyMs,
      });
      this.counts.scored += 1;
      metrics.shadowScored.inc({ model: request.model, version: String(loaded.version) });
    } catch (err) {
      this.counts.failed += 1;
      predictionLog?.append(errorLogEntry(loaded, 'shadow', request.requestId, request.columns.rows, err, performance.now() - startedAt));
      this.options.log?.(`${request.model}: shadow v${loaded.version} failed on request ${request.requestId}: ${err instanceof Error ? err.message : String(err)}`);
    } finally {
      models.release(loaded);
    }
  }

  private setDepth(model: string, delta: number): void {
    const depth = (this.depthByModel.get(model) ?? 0) + delta;
    this.depthByModel.set(model, depth);
    this.options.metrics.shadowQueueDepth.set({ model }, depth);
  }
}

/** The request's columns in the shadow's feature order; throws naming the feature the champion's request lacks. */
function columnsFor(shadow: ModelSignature, request: MirroredRequest): FeatureColumns {
  const { features, columns } = request;
  const same = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((f, i) => f === b[i]);
  if (same(shadow.numeric, features.numeric) && same(shadow.categorical, features.categorical)) return columns;
  const pick = <T>(names: readonly string[], have: readonly string[], values: readonly T[], kind: string): T[] =>
    names.map((f) => {
      const i = have.indexOf(f);
      if (i < 0) throw new Error(`the shadow's ${kind} feature '${f}' is not a ${kind} feature of the champion`);
      return values[i]!;
    });
  return {
    rows: columns.rows,
    numeric: pick(shadow.numeric, features.numeric, columns.numeric, 'numeric'),
    categorical: pick(shadow.categorical, features.categorical, columns.categorical, 'categorical'),
  };
}
