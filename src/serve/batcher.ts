import type { FeatureColumns } from './inputs';

/** Row-major float32 outputs of scored rows and their width per row. */
export interface ScoredRows {
  data: Float32Array;
  width: number;
}

/** One lane's merged rows in a batch. */
export interface BatchPart<L> {
  lane: L;
  columns: FeatureColumns;
}

/** What one part of a batch came to: its outputs, or the error that part failed with (the other parts may be fine). */
export type PartOutcome = ScoredRows | { error: unknown };

/**
 * Scores the parts of one batch in one call (one message to a worker), returning one outcome per part in the same
 * order; a rejection fails every part.
 */
export type ScoreParts<L> = (parts: ReadonlyArray<BatchPart<L>>) => Promise<PartOutcome[]>;

/** How requests are gathered into batches. */
export interface BatcherOptions {
  /** How long the first request of a batch waits for others; 0 gathers only what arrives in the same tick. */
  windowMs: number;
  /** A batch is sent as soon as one lane holds this many rows. */
  maxBatchRows: number;
  /** Called with the row count of every lane's part of a batch sent (for the batch-size histogram). */
  onBatch?: (rows: number, requests: number) => void;
}

interface Pending {
  columns: FeatureColumns;
  resolve: (out: ScoredRows) => void;
  reject: (err: unknown) => void;
}

/**
 * Micro-batching for one served model: requests that arrive within `windowMs` of each other are merged column by
 * column, per lane (a model version: the champion, its shadow), and every lane's rows go out in one call, so the
 * shadow's mirrored rows ride in the champion's batch instead of costing a message and a worker wake-up of their own.
 * Each request gets its own rows of its lane's output back.
 */
export class MicroBatcher<L> {
  private lanes = new Map<L, { pending: Pending[]; rows: number }>();
  private timer: NodeJS.Timeout | NodeJS.Immediate | undefined;

  constructor(
    private readonly scoreParts: ScoreParts<L>,
    private readonly options: BatcherOptions,
  ) {}

  /** Scores one request's rows on `lane`; resolves with exactly those rows' outputs. */
  score(columns: FeatureColumns, lane: L): Promise<ScoredRows> {
    return new Promise((resolve, reject) => {
      let waiting = this.lanes.get(lane);
      // A request that would overflow its lane's part of the batch goes out with the next one instead.
      if (waiting !== undefined && waiting.rows > 0 && waiting.rows + columns.rows > this.options.maxBatchRows) {
        this.flush();
        waiting = undefined;
      }
      if (waiting === undefined) {
        waiting = { pending: [], rows: 0 };
        this.lanes.set(lane, waiting);
      }
      waiting.pending.push({ columns, resolve, reject });
      waiting.rows += columns.rows;
      if (waiting.rows >= this.options.maxBatchRows) this.flush();
      else if (this.timer === undefined) {
        this.timer =
          this.options.windowMs > 0 ? setTimeout(() => this.flush(), this.options.windowMs) : setImmediate(() => this.flush());
      }
    });
  }

  /** Sends whatever is waiting now, every lane in one call. */
  flush(): void {
    if (this.timer !== undefined) {
      clearTimeout(this.timer as NodeJS.Timeout);
      clearImmediate(this.timer as NodeJS.Immediate);
      this.timer = undefined;
    }
    if (this.lanes.size === 0) return;
    const lanes = this.lanes;
    this.lanes = new Map();
    void this.send([...lanes].map(([lane, waiting]) => ({ lane, pending: waiting.pending })));
  }

  private async send(batch: Array<{ lane: L; pending: Pending[] }>): Promise<void> {
    const parts = batch.map(({ lane, pending }) => {
      const columns = pending.length === 1 ? pending[0]!.columns : mergeColumns(pending.map((p) => p.columns));
      this.options.onBatch?.(columns.rows, pending.length);
      return { lane, columns };
    });
    let outcomes: PartOutcome[];
    try {
      outcomes = await this.scoreParts(parts);
    } catch (err) {
      for (const { pending } of batch) for (const p of pending) p.reject(err);
      return;
    }
    batch.forEach(({ pending }, i) => {
      const out = outcomes[i];
      if (out === undefined || 'error' in out) {
        const err = out === undefined ? new Error(`scoring returned ${outcomes.length} outcomes for ${batch.length} parts`) : out.error;
        for (const p of pending) p.reject(err);
        return;
      }
      let offset = 0;
      for (const p of pending) {
        const rows = p.columns.rows;
        p.resolve({ data: out.data.subarray(offset * out.width, (offset + rows) * out.width), width: out.width });
        offset += rows;
      }
    });
  }
}

/** Concatenates the columns of several requests (same features, same order). */
export function mergeColumns(parts: readonly FeatureColumns[]): FeatureColumns {
  const rows = parts.reduce((sum, p) => sum + p.rows, 0);
  const first = parts[0];
  if (first === undefined) return { rows: 0, numeric: [], categorical: [] };
  const numeric = first.numeric.map((_, i) => {
    const column = new Float32Array(rows);
    let at = 0;
    for (const p of parts) {
      column.set(p.numeric[i]!, at);
      at += p.rows;
    }
    return column;
  });
  const categorical = first.categorical.map((_, i) => {
    const column: string[] = [];
    for (const p of parts) for (const v of p.categorical[i]!) column.push(v);
    return column;
  });
  return { rows, numeric, categorical };
}
