import type { FeatureColumns } from './inputs';

/** Scores one merged batch; returns row-major outputs and their width per row. */
export type ScoreBatch = (columns: FeatureColumns) => Promise<{ data: Float32Array; width: number }>;

/** How requests are gathered into batches. */
export interface BatcherOptions {
  /** How long the first request of a batch waits for others; 0 gathers only what arrives in the same tick. */
  windowMs: number;
  /** A batch is sent as soon as it holds this many rows. */
  maxBatchRows: number;
  /** Called with the row count of every batch sent (for the batch-size histogram). */
  onBatch?: (rows: number, requests: number) => void;
}

interface Pending {
  columns: FeatureColumns;
  resolve: (out: { data: Float32Array; width: number }) => void;
  reject: (err: unknown) => void;
}

/**
 * Micro-batching for one model version: requests that arrive within `windowMs` of each other are merged column by
 * column into one onnxruntime run, and each gets its own rows of the output back.
 */
export class MicroBatcher {
  private pending: Pending[] = [];
  private pendingRows = 0;
  private timer: NodeJS.Timeout | NodeJS.Immediate | undefined;

  constructor(
    private readonly scoreBatch: ScoreBatch,
    private readonly options: BatcherOptions,
  ) {}

  /** Scores one request's rows; resolves with exactly those rows' outputs. */
  score(columns: FeatureColumns): Promise<{ data: Float32Array; width: number }> {
    return new Promise((resolve, reject) => {
      // A request that would overflow the current batch goes out with the next one instead.
      if (this.pendingRows > 0 && this.pendingRows + columns.rows > this.options.maxBatchRows) this.flush();
      this.pending.push({ columns, resolve, reject });
      this.pendingRows += columns.rows;
      if (this.pendingRows >= this.options.maxBatchRows) this.flush();
      else if (this.timer === undefined) {
        this.timer =
          this.options.windowMs > 0 ? setTimeout(() => this.flush(), this.options.windowMs) : setImmediate(() => this.flush());
      }
    });
  }

  /** Sends whatever is waiting now. */
  flush(): void {
    if (this.timer !== undefined) {
      clearTimeout(this.timer as NodeJS.Timeout);
      clearImmediate(this.timer as NodeJS.Immediate);
      this.timer = undefined;
    }
    const batch = this.pending;
    if (batch.length === 0) return;
    this.pending = [];
    this.pendingRows = 0;
    void this.send(batch);
  }

  private async send(batch: Pending[]): Promise<void> {
    const merged = batch.length === 1 ? batch[0]!.columns : mergeColumns(batch.map((p) => p.columns));
    this.options.onBatch?.(merged.rows, batch.length);
    let out: { data: Float32Array; width: number };
    try {
      out = await this.scoreBatch(merged);
    } catch (err) {
      for (const p of batch) p.reject(err);
      return;
    }
    let offset = 0;
    for (const p of batch) {
      const rows = p.columns.rows;
      p.resolve({ data: out.data.subarray(offset * out.width, (offset + rows) * out.width), width: out.width });
      offset += rows;
    }
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
