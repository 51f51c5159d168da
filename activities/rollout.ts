import { failFast } from '../src/errors';
import { CHAMPION_ALIAS, SHADOW_ALIAS } from '../src/registry';
import { type MeasureLiveInput, measureLiveWindow } from '../src/shadow/live-window';
import type { ActivityDeps } from './deps';
import type { LiveEvidence } from '../src/contracts';

/** Rollout activities: the shadow alias, the live-traffic measurement, evaluation records and the rollback. */
export function createRolloutActivities(deps: ActivityDeps) {
  return {
    /**
     * Points the `shadow` alias at a version (null clears it) by compare-and-set; with no expected version given, the
     * alias is expected where it is now (a run owns the shadow alias of its model while its window is open).
     */
    async setShadowAlias(input: {
      model: string;
      version: number | null;
      expectedVersion?: number | null;
      reason: string;
      workflowId: string;
      runId: string;
    }): Promise<{ moved: boolean; version: number | null; reason: string }> {
      return failFast(async () => {
        const expected = input.expectedVersion !== undefined ? input.expectedVersion : (deps.registry.getAlias(input.model, SHADOW_ALIAS)?.version ?? null);
        return deps.registry.moveAlias({
          model: input.model,
          alias: SHADOW_ALIAS,
          toVersion: input.version,
          expectedVersion: expected,
          reason: input.reason,
          workflowId: input.workflowId,
          runId: input.runId,
        });
      });
    },

    /** Reads the prediction log of a window and (with `compare`) compares the two versions on its labeled rows. */
    async measureLiveWindow(input: MeasureLiveInput): Promise<LiveEvidence> {
      return failFast(async () => {
        if (deps.predictionLogDir === undefined) throw new Error('the worker has no prediction log folder; shadow and guard windows need one');
        return measureLiveWindow({ ...input, logDir: deps.predictionLogDir });
      });
    },

    /** Stores a rollout step's decision and evidence with the version; a retry returns the first record. */
    async recordEvaluation(input: {
      model: string;
      version: number;
      phase: 'shadow' | 'approval' | 'guard';
      decision: string;
      reason: string;
      evidence: Record<string, unknown>;
      workflowId: string;
      runId: string;
    }): Promise<{ id: number }> {
      return failFast(async () => ({ id: deps.registry.recordEvaluation(input as Parameters<typeof deps.registry.recordEvaluation>[0]).id }));
    },

    /** Moves `champion` back from `from` to `to` only if it is still `from`; the audit log records either outcome. */
    async rollbackChampion(input: {
      model: string;
      from: number;
      to: number;
      reason: string;
      workflowId: string;
      runId: string;
    }): Promise<{ rolledBack: boolean; champion: number | null; reason: string }> {
      return failFast(async () => {
        const moved = deps.registry.moveAlias({
          model: input.model,
          alias: CHAMPION_ALIAS,
          toVersion: input.to,
          expectedVersion: input.from,
          reason: input.reason,
          workflowId: input.workflowId,
          runId: input.runId,
          action: 'rollback',
        });
        return { rolledBack: moved.moved, champion: moved.version, reason: moved.reason };
      });
    },
  };
}
