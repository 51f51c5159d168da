// The demo's live part: the champion is served with `relearn serve`'s stack, later flights are replayed through it as
// live traffic with their true labels as feedback, so shadow and guard windows have evidence; then a candidate with
// a label bug passes its gate, is promoted on a path without a shadow window, and the guard window rolls it back.
import path from 'node:path';
import type { Client } from '@temporalio/client';
import pc from 'picocolors';
import { type LoadedConfig, modelConfig } from '../config';
import { Registry } from '../registry';
import { type RunningServer, startServer } from '../serve';
import { ArtifactStore } from '../store';
import { type TemporalTarget, runUrl } from '../temporal/connection';
import { startRetrain } from '../temporal/runs';
import { printRunResult } from './format';
import { startTrafficReplay, type TrafficReplay, type TrafficStats } from './live-traffic';
import { followRun } from './watch';
import type { RetrainResult } from '../contracts';

/** Flights replayed as live traffic: after every training window the demo uses. */
export const DEMO_TRAFFIC_WINDOW = { from: '2001-06-22', to: '2001-07-01' } as const;

/** The serving stack and the traffic replay, running until `stop`. */
export interface DemoServing {
  server: RunningServer;
  traffic: TrafficReplay;
  stop(): Promise<TrafficStats>;
}

/** Serves the demo registry's models on a free loopback port and starts replaying later flights through it. */
export async function startDemoServing(loaded: LoadedConfig, model: string): Promise<DemoServing> {
  const registry = Registry.open(path.resolve(loaded.stateDir, loaded.config.registry.sqlite));
  const server = await startServer({
    registry,
    store: new ArtifactStore(path.join(loaded.stateDir, 'store')),
    predictionLogDir: path.join(loaded.stateDir, 'predictions'),
    token: null,
    host: '127.0.0.1',
    port: 0,
    pollMs: 500,
    processMetrics: false,
  });
  const traffic = await startTrafficReplay({
    model,
    modelConfig: modelConfig(loaded, model),
    window: DEMO_TRAFFIC_WINDOW,
    url: server.url,
    token: null,
    sampleRows: 20_000,
    rowsPerRequest: 50,
    intervalMs: 25,
  });
  console.log(
    `\n${pc.bold('serving')} ${model} at ${server.url} (OIP v2 + /models/${model}/predict); replaying flights of ` +
      `${DEMO_TRAFFIC_WINDOW.from} → ${DEMO_TRAFFIC_WINDOW.to} as live traffic, 50 rows per request, true labels sent as feedback`,
  );
  return {
    server,
    traffic,
    async stop() {
      const stats = await traffic.stop();
      await server.close();
      registry.close();
      return stats;
    },
  };
}

/** Runs the label-bug pipeline into the same registry model; its guard window should roll it back. */
export async function runBadCandidate(opts: { client: Client; target: TemporalTarget; loaded: LoadedConfig; model: string }): Promise<RetrainResult> {
  const { client, target, loaded, model } = opts;
  console.log(
    `\n${pc.bold(`run 3 — a bad candidate: ${model}`)}  (label bug: \`delayed\` computed from the distance; no shadow window, guard only)`,
  );
  const started = Date.now();
  const run = await startRetrain(client, target, loaded, model, { trigger: 'manual' });
  const handle = client.workflow.getHandle(run.workflowId, run.runId);
  await followRun(handle);
  const result = (await handle.result()) as RetrainResult;
  printRunResult(result, { uiLink: runUrl(target, run.workflowId, run.runId) });
  console.log(pc.dim(`  took ${((Date.now() - started) / 1000).toFixed(1)} s`));
  return result;
}
