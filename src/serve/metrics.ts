import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** The server's Prometheus metrics, on their own registry (one per server, so tests can run several). */
export interface ServeMetrics {
  registry: Registry;
  requests: Counter<'model' | 'version' | 'route' | 'status'>;
  requestDuration: Histogram<'model' | 'version' | 'route'>;
  errors: Counter<'model' | 'route' | 'reason'>;
  inflight: Gauge<'route'>;
  rowsScored: Counter<'model' | 'version'>;
  batchRows: Histogram<'model'>;
  scoringQueue: Gauge;
  modelVersion: Gauge<'model' | 'alias'>;
  modelLoads: Counter<'model' | 'outcome'>;
  feedback: Counter<'model'>;
  predictionLogPending: Gauge;
  predictionLogPendingBytes: Gauge;
  predictionLogRows: Counter;
  predictionLogDropped: Counter<'reason'>;
  predictionLogDeletedSegments: Counter;
  feedbackRefused: Counter<'model' | 'reason'>;
  predictionLogFlushErrors: Counter;
  shadowQueueDepth: Gauge<'model'>;
  shadowDropped: Counter<'model'>;
  shadowScored: Counter<'model' | 'version'>;
}

// Inference on small tabular models takes from a fraction of a millisecond to a few hundred.
const LATENCY_BUCKETS_SECONDS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const BATCH_ROW_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096];

/** Creates the metrics; `defaults` adds the process metrics (CPU, memory, event-loop lag) of prom-client. */
export function createServeMetrics(options: { defaults?: boolean } = {}): ServeMetrics {
  const registry = new Registry();
  if (options.defaults ?? true) collectDefaultMetrics({ register: registry, prefix: 'relearn_serve_' });
  const registers = [registry];
  return {
    registry,
    requests: new Counter({
      name: 'relearn_serve_requests_total',
      help: 'HTTP requests by model, model version, route and status code',
      labelNames: ['model', 'version', 'route', 'status'],
      registers,
    }),
    requestDuration: new Histogram({
      name: 'relearn_serve_request_duration_seconds',
      help: 'Time from request to response, by model, model version and route',
      labelNames: ['model', 'version', 'route'],
      buckets: LATENCY_BUCKETS_SECONDS,
      registers,
    }),
    errors: new Counter({
      name: 'relearn_serve_request_errors_total',
      help: 'Failed requests by model, route and reason (bad_request, unauthorized, not_found, too_large, not_ready, overloaded, timeout, internal)',
      labelNames: ['model', 'route', 'reason'],
      registers,
    }),
    inflight: new Gauge({
      name: 'relearn_serve_inflight_requests',
      help: 'Requests being handled now, by route',
      labelNames: ['route'],
      registers,
    }),
    rowsScored: new Counter({
      name: 'relearn_serve_rows_scored_total',
      help: 'Rows scored by the champion, by model and version',
      labelNames: ['model', 'version'],
      registers,
    }),
    batchRows: new Histogram({
      name: 'relearn_serve_batch_rows',
      help: 'Rows per onnxruntime run after micro-batching',
      labelNames: ['model'],
      buckets: BATCH_ROW_BUCKETS,
      registers,
    }),
    scoringQueue: new Gauge({
      name: 'relearn_serve_scoring_queue_depth',
      help: 'Batches waiting for a free scoring worker',
      registers,
    }),
    modelVersion: new Gauge({
      name: 'relearn_serve_model_version',
      help: 'Version being served, by model and alias',
      labelNames: ['model', 'alias'],
      registers,
    }),
    modelLoads: new Counter({
      name: 'relearn_serve_model_loads_total',
      help: 'Model version loads (digest check, session, one-row run) by model and outcome (ok, failed)',
      labelNames: ['model', 'outcome'],
      registers,
    }),
    feedback: new Counter({
      name: 'relearn_serve_feedback_labels_total',
      help: 'Ground-truth labels received as feedback, by model',
      labelNames: ['model'],
      registers,
    }),
    predictionLogPending: new Gauge({
      name: 'relearn_serve_prediction_log_pending_records',
      help: 'Prediction-log records waiting to be written',
      registers,
    }),
    predictionLogPendingBytes: new Gauge({
      name: 'relearn_serve_prediction_log_pending_bytes',
      help: 'Estimated bytes of prediction-log records held in memory (capped by --log-buffer-bytes)',
      registers,
    }),
    predictionLogRows: new Counter({
      name: 'relearn_serve_prediction_log_records_total',
      help: 'Prediction-log records written to Arrow IPC files',
      registers,
    }),
    predictionLogDropped: new Counter({
      name: 'relearn_serve_prediction_log_dropped_total',
      help: 'Prediction-log records dropped, by reason: buffer_full (the in-memory buffer was at its byte cap) or write_failed (writing them failed, e.g. disk full)',
      labelNames: ['reason'],
      registers,
    }),
    predictionLogDeletedSegments: new Counter({
      name: 'relearn_serve_prediction_log_deleted_segments_total',
      help: 'Prediction-log segment files deleted by retention (older than --log-retention-days, or over --log-max-bytes-per-model)',
      registers,
    }),
    feedbackRefused: new Counter({
      name: 'relearn_serve_feedback_refused_total',
      help: 'Feedback items refused, by model and reason: unknown (an id the server did not answer, or no longer remembers) or conflict (the request already had labels)',
      labelNames: ['model', 'reason'],
      registers,
    }),
    predictionLogFlushErrors: new Counter({
      name: 'relearn_serve_prediction_log_flush_errors_total',
      help: 'Prediction-log writes that failed (their records are dropped and counted in relearn_serve_prediction_log_dropped_total)',
      registers,
    }),
    shadowQueueDepth: new Gauge({
      name: 'relearn_serve_shadow_queue_depth',
      help: 'Requests waiting to be mirrored to the shadow model, by model',
      labelNames: ['model'],
      registers,
    }),
    shadowDropped: new Counter({
      name: 'relearn_serve_shadow_dropped_total',
      help: 'Requests not mirrored to the shadow model because its queue was full, by model',
      labelNames: ['model'],
      registers,
    }),
    shadowScored: new Counter({
      name: 'relearn_serve_shadow_requests_total',
      help: 'Requests mirrored to and scored by the shadow model, by model and shadow version',
      labelNames: ['model', 'version'],
      registers,
    }),
  };
}
