// A whole shadow or guard window inside one activity: the window may last days (SageMaker's shadow tests default to a
// week), and a workflow that polled the log itself would add events at every poll. Here the workflow schedules one
// activity; the activity looks at the log at fixed checkpoints (since + k · pollInterval, on the window's own clock),
// heartbeats the look it is at, and returns the decision. A retried attempt resumes at the look it had reached, and a
// look reads only predictions made before its checkpoint, so a retry decides on the same rows (plus labels that came
// late for them, which is what a window waits for).
import type { LiveEvidence, WindowDecision } from '../contracts';
import type { MetricName } from '../metrics';
import type { ClassLabel, PredictionLogLocation } from '../prediction-log';
import type { ShadowTask } from './compare';
import { decideWindow, type DecideWindowConfig } from './decide-window';
import { liveEvidenceOf, readWindowRows, type WindowRows } from './live-window';

/** The window's settings (a resolved `rollout.shadow` or `rollout.guard` block fits). */
export interface WindowSettings extends DecideWindowConfig {
  minDuration: number;
  maxDuration: number;
  pollInterval: number;
  /** After maxDuration, how long to wait for the labels of predictions already made (default 0). */
  labelWait?: number;
  maxCompareRows: number;
  /** guard: roll back at once when the contender fails more than this share of its requests. */
  maxErrorRate?: number;
  /** guard: roll back when the contender's p99 latency exceeds this, once it has answered minLabeledRows / 10 requests. */
  maxP99LatencyMs?: number;
}

/** Which window to run: the baseline is the version being defended, the contender the one on trial. */
export interface RunWindowInput {
  model: string;
  phase: 'shadow' | 'guard';
  baselineVersion: number;
  contenderVersion: number;
  /** When the window opened, from the workflow's clock (ISO 8601): every checkpoint derives from it. */
  since: string;
  task: ShadowTask;
  metric: MetricName;
  classes?: ClassLabel[];
  window: WindowSettings;
}

/** Where a window is, as its heartbeat carries it (and a retry resumes from). */
export interface WindowProgress {
  /** Looks taken so far. */
  look: number;
  labeledRows: number;
  pairedRequests: number;
  /** The last look's outcome in one line. */
  last: string;
}

/** The window's end: its decision, the evidence at the deciding look, and how many looks it took. */
export interface WindowResult {
  decision: WindowDecision;
  evidence: LiveEvidence;
  looks: number;
  /** The checkpoint of the deciding look (ISO 8601). */
  decidedAt: string;
}

/** The window's clock and heartbeat; tests pass a fast clock to run a week-long window in seconds. */
export interface WindowDeps {
  logDir: PredictionLogLocation;
  now: () => number;
  /** Waits `ms` on the window's clock; rejects when the activity is cancelled. */
  sleep: (ms: number) => Promise<void>;
  heartbeat: (progress: WindowProgress) => void;
  /** How often to heartbeat while waiting for the next checkpoint (window-clock ms). */
  heartbeatEveryMs?: number;
}

const DEFAULT_HEARTBEAT_EVERY_MS = 10_000;

/** A health limit the contender broke (guard only), in words; null when none. */
function healthBreach(window: WindowSettings, rows: WindowRows): string | null {
  const h = rows.health;
  const requests = h.predictions + h.errors;
  if (requests < window.minLabeledRows / 10) return null;
  if (window.maxErrorRate !== undefined && (h.errorRate ?? 0) > window.maxErrorRate) {
    return `error rate ${(100 * (h.errorRate ?? 0)).toFixed(2)}% > ${(100 * window.maxErrorRate).toFixed(2)}% over ${requests} requests`;
  }
  if (window.maxP99LatencyMs !== undefined && h.latencyP99Ms !== null && h.latencyP99Ms > window.maxP99LatencyMs) {
    return `p99 latency ${h.latencyP99Ms.toFixed(1)} ms > ${window.maxP99LatencyMs} ms`;
  }
  return null;
}

/** A decision that is not the statistic's (a broken health limit, a window without labeled rows): no bounds. */
function decisionWithoutBounds(
  fields: Pick<WindowDecision, 'kind' | 'test' | 'outcome' | 'action' | 'decidedBy' | 'rows' | 'reason'>,
): WindowDecision {
  return { ...fields, lower: null, upper: null, passAbove: null, failBelow: null, sequential: null, primary: null };
}

/**
 * Runs a window to its decision. Look k happens once the window's clock reaches since + k · pollInterval (the last
 * at maxDuration, then, with labelWait, once more at maxDuration + labelWait on the same predictions). No decision is
 * taken before minDuration; the sequential test may decide at any look after it, the fixed test decides at its first
 * look with minLabeledRows labeled rows; an inconclusive window at its end (for the fixed test: at that look) takes
 * its default.
 */
export async function runWindow(input: RunWindowInput, deps: WindowDeps, resume?: WindowProgress): Promise<WindowResult> {
  const { window } = input;
  const sinceMs = Date.parse(input.since);
  const endMs = sinceMs + window.maxDuration;
  const labelWait = window.labelWait ?? 0;
  const heartbeatEvery = deps.heartbeatEveryMs ?? DEFAULT_HEARTBEAT_EVERY_MS;
  const names = { baseline: `v${input.baselineVersion}`, contender: `v${input.contenderVersion}` };
  let progress: WindowProgress = resume ?? { look: 0, labeledRows: 0, pairedRequests: 0, last: 'window opened' };

  for (let look = progress.look + 1; ; look++) {
    const predictionsUntil = Math.min(sinceMs + look * window.pollInterval, endMs);
    const atEnd = predictionsUntil >= endMs;
    const checkpoint = atEnd ? endMs + labelWait : predictionsUntil;
    for (let now = deps.now(); now < checkpoint; now = deps.now()) {
      deps.heartbeat(progress);
      await deps.sleep(Math.min(checkpoint - now, heartbeatEvery));
    }
    const rows = await readWindowRows({
      model: input.model,
      phase: input.phase,
      baselineVersion: input.baselineVersion,
      contenderVersion: input.contenderVersion,
      since: input.since,
      maxRows: window.maxCompareRows,
      logDir: deps.logDir,
      until: new Date(predictionsUntil),
      labelsUntil: new Date(checkpoint),
      ...(input.classes !== undefined ? { classes: input.classes } : {}),
    });
    const decidedAt = new Date(checkpoint);
    const done = (decision: WindowDecision): WindowResult => ({
      decision,
      evidence: liveEvidenceOf(input, rows, decidedAt, decision.primary),
      looks: look,
      decidedAt: decidedAt.toISOString(),
    });

    // A failing new champion is rolled back without waiting for labels.
    const breach = input.phase === 'guard' ? healthBreach(window, rows) : null;
    if (breach !== null) {
      return done(decisionWithoutBounds({ kind: 'guard', test: window.test, outcome: 'fail', action: 'rollback', decidedBy: 'evidence', rows: rows.labels.length, reason: breach }));
    }

    const mayDecide = checkpoint >= sinceMs + window.minDuration;
    // The fixed test is valid at one look only: its first look with minLabeledRows rows is final, an inconclusive
    // answer there takes the default at once (looking again at every poll would inflate its error rates).
    const lastLook = atEnd || (window.test === 'fixed' && rows.labels.length >= window.minLabeledRows);
    const decide = (reportPrimary: boolean): WindowDecision | null =>
      rows.labels.length === 0
        ? null
        : decideWindow({
            kind: input.phase,
            task: input.task,
            metric: input.metric,
            labels: rows.labels,
            baseline: rows.baseline,
            contender: rows.contender,
            classes: rows.evidence.classes ?? input.classes ?? 0,
            config: window,
            final: lastLook,
            reportPrimary,
            names,
          });
    // The primary metric's bootstrap costs resamples × two metric computations: only at a look that may decide.
    let decision = mayDecide ? decide(false) : null;
    if (decision !== null && decision.action !== 'continue') decision = decide(true) ?? decision;
    if (decision !== null && decision.action !== 'continue') return done(decision);
    if (atEnd) {
      // No labeled row at all by the end: nothing to judge, the default stands.
      const empty = decisionWithoutBounds({
        kind: input.phase,
        test: window.test,
        outcome: 'inconclusive',
        action: window.onInconclusive,
        decidedBy: 'default',
        rows: 0,
        reason: `inconclusive: no labeled rows scored by both ${names.contender} and ${names.baseline}; the window reached maxDuration: default ${window.onInconclusive}`,
      });
      return done(decision ?? empty);
    }
    progress = {
      look,
      labeledRows: rows.evidence.counts.rows,
      pairedRequests: rows.evidence.counts.pairedRequests,
      last: decision?.reason ?? (mayDecide ? 'no labeled rows yet' : `${rows.evidence.counts.rows} labeled rows; deciding from minDuration on`),
    };
    deps.heartbeat(progress);
  }
}
