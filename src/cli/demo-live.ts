// The demo's live part: the champion is served with `relearn serve`'s stack, and flights of late June are replayed
// through it as live traffic with their true labels as feedback, so shadow and guard windows have evidence.
//
// Traffic comes in steps tied to the windows, not on a timer: when a run opens a window (its status query names the
// window, the versions and the window's clock), the demo waits until the server serves those versions, sends that
// window's fixed share of the replay one request after another, and waits until the prediction log holds every paired,
// labeled row of it, all before the window's first look that may decide (minDuration). A look counts only the
// predictions made before its checkpoint, and no more traffic comes during the window, so every deciding look sees
// the same rows: the same decision and the same numbers on every run of the demo.
import path from 'node:path';
import type { Client } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/client';
import pc from 'picocolors';
import { type LoadedConfig, modelConfig } from '../config';
import { openRegistry } from '../registry';
import { type RunningServer, SHADOW_ALIAS, startServer } from '../serve';
import { readWindowRows } from '../shadow/live-window';
import { openArtifactStore } from '../store';
import { type TemporalTarget, runUrl } from '../temporal/connection';
import { startRetrain } from '../temporal/runs';
import { printRunResult } from './format';
import { type ReplayRows, type TrafficStats, type TrafficStep, loadReplayRows, sendTrafficStep } from './live-traffic';
import { followRun } from './watch';
import type { OpenWindow, RetrainResult, RetrainStatus, RolloutStep } from '../contracts';

/** Flights replayed as live traffic: after every training window the demo uses. */
export const DEMO_TRAFFIC_WINDOW = { from: '2001-06-22', to: '2001-07-01' } as const;

/** Flights drawn from that window (seeded), enough for every window's step without replaying a flight twice. */
const REPLAY_SAMPLE = { rows: 60_000, seed: 11 } as const;

/** How long the demo waits for the server to serve a window's versions, and for the log to hold its rows. */
const STEP_DEADLINE_MS = 60_000;

/** What one window gets: how many rows of the replay, in requests of how many. */
export interface WindowStepPlan {
  rows: number;
  rowsPerRequest: number;
}

/** What a window got, and when the log held all of it, relative to the window's clock. */
export interface WindowTrafficReport {
  workflowId: string;
  window: OpenWindow;
  step: TrafficStep;
  sent: TrafficStats;
  /** Milliseconds after the window opened when the log held every paired, labeled row of the step. */
  inLogAfterMs: number;
  /** Milliseconds after the window opened of its first look that may decide. */
  firstDecidingLookMs: number;
}

/** The serving stack, and the windows it fed. */
export interface DemoServing {
  server: RunningServer;
  /**
   * Feeds every window the runs of these workflow ids open, each with the step `plan` gives it, until `stop`; returns
   * what each window got.
   */
  feedWindows(workflowIds: string[], plan: (workflowId: string, window: OpenWindow) => WindowStepPlan): { stop(): Promise<WindowTrafficReport[]> };
  /** All traffic sent so far. */
  totals: TrafficStats;
  stop(): Promise<TrafficStats>;
}

/** The first look at or after minDuration, on the window's grid of looks (since + k · pollInterval). */
function firstDecidingLookMs(w: OpenWindow): number {
  const look = Math.ceil(w.minDurationMs / w.pollIntervalMs) * w.pollIntervalMs;
  return Math.min(look, w.maxDurationMs);
}

async function waitFor<T>(what: string, check: () => Promise<T | undefined>, deadlineMs: number, intervalMs = 100): Promise<T> {
  const until = Date.now() + deadlineMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > until) throw new Error(`demo: gave up waiting for ${what} after ${deadlineMs / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** Serves the demo registry's models on a free loopback port and loads the late-June flights it will replay. */
export async function startDemoServing(loaded: LoadedConfig, model: string, client: Client): Promise<DemoServing> {
  const registry = openRegistry(loaded);
  const logDir = path.join(loaded.stateDir, 'predictions');
  const server = await startServer({
    registry,
    store: openArtifactStore(loaded),
    predictionLogDir: logDir,
    token: null,
    host: '127.0.0.1',
    port: 0,
    pollMs: 500,
    processMetrics: false,
  });
  const replay: ReplayRows = await loadReplayRows({
    modelConfig: modelConfig(loaded, model),
    window: DEMO_TRAFFIC_WINDOW,
    sampleRows: REPLAY_SAMPLE.rows,
    seed: REPLAY_SAMPLE.seed,
  });
  console.log(
    `\n${pc.bold('serving')} ${model} at ${server.url} (OIP v2 + /models/${model}/predict); live traffic: flights of ` +
      `${DEMO_TRAFFIC_WINDOW.from} → ${DEMO_TRAFFIC_WINDOW.to} (${replay.rows.length.toLocaleString('en-US')} drawn, seed ${REPLAY_SAMPLE.seed}), ` +
      `a fixed share sent to each shadow and guard window as it opens, with the true labels as feedback`,
  );
  const totals: TrafficStats = { requests: 0, rows: 0, feedback: 0, labeledRows: 0, errors: 0, byVersion: {} };
  let cursor = 0;

  /** Sends a window its step and waits until the log holds every paired, labeled row of it. */
  async function feedWindow(workflowId: string, w: OpenWindow, plan: WindowStepPlan): Promise<WindowTrafficReport> {
    // The versions the server must serve: the one that answers (shadow: the champion; guard: the new champion) and the one mirrored.
    const answering = w.phase === 'shadow' ? w.baselineVersion : w.contenderVersion;
    const mirrored = w.phase === 'shadow' ? w.contenderVersion : w.baselineVersion;
    await waitFor(
      `the server to serve v${answering} with v${mirrored} mirrored`,
      async () => {
        await server.models.sync();
        return server.models.peek(model)?.version === answering && server.models.peek(model, SHADOW_ALIAS)?.version === mirrored ? true : undefined;
      },
      STEP_DEADLINE_MS,
    );
    const step: TrafficStep = { from: cursor, rows: plan.rows, rowsPerRequest: plan.rowsPerRequest };
    cursor += plan.rows;
    const sent = await sendTrafficStep({ model, url: server.url, token: null }, replay, step);
    for (const key of ['requests', 'rows', 'feedback', 'labeledRows', 'errors'] as const) totals[key] += sent[key];
    for (const [v, n] of Object.entries(sent.byVersion)) totals.byVersion[v] = (totals.byVersion[v] ?? 0) + n;
    if (sent.errors > 0) throw new Error(`demo: ${sent.errors} of the window's requests failed (${sent.lastError ?? 'no message'})`);
    // Mirrored scoring runs off the request path and the log flushes on an interval: push both, then read the log
    // as the window will, until every row of the step is there.
    await server.shadowMirror?.drained();
    await server.predictionLog?.flush();
    await waitFor(
      `the prediction log to hold the step's ${sent.requests} paired requests`,
      async () => {
        const now = new Date();
        const rows = await readWindowRows({ ...w, model, logDir, until: now, labelsUntil: now });
        const c = rows.evidence.counts;
        return c.pairedRequests === sent.requests && c.rows === sent.labeledRows ? true : undefined;
      },
      STEP_DEADLINE_MS,
      200,
    );
    const report: WindowTrafficReport = {
      workflowId,
      window: w,
      step,
      sent,
      inLogAfterMs: Date.now() - Date.parse(w.since),
      firstDecidingLookMs: firstDecidingLookMs(w),
    };
    const timing =
      report.inLogAfterMs < report.firstDecidingLookMs
        ? pc.dim(`all in the log ${(report.inLogAfterMs / 1000).toFixed(1)} s after the window opened; its first deciding look is at ${report.firstDecidingLookMs / 1000} s`)
        : pc.red(
            `in the log only ${(report.inLogAfterMs / 1000).toFixed(1)} s after the window opened, after its first deciding look at ${report.firstDecidingLookMs / 1000} s: ` +
              'that look saw part of the step, so this decision may differ from run to run (a slow machine; raise minDuration)',
          );
    console.log(
      `  ${pc.cyan('traffic')}  ${w.phase} window v${w.contenderVersion} vs v${w.baselineVersion}: flights ${step.from.toLocaleString('en-US')}–${(step.from + step.rows).toLocaleString('en-US')} of the replay, ` +
        `${sent.requests} requests of ${plan.rowsPerRequest} rows with their labels; ${timing}`,
    );
    return report;
  }

  const feeders: Array<Promise<void>> = [];
  return {
    server,
    totals,
    feedWindows(workflowIds, plan) {
      const reports: WindowTrafficReport[] = [];
      const fed = new Set<string>();
      let stopped = false;
      let failure: unknown;
      const loop = (async () => {
        while (!stopped) {
          for (const workflowId of workflowIds) {
            const handle = client.workflow.getHandle(workflowId);
            // Only a running run is queried: a query to a closed one makes the worker replay its history.
            const running = await handle.describe().then(
              (d) => d.status.name === 'RUNNING',
              (err: unknown) => {
                if (err instanceof WorkflowNotFoundError) return false;
                throw err;
              },
            );
            if (!running) continue;
            const status = await handle.query<RetrainStatus>('status').catch(() => undefined);
            const w = status?.window;
            if (w === undefined) continue;
            const key = `${workflowId} ${w.phase} v${w.contenderVersion} ${w.since}`;
            if (fed.has(key)) continue;
            fed.add(key);
            reports.push(await feedWindow(workflowId, w, plan(workflowId, w)));
          }
          await new Promise((resolve) => setTimeout(resolve, 250));
        }
      })().catch((err: unknown) => {
        failure = err;
      });
      feeders.push(loop);
      return {
        async stop() {
          stopped = true;
          await loop;
          if (failure !== undefined) throw failure;
          return reports;
        },
      };
    },
    async stop() {
      await Promise.allSettled(feeders);
      await server.close();
      await registry.close();
      return totals;
    },
  };
}

/** Runs another pipeline into the same registry model and follows it to its decision. */
export async function runOtherPipeline(opts: { client: Client; target: TemporalTarget; loaded: LoadedConfig; model: string; title: string }): Promise<RetrainResult> {
  const { client, target, loaded, model } = opts;
  console.log(`\n${pc.bold(opts.title)}`);
  const started = Date.now();
  const run = await startRetrain(client, target, loaded, model, { trigger: 'manual' });
  const handle = client.workflow.getHandle(run.workflowId, run.runId);
  await followRun(handle);
  const result = (await handle.result()) as RetrainResult;
  printRunResult(result, { uiLink: runUrl(target, run.workflowId, run.runId) });
  console.log(pc.dim(`  took ${((Date.now() - started) / 1000).toFixed(1)} s`));
  return result;
}

function fmt(x: number): string {
  const a = Math.abs(x);
  if (a === 0) return '0';
  return a >= 0.01 ? x.toFixed(4) : x.toPrecision(3);
}

function signed(x: number): string {
  return x === 0 ? '0' : `${x > 0 ? '+' : '−'}${fmt(Math.abs(x))}`;
}

/**
 * A window's decision in one line: the outcome (pass, fail, or inconclusive → the default it took), the test, the
 * rows, the statistic with its bounds against the lines it is read against, and the primary metric beside it.
 */
export function windowDecisionLine(step: RolloutStep): string {
  const w = step.window;
  const e = step.evidence;
  const who = e ? `v${e.contenderVersion} vs v${e.baselineVersion}` : '';
  if (w === undefined) return `${step.phase.padEnd(6)} ${who}: ${step.decision} (${step.decidedBy}) — ${step.reason}`;
  const outcome = w.outcome === 'inconclusive' ? `inconclusive → ${w.action} (default)` : `${w.outcome} → ${w.action}`;
  const parts = [`${w.kind.padEnd(6)} ${who}: ${outcome}`, `${w.test} test, ${w.rows.toLocaleString('en-US')} labeled rows`];
  const s = w.sequential;
  if (s !== null) {
    const loss = s.loss === 'brier' ? 'Brier' : 'squared error';
    parts.push(
      `${loss} v${e?.contenderVersion} ${fmt(s.contenderLoss)} vs v${e?.baselineVersion} ${fmt(s.baselineLoss)}, ` +
        `difference ${signed(s.diff)} in [${signed(s.lower)}, ${signed(s.upper)}]; pass if lower ≥ ${signed(s.passAbove)}, fail if upper < ${signed(s.failBelow)}`,
    );
  } else if (w.lower !== null && w.upper !== null && w.passAbove !== null && w.failBelow !== null) {
    parts.push(`[${signed(w.lower)}, ${signed(w.upper)}]; pass if lower ≥ ${signed(w.passAbove)}, fail if upper < ${signed(w.failBelow)}`);
  } else {
    parts.push(w.reason.replace(/^inconclusive: /, ''));
  }
  const p = w.primary;
  if (p !== null && p.diff !== null && p.ciLow !== null && p.ciHigh !== null && p.championValue !== null && p.shadowValue !== null) {
    parts.push(`${p.metric} ${fmt(p.shadowValue)} vs ${fmt(p.championValue)}, diff ${signed(p.diff)} [${signed(p.ciLow)}, ${signed(p.ciHigh)}]`);
  }
  return parts.join(' · ');
}
