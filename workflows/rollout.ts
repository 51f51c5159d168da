// The live-traffic steps after the gate: a shadow window (the candidate scores mirrored requests beside the
// champion), an optional approval, the promotion, and a guard window (the old champion scores beside the new one;
// a regression rolls the champion back). A window runs inside one heartbeating activity (runLiveWindow), so a window
// of days adds a handful of events to the history, and a worker restart resumes it at the look it had reached;
// decisions come from the prediction log. Runs started before that change kept polling from the workflow (the
// unpatched branch below, kept so their histories replay).
import { CancellationScope, condition, patched, proxyActivities } from '@temporalio/workflow';
import type * as activities from '../activities';
import type { GuardConfig, RolloutConfig, ShadowConfig, WindowConfig } from '../src/config/rollout';
import type { DecidedBy, LiveEvidence, ManualDecisionInput, MetricName, RetrainStatus, RolloutStep, WindowDecision } from '../src/contracts';

/** The patch that moved a window's polling from the workflow into one activity. */
const WINDOW_IN_ONE_ACTIVITY = 'window-in-one-activity';

type Activities = ReturnType<typeof activities.createActivities>;

/** A manual decision received by update. */
export interface ManualDecision {
  action: 'approve' | 'reject' | 'rollback';
  by?: string;
  reason?: string;
}

/** Which manual decisions each stage accepts. */
export const ACCEPTS: Record<string, ReadonlyArray<ManualDecision['action']>> = {
  shadow: ['approve', 'reject'],
  approval: ['approve', 'reject'],
  guard: ['rollback'],
};

/** What the rollout needs from the run. */
export interface RolloutContext {
  registryModel: string;
  task: string;
  primaryMetric: string;
  classes?: Array<string | number | boolean>;
  rollout: RolloutConfig;
  candidateVersion: number;
  championVersion: number | null;
  workflowId: string;
  runId: string;
  status: RetrainStatus;
  enter: (stage: string, detail: string) => void;
  showDetails: (extra?: string) => void;
  /** The manual decision received for the current stage, taken (cleared) by the caller. */
  takeManual: () => ManualDecision | undefined;
  peekManual: () => ManualDecision | undefined;
}

/** The outcome of the steps before promotion. */
export interface PrePromotion {
  promote: boolean;
  steps: RolloutStep[];
  reason: string;
}

function fmtMs(ms: number): string {
  return ms >= 60_000 ? `${(ms / 60_000).toFixed(1)} min` : `${(ms / 1000).toFixed(0)} s`;
}

// Short registry and log reads; measureLiveWindow heartbeats while it reads and compares.
const acts = proxyActivities<Activities>({
  startToCloseTimeout: '5 minutes',
  heartbeatTimeout: '1 minute',
  retry: { maximumAttempts: 10, initialInterval: '500 milliseconds', backoffCoefficient: 2, maximumInterval: '10 seconds' },
});

/** The input of measureLiveWindow for a window: what to read and how to compare. */
function measureInput(
  ctx: RolloutContext,
  phase: 'shadow' | 'guard',
  window: WindowConfig,
  versions: { baselineVersion: number; contenderVersion: number; since: string },
  compare: boolean,
  minRows: number,
) {
  return {
    model: ctx.registryModel,
    phase,
    ...versions,
    task: ctx.task,
    metric: ctx.primaryMetric,
    classes: ctx.classes,
    compare,
    margin: window.margin,
    confidence: window.confidence,
    resamples: window.resamples,
    seed: window.seed,
    minRows,
    maxRows: window.maxCompareRows,
  };
}

/**
 * Holds a window of live traffic open: polls the prediction log (counts only) every pollInterval until the window
 * has lasted minDuration and has minLabeledRows labeled rows, or maxDuration passed, or a person decided; then
 * measures once more with the full comparison.
 */
async function liveWindow(
  ctx: RolloutContext,
  phase: 'shadow' | 'guard',
  window: WindowConfig & { maxErrorRate?: number; maxP99LatencyMs?: number },
  baselineVersion: number,
  contenderVersion: number,
): Promise<LiveEvidence> {
  const startedAt = Date.now();
  const since = new Date(startedAt).toISOString();
  const measure = (compare: boolean) =>
    acts.measureLiveWindow.executeWithOptions(
      { summary: `${phase}: ${compare ? 'compare' : 'count'} v${contenderVersion} vs v${baselineVersion}` },
      [measureInput(ctx, phase, window, { baselineVersion, contenderVersion, since }, compare, window.minLabeledRows)],
    );
  for (;;) {
    const elapsed = Date.now() - startedAt;
    const counted = await measure(false);
    ctx.status.detail =
      `${phase === 'shadow' ? `candidate v${contenderVersion} in shadow of v${baselineVersion}` : `v${contenderVersion} guarded against v${baselineVersion}`}: ` +
      `${counted.labeledRows}/${window.minLabeledRows} labeled rows, ${fmtMs(elapsed)} of ${fmtMs(window.minDuration)}–${fmtMs(window.maxDuration)}`;
    ctx.status.progress = { done: Math.min(counted.labeledRows, window.minLabeledRows), total: window.minLabeledRows, unit: 'labeled rows' };
    ctx.showDetails();
    if (ctx.peekManual() !== undefined) break;
    if (elapsed >= window.minDuration && counted.labeledRows >= window.minLabeledRows) break;
    if (elapsed >= window.maxDuration) break;
    // A failing new champion is rolled back without waiting for labels.
    if (phase === 'guard' && window.maxErrorRate !== undefined && counted.contender.requests >= window.minLabeledRows / 10 && counted.contender.errorRate > window.maxErrorRate) break;
    const remaining = Math.max(window.minDuration - elapsed, 0);
    await condition(() => ctx.peekManual() !== undefined, Math.max(100, Math.min(window.pollInterval, remaining > 0 ? remaining : window.pollInterval)));
  }
  return measure(true);
}

/** How long a window's activity may run: the window, the wait for late labels, and room for the last look. */
function windowActivityTimeoutMs(window: WindowConfig): number {
  return window.maxDuration + (window.labelWait ?? 0) + 15 * 60_000;
}

/**
 * Runs a window in one activity and returns its decision, or (decision null) the evidence at the moment a person
 * decided by update: the activity is then cancelled and the log measured once more, as the unpatched path did.
 */
async function decidedWindow(
  ctx: RolloutContext,
  phase: 'shadow' | 'guard',
  window: ShadowConfig | GuardConfig,
  baselineVersion: number,
  contenderVersion: number,
): Promise<{ evidence: LiveEvidence; decision: WindowDecision | null }> {
  const since = new Date(Date.now()).toISOString();
  ctx.status.detail =
    `${phase === 'shadow' ? `candidate v${contenderVersion} in shadow of v${baselineVersion}` : `v${contenderVersion} guarded against v${baselineVersion}`}: ` +
    `${window.test} test, deciding from ${fmtMs(window.minDuration)} on, at most ${fmtMs(window.maxDuration)}`;
  ctx.status.progress = undefined;
  // Who drives traffic or watches the run sees which window is open and on which clock it looks (a query, no event).
  ctx.status.window = {
    phase,
    baselineVersion,
    contenderVersion,
    since,
    test: window.test,
    minDurationMs: window.minDuration,
    maxDurationMs: window.maxDuration,
    pollIntervalMs: window.pollInterval,
  };
  ctx.showDetails();
  const scope = new CancellationScope();
  const run = scope.run(() =>
    acts.runLiveWindow.executeWithOptions(
      {
        summary: `${phase} window: v${contenderVersion} vs v${baselineVersion} (${window.test})`,
        startToCloseTimeout: windowActivityTimeoutMs(window),
        heartbeatTimeout: '30 seconds',
      },
      [
        {
          model: ctx.registryModel,
          phase,
          baselineVersion,
          contenderVersion,
          since,
          task: ctx.task as 'binary' | 'multiclass' | 'regression',
          metric: ctx.primaryMetric as MetricName,
          ...(ctx.classes !== undefined ? { classes: ctx.classes } : {}),
          window,
        },
      ],
    ),
  );
  let first: Awaited<typeof run> | null;
  try {
    first = await Promise.race([run, condition(() => ctx.peekManual() !== undefined).then(() => null)]);
  } finally {
    ctx.status.window = undefined;
  }
  if (first !== null) return { evidence: first.evidence, decision: first.decision };
  scope.cancel();
  await run.catch(() => undefined);
  const evidence = await acts.measureLiveWindow.executeWithOptions(
    { summary: `${phase}: measure v${contenderVersion} vs v${baselineVersion} at the manual decision` },
    [measureInput(ctx, phase, window, { baselineVersion, contenderVersion, since }, true, Math.min(30, window.minLabeledRows))],
  );
  return { evidence, decision: null };
}

/** A window's decision as a rollout step. */
function windowStep(phase: 'shadow' | 'guard', decision: WindowDecision, evidence: LiveEvidence): RolloutStep {
  const action = decision.action === 'continue' ? (phase === 'shadow' ? 'reject' : 'keep') : decision.action;
  return {
    phase,
    decision: action,
    decidedBy: decision.decidedBy === 'default' ? 'default' : 'evidence',
    outcome: decision.outcome,
    reason: decision.reason,
    evidence,
    window: decision,
  };
}

function evidenceLine(e: LiveEvidence): string {
  const c = e.comparison;
  if (c === null) return `${e.labeledRows} labeled rows`;
  return c.reason;
}

async function record(ctx: RolloutContext, version: number, step: RolloutStep): Promise<void> {
  await acts.recordEvaluation.executeWithOptions({ summary: `record ${step.phase}: ${step.decision}` }, [
    {
      model: ctx.registryModel,
      version,
      phase: step.phase,
      decision: step.decision,
      reason: step.reason,
      evidence: JSON.parse(JSON.stringify({ decidedBy: step.decidedBy, by: step.by ?? null, ...(step.evidence ?? {}) })) as Record<string, unknown>,
      workflowId: ctx.workflowId,
      runId: ctx.runId,
    },
  ]);
}

async function setShadow(ctx: RolloutContext, version: number | null, expected: number | null | undefined, reason: string): Promise<void> {
  await acts.setShadowAlias.executeWithOptions(
    { summary: version === null ? `clear the shadow alias` : `shadow → v${version}` },
    [{ model: ctx.registryModel, version, expectedVersion: expected, reason, workflowId: ctx.workflowId, runId: ctx.runId }],
  );
}

/** Runs the shadow window and the approval; says whether the candidate may be promoted. */
export async function beforePromotion(ctx: RolloutContext): Promise<PrePromotion> {
  const steps: RolloutStep[] = [];
  ctx.status.rollout = steps;
  const { shadow, approval } = ctx.rollout;
  const v = ctx.candidateVersion;

  if (shadow !== undefined && ctx.championVersion !== null) {
    const champion = ctx.championVersion;
    ctx.enter('shadow', `candidate v${v} in shadow of champion v${champion}`);
    let step: RolloutStep;
    try {
      await setShadow(ctx, v, undefined, `shadow window of v${v} against champion v${champion}`);
      const decided = patched(WINDOW_IN_ONE_ACTIVITY) ? await decidedWindow(ctx, 'shadow', shadow, champion, v) : null;
      const evidence = decided !== null ? decided.evidence : await liveWindow(ctx, 'shadow', shadow, champion, v);
      const manual = ctx.takeManual();
      if (manual !== undefined) {
        step = manualStep('shadow', manual, evidence);
      } else if (decided?.decision) {
        step = windowStep('shadow', decided.decision, evidence);
      } else {
        const c = evidence.comparison;
        const verdict = c?.verdict ?? 'insufficient';
        step = {
          phase: 'shadow',
          decision: verdict === 'not-worse' ? 'promote' : 'reject',
          decidedBy: 'evidence',
          reason:
            verdict === 'insufficient'
              ? `not enough labeled traffic: ${evidence.labeledRows} of ${shadow.minLabeledRows} labeled rows within ${fmtMs(shadow.maxDuration)}${c ? ` (${c.reason})` : ''}`
              : `${verdict === 'worse' ? 'worse than' : 'not worse than'} champion v${champion}: ${evidenceLine(evidence)}`,
          evidence,
        };
      }
    } finally {
      // The mirror stops whatever happened, even when the run is cancelled in the window.
      await CancellationScope.nonCancellable(() => setShadow(ctx, null, v, `shadow window of v${v} ended`));
    }
    steps.push(step);
    await record(ctx, v, step);
    ctx.showDetails(`shadow: ${step.decision} — ${step.reason}`);
    if (step.decision !== 'promote') return { promote: false, steps, reason: `shadow: ${step.reason}` };
  }

  if (approval !== undefined && approval.required) {
    ctx.enter('approval', `waiting up to ${fmtMs(approval.timeout)} for approve or reject of v${v}`);
    const answered = await condition(() => ctx.peekManual() !== undefined, approval.timeout);
    const manual = answered ? ctx.takeManual() : undefined;
    const step: RolloutStep =
      manual !== undefined
        ? manualStep('approval', manual)
        : {
            phase: 'approval',
            decision: approval.onTimeout === 'approve' ? 'promote' : 'reject',
            decidedBy: 'timeout',
            reason: `nobody answered within ${fmtMs(approval.timeout)}; default: ${approval.onTimeout}`,
          };
    steps.push(step);
    await record(ctx, v, step);
    if (step.decision !== 'promote') return { promote: false, steps, reason: `approval: ${step.reason}` };
  }
  return { promote: true, steps, reason: steps.map((s) => `${s.phase}: ${s.reason}`).join('; ') };
}

function manualStep(phase: RolloutStep['phase'], manual: ManualDecision, evidence?: LiveEvidence): RolloutStep {
  const decision = manual.action === 'approve' ? 'promote' : manual.action === 'reject' ? 'reject' : 'rollback';
  return {
    phase,
    decision,
    decidedBy: manual.action as DecidedBy,
    reason: `${manual.action} by ${manual.by ?? 'someone'}${manual.reason ? `: ${manual.reason}` : ''}`,
    ...(evidence ? { evidence } : {}),
    ...(manual.by ? { by: manual.by } : {}),
  };
}

/** Runs the guard window after a promotion; rolls the champion back by compare-and-set when the new one regresses. */
export async function guardAfterPromotion(ctx: RolloutContext, previousChampion: number): Promise<{ rolledBack: boolean; step: RolloutStep }> {
  const guard = ctx.rollout.guard!;
  const v = ctx.candidateVersion;
  const steps = (ctx.status.rollout ??= []);
  ctx.enter('guard', `champion v${v} guarded against v${previousChampion}`);
  let step: RolloutStep;
  try {
    await setShadow(ctx, previousChampion, undefined, `guard window of v${v}: previous champion v${previousChampion} keeps scoring`);
    const decided = patched(WINDOW_IN_ONE_ACTIVITY) ? await decidedWindow(ctx, 'guard', guard, previousChampion, v) : null;
    const evidence = decided !== null ? decided.evidence : await liveWindow(ctx, 'guard', guard, previousChampion, v);
    const manual = ctx.takeManual();
    if (manual !== undefined) {
      step = manualStep('guard', manual, evidence);
    } else if (decided?.decision) {
      step = windowStep('guard', decided.decision, evidence);
    } else {
      const reasons: string[] = [];
      const h = evidence.contender;
      if (h.requests > 0 && h.errorRate > guard.maxErrorRate) {
        reasons.push(`error rate ${(100 * h.errorRate).toFixed(2)}% > ${(100 * guard.maxErrorRate).toFixed(2)}%`);
      }
      if (h.p99LatencyMs !== null && h.requests >= guard.minLabeledRows / 10 && h.p99LatencyMs > guard.maxP99LatencyMs) {
        reasons.push(`p99 latency ${h.p99LatencyMs.toFixed(1)} ms > ${guard.maxP99LatencyMs} ms`);
      }
      if (evidence.comparison?.verdict === 'worse') reasons.push(`worse than v${previousChampion}: ${evidence.comparison.reason}`);
      step =
        reasons.length > 0
          ? { phase: 'guard', decision: 'rollback', decidedBy: 'evidence', reason: reasons.join('; '), evidence }
          : {
              phase: 'guard',
              decision: 'keep',
              decidedBy: 'evidence',
              reason:
                evidence.comparison?.verdict === 'not-worse'
                  ? `not worse than v${previousChampion}: ${evidence.comparison.reason}`
                  : `kept: too little labeled traffic to judge (${evidence.labeledRows} of ${guard.minLabeledRows} rows)`,
              evidence,
            };
    }
  } finally {
    await CancellationScope.nonCancellable(() => setShadow(ctx, null, previousChampion, `guard window of v${v} ended`));
  }
  let rolledBack = false;
  if (step.decision === 'rollback') {
    ctx.enter('rollback', `rolling champion back from v${v} to v${previousChampion}`);
    const moved = await acts.rollbackChampion.executeWithOptions({ summary: `roll back v${v} → v${previousChampion}` }, [
      { model: ctx.registryModel, from: v, to: previousChampion, reason: `guard: ${step.reason}`, workflowId: ctx.workflowId, runId: ctx.runId },
    ]);
    rolledBack = moved.rolledBack;
    if (!moved.rolledBack) step = { ...step, reason: `${step.reason}; rollback not applied: ${moved.reason}` };
  }
  steps.push(step);
  await record(ctx, v, step);
  return { rolledBack, step };
}
