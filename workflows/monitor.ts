// The drift monitor: one long-running workflow per model (id `monitor/<model>`) that checks a recent data window
// against the champion's training snapshot every `drift.every`, and starts retraining (trigger=drift) when the
// dataset drifts, or (trigger=estimated-performance) when the champion's performance estimated without labels drops
// too far, at most once per cooldown. Its cooldown state travels through continue-as-new.
// An input no retry can mend (no drift block, a window no date can start) fails the run with a non-retryable
// ConfigError: a plain Error thrown here would fail the workflow task, which Temporal retries forever.
import {
  ApplicationFailure,
  condition,
  continueAsNew,
  log,
  patched,
  proxyActivities,
  setHandler,
  upsertSearchAttributes,
} from '@temporalio/workflow';
import type * as activities from '../activities';
import type { DriftConfig } from '../src/config/triggers';
import { startRetrainChild } from './triggers';
import {
  FailureType,
  checkNowSignal,
  monitorStatusQuery,
  RelearnModel,
  RelearnStage,
  type DriftCheckSummary,
  type DriftMonitorInput,
  type MonitorState,
  type RetrainInput,
  type TriggerOutcome,
} from '../src/contracts';

type Activities = ReturnType<typeof activities.createActivities>;

/** A failure of the monitor's input, naming the key in temporal.yaml: fails the run, never retried. */
function configFailure(model: string, key: string, message: string): ApplicationFailure {
  return ApplicationFailure.nonRetryable(`temporal.yaml: models.${model}.drift${key ? `.${key}` : ''}: ${message}`, FailureType.Config);
}

const isDuration = (v: unknown, min: number): v is number => typeof v === 'number' && Number.isFinite(v) && v >= min;

/** The model's drift block, with the values the loop needs checked: a monitor cannot run without them. */
function driftOf(input: DriftMonitorInput): DriftConfig {
  const drift = input.modelConfig.drift;
  if (!drift) throw configFailure(input.model, '', `model ${input.model} has no drift block in temporal.yaml; a drift monitor needs one`);
  if (!isDuration(drift.every, 1)) throw configFailure(input.model, 'every', `expected a duration of at least 1 ms between checks, got ${JSON.stringify(drift.every)}`);
  if (!isDuration(drift.cooldown, 0)) throw configFailure(input.model, 'cooldown', `expected a duration, got ${JSON.stringify(drift.cooldown)}`);
  if (!(Number.isInteger(drift.checksPerRun) && drift.checksPerRun >= 1)) {
    throw configFailure(input.model, 'checksPerRun', `expected a whole number of at least 1, got ${JSON.stringify(drift.checksPerRun)}`);
  }
  return drift;
}

/** The window a check covers: the input's, the configured fixed one, or the last `last` ms before now. */
function checkWindow(input: DriftMonitorInput, nowMs: number): { from: string; to: string } {
  if (input.window) return input.window;
  const w = input.modelConfig.drift?.window;
  if (w?.from !== undefined || w?.to !== undefined) return { from: w?.from ?? '1970-01-01', to: w?.to ?? new Date(nowMs).toISOString() };
  const lastMs = w?.last ?? 7 * 86_400_000;
  const from = new Date(nowMs - lastMs);
  // A date holds ±8.64e15 ms around 1970: a longer `last` has no start, and toISOString would throw a RangeError.
  if (!isDuration(lastMs, 1) || Number.isNaN(from.getTime())) {
    throw configFailure(
      input.model,
      'window.last',
      `expected a duration such as 7d that a date can reach back (at most about 270,000 years), got ${JSON.stringify(lastMs)} ms`,
    );
  }
  return { from: from.toISOString(), to: new Date(nowMs).toISOString() };
}

/** What drifted, in a line: features, then predictions and the metric when they count. */
function driftReason(check: DriftCheckSummary): string {
  const parts = [`drift in ${check.drifted}/${check.checked} features (${(check.driftedFeatures ?? []).join(', ')})`];
  if (check.predictionDrift) parts.push('prediction drift');
  const m = check.metric;
  if (m?.drifted && m.value !== null && m.championHoldout !== null) parts.push(`${m.name} ${m.value.toFixed(4)} vs holdout ${m.championHoldout.toFixed(4)}`);
  const e = check.estimated;
  if (e?.drifted && e.value !== null && e.championHoldout !== null) {
    const band = e.lower !== null && e.upper !== null ? ` [${e.lower.toFixed(4)}, ${e.upper.toFixed(4)}]` : '';
    parts.push(`estimated ${e.name} ${e.value.toFixed(4)}${band} vs holdout ${e.championHoldout.toFixed(4)} (no labels needed)`);
  }
  // Checks made before drift.multivariate have no such field, so their reasons replay unchanged.
  const mv = check.multivariate;
  if (mv?.drifted && patched('multivariate-drift-reason')) {
    parts.push(`multivariate drift (domain classifier AUC ${mv.auc.toFixed(3)} > ${mv.maxAuc}; explained by ${mv.explained.slice(0, 3).map((f) => f.feature).join(', ')})`);
  }
  return parts.join('; ');
}

/** Checks drift every interval, triggers retraining on dataset drift outside the cooldown, continues as new. */
export async function driftMonitor(input: DriftMonitorInput): Promise<MonitorState> {
  const drift = driftOf(input);
  const state: MonitorState = input.state ?? { checks: 0, driftsFound: 0, triggered: 0, suppressed: 0, absorbed: 0, lastTriggerAtMs: null };
  let nextCheckAtMs: number | null = null;
  let checkRequested = false;
  setHandler(checkNowSignal, () => {
    checkRequested = true;
  });
  setHandler(monitorStatusQuery, () => ({
    ...state,
    model: input.model,
    cooldownUntil: state.lastTriggerAtMs === null ? null : new Date(state.lastTriggerAtMs + drift.cooldown).toISOString(),
    nextCheckAt: nextCheckAtMs === null ? null : new Date(nextCheckAtMs).toISOString(),
  }));
  upsertSearchAttributes([
    { key: RelearnModel, value: input.model },
    { key: RelearnStage, value: 'monitor' },
  ]);
  const acts = proxyActivities<Activities>({
    startToCloseTimeout: '15 minutes',
    heartbeatTimeout: '2 minutes',
    retry: { maximumAttempts: 3, initialInterval: '1 second', backoffCoefficient: 2 },
  });

  for (let inRun = 0; inRun < drift.checksPerRun; inRun++) {
    if (input.maxChecks !== undefined && state.checks >= input.maxChecks) return state;
    if (state.checks > 0 || inRun > 0) {
      nextCheckAtMs = Date.now() + drift.every;
      await condition(() => checkRequested, drift.every);
      checkRequested = false;
      nextCheckAtMs = null;
    }
    const now = Date.now();
    const window = checkWindow(input, now);
    let check: DriftCheckSummary;
    try {
      check = await acts.checkDriftWindow.executeWithOptions({ summary: `drift check ${window.from} → ${window.to}` }, [
        {
          model: input.model,
          modelConfig: input.modelConfig,
          window,
          checkedAt: new Date(now).toISOString(),
          configDigest: input.configDigest,
          ...(input.modelDigest !== undefined ? { modelDigest: input.modelDigest } : {}),
        },
      ]);
    } catch (err) {
      // A failed check (unreadable source, retries used up) is recorded; the monitor keeps watching.
      const message = err instanceof Error ? (err.cause instanceof Error ? err.cause.message : err.message) : String(err);
      check = { checkedAt: new Date(now).toISOString(), window, skipped: `check failed: ${message}` };
    }
    state.checks += 1;
    state.lastCheck = check;
    // Checks recorded before `retrain` existed decided on dataset drift alone.
    if (!(check.retrain ?? check.datasetDrift)) continue;
    state.driftsFound += 1;
    const cooling = state.lastTriggerAtMs !== null && now < state.lastTriggerAtMs + drift.cooldown;
    if (cooling) {
      state.suppressed += 1;
      log.info('drift inside the cooldown: no run started', { suppressed: state.suppressed });
      continue;
    }
    const reason = `${driftReason(check)} on ${window.from} → ${window.to}; report ${check.report?.json}`;
    // A run asked for by a drop of the estimated performance says so in its trigger, so such runs can be listed apart.
    const byEstimate = check.estimated?.drifted === true && patched('estimated-performance-trigger');
    const { outcome } = await startRetrainChild({
      model: input.model,
      modelConfig: input.modelConfig,
      configDigest: input.configDigest,
      ...(input.modelDigest !== undefined ? { modelDigest: input.modelDigest } : {}),
      trigger: byEstimate ? 'estimated-performance' : 'drift',
      // Retrain on the window that drifted: it is the data the model now sees.
      window,
      reason,
    });
    state.lastTrigger = { ...outcome, at: new Date(now).toISOString(), report: check.report?.json };
    if (outcome.action === 'started') {
      state.triggered += 1;
      state.lastTriggerAtMs = now;
    } else {
      state.absorbed += 1;
    }
  }
  if (input.maxChecks !== undefined && state.checks >= input.maxChecks) return state;
  // Keep the history small: the next run of the monitor starts from the same counters and cooldown.
  return continueAsNew<typeof driftMonitor>({ ...input, state });
}
