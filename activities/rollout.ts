import { failFast } from '../src/errors';
import { CHAMPION_ALIAS, SHADOW_ALIAS } from '../src/registry';
import { Context } from '@temporalio/activity';
import { type MeasureLiveInput, measureLiveWindow } from '../src/shadow/live-window';
import { type RunWindowInput, type WindowProgress, type WindowResult, runWindow } from '../src/shadow/run-window';
import type { ActivityDeps } from './deps';
import type { LiveEvidence } from '../src/contracts';

/** The window's clock: real time, or (tests) time that runs `speed` times faster from when the worker started. */
function windowClock(speed: number): { now: () => number; sleep: (ms: number) => Promise<void> } {
  const origin = Date.now();
  return {
    now: () => (speed === 1 ? Date.now() : origin + (Date.now() - origin) * speed),
    sleep: (ms) => Context.current().sleep(Math.max(1, Math.ceil(ms / speed))),
  };
}

/** Rollout activities: the shadow alias, the live-traffic measurement, evaluation records and the rollback. */
export function createRolloutActivities(deps: ActivityDeps) {
  const clock = windowClock(deps.windowClockSpeed ?? 1);
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
        const expected = input.expectedVersion !== undefined ? input.expectedVersion : ((await deps.registry.getAlias(input.model, SHADOW_ALIAS))?.version ?? null);
        return await deps.registry.moveAlias({
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

    /**
     * Runs a whole shadow or guard window: looks at the prediction log at every checkpoint, heartbeats where it is,
     * and returns the decision. A retried attempt resumes at the look its predecessor had reached.
     */
    async runLiveWindow(input: RunWindowInput): Promise<WindowResult> {
      return failFast(async () => {
        if (deps.predictionLogDir === undefined) throw new Error('the worker has no prediction log folder; shadow and guard windows need one');
        const ctx = Context.current();
        return runWindow(
          input,
          {
            logDir: deps.predictionLogDir,
            ...clock,
            heartbeat: (progress) => ctx.heartbeat(progress),
            // Ten seconds of real time between heartbeats, however fast the window's clock runs.
            heartbeatEveryMs: 10_000 * (deps.windowClockSpeed ?? 1),
          },
          ctx.info.heartbeatDetails as WindowProgress | undefined,
        );
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
      return failFast(async () => ({ id: (await deps.registry.recordEvaluation(input as Parameters<typeof deps.registry.recordEvaluation>[0])).id }));
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
        const moved = await deps.registry.moveAlias({
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
