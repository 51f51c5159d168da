// Data stage: sources (Parquet, CSV, JSON, Arrow IPC) → contract-checked, time-sorted Arrow snapshots.
export { readSource, openSource, sourceFormat } from './read-source';
export type { OpenedSource, ReadSourceOptions, SourceColumn } from './read-source';
export { pullSnapshot, readSnapshot } from './snapshot';
export { computeStats, numericStats, quantileSorted } from './stats';
export { samplePositions } from './sample';
export { parseUtcInstantMs, windowBoundsMs } from './time';
export type {
  CategoricalStats,
  ColumnContract,
  ContractType,
  DataContract,
  DeriveSpec,
  NumericStats,
  PullSnapshotOptions,
  PullSnapshotResult,
  QuantileName,
  SnapshotProgress,
  SnapshotStage,
  SnapshotStats,
  SourceConfig,
  SourceFormat,
  ThresholdDeriveOp,
  TimeDeriveOp,
} from './types';
