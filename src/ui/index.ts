/** The registry page (`relearn ui`): a read-only web view of the registry on its own port. */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { serve } from '@hono/node-server';
import { z } from 'zod';
import type { LoadedConfig } from '../config';
import { RELEARN_ROOT } from '../paths';
import type { RunLink } from '../report';
import { runUrl } from '../temporal/connection';
import { type RegistryUiDeps, createRegistryUiApp } from './app';
import { processAlive } from '../processes';

export { TOKEN_COOKIE, createRegistryUiApp } from './app';
export type { RegistryUiDeps } from './app';

/** Defaults of `relearn ui`'s flags. */
export const UI_DEFAULTS = { host: '127.0.0.1', port: 8090 } as const;

/** The Temporal Web UI's base address for `loaded`'s server without connecting: the flag, TEMPORAL_WEB_UI, temporal.webUi, else the embedded dev server's. */
export function webUiBase(loaded: LoadedConfig, override?: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const t = loaded.config.temporal;
  const named = override ?? env.TEMPORAL_WEB_UI ?? t.webUi;
  if (named !== undefined) return named.replace(/\/+$/, '');
  // No address: Relearn runs the dev server itself, and its Web UI port is in the config.
  return (env.TEMPORAL_ADDRESS ?? t.address) === undefined ? `http://127.0.0.1:${t.devServer.uiPort}` : undefined;
}

/** Links runs to the Web UI at `uiUrl` (the same addresses `relearn show` prints). */
export function webUiRunLink(uiUrl: string | undefined, namespace: string): RunLink | undefined {
  if (uiUrl === undefined) return undefined;
  return (workflowId, runId) => runUrl({ address: '', namespace, taskQueue: '', uiUrl, embedded: false }, workflowId, runId);
}

/** A registry page listening on a port. */
export interface RunningRegistryUi {
  url: string;
  port: number;
  close(): Promise<void>;
}

/** Serves the registry page on `host:port` (0: any free port). */
export async function startRegistryUi(deps: RegistryUiDeps & { host?: string; port?: number }): Promise<RunningRegistryUi> {
  const app = createRegistryUiApp(deps);
  const host = deps.host ?? UI_DEFAULTS.host;
  let server: Server | undefined;
  const info = await new Promise<AddressInfo>((resolve, reject) => {
    server = serve({ fetch: app.fetch, hostname: host, port: deps.port ?? UI_DEFAULTS.port }, resolve) as Server;
    server.once('error', reject);
  });
  const listener = server!;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${info.port}`,
    port: info.port,
    close: () =>
      new Promise<void>((resolve) => {
        listener.close(() => resolve());
        listener.closeAllConnections();
      }),
  };
}

const RecordSchema = z.object({ pid: z.number().int(), url: z.string(), registry: z.string() });
/** What a running `relearn ui` writes to `<stateDir>/ui.json`, so a background one can be found and stopped. */
export type RegistryUiRecord = z.infer<typeof RecordSchema>;

function recordFile(stateDir: string): string {
  return path.join(stateDir, 'ui.json');
}

/** The registry page this state folder runs, when its process is alive. */
export function runningRegistryUi(stateDir: string): RegistryUiRecord | undefined {
  try {
    const record = RecordSchema.safeParse(JSON.parse(readFileSync(recordFile(stateDir), 'utf8')));
    return record.success && processAlive(record.data.pid) ? record.data : undefined;
  } catch {
    return undefined;
  }
}

/** Records a started registry page; `forget` removes the record if it is still this process's. */
export function recordRegistryUi(stateDir: string, record: RegistryUiRecord): { forget: () => void } {
  mkdirSync(stateDir, { recursive: true });
  writeFileSync(recordFile(stateDir), JSON.stringify(record, null, 2));
  return {
    forget: () => {
      if (runningRegistryUi(stateDir)?.pid === record.pid || !existsSync(recordFile(stateDir))) rmSync(recordFile(stateDir), { force: true });
    },
  };
}

/**
 * Starts `relearn ui` detached (no authentication, loopback only) on `registry`, or reuses the one this state folder
 * already runs on the same registry; returns its address. Used by the demo, whose process ends before a person looks.
 */
export async function ensureBackgroundRegistryUi(opts: { configPath: string; stateDir: string; registry: string; port?: number; timeoutMs?: number }): Promise<RegistryUiRecord> {
  const registry = path.resolve(opts.registry);
  const running = runningRegistryUi(opts.stateDir);
  if (running && running.registry === registry) return running;
  if (running) process.kill(running.pid, 'SIGTERM');
  mkdirSync(opts.stateDir, { recursive: true });
  const out = openSync(path.join(opts.stateDir, 'ui.log'), 'a');
  const args = [path.join(RELEARN_ROOT, 'bin', 'relearn.mjs'), '--config', opts.configPath, 'ui', '--no-auth', '--registry', registry, '--port', String(opts.port ?? UI_DEFAULTS.port), '--port-fallback'];
  const child = spawn(process.execPath, args, { detached: true, stdio: ['ignore', out, out] });
  child.unref();
  const deadline = Date.now() + (opts.timeoutMs ?? 20_000);
  while (Date.now() < deadline) {
    const record = runningRegistryUi(opts.stateDir);
    if (record && record.pid === child.pid) return record;
    if (child.exitCode !== null || (child.pid !== undefined && !processAlive(child.pid))) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`the registry page did not start; see ${path.join(opts.stateDir, 'ui.log')}`);
}

/** Stops the registry page this state folder runs; false when none runs. */
export function stopRegistryUi(stateDir: string): boolean {
  const running = runningRegistryUi(stateDir);
  if (!running) return false;
  process.kill(running.pid, 'SIGTERM');
  rmSync(recordFile(stateDir), { force: true });
  return true;
}
