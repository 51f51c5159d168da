import { Context } from '@temporalio/activity';
import { type PullSnapshotOptions, pullSnapshot, sourceFormat } from '../src/data';
import { confineSourcePath } from '../src/config/data-root';
import { type RunConfigRef, workerModelConfig } from '../src/config/run-config';
import { failFast } from '../src/errors';
import { splitTable } from '../src/split/split-table';
import { type ActivityDeps, readTable } from './deps';
import type { ArtifactRef, SnapshotInfo, SplitInfo } from '../src/contracts';

/** Data activities: pull a snapshot, split it. */
export function createDataActivities(deps: ActivityDeps) {
  return {
    /**
     * Source window → contract check → Arrow IPC snapshot + stats in the store. The source (but for the window) and
     * the contract are the worker's own, after the run's digests and model config are checked against it.
     */
    async pullData(input: {
      model: string;
      /** Only its window is used (a run may override the window); the path and reader come from the worker's config. */
      source: PullSnapshotOptions['source'];
      contract: PullSnapshotOptions['contract'];
      requiredColumns: string[];
      configDigest?: string;
      modelDigest?: string;
      /** The run's model config, checked to be the worker's (absent in runs recorded before the check). */
      modelConfig?: RunConfigRef['modelConfig'];
    }): Promise<SnapshotInfo> {
      return failFast(async () => {
        const ctx = Context.current();
        const cfg = workerModelConfig(deps.config, input);
        // Resolved and checked once, then the real path is what the reader opens (its format still from the name given).
        const realPath = confineSourcePath(`models.${input.model}.source.path`, deps.dataRoot, cfg.source.path);
        const result = await pullSnapshot({
          source: { ...cfg.source, format: sourceFormat(cfg.source), path: realPath, window: input.source.window },
          contract: cfg.contract,
          requiredColumns: input.requiredColumns,
          onProgress: (p: unknown) => ctx.heartbeat(p),
        });
        const artifact = await deps.store.putBytes('snapshots', 'snapshot.arrow', result.bytes);
        const stats = await deps.store.putJson('stats', 'stats.json', { snapshot: artifact.uri, ...result.stats });
        ctx.log.info('snapshot written', { uri: artifact.uri, rows: result.stats.rows });
        return {
          artifact,
          stats,
          rows: result.stats.rows,
          timeRange: result.stats.timeRange,
          window: input.source.window ?? {},
          sampled: result.sampled,
        };
      });
    },

    /**
     * Deterministic K folds (+ holdout of the most recent rows) written as an Arrow file beside the snapshot; a time
     * split also reports its earliest block, which tells the workflow its fold models train forward-chained.
     */
    async splitData(input: {
      snapshot: ArtifactRef;
      split: { folds: number; strategy: 'stratified' | 'time'; holdoutFraction: number; seed: number };
      task: 'binary' | 'multiclass' | 'regression';
      label: string;
      probeRows: number;
    }): Promise<SplitInfo> {
      return failFast(async () => {
        const table = await readTable(deps, input.snapshot);
        const { assignment, bytes, strategy } = splitTable(table, input);
        const artifact = await deps.store.putBytes('splits', 'split.arrow', bytes);
        return {
          artifact,
          folds: input.split.folds,
          foldRows: assignment.foldRows,
          holdoutRows: assignment.holdoutRows,
          probeRows: assignment.probeRows,
          strategy,
          ...(assignment.firstBlockRows !== undefined ? { firstBlockRows: assignment.firstBlockRows } : {}),
        };
      });
    },
  };
}
