// relearn schedule …, relearn drift <model>, relearn monitor …: the automatic triggers.
import path from 'node:path';
import { ScheduleOverlapPolicy, WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError } from '@temporalio/client';
import type { Command } from 'commander';
import pc from 'picocolors';
import { type LoadedConfig, loadConfig, modelConfig, modelDigest } from '../config';
import { runDriftCheck } from '../drift/run-check';
import { jobCommandVars, trainingJobRunner } from '../drift/training-job-runner';
import { openLaunchers } from '../jobs/launchers';
import { ConfigError } from '../errors';
import { openRegistry } from '../registry';
import { openArtifactStore } from '../store';
import { connectClient, runUrl } from '../temporal/connection';
import { describeSchedule, listRelearnSchedules, scheduleIdOf, syncSchedules } from '../temporal/schedules';
import { num, table } from './format';
import { monitorWorkflowId, RelearnModel, RelearnStage, type DriftMonitorInput, type MonitorStatus } from '../contracts';

function configOf(cmd: Command): LoadedConfig {
  return loadConfig(cmd.optsWithGlobals<{ config: string }>().config);
}

function date(value: string, flag: string): Date {
  const t = Date.parse(value);
  if (Number.isNaN(t)) throw new ConfigError(`${flag}: '${value}' is not a date (expected e.g. 2001-03-01)`);
  return new Date(t);
}

async function withClient<T>(loaded: LoadedConfig, quiet: boolean, fn: (c: Awaited<ReturnType<typeof connectClient>>) => Promise<T>): Promise<T> {
  const connected = await connectClient(loaded, quiet ? undefined : (l) => console.log(pc.dim(l)));
  try {
    return await fn(connected);
  } finally {
    await connected.close();
  }
}

/** Registers `schedule`, `drift` and `monitor`. */
export function registerTriggerCommands(program: Command): void {
  const schedule = program.command('schedule').description('Temporal Schedules that retrain models (from `schedule:` in temporal.yaml)');
  schedule
    .command('sync')
    .description('create, update, pause or delete Schedules so the server matches temporal.yaml (idempotent)')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      const loaded = configOf(cmd);
      await withClient(loaded, Boolean(opts.json), async ({ client, target }) => {
        const changes = await syncSchedules(client, target, loaded);
        if (opts.json) return console.log(JSON.stringify(changes, null, 2));
        if (changes.length === 0) return console.log('no schedules in temporal.yaml and none on the server');
        for (const c of changes) console.log(`${c.action === 'unchanged' ? pc.dim(c.action.padEnd(9)) : pc.bold(c.action.padEnd(9))} ${c.scheduleId}  ${c.detail}`);
      });
    });
  schedule
    .command('list')
    .description('Schedules of this config with their next and recent runs')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      const loaded = configOf(cmd);
      await withClient(loaded, Boolean(opts.json), async ({ client, target }) => {
        const ids = await listRelearnSchedules(client, target);
        const states = await Promise.all(ids.map((id) => describeSchedule(client, id.slice('relearn/'.length))));
        if (opts.json) return console.log(JSON.stringify(states, null, 2));
        if (states.length === 0) return console.log('no Schedules (run `relearn schedule sync`)');
        console.log(
          table(
            ['model', 'schedule id', 'paused', 'overlap', 'next run', 'runs', 'skipped (overlap)', 'running'],
            states.map((s) => [s.model, s.scheduleId, s.paused ? 'yes' : 'no', s.overlap.replace('SCHEDULE_OVERLAP_POLICY_', ''), s.nextRuns[0] ?? '', s.actions, s.skippedOverlap, s.running]),
          ),
        );
      });
    });
  for (const verb of ['pause', 'unpause'] as const) {
    schedule
      .command(verb)
      .description(`${verb} the Schedule of <model> (until the next sync if temporal.yaml says otherwise)`)
      .argument('<model>')
      .option('--note <text>', 'why')
      .action(async (model: string, opts: { note?: string }, cmd: Command) => {
        const loaded = configOf(cmd);
        modelConfig(loaded, model);
        await withClient(loaded, false, async ({ client }) => {
          await describeSchedule(client, model);
          const handle = client.schedule.getHandle(scheduleIdOf(model));
          if (verb === 'pause') await handle.pause(opts.note ?? 'paused with relearn schedule pause');
          else await handle.unpause(opts.note ?? 'unpaused with relearn schedule unpause');
          console.log(`${verb}d ${scheduleIdOf(model)}`);
        });
      });
  }
  schedule
    .command('trigger')
    .description('start the Schedule of <model> now (its overlap policy applies: SKIP ignores it while a run is going)')
    .argument('<model>')
    .action(async (model: string, _opts, cmd: Command) => {
      const loaded = configOf(cmd);
      modelConfig(loaded, model);
      await withClient(loaded, false, async ({ client }) => {
        await describeSchedule(client, model);
        const handle = client.schedule.getHandle(scheduleIdOf(model));
        // The SDK would default to ALLOW_ALL for a manual trigger; the Schedule's own policy is what temporal.yaml says.
        await handle.trigger((await handle.describe()).policies.overlap);
        console.log(`triggered ${scheduleIdOf(model)}`);
      });
    });
  schedule
    .command('backfill')
    .description('take the Schedule’s actions for a past period, as if it had been running then')
    .argument('<model>')
    .requiredOption('--from <date>', 'start of the period')
    .requiredOption('--to <date>', 'end of the period')
    .option('--overlap <policy>', 'overlap policy for the backfill: skip, buffer_all, allow_all', 'buffer_all')
    .action(async (model: string, opts: { from: string; to: string; overlap: string }, cmd: Command) => {
      const loaded = configOf(cmd);
      modelConfig(loaded, model);
      const overlap = { skip: ScheduleOverlapPolicy.SKIP, buffer_all: ScheduleOverlapPolicy.BUFFER_ALL, allow_all: ScheduleOverlapPolicy.ALLOW_ALL }[opts.overlap];
      if (!overlap) throw new ConfigError(`--overlap: expected skip, buffer_all or allow_all (got '${opts.overlap}')`);
      await withClient(loaded, false, async ({ client }) => {
        await describeSchedule(client, model);
        await client.schedule.getHandle(scheduleIdOf(model)).backfill({ start: date(opts.from, '--from'), end: date(opts.to, '--to'), overlap });
        console.log(`backfill of ${scheduleIdOf(model)} requested for ${opts.from} → ${opts.to}`);
      });
    });

  program
    .command('drift')
    .description('run one drift check of <model> now (recent window vs the champion’s training snapshot) and print the table')
    .argument('<model>')
    .option('--from <date>', 'start of the recent window (default: the drift block’s window)')
    .option('--to <date>', 'end of the recent window, exclusive')
    .option('--json', 'print JSON')
    .action(async (model: string, opts: { from?: string; to?: string; json?: boolean }, cmd: Command) => {
      const loaded = configOf(cmd);
      const cfg = modelConfig(loaded, model);
      if (!cfg.drift) throw new ConfigError(`temporal.yaml: models.${model}.drift: the model has no drift block`);
      const now = Date.now();
      const w = cfg.drift.window;
      const window = {
        from: opts.from ? date(opts.from, '--from').toISOString() : (w.from ?? new Date(now - (w.last ?? 7 * 86_400_000)).toISOString()),
        to: opts.to ? date(opts.to, '--to').toISOString() : (w.to ?? new Date(now).toISOString()),
      };
      const registry = openRegistry(loaded);
      try {
        // drift.multivariate trains its domain classifier through the model's launcher, as a worker would.
        const runJob = trainingJobRunner({
          launcher: openLaunchers(loaded.stateDir, Object.values(loaded.config.models)).for(cfg.trainer.launcher),
          cfg,
          baseDir: loaded.baseDir,
          commandVars: jobCommandVars(loaded),
        });
        const deps = { store: openArtifactStore(loaded), registry, baseDir: loaded.baseDir, stateDir: loaded.stateDir, dataRoot: loaded.dataRoot, runJob };
        const { summary, report } = await runDriftCheck(deps, { model, modelConfig: cfg, window, checkedAt: new Date(now).toISOString() });
        if (opts.json) return console.log(JSON.stringify({ summary, report }, null, 2));
        if (!report) return console.log(`no verdict: ${summary.skipped}`);
        console.log(
          table(
            ['feature', 'method', 'statistic', 'threshold', 'drifted', 'missing ref/cur'],
            report.features.map((f) => [
              f.feature,
              f.method,
              f.statistic === null ? '—' : num(f.statistic, 6),
              num(f.effectiveThreshold, 6),
              f.drifted === null ? `no verdict (${f.note})` : f.drifted ? pc.red('yes') : 'no',
              `${(f.reference.missingShare * 100).toFixed(1)}% / ${(f.current.missingShare * 100).toFixed(1)}%`,
            ]),
          ),
        );
        console.log(`${report.datasetDrift ? pc.red('dataset drift') : 'no dataset drift'}: ${report.drifted}/${report.checked} features (share ≥ ${report.driftShare} drifts)`);
        const p = report.prediction;
        if (p) {
          const verdict = p.drifted === null ? `no verdict (${p.note})` : p.drifted ? pc.red('drifted') : 'no drift';
          console.log(`prediction (${p.what}): ${p.method} ${p.statistic === null ? '—' : num(p.statistic, 6)}, threshold ${num(p.effectiveThreshold, 6)}: ${verdict}${p.triggers ? '' : ' (reported only)'}`);
        }
        const m = report.metric;
        if (m) {
          const verdict = m.drifted === null ? (m.note ?? 'no maximum drop configured') : m.drifted ? pc.red(`drop above ${m.maxDrop}`) : `within ${m.maxDrop}`;
          console.log(`${m.metric} on ${m.labelled} labelled rows (${m.labelsFrom}): ${m.value === null ? '—' : num(m.value, 4)} vs champion holdout ${m.championHoldout === null ? '—' : num(m.championHoldout, 4)}: ${verdict}`);
        }
        const e = report.estimated;
        if (e) {
          if ('note' in e) console.log(`estimated ${e.metric} (CBPE): no estimate (${e.note})`);
          else {
            const verdict = e.drifted === null ? 'no verdict' : e.drifted ? pc.red(`drop above ${e.maxDrop}`) : `within ${e.maxDrop}`;
            const realized = e.realized ? `; realized ${e.realized.value === null ? '—' : num(e.realized.value, 4)} on ${e.realized.rows} labelled rows` : '; no labels';
            console.log(
              `estimated ${e.metric} (CBPE, no labels): ${num(e.value, 4)} [${num(e.lower, 4)}, ${num(e.upper, 4)}] vs champion holdout ${e.championHoldout === null ? '—' : num(e.championHoldout, 4)}: ${verdict}${realized}`,
            );
          }
        }
        const mv = report.multivariate;
        if (mv) {
          console.log(
            `multivariate (domain classifier, ${mv.folds} folds): ROC AUC ${num(mv.auc, 4)}, maximum ${mv.maxAuc}: ${mv.drifted ? pc.red('drifted') : 'no drift'}; ` +
              `explained by ${mv.explained.slice(0, 3).map((f) => `${f.feature} ${(f.impact * 100).toFixed(0)}%`).join(', ')}`,
          );
        }
        console.log(report.retrain ? pc.red('→ retraining asked for') : '→ no retraining needed');
        console.log(`report ${summary.report?.html ? openArtifactStore(loaded).locate(summary.report.html) : ''}`);
      } finally {
        await registry.close();
      }
    });

  const monitor = program.command('monitor').description('the drift monitor workflow of a model (monitor/<model>)');
  monitor
    .command('start')
    .description('start the drift monitor of <model> (returns the running one if it is already going)')
    .argument('<model>')
    .action(async (model: string, _opts, cmd: Command) => {
      const loaded = configOf(cmd);
      const cfg = modelConfig(loaded, model);
      if (!cfg.drift?.enabled) throw new ConfigError(`temporal.yaml: models.${model}.drift: no enabled drift block`);
      await withClient(loaded, false, async ({ client, target }) => {
        const input: DriftMonitorInput = { model, modelConfig: cfg, configDigest: loaded.digest, modelDigest: modelDigest(loaded, model) };
        try {
          const handle = await client.workflow.start('driftMonitor', {
            taskQueue: target.taskQueue,
            workflowId: monitorWorkflowId(model),
            args: [input],
            typedSearchAttributes: [
              { key: RelearnModel, value: model },
              { key: RelearnStage, value: 'monitor' },
            ],
            staticSummary: `drift monitor of ${model}, every ${cfg.drift!.every} ms`,
          });
          console.log(`started ${handle.workflowId} run ${handle.firstExecutionRunId}`);
          const link = runUrl(target, handle.workflowId);
          if (link) console.log(`web ui   ${link}`);
        } catch (err) {
          if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
          console.log(`the drift monitor of ${model} is already running (${monitorWorkflowId(model)})`);
        }
      });
    });
  monitor
    .command('status')
    .description('checks, drifts found, runs triggered, triggers suppressed by the cooldown, the last report')
    .argument('<model>')
    .option('--json', 'print JSON')
    .action(async (model: string, opts: { json?: boolean }, cmd: Command) => {
      const loaded = configOf(cmd);
      await withClient(loaded, Boolean(opts.json), async ({ client }) => {
        try {
          const status = await client.workflow.getHandle(monitorWorkflowId(model)).query<MonitorStatus>('status');
          if (opts.json) return console.log(JSON.stringify(status, null, 2));
          console.log(`checks ${status.checks}, drift found ${status.driftsFound}, runs started ${status.triggered}, suppressed by cooldown ${status.suppressed}, absorbed by a running run ${status.absorbed}`);
          if (status.cooldownUntil) console.log(`cooldown until ${status.cooldownUntil}`);
          if (status.lastCheck) console.log(`last check ${status.lastCheck.checkedAt}: ${status.lastCheck.skipped ?? `${status.lastCheck.drifted}/${status.lastCheck.checked} features drifted (share ${num(status.lastCheck.share ?? 0, 3)})`}${status.lastCheck.report ? `, report ${status.lastCheck.report.html}` : ''}`);
          const est = status.lastCheck?.estimated;
          if (est) {
            const band = est.lower !== null && est.upper !== null ? ` [${num(est.lower, 4)}, ${num(est.upper, 4)}]` : '';
            const value = est.value === null ? `no estimate (${est.note ?? 'no verdict'})` : `${num(est.value, 4)}${band} vs holdout ${est.championHoldout === null ? '—' : num(est.championHoldout, 4)}`;
            console.log(`  estimated ${est.name} (no labels): ${value}${est.drifted ? pc.red(' — drop') : ''}${est.realized !== undefined && est.realized !== null ? `; realized ${num(est.realized, 4)}` : ''}`);
          }
          if (status.lastTrigger) console.log(`last trigger ${status.lastTrigger.at}: ${status.lastTrigger.action} — ${status.lastTrigger.reason}`);
        } catch (err) {
          if (err instanceof WorkflowNotFoundError) throw new ConfigError(`no drift monitor of ${model} (run \`relearn monitor start ${model}\`)`);
          throw err;
        }
      });
    });
  monitor
    .command('stop')
    .description('cancel the drift monitor of <model>')
    .argument('<model>')
    .action(async (model: string, _opts, cmd: Command) => {
      const loaded = configOf(cmd);
      await withClient(loaded, false, async ({ client }) => {
        await client.workflow.getHandle(monitorWorkflowId(model)).cancel();
        console.log(`cancelled ${monitorWorkflowId(model)}`);
      });
    });
}
