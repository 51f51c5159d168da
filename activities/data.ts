import { Context } from '@temporalio/activity';
import { type PullSnapshotOptions, pullSnapshot } from '../src/data';
import { insideDataRoot, outsideDataRootMessage } from '../src/config/data-root';
import { ConfigError, failFast } from '../src/errors';
import { splitTable } from '../src/split/split-table';
import { type ActivityDeps, readTable } from './deps';
import type { ArtifactRef, SnapshotInfo, SplitInfo } from '../src/contracts';

/** Data activities: pull a snapshot, split it. */
export function createDataActivities(deps: ActivityDeps) {
  return {
    /** Source window → contract check → Arrow IPC snapshot + stats in the store. */
    async pullData(input: {
      model: string;
      source: PullSnapshotOptions['source'];
      contract: PullSnapshotOptions['contract'];
      requiredColumns: string[];
    }): Promise<SnapshotInfo> {
      return failFast(async () => {
        const ctx = Context.current();
        if (deps.dataRoot && !insideDataRoot(deps.dataRoot, input.source.path)) {
          throw new ConfigError(outsideDataRootMessage(`models.${input.model}.source.path`, deps.dataRoot, input.source.path));
        }
        const result = await pullSnapshot({
          source: input.source,
          contract: input.contract,
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
