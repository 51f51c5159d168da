import type { ModelConfig } from '../config/schema';
import { deriveColumns } from '../data/derive';
import { readSource } from '../data/read-source';
import { samplePositions } from '../data/sample';
import { mulberry32 } from '../contracts';

/** What a replay sent and got back. */
export interface TrafficStats {
  requests: number;
  rows: number;
  feedback: number;
  /** Rows whose labels were sent as feedback. */
  labeledRows: number;
  errors: number;
  /** Requests answered by each served version. */
  byVersion: Record<string, number>;
  lastError?: string;
}

/** A running replay; `stop` waits for the request in flight and returns the totals. */
export interface TrafficReplay {
  stats: TrafficStats;
  stop(): Promise<TrafficStats>;
}

/** Which rows of a model's source to replay: a seeded sample of a data window, in a seeded shuffled order. */
export interface ReplaySource {
  modelConfig: ModelConfig;
  window: { from: string; to: string };
  /** Rows drawn from the window (a seeded sample). */
  sampleRows?: number;
  seed?: number;
}

/** Where requests go: `relearn serve`'s base URL, its bearer tokens and the model's name there. */
export interface ReplayTarget {
  model: string;
  url: string;
  token: string | null;
  /** Bearer token of the feedback scope (default: `token`, which serves only when the server takes it for feedback too). */
  feedbackToken?: string | null;
}

/** Options of a replay of a model's source window as live traffic. */
export interface ReplayOptions extends ReplaySource, ReplayTarget {
  rowsPerRequest?: number;
  /** Pause between requests. */
  intervalMs?: number;
}

/** Feature rows as a request body takes them, and each row's true label, in replay order. */
export interface ReplayRows {
  rows: Array<Record<string, unknown>>;
  labels: unknown[];
}

/** Reads the window and returns its seeded sample in a seeded shuffled order: the same rows in the same order every time. */
export async function loadReplayRows(opts: ReplaySource): Promise<ReplayRows> {
  const cfg = opts.modelConfig;
  const table = deriveColumns(await readSource({ ...cfg.source, window: opts.window }), cfg.source.derive);
  const features = [...cfg.features.numeric, ...cfg.features.categorical];
  const columns = Object.fromEntries([...features, cfg.label].map((name) => {
    const column = table.getChild(name);
    if (column === null) throw new Error(`replay: column '${name}' is missing from ${cfg.source.path}`);
    return [name, column];
  }));
  const positions = samplePositions(table.numRows, Math.min(opts.sampleRows ?? 20_000, table.numRows), opts.seed ?? 11);
  // A shuffled order so that every stretch of traffic mixes the whole window.
  const order = Array.from(positions);
  const random = mulberry32(opts.seed ?? 11);
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  const plain = (v: unknown) => (typeof v === 'bigint' ? Number(v) : v);
  return {
    rows: order.map((r) => Object.fromEntries(features.map((f) => [f, plain(columns[f]!.get(r))]))),
    labels: order.map((r) => plain(columns[cfg.label]!.get(r))),
  };
}

function emptyStats(): TrafficStats {
  return { requests: 0, rows: 0, feedback: 0, labeledRows: 0, errors: 0, byVersion: {} };
}

/**
 * One live request: the rows go to `POST /models/<model>/predict`, and their true labels follow at once to
 * `POST /models/<model>/feedback` under the request id the server returned. Counts into `stats`.
 */
async function sendRequest(target: ReplayTarget, rows: Array<Record<string, unknown>>, labels: unknown[], stats: TrafficStats): Promise<void> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (target.token !== null) headers.authorization = `Bearer ${target.token}`;
  const feedbackToken = target.feedbackToken === undefined ? target.token : target.feedbackToken;
  const feedbackHeaders: Record<string, string> = { 'content-type': 'application/json' };
  if (feedbackToken !== null) feedbackHeaders.authorization = `Bearer ${feedbackToken}`;
  try {
    const res = await fetch(`${target.url}/models/${target.model}/predict`, { method: 'POST', headers, body: JSON.stringify({ rows }) });
    const body = (await res.json()) as { id?: string; version?: number; error?: string };
    if (!res.ok || body.id === undefined) {
      stats.errors += 1;
      stats.lastError = `${res.status} ${body.error ?? ''}`.trim();
      return;
    }
    stats.requests += 1;
    stats.rows += rows.length;
    stats.byVersion[`v${body.version}`] = (stats.byVersion[`v${body.version}`] ?? 0) + 1;
    // Labels go under the id the server issued (the response's `id`): the only id it takes feedback for.
    const fb = await fetch(`${target.url}/models/${target.model}/feedback`, { method: 'POST', headers: feedbackHeaders, body: JSON.stringify({ id: body.id, labels }) });
    await fb.body?.cancel();
    if (fb.ok) {
      stats.feedback += 1;
      stats.labeledRows += labels.length;
    } else {
      stats.errors += 1;
      stats.lastError = `feedback ${fb.status}`;
    }
  } catch (err) {
    stats.errors += 1;
    stats.lastError = err instanceof Error ? err.message : String(err);
  }
}

/**
 * Replays rows of a later data window through the server as live traffic, on a timer, until stopped: each request's
 * rows are predicted and their true labels sent as feedback at once (in production, labels arrive later; the
 * evaluation joins them by request id either way).
 */
export async function startTrafficReplay(opts: ReplayOptions): Promise<TrafficReplay> {
  const { rows, labels } = await loadReplayRows(opts);
  const stats = emptyStats();
  const per = opts.rowsPerRequest ?? 50;
  let stopped = false;
  let cursor = 0;
  const loop = (async () => {
    while (!stopped) {
      const start = cursor;
      cursor = (cursor + per) % Math.max(1, rows.length - per);
      await sendRequest(opts, rows.slice(start, start + per), labels.slice(start, start + per), stats);
      await new Promise((resolve) => setTimeout(resolve, opts.intervalMs ?? 20));
    }
  })();
  return {
    stats,
    async stop() {
      stopped = true;
      await loop;
      return stats;
    },
  };
}

/** One step of traffic: rows [from, from + rows) of the replay, in requests of `rowsPerRequest`. */
export interface TrafficStep {
  from: number;
  rows: number;
  rowsPerRequest: number;
}

/**
 * Sends one step of traffic, one request after another, each followed by its labels, and returns when the last
 * answer came back: the same requests, in the same order, every time.
 */
export async function sendTrafficStep(target: ReplayTarget, replay: ReplayRows, step: TrafficStep): Promise<TrafficStats> {
  const end = step.from + step.rows;
  if (step.from < 0 || end > replay.rows.length) {
    throw new RangeError(`replay: rows ${step.from}..${end} asked for, the replay holds ${replay.rows.length}`);
  }
  const stats = emptyStats();
  for (let start = step.from; start < end; start += step.rowsPerRequest) {
    const stop = Math.min(start + step.rowsPerRequest, end);
    await sendRequest(target, replay.rows.slice(start, stop), replay.labels.slice(start, stop), stats);
  }
  return stats;
}
