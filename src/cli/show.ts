import path from 'node:path';
import type { Command } from 'commander';
import pc from 'picocolors';
import { loadConfig, modelConfig } from '../config';
import { type RunReport, inspectRun, resolveRun } from '../inspect/runs';
import { openRegistry } from '../registry';
import { connectClient, runUrl } from '../temporal/connection';
import { num, printRolloutStep, table } from './format';
import { decisionWord, duration, indent, metricsTable } from './inspect-format';
import { searchLines } from './search-format';
import type { SearchSummary, UndefinedMetricsOfEvaluation } from '../contracts';

type StoredGate = { verdict?: string; primaryMetric?: string; rules?: Array<{ passed: boolean; reason: string }> };

function printReport(r: RunReport, url: string | undefined): void {
  const started = Date.parse(r.startTime);
  console.log(`${pc.bold(r.workflowId)}  run ${r.runId}`);
  console.log(`  status     ${r.status}, started ${r.startTime.replace('T', ' ').slice(0, 19)} UTC, ${r.closeTime ? 'took' : 'running for'} ${duration(r.durationMs)}`);
  if (r.history.staticSummary) console.log(`  summary    ${r.history.staticSummary}`);
  console.log(`  trigger    ${r.trigger ?? '?'}    stage ${r.stage ?? '?'}    decision ${decisionWord(r.decision)}${r.version !== null ? `    version v${r.version}` : ''}`);
  const memo = r.memo as { snapshotSha256?: string; parentVersion?: number | 'none'; configDigest?: string };
  console.log(
    `  lineage    snapshot ${memo.snapshotSha256?.slice(0, 16) ?? '?'}…  parent ${memo.parentVersion === undefined ? '?' : memo.parentVersion === 'none' ? '(none)' : `v${memo.parentVersion}`}  config ${memo.configDigest?.slice(0, 16) ?? '?'}…`,
  );
  if (r.live) {
    const p = r.live.progress;
    console.log(`  now        ${r.live.stage}: ${r.live.detail}${p && p.total > 1 ? ` (${p.done}/${p.total} ${p.unit})` : ''}`);
  }

  console.log('\nstages');
  console.log(
    indent(
      table(
        ['stage', 'starts at', 'duration', 'activities'],
        r.history.stages.map((s) => [s.stage, s.startedAt ? `+${duration(Date.parse(s.startedAt) - started)}` : '', duration(s.durationMs), s.activities]),
      ),
    ),
  );
  console.log('\nactivities (the event history, in order)');
  console.log(
    indent(
      table(
        ['summary', 'activity', 'duration', 'attempts', 'state'],
        r.history.activities.map((a) => [a.summary ?? '', a.activityType, duration(a.durationMs), a.attempts, a.state]),
      ),
    ),
  );

  const result = r.result;
  const metrics = r.registered?.metrics as
    | {
        cv?: Record<string, never>;
        perFold?: Array<Record<string, number>>;
        holdout?: { rows?: number; candidate?: Record<string, number>; champion?: Record<string, number> };
        undefined?: UndefinedMetricsOfEvaluation;
      }
    | undefined;
  const evaluation =
    result?.evaluation ?? (metrics?.cv ? { summary: metrics.cv, perFold: metrics.perFold ?? [], holdout: metrics.holdout ?? {}, undefined: metrics.undefined } : undefined);
  const championBefore = result?.championBefore ?? ((r.registered?.lineage as { parentVersion?: number | null } | undefined)?.parentVersion ?? null);
  if (evaluation) {
    console.log('\nmetrics (computed by Relearn with onnxruntime on the stored ONNX bytes)');
    console.log(
      indent(
        metricsTable({ perFold: evaluation.perFold, summary: evaluation.summary, holdout: evaluation.holdout, championVersion: championBefore, undefined: evaluation.undefined }),
      ),
    );
  }
  const search = result?.search ?? (r.registered?.metrics as { search?: SearchSummary } | undefined)?.search;
  if (search) console.log(`\n${searchLines(search).join('\n')}`);
  const shownGate: StoredGate | undefined = result?.gate ?? (r.registered?.gate as StoredGate | undefined) ?? r.live?.gate;
  if (shownGate?.rules) {
    console.log(`\ngate       ${shownGate.verdict === 'PASS' ? pc.green('PASS') : pc.red(String(shownGate.verdict))} (primary metric ${shownGate.primaryMetric})`);
    for (const rule of shownGate.rules) console.log(`           ${rule.passed ? pc.green('✓') : pc.red('✗')} ${rule.reason}`);
  }
  // The live-traffic steps: from the result of a finished run, from the status of a running one.
  const steps = result?.rollout ?? r.live?.rollout ?? [];
  if (steps.length > 0) {
    console.log('\nrollout (live traffic: shadow, approval, guard)');
    for (const step of steps) printRolloutStep(step);
  } else {
    console.log(`\nrollout    ${pc.dim('no shadow, approval or guard step in this run')}`);
  }
  for (const a of r.audit) {
    console.log(`alias      ${a.alias}: ${a.fromVersion === null ? '(none)' : `v${a.fromVersion}`} → ${a.toVersion === null ? '(none)' : `v${a.toVersion}`} (${a.action}) — ${a.reason}`);
  }
  if (result) {
    console.log(
      `\ndecision   ${decisionWord(result.decision)}: registered v${result.version}; champion ${result.championBefore === null ? '(none)' : `v${result.championBefore}`} → ${
        result.championAfter === null ? '(none)' : `v${result.championAfter}`
      }${result.promotion.promoted ? '' : ` — ${result.promotion.reason}`}`,
    );
    const onnx = result.candidate;
    console.log(`onnx       ${onnx.artifact.uri} (${(onnx.artifact.sizeBytes / 1024).toFixed(1)} KiB, latency ${num(onnx.singleRowLatencyMs, 3)} ms, parity |Δ| ${onnx.parityMaxAbsDiff.toExponential(2)})`);
  } else if (r.history.failure) {
    console.log(`\n${failureLines(r).join('\n')}`);
  } else {
    console.log(`\ndecision   ${decisionWord(r.decision)}`);
  }
  if (url) console.log(`web ui     ${url}`);
}

/**
 * How a failed run ended, in two lines: the stage it failed in with the activity that failed (its summary, type and
 * attempts), then the failure's reason (the message chain, outermost first). `relearn show` and `run --wait` print it.
 */
export function failureLines(r: Pick<RunReport, 'stage' | 'history'>): string[] {
  const failed = r.history.activities.find((a) => a.state === 'failed' || a.state === 'timed-out');
  const activity = failed
    ? `: ${failed.summary ?? failed.activityType} (${failed.activityType}, ${failed.state} after ${failed.attempts} attempt${failed.attempts === 1 ? '' : 's'})`
    : '';
  return [`failed in  stage ${r.stage ?? '?'}${activity}`, `decision   ${decisionWord('failed')}: ${r.history.failure ?? '(the history records no failure)'}`];
}

/** `relearn show <model> [run]`: one run's stages, metrics, gate reasons, evidence, decision and UI link. */
export function registerShowCommand(program: Command): void {
  program
    .command('show')
    .description('show one run: stages with durations, metrics per fold, gate reasons, decision, Web UI link')
    .argument('<model>', 'model name')
    .argument('[run]', 'run id (or a unique prefix), or v<N> for the run that produced version N; default: the newest run')
    .option('--json', 'print JSON')
    .action(async (model: string, ref: string | undefined, opts: { json?: boolean }, cmd: Command) => {
      const loaded = loadConfig(cmd.optsWithGlobals<{ config: string }>().config);
      // A pipeline may feed a registry model of another name (registryModel).
      const registryModel = modelConfig(loaded, model).registryModel ?? model;
      const registry = openRegistry(loaded);
      const { client, target, close } = await connectClient(loaded, opts.json ? undefined : (l) => console.log(pc.dim(l)));
      try {
        const run = await resolveRun(client, registry, model, ref, registryModel);
        const report = await inspectRun(client, registry, model, run, registryModel);
        const url = runUrl(target, run.workflowId, run.runId);
        if (opts.json) console.log(JSON.stringify({ ...report, url: url ?? null }, null, 2));
        else printReport(report, url);
      } finally {
        await registry.close();
        await close();
      }
    });
}
