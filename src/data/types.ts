import type { Table } from 'apache-arrow';

/** File formats a source can be read from; inferred from the file extension when omitted. */
export type SourceFormat = 'parquet' | 'csv' | 'arrow' | 'json';

/** Time features derived from a timestamp column, in UTC. */
export type TimeDeriveOp = 'hour' | 'dayOfWeek' | 'month' | 'dayOfMonth';

/** Threshold features derived from a numeric column (1 when the comparison holds, else 0). */
export type ThresholdDeriveOp = 'greaterThan' | 'lessThan';

/**
 * One derived column, stored as Int32.
 * hour 0–23, dayOfWeek 0 = Monday … 6 = Sunday (pandas' convention), month 1–12, dayOfMonth 1–31;
 * greaterThan/lessThan compare `from` with `value` strictly. A null input gives a null output.
 * `from` may name a column derived earlier in the list.
 */
export interface DeriveSpec {
  name: string;
  from: string;
  op: TimeDeriveOp | ThresholdDeriveOp;
  value?: number;
}

/** Where a model's data comes from and which slice of it to use. */
export interface SourceConfig {
  format?: SourceFormat;
  /** Absolute path by the time it reaches the data stage. */
  path: string;
  timeColumn: string;
  /** ISO dates or date-times, read as UTC when they carry no offset; rows with from <= t < to are kept. */
  window?: { from?: string; to?: string };
  sample?: { maxRows: number; seed: number };
  derive?: DeriveSpec[];
}

/** Column types a contract can ask for; `number` accepts int or float, `float` also accepts ints. */
export type ContractType = 'int' | 'float' | 'number' | 'string' | 'timestamp' | 'bool';

/** What one column must look like. */
export interface ColumnContract {
  type: ContractType;
  /** Defaults to false: any null (or NaN) is a violation. */
  nullable?: boolean;
  min?: number;
  max?: number;
  allowed?: string[];
}

/** The data contract of a model: minimum row count and per-column expectations. */
export interface DataContract {
  minRows: number;
  columns: Record<string, ColumnContract>;
}

/** The probability levels reported for numeric features, named by percent. */
export type QuantileName = 'p0' | 'p1' | 'p5' | 'p10' | 'p25' | 'p50' | 'p75' | 'p90' | 'p95' | 'p99' | 'p100';

/** Summary of a numeric column; nulls and NaN are excluded from every figure but `nulls`. */
export interface NumericStats {
  kind: 'numeric';
  /** Non-null values. */
  count: number;
  nulls: number;
  min: number | null;
  max: number | null;
  mean: number | null;
  /** Population standard deviation (ddof = 0, numpy's default). */
  std: number | null;
  /** numpy's default (linear) interpolation; all null when there are no values. */
  quantiles: Record<QuantileName, number | null>;
}

/** Summary of a string (or boolean) column. */
export interface CategoricalStats {
  kind: 'categorical';
  /** Non-null values. */
  count: number;
  nulls: number;
  distinct: number;
  /** The 50 most frequent values, by count descending, ties by value ascending. */
  top: Array<{ value: string; count: number }>;
  /** Non-null values not in `top`. */
  otherCount: number;
}

/** Per-snapshot statistics, small enough to travel with the run. */
export interface SnapshotStats {
  rows: number;
  columns: Array<{ name: string; type: string }>;
  /** First and last value of the time column (ISO, UTC); a snapshot is never empty. */
  timeRange: { from: string; to: string };
  features: Record<string, NumericStats | CategoricalStats>;
}

/** Stages reported through `onProgress`, in the order they run. */
export type SnapshotStage = 'read' | 'check' | 'window' | 'sample' | 'sort' | 'derive' | 'write' | 'stats' | 'done';

/** Progress of `pullSnapshot`, suitable for an activity heartbeat. */
export interface SnapshotProgress {
  stage: SnapshotStage;
  rows?: number;
}

/** Input of `pullSnapshot`. */
export interface PullSnapshotOptions {
  source: SourceConfig;
  contract: DataContract;
  /** Columns the model needs (features, label); derived columns count as present. */
  requiredColumns: string[];
  onProgress?: (progress: SnapshotProgress) => void;
}

/** Output of `pullSnapshot`. */
export interface PullSnapshotResult {
  table: Table;
  /** The snapshot as an Arrow IPC file; identical for identical input and config. */
  bytes: Uint8Array;
  stats: SnapshotStats;
  /** Set when the window held more rows than `sample.maxRows`. */
  sampled: { fromRows: number; toRows: number } | null;
}
