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

/** Options of a replay of a model's source window as live traffic. */
export interface ReplayOptions {
  model: string;
  modelConfig: ModelConfig;
  window: { from: string; to: string };
  /** Base URL of `relearn serve` and its bearer token. */
  url: string;
  token: string | null;
  /** Bearer token of the feedback scope (default: `token`, which serves only when the server takes it for feedback too). */
  feedbackToken?: string | null;
  /** Rows drawn from the window (a seeded sample), cycled through in a shuffled order. */
  sampleRows?: number;
  rowsPerRequest?: number;
  /** Pause between requests. */
  intervalMs?: number;
  seed?: number;
}

/**
 * Replays rows of a later data window through the server as live traffic: each request's rows go to
 * `POST /models/<model>/predict`, and their true labels follow at once to `POST /models/<model>/feedback` under the
 * request id the server returned (in production, labels arrive later; the evaluation joins them by id either way).
 */
export async function startTrafficReplay(opts: ReplayOptions): Promise<TrafficReplay> {
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
  const rows = order.map((r) => Object.fromEntries(features.map((f) => [f, plain(columns[f]!.get(r))])));
  const labels = order.map((r) => plain(columns[cfg.label]!.get(r)));

  const stats: TrafficStats = { requests: 0, rows: 0, feedback: 0, errors: 0, byVersion: {} };
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (opts.token !== null) headers.authorization = `Bearer ${opts.token}`;
  const feedbackToken = opts.feedbackToken === undefined ? opts.token : opts.feedbackToken;
  const feedbackHeaders: Record<string, string> = { 'content-type': 'application/json' };
  if (feedbackToken !== null) feedbackHeaders.authorization = `Bearer ${feedbackToken}`;
  const per = opts.rowsPerRequest ?? 50;
  let stopped = false;
  let cursor = 0;
  const loop = (async () => {
    while (!stopped) {
      const start = cursor;
      cursor = (cursor + per) % Math.max(1, rows.length - per);
      try {
        const res = await fetch(`${opts.url}/models/${opts.model}/predict`, {
          method: 'POST',
          headers,
          body: JSON.stringify({ rows: rows.slice(start, start + per) }),
        });
        const body = (await res.json()) as { id?: string; version?: number; error?: string };
        if (!res.ok || body.id === undefined) {
          stats.errors += 1;
          stats.lastError = `${res.status} ${body.error ?? ''}`.trim();
        } else {
          stats.requests += 1;
          stats.rows += per;
          stats.byVersion[`v${body.version}`] = (stats.byVersion[`v${body.version}`] ?? 0) + 1;
          // Labels go under the id the server issued (the response's `id`): the only id it takes feedback for.
          const fb = await fetch(`${opts.url}/models/${opts.model}/feedback`, {
            method: 'POST',
            headers: feedbackHeaders,
            body: JSON.stringify({ id: body.id, labels: labels.slice(start, start + per) }),
          });
          await fb.body?.cancel();
          if (fb.ok) stats.feedback += 1;
          else stats.errors += 1;
        }
      } catch (err) {
        stats.errors += 1;
        stats.lastError = err instanceof Error ? err.message : String(err);
      }
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
