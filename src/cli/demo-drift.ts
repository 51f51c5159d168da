// The demo's drift part: the drift monitor workflow checks a week that looks like the champion's data (no drift, no
// run), then a later week whose delay patterns changed (simulated: every departure six hours later), finds drift and
// starts retrain/<model> with trigger=drift exactly as a long-running monitor does; the report's path is printed.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import pc from 'picocolors';
import { type LoadedConfig, modelDigest } from '../config';
import type { ModelConfig } from '../config/schema';
import { pullSnapshot } from '../data';
import { numericValues, stringValues, timeKeysMs } from '../data/columns';
import { openArtifactStore, type ArtifactStore } from '../store';
import { type TemporalTarget, runUrl } from '../temporal/connection';
import { printRunResult } from './format';
import { followRun } from './watch';
import { monitorWorkflowId, type DriftMonitorInput, type MonitorState, type RetrainResult } from '../contracts';

/** Weeks the demo checks: one like the training data, one later with a changed timetable. */
export const DEMO_DRIFT_WEEKS = {
  steady: { from: '2001-06-01', to: '2001-06-08' },
  changed: { from: '2001-06-15', to: '2001-06-22' },
} as const;

/** Writes the changed week as CSV: the same flights and delays, every departure six hours later. */
async function writeChangedWeek(cfg: ModelConfig, file: string): Promise<number> {
  const { table } = await pullSnapshot({
    source: { ...cfg.source, window: DEMO_DRIFT_WEEKS.changed, sample: { maxRows: cfg.drift?.maxRows ?? 20_000, seed: 1 }, derive: [] },
    contract: { minRows: 1, columns: {} },
    requiredColumns: ['date', 'delay', 'distance', 'origin', 'destination'],
  });
  const t = timeKeysMs(table.getChild('date')!);
  const delay = numericValues(table.getChild('delay')!);
  const distance = numericValues(table.getChild('distance')!);
  const origin = stringValues(table.getChild('origin')!);
  const destination = stringValues(table.getChild('destination')!);
  const lines = ['date,delay,distance,origin,destination'];
  for (let i = 0; i < table.numRows; i++) {
    const later = new Date(t[i]! + 6 * 3_600_000).toISOString().replace('T', ' ').slice(0, 19);
    lines.push(`${later},${delay[i]},${distance[i]},${origin[i]},${destination[i]}`);
  }
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, `${lines.join('\n')}\n`);
  return table.numRows;
}

/** One check by the drift monitor workflow (maxChecks 1) on a fixed window; returns its final state. */
async function checkOnce(client: Client, target: TemporalTarget, loaded: LoadedConfig, model: string, cfg: ModelConfig, window: { from: string; to: string }): Promise<MonitorState> {
  const input: DriftMonitorInput = { model, modelConfig: cfg, configDigest: loaded.digest, modelDigest: modelDigest(loaded, model), window, maxChecks: 1 };
  const handle = await client.workflow.start('driftMonitor', {
    taskQueue: target.taskQueue,
    // Its own id: a monitor of the model started with `relearn monitor start` is left alone.
    workflowId: `${monitorWorkflowId(model)}-demo`,
    args: [input],
    workflowIdConflictPolicy: 'TERMINATE_EXISTING',
    staticSummary: `demo: one drift check of ${model} on ${window.from} → ${window.to}`,
  });
  return (await handle.result()) as MonitorState;
}

// A local report is shown relative to the current folder; one in a bucket by its s3:// URL.
function relativeIfLocal(where: string): string {
  return path.isAbsolute(where) ? path.relative(process.cwd(), where) : where;
}

function describeCheck(state: MonitorState, store: ArtifactStore): string[] {
  const c = state.lastCheck;
  if (!c) return ['no check ran'];
  if (c.skipped) return [`no verdict: ${c.skipped}`];
  const lines = [
    `features drifted ${c.drifted}/${c.checked}${c.driftedFeatures?.length ? ` (${c.driftedFeatures.join(', ')})` : ''}; ` +
      `prediction drift ${c.predictionDrift === undefined ? 'n/a' : c.predictionDrift ? pc.red('yes') : 'no'}` +
      (c.metric?.value != null ? `; ${c.metric.name} ${c.metric.value.toFixed(4)} vs champion's holdout ${c.metric.championHoldout?.toFixed(4) ?? '—'}${c.metric.drifted ? pc.red(' (drop above the limit)') : ''}` : ''),
  ];
  if (c.report) lines.push(`report ${relativeIfLocal(store.locate(c.report.html))}`);
  return lines;
}

/**
 * Runs the demo's drift part with a worker already running: a steady week (nothing starts), then a changed week
 * (drift found, retrain/<model> started by the monitor with trigger=drift, followed to its end).
 */
export async function showDriftMonitor(opts: { client: Client; target: TemporalTarget; loaded: LoadedConfig; model: string }): Promise<RetrainResult | undefined> {
  const { client, target, loaded, model } = opts;
  const base = loaded.config.models[model]!;
  if (!base.drift) {
    console.log(pc.dim(`(no drift block for ${model} in temporal.yaml: the drift monitor part is skipped)`));
    return undefined;
  }
  const store = openArtifactStore(loaded);
  console.log(`\n${pc.bold('drift monitor')}  (${monitorWorkflowId(model)}-demo; the champion's training snapshot is the reference)`);

  const t0 = Date.now();
  const steady = await checkOnce(client, target, loaded, model, base, DEMO_DRIFT_WEEKS.steady);
  console.log(`  week ${DEMO_DRIFT_WEEKS.steady.from} → ${DEMO_DRIFT_WEEKS.steady.to}: ${steady.lastCheck?.retrain ? pc.red('drift') : 'no drift'}, runs started ${steady.triggered}`);
  for (const l of describeCheck(steady, store)) console.log(`    ${l}`);

  const file = path.join(loaded.stateDir, 'demo', 'changed-week.csv');
  const rows = await writeChangedWeek(base, file);
  // A worker runs only its own config: the demo points its own (this process's worker's) drift check at the changed
  // week, and the retrain the monitor starts carries that config too.
  base.drift = { ...base.drift, path: file };
  const changed = await checkOnce(client, target, loaded, model, base, DEMO_DRIFT_WEEKS.changed);
  console.log(
    `  week ${DEMO_DRIFT_WEEKS.changed.from} → ${DEMO_DRIFT_WEEKS.changed.to}, departures moved 6 hours later (${rows.toLocaleString('en-US')} flights, ${path.relative(process.cwd(), file)}): ` +
      `${changed.lastCheck?.retrain ? pc.red('drift') : 'no drift'}, runs started ${changed.triggered}`,
  );
  for (const l of describeCheck(changed, store)) console.log(`    ${l}`);
  console.log(pc.dim(`  both checks took ${((Date.now() - t0) / 1000).toFixed(1)} s`));
  const trigger = changed.lastTrigger;
  if (!trigger || trigger.action !== 'started' || !trigger.runId) {
    if (trigger) console.log(`  ${trigger.action}: ${trigger.reason}`);
    return undefined;
  }
  console.log(`\n${pc.bold('retrain started by drift')}  (${trigger.workflowId}, trigger=drift)`);
  console.log(pc.dim(`  reason: ${trigger.reason}`));
  const handle = client.workflow.getHandle(trigger.workflowId, trigger.runId);
  await followRun(handle);
  const result = (await handle.result()) as RetrainResult;
  printRunResult(result, { uiLink: runUrl(target, trigger.workflowId, trigger.runId) });
  return result;
}
