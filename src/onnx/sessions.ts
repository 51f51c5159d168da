import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { ModelRejectedError } from '../errors';
import { featureInputNames } from './feature-inputs';

/** Options for an in-process onnxruntime session. */
export interface OpenSessionOptions {
  /** Threads for one operator; onnxruntime picks the core count when unset. */
  intraOpNumThreads?: number;
}

// A handful of models are scored per run (K fold models, candidate, champion); a small cache lets
// every scoring of the same bytes reuse one session without holding on to old models for ever.
const MAX_CACHED_SESSIONS = 8;
const cache = new Map<string, Promise<ort.InferenceSession>>();
// Feature → ONNX input names of each session's model, read from the same bytes, so whoever scores a session feeds
// it by the features' names without having to know how the model names its inputs.
const inputNamesBySession = new WeakMap<ort.InferenceSession, ReadonlyMap<string, string>>();

/**
 * Opens an onnxruntime session on a model's bytes (or the file at a path), reusing a cached session
 * when the same bytes (by SHA-256) were opened with the same options. Only for models that passed
 * checkModelIsolated: this loads into the caller's process.
 */
export async function openSession(
  source: string | Uint8Array,
  options: OpenSessionOptions = {},
): Promise<ort.InferenceSession> {
  const bytes = typeof source === 'string' ? await readFile(source) : source;
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const key = `${sha256}:${options.intraOpNumThreads ?? 0}`;
  const cached = cache.get(key);
  if (cached !== undefined) {
    // Re-insert to mark it most recently used.
    cache.delete(key);
    cache.set(key, cached);
    return cached;
  }
  const label = typeof source === 'string' ? path.basename(source) : `model sha256:${sha256.slice(0, 12)}`;
  const inputNames = featureInputNames(bytes, label);
  // The session is made from the hashed bytes, never by re-reading the path: what was hashed is what runs.
  const created = ort.InferenceSession.create(bytes, {
    ...(options.intraOpNumThreads !== undefined ? { intraOpNumThreads: options.intraOpNumThreads } : {}),
    logSeverityLevel: 3,
  }).then(
    (session) => {
      if (inputNames !== undefined) inputNamesBySession.set(session, inputNames);
      return session;
    },
    (err: unknown) => {
      cache.delete(key);
      throw new ModelRejectedError(`${label}: onnxruntime could not load the model: ${errorMessage(err)}`);
    },
  );
  cache.set(key, created);
  while (cache.size > MAX_CACHED_SESSIONS) {
    // Evicted sessions are not released here: a scorer may still hold one; the binding frees it when collected.
    const oldest = cache.keys().next().value;
    if (oldest === undefined) break;
    cache.delete(oldest);
  }
  return created;
}

/**
 * Feature name → ONNX input name for a session opened by openSession, from its model's metadata; undefined when
 * the model names its inputs as the features (or the session was made elsewhere).
 */
export function sessionInputNames(session: ort.InferenceSession): ReadonlyMap<string, string> | undefined {
  return inputNamesBySession.get(session);
}

/** Releases every cached session; call when no scoring is in flight (shutdown, tests). */
export async function releaseSessions(): Promise<void> {
  const sessions = [...cache.values()];
  cache.clear();
  for (const pending of sessions) {
    const session = await pending.catch(() => undefined);
    await session?.release();
  }
}

/** Number of sessions currently cached, for tests and diagnostics. */
export function cachedSessionCount(): number {
  return cache.size;
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
