import { rmSync } from 'node:fs';
import path from 'node:path';
import { WorkflowNotFoundError } from '@temporalio/client';
import pc from 'picocolors';
import { loadConfig, modelConfig } from '../config';
import { connectClient, runUrl } from '../temporal/connection';
import { startRetrain } from '../temporal/runs';
import { createRelearnWorker } from '../temporal/worker';
import { showDriftMonitor } from './demo-drift';
import { type DemoServing, type WindowStepPlan, type WindowTrafficReport, runOtherPipeline, startDemoServing, windowDecisionLine } from './demo-live';
import { printRunResult } from './format';
import { searchLines } from './search-format';
import { followRun } from './watch';
import { demoReport } from './demo-report';
import { retrainWorkflowId, type RetrainResult } from '../contracts';

const MODEL = 'flights-delay';
/** The same registry model fed by a pipeline with a label bug (no shadow window), and by its fix (temporal.yaml). */
const BAD_MODEL = 'flights-delay-mislabeled';
const FIX_MODEL = 'flights-delay-fixed';
/** Each window's share of the late-June replay, sent when it opens (the windows' minLabeledRows). */
const WINDOW_STEP: WindowStepPlan = { rows: 8000, rowsPerRequest: 100 };
/** Run 1 trains on an early window and becomes champion; run 2 trains on a later one and is gated against it. */
const WINDOWS = [
  { title: 'run 1 — April 2001', from: '2001-04-01', to: '2001-05-01' },
  { title: 'run 2 — May 2001', from: '2001-05-01', to: '2001-06-01' },
] as const;

/** `relearn demo`: two real retraining runs of the flights model, on the embedded dev server, with a worker in-process. */
export async function runDemo(opts: { configPath: string; rows?: number }): Promise<void> {
  const t0 = Date.now();
  const loaded = loadConfig(opts.configPath);
  const cfg = modelConfig(loaded, MODEL);
  if (opts.rows) cfg.source.sample = { maxRows: opts.rows, seed: cfg.source.sample?.seed ?? 7 };
  // The demo keeps its own registry and task queue so it starts from "no champion" every time and never hands its
  // runs to a worker started elsewhere with another registry (a PostgreSQL one in temporal.yaml included).
  loaded.config.registry = { sqlite: path.join('demo', 'registry.db') };
  loaded.config.temporal.taskQueue = 'relearn-demo';
  for (const suffix of ['', '-wal', '-shm']) rmSync(path.join(loaded.stateDir, 'demo', `registry.db${suffix}`), { force: true });

  console.log(pc.bold('Relearn demo: will a US flight of 2001 be more than 15 minutes late?'));
  console.log(
    `data: ${path.relative(process.cwd(), cfg.source.path)}; features ${[...cfg.features.numeric, ...cfg.features.categorical].join(', ')}; ` +
      `${cfg.trainer.estimator}; ${cfg.split.folds}-fold CV; gate on ${cfg.gate.primaryMetric}`,
  );
  if (cfg.source.sample) {
    console.log(pc.dim(`each window is sampled to ${cfg.source.sample.maxRows.toLocaleString('en-US')} rows (seed ${cfg.source.sample.seed}) to fit this demo's time budget`));
  }
  const { client, target, close } = await connectClient(loaded, (l) => console.log(pc.dim(l)));
  const workflowId = retrainWorkflowId(MODEL);
  try {
    const leftover = await client.workflow.getHandle(workflowId).describe().catch((err: unknown) => {
      if (err instanceof WorkflowNotFoundError) return undefined;
      throw err;
    });
    if (leftover?.status.name === 'RUNNING') {
      console.log(pc.dim(`terminating a leftover demo run ${leftover.runId}`));
      await client.workflow.getHandle(workflowId, leftover.runId).terminate('superseded by a new demo');
    }
    const { worker, close: closeWorker } = await createRelearnWorker(loaded, target);
    const results: RetrainResult[] = [];
    // Run 1 trains with the configured params; run 2 searches the model's search space first (docs/search.md).
    const search = cfg.search;
    // From run 2 on, the champion is served and late-June flights are sent to each shadow and guard window as it opens.
    let live: DemoServing | undefined;
    let feeding: { stop(): Promise<WindowTrafficReport[]> } | undefined;
    await worker.runUntil(async () => {
      for (const window of WINDOWS) {
        const started = Date.now();
        cfg.search = window === WINDOWS[0] ? undefined : search;
        console.log(`\n${pc.bold(window.title)}  (${workflowId})`);
        const run = await startRetrain(client, target, loaded, MODEL, { trigger: 'manual', window: { from: window.from, to: window.to } });
        const handle = client.workflow.getHandle(run.workflowId, run.runId);
        await followRun(handle);
        const result = (await handle.result()) as RetrainResult;
        results.push(result);
        printRunResult(result, { uiLink: runUrl(target, run.workflowId, run.runId) });
        if (result.search) console.log(searchLines(result.search).map((l) => `  ${l}`).join('\n'));
        console.log(pc.dim(`  took ${((Date.now() - started) / 1000).toFixed(1)} s`));
        if (window === WINDOWS[0] && cfg.rollout !== undefined) {
          live = await startDemoServing(loaded, MODEL, client);
          feeding = live.feedWindows([workflowId, retrainWorkflowId(BAD_MODEL), retrainWorkflowId(FIX_MODEL)], () => WINDOW_STEP);
        }
      }
      // The drift monitor: a steady week starts nothing, a changed one starts a retrain (src/cli/demo-drift.ts). That
      // retrain trains with the configured params: run 2 showed a search, and the demo has a time budget.
      cfg.search = undefined;
      const drifted = await showDriftMonitor({ client, target, loaded, model: MODEL });
      if (drifted) results.push(drifted);
      if (live !== undefined && loaded.config.models[BAD_MODEL] !== undefined) {
        results.push(
          await runOtherPipeline({
            client,
            target,
            loaded,
            model: BAD_MODEL,
            title: `run 3 — a bad candidate: ${BAD_MODEL}  (label bug: \`delayed\` computed from the distance; no shadow window, guard only)`,
          }),
        );
      }
      if (live !== undefined && loaded.config.models[FIX_MODEL] !== undefined) {
        results.push(
          await runOtherPipeline({
            client,
            target,
            loaded,
            model: FIX_MODEL,
            title: `run 4 — the fix: ${FIX_MODEL}  (\`delayed\` from the delay again, the same May window; shadow window first)`,
          }),
        );
      }
    }).finally(async () => {
      const reports = await feeding?.stop();
      const stats = await live?.stop();
      if (stats) {
        const versions = Object.entries(stats.byVersion).map(([v, n]) => `${v} ${n}`).join(', ');
        console.log(
          pc.dim(
            `\nlive traffic: ${stats.requests} requests (${stats.rows.toLocaleString('en-US')} rows) answered by ${versions}; ` +
              `${stats.labeledRows.toLocaleString('en-US')} rows labeled by ${stats.feedback} feedback posts; ${stats.errors} errors; ${reports?.length ?? 0} windows fed`,
          ),
        );
      }
    });
    const windows = results.flatMap((r) => (r.rollout ?? []).filter((step) => step.phase !== 'approval'));
    if (windows.length > 0) {
      console.log(`\n${pc.bold('windows')}  (decided on fixed steps of traffic: the same decisions and numbers on every run)`);
      for (const step of windows) console.log(`  ${windowDecisionLine(step)}`);
    }
    await closeWorker();
    console.log(`\n${pc.bold('done')} in ${((Date.now() - t0) / 1000).toFixed(1)} s: ${results.map((r) => `v${r.version} ${r.decision}`).join(', ')}`);
    // The last run's report and the registry page (in the background, on the demo's registry: every run feeds one model).
    const report = await demoReport(loaded, results.length > 0 ? `v${results.at(-1)!.version}` : undefined, target.uiUrl);
    console.log(`run report: ${report.report}`);
    console.log(`registry page: ${report.page}`);
    if (target.uiUrl) {
      const query = encodeURIComponent(`RelearnModel="${MODEL}"`);
      console.log(`Temporal Web UI: ${target.uiUrl}/namespaces/${target.namespace}/workflows?query=${query}`);
      console.log(pc.dim('the dev server keeps running in the background; `npx relearn server stop` stops it'));
    }
  } finally {
    await close();
  }
}
