import { readFileSync } from 'node:fs';
import path from 'node:path';
import { type Command, InvalidArgumentError, Option } from 'commander';
import pc from 'picocolors';
import { loadConfig, resolvePredictionLog } from '../config';
import { ConfigError } from '../errors';
import { openRegistry } from '../registry';
import { SERVE_DEFAULTS, startServer } from '../serve';
import { openArtifactStore } from '../store';

/** Env var holding the bearer token clients must send (the predict scope). */
export const SERVE_TOKEN_ENV = 'RELEARN_SERVE_TOKEN';
/** Env vars of the feedback and metrics scopes' tokens. */
export const FEEDBACK_TOKEN_ENV = 'RELEARN_FEEDBACK_TOKEN';
export const METRICS_TOKEN_ENV = 'RELEARN_METRICS_TOKEN';
const MIN_TOKEN_LENGTH = 16;

function positiveInt(flag: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`${flag} must be a positive integer, got '${value}'`);
    return n;
  };
}

function nonNegativeInt(flag: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`${flag} must be a non-negative integer, got '${value}'`);
    return n;
  };
}

interface ServeFlags {
  host: string;
  port: number;
  auth: boolean;
  tokenFile?: string;
  feedbackTokenFile?: string;
  metricsTokenFile?: string;
  feedbackMemory: number;
  logBufferBytes: number;
  logRetentionDays: number;
  logMaxBytesPerModel: number;
  maxBodyBytes: number;
  maxRows: number;
  timeoutMs: number;
  pollMs: number;
  batchWindowMs: number;
  maxBatchRows: number;
  threads?: number;
  logInputs: 'digest' | 'full';
  predictionLog: boolean;
  shadow: boolean;
  shadowQueue: number;
}

/** A token from `file`, else the env var; undefined when neither gives one. A ConfigError for a short or unreadable one. */
function readToken(flag: string, file: string | undefined, envName: string, env: NodeJS.ProcessEnv): string | undefined {
  const source = file !== undefined ? `${flag} ${file}` : `$${envName}`;
  let token: string | undefined;
  if (file !== undefined) {
    try {
      token = readFileSync(file, 'utf8').trim();
    } catch (err) {
      throw new ConfigError(`${source}: cannot be read (${err instanceof Error ? err.message : String(err)})`);
    }
  } else {
    token = env[envName]?.trim();
  }
  if (token === undefined || token === '') return undefined;
  if (token.length < MIN_TOKEN_LENGTH || /\s/.test(token)) {
    throw new ConfigError(`${source}: the token must be at least ${MIN_TOKEN_LENGTH} characters without spaces (got ${token.length})`);
  }
  return token;
}

/**
 * The feedback and metrics scopes' tokens (--feedback-token-file / $RELEARN_FEEDBACK_TOKEN, --metrics-token-file /
 * $RELEARN_METRICS_TOKEN). Without auth both are null (open). Without a feedback token, feedback is refused; without
 * a metrics token, /metrics takes the predict token. A scope's token must differ from the predict token.
 */
export function resolveScopeTokens(
  opts: { auth: boolean; feedbackTokenFile?: string; metricsTokenFile?: string },
  predictToken: string | null,
  env: NodeJS.ProcessEnv = process.env,
): { feedbackToken?: string | null; metricsToken?: string | null } {
  if (!opts.auth) return { feedbackToken: null, metricsToken: null };
  const feedbackToken = readToken('--feedback-token-file', opts.feedbackTokenFile, FEEDBACK_TOKEN_ENV, env);
  const metricsToken = readToken('--metrics-token-file', opts.metricsTokenFile, METRICS_TOKEN_ENV, env);
  for (const [scope, token] of [['feedback', feedbackToken], ['metrics', metricsToken]] as const) {
    if (token !== undefined && token === predictToken) {
      throw new ConfigError(`serve: the ${scope} token is the same as the predict token; give each scope its own token, so that a predict token cannot post ${scope}`);
    }
  }
  return { ...(feedbackToken !== undefined ? { feedbackToken } : {}), ...(metricsToken !== undefined ? { metricsToken } : {}) };
}

/** The bearer token from --token-file, else $RELEARN_SERVE_TOKEN; a ConfigError when auth is on and there is none. */
export function resolveServeToken(opts: { auth: boolean; tokenFile?: string }, env: NodeJS.ProcessEnv = process.env): string | null {
  if (!opts.auth) return null;
  let token: string | undefined;
  let source: string;
  if (opts.tokenFile !== undefined) {
    source = `--token-file ${opts.tokenFile}`;
    try {
      token = readFileSync(opts.tokenFile, 'utf8').trim();
    } catch (err) {
      throw new ConfigError(`${source}: cannot be read (${err instanceof Error ? err.message : String(err)})`);
    }
  } else {
    source = `$${SERVE_TOKEN_ENV}`;
    token = env[SERVE_TOKEN_ENV]?.trim();
  }
  if (token === undefined || token === '') {
    throw new ConfigError(
      `serve: authentication is on but there is no token: set ${SERVE_TOKEN_ENV} or pass --token-file <file> (or --no-auth to serve without authentication)`,
    );
  }
  if (token.length < MIN_TOKEN_LENGTH || /\s/.test(token)) {
    throw new ConfigError(`${source}: the token must be at least ${MIN_TOKEN_LENGTH} characters without spaces (got ${token.length})`);
  }
  return token;
}

/** `relearn serve`: serves every model's champion from the registry over HTTP. */
export function registerServeCommand(program: Command): void {
  program
    .command('serve')
    .description("serve every model's champion over HTTP (Open Inference Protocol v2 + simple JSON), following the registry's aliases")
    .option('--host <host>', 'address to listen on', SERVE_DEFAULTS.host)
    .option('--port <port>', 'port to listen on (0: any free port)', nonNegativeInt('--port'), SERVE_DEFAULTS.port)
    .option('--no-auth', `serve without bearer-token authentication (by default a token from ${SERVE_TOKEN_ENV} or --token-file is required)`)
    .option('--token-file <file>', `file holding the bearer token of the predict scope: predictions and model metadata (instead of ${SERVE_TOKEN_ENV})`)
    .option('--feedback-token-file <file>', `file holding the token that may post feedback (instead of ${FEEDBACK_TOKEN_ENV}); without one, feedback is refused`)
    .option('--metrics-token-file <file>', `file holding the token that may read /metrics (instead of ${METRICS_TOKEN_ENV}); default: the predict token`)
    .option('--feedback-memory <n>', 'answered requests remembered for feedback; labels for older ones are refused', positiveInt('--feedback-memory'), SERVE_DEFAULTS.feedbackMemory)
    .option('--log-buffer-bytes <n>', 'bytes of prediction-log entries held in memory at most; beyond, entries are dropped and counted', positiveInt('--log-buffer-bytes'), SERVE_DEFAULTS.logBufferBytes)
    .option('--log-retention-days <n>', 'days of prediction log kept; older day folders are deleted', positiveInt('--log-retention-days'), SERVE_DEFAULTS.logRetentionDays)
    .option('--log-max-bytes-per-model <n>', "bytes of prediction log kept per model; beyond, the oldest segments are deleted", positiveInt('--log-max-bytes-per-model'), SERVE_DEFAULTS.logMaxBytesPerModel)
    .option('--max-body-bytes <n>', 'largest request body', positiveInt('--max-body-bytes'), SERVE_DEFAULTS.maxBodyBytes)
    .option('--max-rows <n>', 'most rows per request', positiveInt('--max-rows'), SERVE_DEFAULTS.maxRows)
    .option('--timeout-ms <ms>', 'request timeout (504 after it)', positiveInt('--timeout-ms'), SERVE_DEFAULTS.requestTimeoutMs)
    .option('--poll-ms <ms>', "how often the registry's aliases are read", positiveInt('--poll-ms'), SERVE_DEFAULTS.pollMs)
    .option('--batch-window-ms <ms>', 'how long a request waits for others to share its onnxruntime run (0: same tick only)', nonNegativeInt('--batch-window-ms'), SERVE_DEFAULTS.batchWindowMs)
    .option('--max-batch-rows <n>', 'rows per onnxruntime run at most', positiveInt('--max-batch-rows'), SERVE_DEFAULTS.maxBatchRows)
    .option('--threads <n>', 'scoring worker threads (default: cores, at most 4)', positiveInt('--threads'))
    .addOption(new Option('--log-inputs <what>', 'what the prediction log keeps of the inputs').choices(['digest', 'full']).default('digest'))
    .option('--no-prediction-log', 'do not write the prediction log')
    .option('--shadow-queue <n>', 'requests waiting to be mirrored to shadow versions at most; beyond, they are dropped and counted', positiveInt('--shadow-queue'), SERVE_DEFAULTS.shadowQueue)
    .option('--no-shadow', "do not load models' shadow versions nor mirror requests to them")
    .action(async (opts: ServeFlags, cmd: Command) => {
      const loaded = loadConfig(cmd.optsWithGlobals<{ config: string }>().config);
      const token = resolveServeToken(opts);
      const scopeTokens = resolveScopeTokens(opts, token);
      const registry = openRegistry(loaded);
      const store = openArtifactStore(loaded);
      const predictionLogDir = resolvePredictionLog(loaded.config, loaded.stateDir);
      const log = (line: string): void => console.log(`${pc.dim(new Date().toISOString())} ${line}`);
      let server: Awaited<ReturnType<typeof startServer>>;
      try {
        server = await startServer({
          registry,
          store,
          host: opts.host,
          port: opts.port,
          token,
          ...scopeTokens,
          feedbackMemory: opts.feedbackMemory,
          logBufferBytes: opts.logBufferBytes,
          logRetentionDays: opts.logRetentionDays,
          logMaxBytesPerModel: opts.logMaxBytesPerModel,
          limits: { maxBodyBytes: opts.maxBodyBytes, maxRows: opts.maxRows, requestTimeoutMs: opts.timeoutMs },
          pollMs: opts.pollMs,
          batchWindowMs: opts.batchWindowMs,
          maxBatchRows: opts.maxBatchRows,
          pool: opts.threads !== undefined ? { threads: opts.threads } : {},
          ...(opts.predictionLog ? { predictionLogDir, logInputs: opts.logInputs } : {}),
          shadow: opts.shadow ? { queueSize: opts.shadowQueue } : false,
          log,
        });
      } catch (err) {
        await registry.close();
        throw err;
      }
      const served = server.models.list();
      log(`serving ${served.length === 0 ? 'no models yet (waiting for a champion)' : served.map((v) => `${v.model} v${v.version}`).join(', ')}`);
      log(`listening on ${server.url} (${server.pool.threads} scoring threads; auth ${token === null ? pc.yellow('off') : 'on'})`);
      if (token !== null) {
        log(`feedback ${scopeTokens.feedbackToken === undefined ? pc.yellow(`closed (no feedback token: set ${FEEDBACK_TOKEN_ENV} or pass --feedback-token-file)`) : 'takes its own token'}; metrics ${scopeTokens.metricsToken === undefined ? 'take the predict token' : 'take their own token'}`);
      }
      if (opts.predictionLog) log(`prediction log: ${typeof predictionLogDir === 'string' ? predictionLogDir : predictionLogDir.url} (kept ${opts.logRetentionDays} days, at most ${(opts.logMaxBytesPerModel / 1024 ** 3).toFixed(2)} GiB per model)`);
      log(opts.shadow && opts.predictionLog ? `shadow mirroring on (queue ${opts.shadowQueue})` : `shadow mirroring off${opts.shadow ? ' (it needs the prediction log)' : ''}`);
      if (token === null && !['127.0.0.1', 'localhost', '::1'].includes(opts.host)) {
        log(pc.yellow(`authentication is off and ${opts.host} is not a loopback address: anyone who can reach it can call the models`));
      }
      await new Promise<void>((resolve) => {
        const stop = (signal: NodeJS.Signals): void => {
          log(`${signal}: finishing requests in flight, writing the prediction log`);
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          resolve();
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      });
      await server.close();
      await registry.close();
      log('stopped');
    });
}
