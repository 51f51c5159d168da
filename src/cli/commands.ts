import path from 'node:path';
import { WorkflowFailedError } from '@temporalio/client';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { type Command, Option } from 'commander';
import pc from 'picocolors';
import { type LoadedConfig, loadConfig, modelConfig } from '../config';
import { ConfigError } from '../errors';
import { CHAMPION_ALIAS, openRegistry } from '../registry';
import { runSetup } from '../setup';
import { setupServer } from './setup-server';
import { DECISIONS, inspectRun, listRuns, parseSince, type RunFilters, TRIGGERS } from '../inspect/runs';
import { registerGateCommand } from './gate';
import { registerLineageCommand } from './lineage';
import { failureLines, registerShowCommand } from './show';
import { connectClient, runUrl } from '../temporal/connection';
import { stopDevServer } from '../temporal/dev-server';
import { startRetrain } from '../temporal/runs';
import { type PollerSeen, taskQueuePollers } from '../temporal/task-queue';
import { createRelearnWorker } from '../temporal/worker';
import { runDemo } from './demo';
import { num, printRunResult, table } from './format';
import { followRun, watchForWorker } from './watch';
import { indent } from './inspect-format';
import { registerTriggerCommands } from './triggers';
import { registerServeCommand } from './serve';
import { registerRolloutCommands } from './rollout';
import { registerReportCommands } from './report';
import { primaryMetricOf, type RetrainResult, type Trigger, type UndefinedMetricsOfEvaluation } from '../contracts';

function configOf(cmd: Command): LoadedConfig {
  return loadConfig(cmd.optsWithGlobals<{ config: string }>().config);
}

function isoDay(value: string, flag: string): string {
  if (Number.isNaN(Date.parse(value))) throw new ConfigError(`${flag}: '${value}' is not a date (expected e.g. 2001-03-01)`);
  return value;
}

/** How long a run's task may wait for a worker before `run --wait` says so and starts one. */
const NO_WORKER_AFTER_MS = 5_000;

/** "1234@host, last poll 12 s ago" for the workers a task queue still lists. */
function pollersPhrase(pollers: PollerSeen[]): string {
  return pollers.map((p) => `${p.identity}, last poll ${Number.isFinite(p.lastPollAgeMs) ? `${Math.round(p.lastPollAgeMs / 1000)} s ago` : 'never'}`).join('; ');
}

/**
 * The worker `run --wait` runs in its own process logs each warning (an activity failed, a retry) as one line on
 * stderr, without the stack traces a worker's log carries for operators: the person who typed the command reads it.
 */
function installOneLineWorkerLog(): void {
  const logger = new DefaultLogger('WARN', ({ level, message, meta }) => {
    const error = meta?.error instanceof Error ? `: ${meta.error.message}` : '';
    const activity = typeof meta?.activityType === 'string' ? ` (${meta.activityType})` : '';
    console.error(pc.dim(`worker ${level.toLowerCase()}: ${message}${activity}${error}`));
  });
  try {
    Runtime.install({ logger });
  } catch {
    // A runtime is installed already (the embedding program's): its log stays as it is.
  }
}

/** Registers every verb of the CLI on `program`. */
export function registerCommands(program: Command): void {
  registerTriggerCommands(program);
  program
    .command('setup')
    .description(
      'install what is missing: the training job’s Python environment and the Temporal CLI; on a server named in the config, register Relearn’s search attributes (idempotent)',
    )
    .option('--server', 'only register the search attributes on the configured Temporal server')
    .option('--browser', 'also install Chromium for the browser tests (Debian package, needs root; npm test asks for it)')
    .option(
      '--test-clients',
      'also install the Python clients the tests drive the server with (test/requirements.txt) and the Ray the Ray launcher tests start (test/requirements-ray.txt); npm test asks for them',
    )
    .action(async (opts: { server?: boolean; browser?: boolean; testClients?: boolean }, cmd: Command) => {
      if (!opts.server) await runSetup({ browser: opts.browser, testClients: opts.testClients, ray: opts.testClients });
      await setupServer(cmd, Boolean(opts.server));
    });

  program
    .command('dev')
    .description('start (or reuse) the embedded Temporal dev server and run a worker in the foreground; Ctrl-C stops the worker')
    .action(async (_opts, cmd: Command) => {
      const loaded = configOf(cmd);
      const { target, close } = await connectClient(loaded, (l) => console.log(pc.dim(l)));
      await close();
      console.log(`Temporal ${target.address}, namespace ${target.namespace}, task queue ${target.taskQueue}`);
      if (target.uiUrl) console.log(`Web UI   ${target.uiUrl}`);
      const { worker, close: closeWorker } = await createRelearnWorker(loaded, target);
      console.log('worker running; Ctrl-C to stop');
      await worker.run();
      await closeWorker();
    });

  program
    .command('worker')
    .description('run a worker for the pipelines in the config (Temporal address from the config or TEMPORAL_ADDRESS)')
    .option('--max-activities <n>', 'concurrent activities', (v) => Number.parseInt(v, 10), 8)
    .option('--grace-ms <ms>', 'how long running activities may finish after SIGTERM', (v) => Number.parseInt(v, 10), 20_000)
    .action(async (opts: { maxActivities: number; graceMs: number }, cmd: Command) => {
      const loaded = configOf(cmd);
      const { target, close } = await connectClient(loaded, (l) => console.log(pc.dim(l)));
      await close();
      const { worker, close: closeWorker } = await createRelearnWorker(loaded, target, {
        maxConcurrentActivities: opts.maxActivities,
        shutdownGraceMs: opts.graceMs,
      });
      console.log(`worker polling ${target.taskQueue} on ${target.address} (${target.namespace}); Ctrl-C or SIGTERM to stop`);
      await worker.run();
      await closeWorker();
      console.log('worker stopped');
    });

  program
    .command('run')
    .description('start a retraining run of <model> (returns the running one if a run is already going)')
    .argument('<model>', 'model name from the config')
    .option('--wait', 'follow the run and print its result or why it failed (exit code 1); runs a worker in this process when none polled recently or none picks the run up within 5 s')
    .option('--from <date>', 'start of the data window (overrides the config)')
    .option('--to <date>', 'end of the data window, exclusive (overrides the config)')
    .addOption(new Option('--trigger <kind>', 'what started the run').choices(['manual', 'api', 'schedule', 'drift']).default('manual'))
    .option('--json', 'print JSON')
    .action(async (model: string, opts: { wait?: boolean; from?: string; to?: string; trigger: Trigger; json?: boolean }, cmd: Command) => {
      const loaded = configOf(cmd);
      modelConfig(loaded, model);
      const window = {
        ...(opts.from ? { from: isoDay(opts.from, '--from') } : {}),
        ...(opts.to ? { to: isoDay(opts.to, '--to') } : {}),
      };
      const log = opts.json ? () => undefined : (l: string) => console.log(pc.dim(l));
      const { client, target, close } = await connectClient(loaded, log);
      try {
        const started = await startRetrain(client, target, loaded, model, { trigger: opts.trigger, window });
        const link = runUrl(target, started.workflowId, started.runId);
        if (!opts.json) {
          console.log(
            started.existing
              ? `a run of ${model} is already going: ${started.workflowId} ${started.runId} (no second run started)`
              : `started ${started.workflowId} run ${started.runId}`,
          );
          if (link) console.log(`web ui   ${link}`);
        }
        if (!opts.wait) {
          if (opts.json) console.log(JSON.stringify({ ...started, url: link }, null, 2));
          return;
        }
        // Notices go to stderr with --json, so stdout stays one JSON document.
        const notice = opts.json ? (l: string) => console.error(l) : (l: string) => console.log(pc.yellow(l));
        let embedded: Awaited<ReturnType<typeof createRelearnWorker>> | undefined;
        let workerDone: Promise<void> | undefined;
        const startWorker = async () => {
          installOneLineWorkerLog();
          embedded = await createRelearnWorker(loaded, target);
          workerDone = embedded.worker.run();
        };
        // A worker counts when it polled recently; the server lists one that has gone for minutes more.
        const pollers = await taskQueuePollers(client, target);
        if (pollers.live.length === 0) {
          log(
            `no worker polls task queue '${target.taskQueue}'${pollers.stale.length > 0 ? ` (listed but gone: ${pollersPhrase(pollers.stale)})` : ''}; running one in this process until the run ends`,
          );
          await startWorker();
        }
        const handle = client.workflow.getHandle(started.workflowId, started.runId);
        // A worker that polled a moment ago may have left since: if the run's next task waits, say so and start one.
        const stopWatch = embedded
          ? undefined
          : watchForWorker(handle, {
              afterMs: NO_WORKER_AFTER_MS,
              onNoWorker: async (waiting) => {
                notice(
                  `no worker has picked up ${waiting.task} in ${Math.round(waiting.waitingMs / 1000)} s (task queue '${target.taskQueue}' lists ${
                    pollers.live.length > 0 ? pollersPhrase(pollers.live) : 'no worker'
                  }); running one in this process until the run ends — to keep one running, start \`npx relearn worker\``,
                );
                await startWorker();
              },
            });
        try {
          if (!opts.json) await followRun(handle);
          let result: RetrainResult;
          try {
            result = (await handle.result()) as RetrainResult;
          } catch (err) {
            if (!(err instanceof WorkflowFailedError)) throw err;
            // Said the way `relearn show` says it, from the run's history: the stage, the failed activity, the reason.
            const registry = openRegistry(loaded);
            try {
              const cfg = modelConfig(loaded, model);
              const report = await inspectRun(client, registry, model, started, cfg.registryModel ?? model);
              if (opts.json) {
                console.log(JSON.stringify({ ...started, url: link, failure: { stage: report.stage, reason: report.history.failure ?? null } }, null, 2));
              } else {
                console.log(indent(failureLines(report).join('\n')));
                console.log(`  details    relearn show ${model} ${started.runId}`);
              }
            } finally {
              await registry.close();
            }
            process.exitCode = 1;
            return;
          }
          if (opts.json) console.log(JSON.stringify({ ...started, url: link, result }, null, 2));
          else printRunResult(result, { uiLink: link });
        } finally {
          await stopWatch?.();
          if (embedded) {
            embedded.worker.shutdown();
            await workerDone;
            await embedded.close();
          }
        }
      } finally {
        await close();
      }
    });

  program
    .command('runs')
    .description('list retraining runs (newest first), filtered by the search attributes')
    .argument('[model]', 'only this model')
    .addOption(new Option('--decision <decision>', 'only runs with this decision').choices([...DECISIONS]))
    .addOption(new Option('--trigger <trigger>', 'only runs started this way').choices([...TRIGGERS]))
    .option('--since <when>', 'only runs started since a date (2001-03-01) or within an age (30m, 12h, 7d, 2w)')
    .option('--limit <n>', 'at most this many', (v) => Number.parseInt(v, 10), 20)
    .option('--json', 'print JSON')
    .action(async (model: string | undefined, opts: { limit: number; json?: boolean } & Omit<RunFilters, 'model' | 'since'> & { since?: string }, cmd: Command) => {
      const loaded = configOf(cmd);
      if (model) modelConfig(loaded, model);
      const filters: RunFilters = { model, decision: opts.decision, trigger: opts.trigger, since: opts.since ? parseSince(opts.since) : undefined };
      const { client, target, close } = await connectClient(loaded, opts.json ? undefined : (l) => console.log(pc.dim(l)));
      try {
        const runs = (await listRuns(client, filters, opts.limit)).map((r) => ({ ...r, url: runUrl(target, r.workflowId, r.runId) ?? null }));
        if (opts.json) {
          console.log(JSON.stringify(runs, null, 2));
          return;
        }
        if (runs.length === 0) {
          console.log('no runs yet');
          return;
        }
        console.log(
          table(
            ['model', 'run id', 'status', 'started', 'trigger', 'stage', 'decision', 'version', 'primary'],
            runs.map((r) => [
              String(r.model ?? ''),
              // Run ids are UUIDv7: the first 12 digits are the start time, so a prefix must go past them.
              String(r.runId).slice(0, 18),
              String(r.status),
              String(r.startTime).replace('T', ' ').slice(0, 19),
              String(r.trigger ?? ''),
              String(r.stage ?? ''),
              String(r.decision ?? ''),
              r.version === null ? '' : `v${r.version}`,
              r.primaryMetric === null ? '' : num(r.primaryMetric as number),
            ]),
          ),
        );
      } finally {
        await close();
      }
    });

  registerShowCommand(program);
  registerLineageCommand(program);
  registerGateCommand(program);

  program
    .command('versions')
    .description('list the registered versions of <model> with their aliases, metrics and gate verdicts')
    .argument('<model>', 'model name')
    .option('--json', 'print JSON')
    .action(async (model: string, opts: { json?: boolean }, cmd: Command) => {
      const loaded = configOf(cmd);
      const cfg = modelConfig(loaded, model);
      const registry = openRegistry(loaded);
      try {
        // A pipeline may feed a registry model of another name (registryModel).
        const versions = await registry.listVersions(cfg.registryModel ?? model);
        const aliases = await registry.listAliases(cfg.registryModel ?? model);
        if (opts.json) {
          console.log(JSON.stringify({ model, aliases, versions, audit: await registry.auditLog(cfg.registryModel ?? model) }, null, 2));
          return;
        }
        if (versions.length === 0) {
          console.log(`no versions of ${model} yet`);
          return;
        }
        const primary = primaryMetricOf(cfg);
        console.log(
          table(
            ['version', 'created', 'aliases', `${primary} (CV)`, 'gate', 'snapshot', 'run id'],
            versions.map((v) => {
              const stored = v.metrics as { cv?: Record<string, { mean?: number; std?: number }>; undefined?: UndefinedMetricsOfEvaluation };
              const cv = stored.cv?.[primary];
              const undefinedWhy = stored.undefined?.summary?.[primary];
              return [
                `v${v.version}`,
                v.createdAt.replace('T', ' ').slice(0, 19),
                aliases.filter((a) => a.version === v.version).map((a) => a.alias).join(', '),
                undefinedWhy !== undefined ? `undefined (${undefinedWhy})` : cv ? `${num(cv.mean)} ± ${num(cv.std)}` : '',
                String((v.gate as { verdict?: string }).verdict ?? ''),
                v.snapshotSha256.slice(0, 12),
                v.runId.slice(0, 8),
              ];
            }),
          ),
        );
        const champion = aliases.find((a) => a.alias === CHAMPION_ALIAS);
        console.log(champion ? `champion: v${champion.version}` : 'no champion yet');
      } finally {
        await registry.close();
      }
    });

  const server = program.command('server').description('the embedded Temporal dev server');
  server
    .command('start')
    .description('start the dev server (or find the one already running) and print its addresses')
    .action(async (_opts, cmd: Command) => {
      const loaded = configOf(cmd);
      const { target, close } = await connectClient(loaded, (l) => console.log(pc.dim(l)));
      await close();
      console.log(`Temporal ${target.address} (namespace ${target.namespace})${target.uiUrl ? `, Web UI ${target.uiUrl}` : ''}`);
    });
  server
    .command('stop')
    .description('stop the dev server this project started (its database is kept)')
    .action(async (_opts, cmd: Command) => {
      const loaded = configOf(cmd);
      console.log((await stopDevServer(loaded.stateDir)) ? 'dev server stopped' : 'no dev server of this project is running');
    });

  program
    .command('demo')
    .description('the flights demo: two retraining runs on US flights of 2001, the second gated against the first')
    .option('--rows <n>', 'rows sampled per window', (v) => Number.parseInt(v, 10))
    .action(async (opts: { rows?: number }, cmd: Command) => {
      await runDemo({ configPath: cmd.optsWithGlobals<{ config: string }>().config, rows: opts.rows });
    });

  registerServeCommand(program);
  registerRolloutCommands(program);
  registerReportCommands(program);
}
