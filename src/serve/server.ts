import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import type { Hono } from 'hono';
import { PREDICTION_LOG_DEFAULTS, PredictionLogWriter, type SharedLogConfig, findAnsweredRequests } from '../prediction-log';
import { CHAMPION_ALIAS, type RegistryStore } from '../registry';
import type { ArtifactStore } from '../store';
import { type RequestMirror, type ServeLimits, createServeApp } from './app';
import { type ServeMetrics, createServeMetrics } from './metrics';
import { ScorePool, type ScorePoolOptions } from './score-pool';
import { ServedModels } from './served-models';
import { SHADOW_ALIAS, SHADOW_MIRROR_DEFAULTS, ShadowMirror } from './shadow-mirror';

/** Defaults of `relearn serve`'s flags. */
export const SERVE_DEFAULTS = {
  host: '127.0.0.1',
  port: 8080,
  maxBodyBytes: 1024 * 1024,
  maxRows: 1000,
  requestTimeoutMs: 10_000,
  pollMs: 1000,
  batchWindowMs: 2,
  maxBatchRows: 512,
  logFlushRows: PREDICTION_LOG_DEFAULTS.flushRows,
  logFlushIntervalMs: PREDICTION_LOG_DEFAULTS.flushIntervalMs,
  logBufferBytes: PREDICTION_LOG_DEFAULTS.maxBufferedBytes,
  logRetentionDays: PREDICTION_LOG_DEFAULTS.retentionDays,
  logMaxBytesPerModel: PREDICTION_LOG_DEFAULTS.maxBytesPerModel,
  feedbackMemory: 100_000,
  /** On a shared log: how far back feedback looks for a request another replica answered (2 days). */
  feedbackLookbackMs: 2 * 86_400_000,
  shadowQueue: SHADOW_MIRROR_DEFAULTS.queueSize,
} as const;

/** Everything a serving process is made of; `registry` and `store` are the pipeline's own. */
export interface ServingOptions {
  registry: RegistryStore;
  store: ArtifactStore;
  /**
   * Folder of the prediction log (`<stateDir>/predictions`), or a shared log's S3 prefix that every replica writes its
   * own segments to (temporal.yaml `predictionLog:`); none turns the log off.
   */
  predictionLogDir?: string | SharedLogConfig;
  logInputs?: 'digest' | 'full';
  /** Token of the predict scope (every route but health, feedback and metrics); null turns authentication off. */
  token: string | null;
  /** Token of the feedback scope; see ServeAppDeps.feedbackToken for the default. */
  feedbackToken?: string | null;
  /** Token of the metrics scope; see ServeAppDeps.metricsToken for the default. */
  metricsToken?: string | null;
  /** Answered requests remembered for feedback (most recent first out of memory last); default 100 000. */
  feedbackMemory?: number;
  limits?: Partial<ServeLimits>;
  pool?: ScorePoolOptions;
  pollMs?: number;
  batchWindowMs?: number;
  maxBatchRows?: number;
  logFlushRows?: number;
  logFlushIntervalMs?: number;
  /** Bounds of the prediction log: bytes buffered in memory, days and bytes per model kept on disk. */
  logBufferBytes?: number;
  logRetentionDays?: number;
  logMaxBytesPerModel?: number;
  /** Adds prom-client's process metrics (on by default; tests turn them off). */
  processMetrics?: boolean;
  /** Replaces the shadow mirror (tests); by default a ShadowMirror is made unless `shadow` is false. */
  mirror?: RequestMirror;
  /**
   * Shadow mirroring: on by default when there is a prediction log (the `shadow` alias is loaded and mirrored to
   * where it exists; the log is where its outputs go); false turns it off.
   */
  shadow?: false | { queueSize?: number; concurrency?: number };
  log?: (line: string) => void;
}

/** A serving stack without a port: the app for `app.request(...)` plus what must be closed. */
export interface Serving {
  app: Hono<any>;
  models: ServedModels;
  metrics: ServeMetrics;
  pool: ScorePool;
  predictionLog: PredictionLogWriter | undefined;
  /** The shadow mirror, unless shadow mirroring is off or another mirror was passed. */
  shadowMirror: ShadowMirror | undefined;
  /** Stops following the registry, writes the prediction log out and stops the workers. */
  close(): Promise<void>;
}

/** Builds the serving stack and loads every model's champion before returning. */
export async function createServing(options: ServingOptions): Promise<Serving> {
  const metrics = createServeMetrics({ defaults: options.processMetrics ?? true });
  const shadow = options.shadow === false ? undefined : (options.shadow ?? {});
  const mirroring = shadow !== undefined && options.mirror === undefined && options.predictionLogDir !== undefined;
  const pool = new ScorePool(options.pool);
  const models = new ServedModels({
    registry: options.registry,
    store: options.store,
    pool,
    metrics,
    aliases: mirroring || options.mirror !== undefined ? [CHAMPION_ALIAS, SHADOW_ALIAS] : [CHAMPION_ALIAS],
    pollMs: options.pollMs ?? SERVE_DEFAULTS.pollMs,
    batch: {
      windowMs: options.batchWindowMs ?? SERVE_DEFAULTS.batchWindowMs,
      maxBatchRows: options.maxBatchRows ?? SERVE_DEFAULTS.maxBatchRows,
    },
    log: options.log,
  });
  const predictionLog =
    options.predictionLogDir === undefined
      ? undefined
      : new PredictionLogWriter({
          dir: options.predictionLogDir,
          flushRows: options.logFlushRows ?? SERVE_DEFAULTS.logFlushRows,
          flushIntervalMs: options.logFlushIntervalMs ?? SERVE_DEFAULTS.logFlushIntervalMs,
          maxBufferedBytes: options.logBufferBytes ?? SERVE_DEFAULTS.logBufferBytes,
          retentionDays: options.logRetentionDays ?? SERVE_DEFAULTS.logRetentionDays,
          maxBytesPerModel: options.logMaxBytesPerModel ?? SERVE_DEFAULTS.logMaxBytesPerModel,
          onWritten: (n) => metrics.predictionLogRows.inc(n),
          onDropped: (n, reason) => metrics.predictionLogDropped.inc({ reason }, n),
          onPending: (records, bytes) => {
            metrics.predictionLogPending.set(records);
            metrics.predictionLogPendingBytes.set(bytes);
          },
          // The writer logs one line per burst of drops; a failed write is counted here and dropped there.
          onFlushError: () => metrics.predictionLogFlushErrors.inc(),
          onRetention: (model, files, bytes) => {
            metrics.predictionLogDeletedSegments.inc(files);
            options.log?.(`prediction log: retention deleted ${files} old segment(s) of ${model} (${(bytes / 1024 / 1024).toFixed(1)} MiB)`);
          },
          log: (line) => (options.log ?? ((l: string) => console.warn(l)))(line),
        });
  const shadowMirror = mirroring
    ? new ShadowMirror({
        models,
        metrics,
        predictionLog,
        queueSize: shadow?.queueSize ?? SERVE_DEFAULTS.shadowQueue,
        concurrency: shadow?.concurrency,
        // Mirrored scorings start only when no champion batch waits for a worker.
        idle: () => pool.queueSize === 0,
        log: options.log,
      })
    : undefined;
  try {
    await models.start();
  } catch (err) {
    models.close();
    await predictionLog?.close();
    await pool.close();
    throw err;
  }
  // On a shared log, feedback may name a request another replica answered: it is looked up in every replica's segments.
  const logDir = options.predictionLogDir;
  const sharedLog = logDir === undefined || (typeof logDir === 'string' && !logDir.startsWith('s3://')) ? undefined : logDir;
  const app = createServeApp({
    models,
    metrics,
    token: options.token,
    ...(options.feedbackToken !== undefined ? { feedbackToken: options.feedbackToken } : {}),
    ...(options.metricsToken !== undefined ? { metricsToken: options.metricsToken } : {}),
    feedbackMemory: options.feedbackMemory ?? SERVE_DEFAULTS.feedbackMemory,
    limits: {
      maxBodyBytes: options.limits?.maxBodyBytes ?? SERVE_DEFAULTS.maxBodyBytes,
      maxRows: options.limits?.maxRows ?? SERVE_DEFAULTS.maxRows,
      requestTimeoutMs: options.limits?.requestTimeoutMs ?? SERVE_DEFAULTS.requestTimeoutMs,
    },
    predictionLog,
    ...(sharedLog !== undefined
      ? { lookupAnswered: (model: string, ids: readonly string[]) => findAnsweredRequests(sharedLog, model, ids, { lookbackMs: SERVE_DEFAULTS.feedbackLookbackMs }) }
      : {}),
    logInputs: options.logInputs,
    mirror: options.mirror ?? shadowMirror,
    scoringQueueDepth: () => pool.queueSize,
    log: options.log,
  });
  return {
    app,
    models,
    metrics,
    pool,
    predictionLog,
    shadowMirror,
    async close() {
      models.close();
      // Mirrored requests still queued are scored and logged before the log is written out.
      await shadowMirror?.close();
      await predictionLog?.close();
      await pool.close();
    },
  };
}

/** A serving stack listening on a port. */
export interface RunningServer extends Serving {
  url: string;
  port: number;
  /** Stops accepting connections, lets requests in flight finish, then closes the stack. */
  close(): Promise<void>;
}

/** Builds the serving stack and listens on `host:port` (port 0 picks a free one). */
export async function startServer(options: ServingOptions & { host?: string; port?: number }): Promise<RunningServer> {
  const serving = await createServing(options);
  const host = options.host ?? SERVE_DEFAULTS.host;
  const requestTimeoutMs = options.limits?.requestTimeoutMs ?? SERVE_DEFAULTS.requestTimeoutMs;
  let server: Server | undefined;
  const listening = new Promise<AddressInfo>((resolve, reject) => {
    server = serve(
      {
        fetch: serving.app.fetch,
        hostname: host,
        port: options.port ?? SERVE_DEFAULTS.port,
        // Node's own limits back the app's: a client that trickles headers or a body is cut off.
        serverOptions: { requestTimeout: requestTimeoutMs + 5_000, headersTimeout: 10_000 },
      },
      (address) => resolve(address),
    ) as Server;
    server.once('error', reject);
  });
  let info: AddressInfo;
  try {
    info = await listening;
  } catch (err) {
    await serving.close();
    throw err;
  }
  const listener = server!;
  const shownHost = host.includes(':') ? `[${host}]` : host;
  return {
    ...serving,
    url: `http://${shownHost}:${info.port}`,
    port: info.port,
    async close() {
      await new Promise<void>((resolve) => {
        listener.close(() => resolve());
        listener.closeIdleConnections();
      });
      await serving.close();
    },
  };
}
