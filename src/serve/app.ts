import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { type Context, Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { HTTPException } from 'hono/http-exception';
import { timeout } from 'hono/timeout';
import { z } from 'zod';
import { type PredictionLogEntry, type PredictionLogWriter, errorLogEntry, newServerRequestId, serializeLabels } from '../prediction-log';
import { CHAMPION_ALIAS } from '../registry';
import { INFERENCE_HEADER, type OutputValues, attachBinaryInputs, binaryResponseBody, encodeBinaryTensor, inferenceHeaderLength, splitInferBody } from './binary-tensors';
import { type FailureReason, HttpError } from './http-error';
import { type FeatureColumns, type OipInput, canonicalInputs, columnsFromOip, columnsFromRows, inputsDigest } from './inputs';
import type { ServeMetrics } from './metrics';
import { outputsJson, rowOutputs } from './outputs';
import type { LoadedVersion, ServedModels } from './served-models';
import type { ClassLabel, ModelSignature } from './signature';

/** Request limits; each has a flag on `relearn serve`. */
export interface ServeLimits {
  /** Largest request body; checked from Content-Length before the body is read, and while a chunked body streams. */
  maxBodyBytes: number;
  /** Most rows (or feedback labels) in one request. */
  maxRows: number;
  /** A request still unanswered after this gets 504. */
  requestTimeoutMs: number;
}

/** A request the champion answered, offered to a shadow mirror after the response is decided. */
export interface MirroredRequest {
  model: string;
  requestId: string;
  /** Columns in the order of `features` (the champion's signature); a shadow with other features is fed by name. */
  columns: FeatureColumns;
  features: Pick<ModelSignature, 'numeric' | 'categorical'>;
  inputsSha256: string;
  inputs: string | null;
}

/** Receives every answered request; it must return at once (queue or drop) and never delay the response. */
export interface RequestMirror {
  offer(request: MirroredRequest): void;
}

/** What the HTTP app needs; tests pass the same objects the server builds. */
export interface ServeAppDeps {
  models: ServedModels;
  metrics: ServeMetrics;
  limits: ServeLimits;
  /**
   * Bearer token of the predict scope: every route but /v2/health/*, feedback and /metrics. null turns
   * authentication off (for every scope not given its own token below).
   */
  token: string | null;
  /**
   * Bearer token of the feedback scope (POST /models/:name/feedback). Default: none, so with authentication on,
   * feedback is refused (403) until the server is given a feedback token; the predict token never posts feedback.
   * null: feedback without authentication.
   */
  feedbackToken?: string | null;
  /** Bearer token of the metrics scope (GET /metrics). Default: the predict token. null: metrics without authentication. */
  metricsToken?: string | null;
  /** Answered requests remembered so feedback can be checked against them (default 100 000). */
  feedbackMemory?: number;
  predictionLog?: PredictionLogWriter;
  /**
   * A shared log's lookup of requests other replicas answered (their rows and whether they have labels), so feedback
   * posted to this replica for a request another one answered is taken. None: only this server's own requests.
   */
  lookupAnswered?: (model: string, ids: readonly string[]) => Promise<Map<string, { version: number; rows: number; labeled: boolean }>>;
  /** `digest`: log the SHA-256 of each request's inputs; `full`: the inputs themselves too. */
  logInputs?: 'digest' | 'full';
  mirror?: RequestMirror;
  /** Reported by GET /v2. */
  serverVersion?: string;
  /** Queue depth of the scoring pool, for the gauge. */
  scoringQueueDepth?: () => number;
  /** Where the detail of a server-side failure goes, under the error id its response carries (default: stderr). */
  log?: (line: string) => void;
}

/** What @hono/node-server passes as the app's env: the Node request (only `incoming` is read here). */
type NodeServerBindings = { incoming?: IncomingMessage };

type Env = {
  Variables: {
    route: string;
    model: string;
    version: string;
    failure: FailureReason;
    startedAt: number;
  };
};

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const RECENT_REQUESTS = 100_000;

/** What a token may call: predictions and metadata, feedback, or the Prometheus metrics. */
type Scope = 'predict' | 'feedback' | 'metrics';
/** A scope's token: its digest, null when the scope needs none, 'closed' when no token was configured for it. */
type ScopeToken = Buffer | null | 'closed';

const PredictBodySchema = z
  .object({
    id: z.string().optional(),
    rows: z.array(z.unknown()),
  })
  .strict();

const OipInferBodySchema = z.object({
  id: z.string().optional(),
  parameters: z.record(z.string(), z.unknown()).optional(),
  inputs: z
    .array(
      z.object({
        name: z.string(),
        shape: z.array(z.number().int().nonnegative()),
        datatype: z.string(),
        // Absent when the tensor comes as binary data after the JSON (binary_data_size).
        data: z.unknown().optional(),
        parameters: z.record(z.string(), z.unknown()).optional(),
      }),
    )
    .min(1),
  outputs: z.array(z.object({ name: z.string(), parameters: z.record(z.string(), z.unknown()).optional() })).optional(),
});

const LabelSchema = z.union([z.string(), z.number(), z.boolean()]);
const FeedbackItemSchema = z
  .object({
    id: z.string().regex(REQUEST_ID, 'expected 1-128 characters from [A-Za-z0-9._:-]'),
    labels: z.array(LabelSchema).min(1).optional(),
    label: LabelSchema.optional(),
  })
  .strict()
  .refine((f) => (f.labels === undefined) !== (f.label === undefined), { message: 'give either `labels` (one per row) or `label`' });
const FeedbackBodySchema = z.union([FeedbackItemSchema, z.array(FeedbackItemSchema).min(1)]);

/** Route label of a path, for metrics; every path maps to a small fixed set. */
function routeOf(path: string): { route: string; model?: string } {
  let m = /^\/v2\/models\/([^/]+)(?:\/versions\/[^/]+)?\/(infer|ready)$/.exec(path);
  if (m) return { route: m[2] === 'infer' ? 'infer' : 'model_ready', model: m[1] };
  m = /^\/v2\/models\/([^/]+)(?:\/versions\/[^/]+)?$/.exec(path);
  if (m) return { route: 'model_metadata', model: m[1] };
  m = /^\/models\/([^/]+)\/(predict|feedback)$/.exec(path);
  if (m) return { route: m[2]!, model: m[1] };
  m = /^\/models\/([^/]+)$/.exec(path);
  if (m) return { route: 'model_info', model: m[1] };
  if (path === '/v2/health/live' || path === '/v2/health/ready') return { route: 'health' };
  if (path === '/metrics') return { route: 'metrics' };
  if (path === '/v2' || path === '/models') return { route: 'server_metadata' };
  return { route: 'other' };
}

function tokenDigest(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}

function zodMessage(error: z.ZodError): string {
  return error.issues
    .map((issue) => `${issue.path.length > 0 ? issue.path.join('.') : 'body'}: ${issue.message}`)
    .join('; ');
}

/** A boolean request parameter (undefined when absent); anything else is a 400 naming it. */
function booleanParameter(value: unknown, what: string): boolean | undefined {
  if (value === undefined || typeof value === 'boolean') return value;
  throw new HttpError('bad_request', `${what} must be true or false, got ${JSON.stringify(value)}`);
}

/** Label datatype for the OIP `label` output: INT64 for integer classes, BOOL for booleans, BYTES otherwise. */
function labelDatatype(classes: readonly ClassLabel[]): 'INT64' | 'BOOL' | 'BYTES' {
  if (classes.every((c) => typeof c === 'number' && Number.isInteger(c))) return 'INT64';
  if (classes.every((c) => typeof c === 'boolean')) return 'BOOL';
  return 'BYTES';
}

/** A request the server answered, as feedback checks it. */
interface AnsweredRequest {
  model: string;
  version: number;
  rows: number;
  /** Whether feedback labeled it already (it is labeled once). */
  labeled: boolean;
}

/**
 * The ids of the last `capacity` requests the server answered (ids are its own, so each is new), with their row
 * counts and whether they were labeled: feedback is taken only for an id found here, and only once. Bounded: the
 * oldest id is forgotten when a new one comes in at capacity, and feedback for it is then refused.
 */
class RecentRequests {
  private readonly entries = new Map<string, AnsweredRequest>();

  constructor(private readonly capacity: number) {}

  remember(id: string, entry: AnsweredRequest): void {
    this.entries.set(id, entry);
    if (this.entries.size > this.capacity) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
  }

  get(id: string): AnsweredRequest | undefined {
    return this.entries.get(id);
  }
}

/** Which token a path needs; null for the health routes, which need none. */
function scopeOf(path: string): Scope | null {
  if (path.startsWith('/v2/health/')) return null;
  if (path === '/metrics') return 'metrics';
  if (/^\/models\/[^/]+\/feedback$/.test(path)) return 'feedback';
  return 'predict';
}

/**
 * The serving HTTP app (Hono): Open Inference Protocol v2 REST routes, a simple JSON predict route, feedback,
 * and Prometheus metrics. Scoring runs on the worker pool behind `models`; the app only validates, batches
 * through the loaded version and answers. Test it with `app.request(...)`; `startServer` puts it on a port.
 */
export function createServeApp(deps: ServeAppDeps): Hono<Env> {
  const { models, metrics, limits } = deps;
  const logInputs = deps.logInputs ?? 'digest';
  const log = deps.log ?? ((line: string) => console.warn(line));
  const capacity = deps.feedbackMemory ?? RECENT_REQUESTS;
  if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`feedback memory must be a positive integer, got ${capacity}`);
  const recent = new RecentRequests(capacity);
  const predictToken: ScopeToken = deps.token === null ? null : tokenDigest(deps.token);
  const scopeTokens: Record<Scope, ScopeToken> = {
    predict: predictToken,
    feedback: deps.feedbackToken === undefined ? (predictToken === null ? null : 'closed') : deps.feedbackToken === null ? null : tokenDigest(deps.feedbackToken),
    metrics: deps.metricsToken === undefined ? predictToken : deps.metricsToken === null ? null : tokenDigest(deps.metricsToken),
  };
  const app = new Hono<Env>();

  // Outermost: metrics for every request, whatever ends it (including auth and size refusals).
  app.use('*', async (c, next) => {
    const { route, model } = routeOf(c.req.path);
    c.set('route', route);
    // Only names of served models become label values: an unknown name must not grow the metric set.
    c.set('model', model !== undefined && models.peek(model) !== undefined ? model : '');
    c.set('version', '');
    c.set('startedAt', performance.now());
    metrics.inflight.inc({ route });
    try {
      await next();
    } finally {
      metrics.inflight.dec({ route });
      const labels = { model: c.get('model'), version: c.get('version'), route };
      metrics.requests.inc({ ...labels, status: String(c.res.status) });
      metrics.requestDuration.observe(labels, (performance.now() - c.get('startedAt')) / 1000);
      const failure = c.get('failure');
      if (failure !== undefined) metrics.errors.inc({ model: labels.model, route, reason: failure });
    }
  });

  // Each scope has its own token: a predict token cannot post feedback (which decides shadow and guard windows).
  app.use('*', async (c, next) => {
    const scope = scopeOf(c.req.path);
    if (scope === null) return next();
    const expected = scopeTokens[scope];
    if (expected === null) return next();
    if (expected === 'closed') {
      throw new HttpError(
        'forbidden',
        `${scope} is closed: this server was started without a ${scope} token (relearn serve --${scope}-token-file, or $RELEARN_${scope.toUpperCase()}_TOKEN)`,
      );
    }
    const header = c.req.header('authorization') ?? '';
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    // Digests of equal length make the comparison constant-time whatever the token's length.
    const given = match === null ? null : tokenDigest(match[1]!);
    if (given !== null && timingSafeEqual(given, expected)) return next();
    const other = given === null ? undefined : (Object.keys(scopeTokens) as Scope[]).find((s) => {
      const t = scopeTokens[s];
      return t instanceof Buffer && timingSafeEqual(given, t);
    });
    if (other !== undefined) throw new HttpError('forbidden', `this is the ${other} token; ${scope} needs the ${scope} token`);
    c.header('WWW-Authenticate', 'Bearer realm="relearn"');
    throw new HttpError('unauthorized', match === null ? 'missing bearer token: send "Authorization: Bearer <token>"' : 'invalid bearer token');
  });

  const tooLarge = () => new HttpError('too_large', `request body is larger than the limit of ${limits.maxBodyBytes} bytes`);
  const limitStreamedBody = bodyLimit({
    maxSize: limits.maxBodyBytes,
    onError: () => {
      throw tooLarge();
    },
  });
  // Hono's bodyLimit looks at `c.req.raw.body`, which makes @hono/node-server build a full web Request for every
  // request (undici's Request, an AbortController and a web stream over the socket: 16-21% of the serving thread
  // under load). Behind Node's server, a body with a Content-Length is checked from that header here, as bodyLimit
  // would, and is later read by the adapter straight from the IncomingMessage (Node's parser never reads past the
  // length); a chunked body, and any request without Node behind it (app.request), still goes through bodyLimit,
  // which counts the bytes as they stream.
  app.use('*', (c, next) => {
    const incoming = (c.env as NodeServerBindings | undefined)?.incoming;
    if (incoming === undefined) return limitStreamedBody(c, next);
    // The adapter gives GET and HEAD requests no body, so bodyLimit would let them through unread.
    if (c.req.method === 'GET' || c.req.method === 'HEAD') return next();
    const length = incoming.headers['content-length'];
    if (length === undefined || incoming.headers['transfer-encoding'] !== undefined) return limitStreamedBody(c, next);
    if (Number.parseInt(length, 10) > limits.maxBodyBytes) throw tooLarge();
    return next();
  });

  const timed = timeout(
    limits.requestTimeoutMs,
    () => new HTTPException(504, { message: `no answer within the request timeout of ${limits.requestTimeoutMs} ms` }),
  );

  app.onError((err, c) => {
    let status: number;
    let reason: FailureReason;
    let message: string;
    if (err instanceof HttpError) {
      ({ status, reason, message } = err);
    } else if (err instanceof HTTPException && err.status === 504) {
      status = 504;
      reason = 'timeout';
      message = err.message;
    } else if (err instanceof HTTPException) {
      status = err.status;
      reason = err.status === 413 ? 'too_large' : err.status === 401 ? 'unauthorized' : err.status === 403 ? 'forbidden' : 'bad_request';
      message = err.message;
    } else {
      status = 500;
      reason = 'internal';
      message = 'internal error';
    }
    c.set('failure', reason);
    // A server-side failure's text names store paths, files and stack frames: it goes to the server's log under an
    // error id, and the client gets the id only.
    const detail = err instanceof HttpError ? err.detail : err instanceof HTTPException ? undefined : err instanceof Error ? (err.stack ?? err.message) : String(err);
    if (status >= 500 && detail !== undefined) {
      const errorId = `err_${randomBytes(8).toString('hex')}`;
      log(`serve: error ${errorId}: ${c.req.method} ${c.req.path} → ${status} ${reason}: ${detail}`);
      return c.json({ error: `${message} (error id ${errorId}; the server's log has the detail)`, code: reason, errorId }, status as 500);
    }
    return c.json({ error: message, code: reason }, status as 400);
  });

  app.notFound((c) => {
    c.set('failure', 'not_found');
    return c.json({ error: `no route ${c.req.method} ${c.req.path}`, code: 'not_found' }, 404);
  });

  /**
   * The body of an OIP inference request: plain JSON, or with `Inference-Header-Content-Length` the JSON part and
   * the binary tensor bytes after it. The header is checked before the body is read; the body limit was enforced
   * before this (from Content-Length, or while a chunked body streamed), so nothing past it is ever buffered.
   */
  async function readInferBody(c: Context<Env>): Promise<{ json: unknown; binary: Uint8Array | undefined }> {
    const headerLength = inferenceHeaderLength(c.req.header(INFERENCE_HEADER), limits.maxBodyBytes);
    if (headerLength === undefined) return { json: await readJson(c), binary: undefined };
    let body: ArrayBuffer;
    try {
      body = await c.req.arrayBuffer();
    } catch (err) {
      if (err instanceof HttpError) throw err;
      throw new HttpError('bad_request', `request body could not be read (${err instanceof Error ? err.message : String(err)})`);
    }
    const { header, binary } = splitInferBody(new Uint8Array(body), headerLength);
    return { json: header, binary };
  }

  async function readJson(c: Context<Env>): Promise<unknown> {
    try {
      return await c.req.json();
    } catch (err) {
      if (err instanceof HttpError) throw err;
      throw new HttpError('bad_request', `request body is not valid JSON (${err instanceof Error ? err.message : String(err)})`);
    }
  }

  /**
   * The request's ids: `id` is always a new server id (what the log, feedback and windows go by); an id the client
   * sent (body `id`, else `x-request-id`) is only checked, logged as `clientId` and echoed back.
   */
  function requestIds(c: Context<Env>, fromBody: string | undefined): { id: string; clientId: string | null } {
    const clientId = fromBody ?? c.req.header('x-request-id') ?? null;
    if (clientId !== null && !REQUEST_ID.test(clientId)) {
      throw new HttpError('bad_request', `request id ${JSON.stringify(clientId.slice(0, 40))} must be 1-128 characters from [A-Za-z0-9._:-]`);
    }
    return { id: newServerRequestId(), clientId };
  }

  function setIdHeaders(c: Context<Env>, ids: { id: string; clientId: string | null }): void {
    c.header('x-request-id', ids.id);
    if (ids.clientId !== null) c.header('x-client-request-id', ids.clientId);
  }

  /** Holds the served version of a model for the duration of `fn`; 404 for unknown models, 503 while not loaded. */
  async function withModel<T>(c: Context<Env>, name: string, fn: (loaded: LoadedVersion) => Promise<T>): Promise<T> {
    const loaded = models.acquire(name);
    if (loaded === undefined) throw notServed(name);
    c.set('model', name);
    c.set('version', String(loaded.version));
    try {
      return await fn(loaded);
    } finally {
      models.release(loaded);
    }
  }

  function notServed(name: string): HttpError {
    if (!models.known(name)) return new HttpError('not_found', `model '${name}' is not in the registry`);
    const failure = models.loadFailure(name);
    return failure !== undefined
      ? new HttpError('not_ready', `model '${name}' has no loadable champion`, { detail: failure })
      : new HttpError('not_ready', `model '${name}' has no champion loaded yet`);
  }

  function checkVersion(loaded: LoadedVersion, requested: string | undefined): void {
    if (requested !== undefined && requested !== String(loaded.version)) {
      throw new HttpError('not_found', `model '${loaded.model}' version ${requested} is not served (the champion is v${loaded.version})`);
    }
  }

  function checkRows(rows: number, what: string): void {
    if (rows === 0) throw new HttpError('bad_request', `${what}: no rows`);
    if (rows > limits.maxRows) throw new HttpError('too_large', `${what}: ${rows} rows, more than the limit of ${limits.maxRows} per request`);
  }

  /** Scores, logs and offers to the mirror; returns the raw outputs and, when the log took them, their JSON text. */
  async function scoreAndLog(c: Context<Env>, loaded: LoadedVersion, ids: { id: string; clientId: string | null }, columns: FeatureColumns) {
    const { id, clientId } = ids;
    let out: { data: Float32Array; width: number };
    try {
      out = await loaded.score(columns);
    } catch (err) {
      // Server-side failures are logged per version so the guard window can compute an error rate; input errors are not.
      if (!(err instanceof HttpError && err.status < 500)) {
        deps.predictionLog?.append({ ...errorLogEntry(loaded, 'champion', id, columns.rows, err, performance.now() - c.get('startedAt')), clientId });
      }
      throw err;
    }
    const latencyMs = performance.now() - c.get('startedAt');
    let outputsText: string | undefined;
    metrics.rowsScored.inc({ model: loaded.model, version: String(loaded.version) }, columns.rows);
    metrics.scoringQueue.set(deps.scoringQueueDepth?.() ?? 0);
    recent.remember(id, { model: loaded.model, version: loaded.version, rows: columns.rows, labeled: false });
    if (deps.predictionLog !== undefined || deps.mirror !== undefined) {
      const canonical = canonicalInputs(loaded.signature, columns);
      const digest = inputsDigest(canonical);
      deps.predictionLog?.append({
        kind: 'prediction',
        requestId: id,
        at: new Date(),
        model: loaded.model,
        version: loaded.version,
        role: 'champion',
        rows: columns.rows,
        inputsSha256: digest,
        inputs: logInputs === 'full' ? canonical : null,
        outputs: (outputsText = outputsJson(loaded.signature, out, columns.rows)),
        labels: null,
        latencyMs,
        clientId,
      });
      deps.mirror?.offer({
        model: loaded.model,
        requestId: id,
        columns,
        features: loaded.signature,
        inputsSha256: digest,
        inputs: logInputs === 'full' ? canonical : null,
      });
    }
    return { out, outputsText };
  }

  app.get('/v2/health/live', (c) => c.json({ live: true }));
  app.get('/v2/health/ready', (c) => {
    const ready = models.ready();
    return c.json({ ready }, ready ? 200 : 503);
  });
  app.get('/v2', (c) => c.json({ name: 'relearn', version: deps.serverVersion ?? '0', extensions: ['binary_tensor_data'] }));

  function oipMetadata(loaded: LoadedVersion) {
    const s = loaded.signature;
    const n = -1;
    return {
      name: loaded.model,
      versions: [String(loaded.version)],
      platform: 'onnxruntime_onnx',
      inputs: [
        ...s.numeric.map((f) => ({ name: f, datatype: 'FP32', shape: [n, 1] })),
        ...s.categorical.map((f) => ({ name: f, datatype: 'BYTES', shape: [n, 1] })),
      ],
      outputs:
        s.kind === 'classifier'
          ? [
              { name: 'probabilities', datatype: 'FP32', shape: [n, s.classes.length] },
              { name: 'label', datatype: labelDatatype(s.classes), shape: [n] },
            ]
          : [{ name: 'variable', datatype: 'FP32', shape: [n, 1] }],
    };
  }

  for (const path of ['/v2/models/:name', '/v2/models/:name/versions/:version']) {
    app.get(path, (c) => {
      const name = c.req.param('name') ?? '';
      const loaded = models.peek(name);
      if (loaded === undefined) throw notServed(name);
      checkVersion(loaded, c.req.param('version'));
      c.set('version', String(loaded.version));
      return c.json(oipMetadata(loaded));
    });
    app.get(`${path}/ready`, (c) => {
      const name = c.req.param('name') ?? '';
      const loaded = models.peek(name);
      if (loaded === undefined && !models.known(name)) throw notServed(name);
      const ready = loaded !== undefined && (c.req.param('version') === undefined || c.req.param('version') === String(loaded.version));
      return c.json({ name, ready }, ready ? 200 : 503);
    });
    app.post(`${path}/infer`, timed, async (c) => {
      const name = c.req.param('name') ?? '';
      const { json, binary } = await readInferBody(c);
      const parsed = OipInferBodySchema.safeParse(json);
      if (!parsed.success) throw new HttpError('bad_request', zodMessage(parsed.error));
      const body = parsed.data;
      const inputs = attachBinaryInputs(body.inputs, binary);
      const binaryByDefault = booleanParameter(body.parameters?.binary_data_output, 'request parameter binary_data_output') ?? false;
      return withModel(c, name, async (loaded) => {
        checkVersion(loaded, c.req.param('version'));
        const ids = requestIds(c, body.id);
        const columns = columnsFromOip(name, loaded.signature, inputs as OipInput[]);
        checkRows(columns.rows, `model '${name}'`);
        const s = loaded.signature;
        const available = s.kind === 'classifier' ? ['probabilities', 'label'] : ['variable'];
        const wanted = (body.outputs ?? available.map((w) => ({ name: w, parameters: undefined }))).map((o) => {
          if (!available.includes(o.name)) {
            throw new HttpError('bad_request', `output '${o.name}' is not an output of model '${name}' (outputs: ${available.join(', ')})`);
          }
          if (o.parameters?.classification !== undefined) {
            throw new HttpError('bad_request', `output '${o.name}': the classification extension (parameter classification) is not supported; ask for 'probabilities' and 'label'`);
          }
          return { name: o.name, binary: booleanParameter(o.parameters?.binary_data, `output '${o.name}': parameter binary_data`) ?? binaryByDefault };
        });
        const { out } = await scoreAndLog(c, loaded, ids, columns);
        const n = columns.rows;
        const outputs = rowOutputs(s, out, n);
        const tensors = wanted.map((w) => {
          const values: OutputValues =
            w.name === 'label'
              ? { datatype: labelDatatype(s.classes), data: outputs.predictions }
              : { datatype: 'FP32', data: out.data.subarray(0, n * out.width) };
          const shape = w.name === 'label' ? [n] : [n, out.width];
          return { name: w.name, datatype: values.datatype, shape, values, binary: w.binary };
        });
        setIdHeaders(c, ids);
        c.header('x-model-version', String(loaded.version));
        // `id` is the server's (send it with feedback); the client's own id comes back as a response parameter.
        const head = {
          model_name: name,
          model_version: String(loaded.version),
          id: ids.id,
          ...(ids.clientId !== null ? { parameters: { client_request_id: ids.clientId } } : {}),
        };
        if (!tensors.some((t) => t.binary)) {
          return c.json({ ...head, outputs: tensors.map((t) => ({ name: t.name, datatype: t.datatype, shape: t.shape, data: Array.from(t.values.data) })) });
        }
        // The binary tensor extension: each output asked for in binary has its bytes after the JSON, in output order.
        const binaries: Uint8Array[] = [];
        const described = tensors.map((t) => {
          if (!t.binary) return { name: t.name, datatype: t.datatype, shape: t.shape, data: Array.from(t.values.data) };
          const bytes = encodeBinaryTensor(t.values);
          binaries.push(bytes);
          return { name: t.name, datatype: t.datatype, shape: t.shape, parameters: { binary_data_size: bytes.byteLength } };
        });
        const response = binaryResponseBody({ ...head, outputs: described }, binaries);
        c.header(INFERENCE_HEADER, String(response.headerLength));
        return c.body(response.body, 200, { 'Content-Type': 'application/octet-stream' });
      });
    });
  }

  app.post('/models/:name/predict', timed, async (c) => {
    const name = c.req.param('name') ?? '';
    const parsed = PredictBodySchema.safeParse(await readJson(c));
    if (!parsed.success) throw new HttpError('bad_request', `${zodMessage(parsed.error)} (expected {"rows": [{feature: value, ...}, ...]})`);
    const body = parsed.data;
    checkRows(body.rows.length, `model '${name}'`);
    return withModel(c, name, async (loaded) => {
      const ids = requestIds(c, body.id);
      const columns = columnsFromRows(name, loaded.signature, body.rows);
      const { out, outputsText } = await scoreAndLog(c, loaded, ids, columns);
      setIdHeaders(c, ids);
      c.header('x-model-version', String(loaded.version));
      const head = {
        id: ids.id,
        ...(ids.clientId !== null ? { clientId: ids.clientId } : {}),
        model: name,
        version: loaded.version,
        ...(loaded.signature.kind === 'classifier' ? { classes: loaded.signature.classes } : {}),
      };
      // The head's fields, then the outputs' ({"predictions": …, "probabilities": …}, the text the log took): byte for
      // byte what c.json({ ...head, ...rowOutputs(…) }) wrote, without building per-row arrays and stringifying them.
      const outputs = outputsText ?? outputsJson(loaded.signature, out, columns.rows);
      return c.body(`${JSON.stringify(head).slice(0, -1)},${outputs.slice(1)}`, 200, { 'Content-Type': 'application/json' });
    });
  });

  /**
   * Feedback: labels for requests this server answered, once each. An id the server did not answer for this model
   * (or no longer remembers: the last `feedbackMemory` requests) is refused with 404; labels for a request that
   * already has them are refused with 409 and logged as a `conflict` entry, so the first labels stand. A batch is
   * all or nothing: nothing in it is accepted when any item is refused.
   */
  app.post('/models/:name/feedback', timed, async (c) => {
    const name = c.req.param('name') ?? '';
    const parsed = FeedbackBodySchema.safeParse(await readJson(c));
    if (!parsed.success) {
      throw new HttpError('bad_request', `${zodMessage(parsed.error)} (expected {"id": "<request id>", "labels": [...]} or a list of them)`);
    }
    const items = Array.isArray(parsed.data) ? parsed.data : [parsed.data];
    const labelCount = items.reduce((sum, f) => sum + (f.labels?.length ?? 1), 0);
    if (labelCount > limits.maxRows) throw new HttpError('too_large', `feedback: ${labelCount} labels, more than the limit of ${limits.maxRows} per request`);
    return withModel(c, name, async (loaded) => {
      const s = loaded.signature;
      const elsewhere = [...new Set(items.filter((item) => recent.get(item.id)?.model !== name).map((item) => item.id))];
      if (elsewhere.length > 0 && deps.lookupAnswered !== undefined) {
        for (const [id, answered] of await deps.lookupAnswered(name, elsewhere)) recent.remember(id, { model: name, ...answered });
      }
      const unknown = items.filter((item) => recent.get(item.id)?.model !== name).map((item) => item.id);
      if (unknown.length > 0) {
        metrics.feedbackRefused.inc({ model: name, reason: 'unknown' }, unknown.length);
        throw new HttpError(
          'not_found',
          `feedback: ${unknown.length === 1 ? 'request' : `${unknown.length} requests, e.g.`} ${JSON.stringify(unknown[0]!.slice(0, 64))} ` +
            `${unknown.length === 1 ? 'was' : 'were'} not answered by this server for model '${name}' (or ${unknown.length === 1 ? 'is' : 'are'} older than the last ${capacity} requests it remembers); ` +
            'labels are taken only for the id of a response (its "id" field or x-request-id header)',
        );
      }
      const entries = items.map((item, i) => {
        const labels = item.labels ?? [item.label!];
        const known = recent.get(item.id)!;
        if (known.rows !== labels.length) {
          throw new HttpError('bad_request', `feedback ${i}: request ${item.id} had ${known.rows} rows, got ${labels.length} labels`);
        }
        const normalized = labels.map((label, j) => {
          if (s.kind === 'regression') {
            if (typeof label !== 'number') throw new HttpError('bad_request', `feedback ${i}, label ${j}: expected a number for a regression model, got ${JSON.stringify(label)}`);
            return label;
          }
          // Labels are matched to the classes by their text, so "1" and 1 both name class 1.
          const cls = s.classes.find((k) => String(k) === String(label));
          if (cls === undefined) {
            throw new HttpError('bad_request', `feedback ${i}, label ${j}: ${JSON.stringify(label)} is not a class of model '${name}' (classes: ${s.classes.map((k) => JSON.stringify(k)).join(', ')})`);
          }
          return cls;
        });
        return { id: item.id, labels: normalized, known };
      });
      const at = new Date();
      const entry = (kind: 'feedback' | 'conflict', id: string, labels: ClassLabel[]): PredictionLogEntry => ({
        kind,
        requestId: id,
        at,
        model: name,
        version: null,
        role: null,
        rows: labels.length,
        inputsSha256: null,
        inputs: null,
        outputs: null,
        labels: serializeLabels(labels),
        latencyMs: null,
      });
      const seen = new Set<string>();
      const conflicts = entries.filter((e) => {
        const again = e.known.labeled || seen.has(e.id);
        seen.add(e.id);
        return again;
      });
      if (conflicts.length > 0) {
        for (const e of conflicts) deps.predictionLog?.append(entry('conflict', e.id, e.labels));
        metrics.feedbackRefused.inc({ model: name, reason: 'conflict' }, conflicts.length);
        throw new HttpError(
          'conflict',
          `feedback: request ${conflicts.map((e) => e.id).slice(0, 3).join(', ')}${conflicts.length > 3 ? ` and ${conflicts.length - 3} more` : ''} ` +
            'already has labels; a request is labeled once and the first labels stand (the refused labels are logged as a conflict); nothing in this request was accepted',
        );
      }
      const unrecorded: string[] = [];
      for (const e of entries) {
        // Marked labeled only once its entry is in the log's buffer: labels the log dropped may be sent again.
        if (deps.predictionLog === undefined || deps.predictionLog.append(entry('feedback', e.id, e.labels))) e.known.labeled = true;
        else unrecorded.push(e.id);
      }
      const recorded = entries.length - unrecorded.length;
      const recordedLabels = entries.filter((e) => e.known.labeled).reduce((sum, e) => sum + e.labels.length, 0);
      metrics.feedback.inc({ model: name }, recordedLabels);
      if (unrecorded.length > 0) {
        throw new HttpError(
          'overloaded',
          `feedback: the prediction log's buffer is full; ${recorded} of ${entries.length} were recorded, send these again later: ${unrecorded.slice(0, 3).join(', ')}${unrecorded.length > 3 ? ` and ${unrecorded.length - 3} more` : ''}`,
        );
      }
      return c.json({ accepted: recorded, labels: recordedLabels, matched: recorded }, 202);
    });
  });

  app.get('/models', (c) =>
    c.json({
      models: models.list().map((v) => ({ model: v.model, alias: v.alias, version: v.version, sha256: v.sha256, loadedAt: v.loadedAt.toISOString() })),
    }),
  );
  app.get('/models/:name', (c) => {
    const name = c.req.param('name') ?? '';
    const loaded = models.peek(name, CHAMPION_ALIAS);
    if (loaded === undefined) throw notServed(name);
    c.set('version', String(loaded.version));
    const s = loaded.signature;
    return c.json({
      model: name,
      version: loaded.version,
      sha256: loaded.sha256,
      loadedAt: loaded.loadedAt.toISOString(),
      kind: s.kind,
      features: { numeric: s.numeric, categorical: s.categorical },
      ...(s.kind === 'classifier' ? { classes: s.classes } : {}),
    });
  });

  app.get('/metrics', async (c) => {
    metrics.scoringQueue.set(deps.scoringQueueDepth?.() ?? 0);
    const text = await metrics.registry.metrics();
    return c.body(text, 200, { 'Content-Type': metrics.registry.contentType });
  });

  return app;
}
