import { tableFromIPC, type Table } from 'apache-arrow';
import type { LoadedConfig } from '../src/config';
import type { Launchers } from '../src/jobs/launchers';
import type { PredictionLogLocation } from '../src/prediction-log';
import type { RegistryStore } from '../src/registry';
import type { ArtifactStore } from '../src/store';
import type { ArtifactRef } from '../src/contracts';

/** What activities need, built once by the worker from temporal.yaml and passed in (no globals, no env reads). */
export interface ActivityDeps {
  store: ArtifactStore;
  registry: RegistryStore;
  /**
   * The worker's own temporal.yaml: commands, source paths and limits come from here, looked up by the run's model
   * after its digests are checked (src/config/run-config.ts), never from a run's input.
   */
  config: LoadedConfig;
  /** Where jobs run: the launcher of each model's `trainer.launcher`. */
  launcher: Launchers;
  /** Folder the job commands run in (temporal.yaml's folder). */
  baseDir: string;
  /** The config's state folder (the serving prediction log lives under it). */
  stateDir?: string;
  /** Folder every source path must lie in; checked again when a path is opened. */
  dataRoot: string;
  /** Substitutions for job commands: `{python}`, `{relearn}`. */
  commandVars: Record<string, string>;
  /**
   * The serving prediction log, read by shadow and guard windows and drift.source predictions: its folder
   * (`<stateDir>/predictions`) or a shared S3 prefix with every replica's segments (temporal.yaml `predictionLog:`).
   */
  predictionLogDir?: PredictionLogLocation;
  /** Poll interval of the training-job await loop. */
  jobPollMs?: number;
  /**
   * How fast shadow and guard windows see time pass (1: real time). Tests run a week-long window in seconds with a
   * large factor; the window's checkpoints then come that much sooner, nothing else changes.
   */
  windowClockSpeed?: number;
}

const tableCache = new Map<string, Table>();

/** Reads an Arrow IPC artifact, verifying its digest once per process and caching the table (snapshots are immutable). */
export async function readTable(deps: Pick<ActivityDeps, 'store'>, ref: Pick<ArtifactRef, 'uri' | 'sha256'>): Promise<Table> {
  const cached = tableCache.get(ref.sha256);
  if (cached) return cached;
  const bytes = await deps.store.readVerified(ref);
  const table = tableFromIPC(bytes);
  if (tableCache.size >= 4) tableCache.delete(tableCache.keys().next().value as string);
  tableCache.set(ref.sha256, table);
  return table;
}
