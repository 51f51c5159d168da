import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { z } from 'zod';
import { findTemporalCli } from './cli';
import { ensureSearchAttributes } from './search-attributes';
import { processAlive } from '../processes';

/** Where the embedded dev server listens and keeps its state. */
export interface DevServerOptions {
  stateDir: string;
  port: number;
  uiPort: number;
  dbFile: string;
  namespace: string;
  log?: (line: string) => void;
}

/** A running dev server Relearn can talk to. */
export interface DevServerInfo {
  address: string;
  uiUrl: string;
  pid: number | null;
  /** True when a server started earlier was found and reused. */
  reused: boolean;
  dbFile: string;
  logFile: string;
}

const recordSchema = z.object({ pid: z.number().int(), port: z.number().int(), uiPort: z.number().int(), dbFile: z.string() });

function recordPath(stateDir: string): string {
  return path.join(stateDir, 'dev-server.json');
}

/** The last dev server this state folder started: its pid, its ports and whether it still runs. */
export function recordedDevServer(stateDir: string): { pid: number; port: number; uiPort: number; running: boolean } | undefined {
  const recordFile = recordPath(stateDir);
  if (!existsSync(recordFile)) return undefined;
  const record = recordSchema.safeParse(JSON.parse(readFileSync(recordFile, 'utf8')));
  if (!record.success) return undefined;
  return { pid: record.data.pid, port: record.data.port, uiPort: record.data.uiPort, running: processAlive(record.data.pid) };
}

/** The dev server this state folder started, when it is still running: its pid and ports. */
export function runningDevServer(stateDir: string): { pid: number; port: number; uiPort: number } | undefined {
  const recorded = recordedDevServer(stateDir);
  return recorded?.running ? recorded : undefined;
}

/** True when a Temporal frontend answers at `address` within the timeout. */
export async function temporalAnswers(address: string, timeoutMs = 2000): Promise<boolean> {
  let connection: Connection | undefined;
  try {
    connection = await Connection.connect({ address, connectTimeout: timeoutMs });
    await connection.workflowService.getSystemInfo({});
    return true;
  } catch {
    return false;
  } finally {
    await connection?.close().catch(() => undefined);
  }
}

async function registerAttributes(address: string, namespace: string, log: (line: string) => void): Promise<void> {
  const connection = await Connection.connect({ address });
  try {
    const added = await ensureSearchAttributes(connection, namespace);
    if (added.length > 0) log(`registered search attributes: ${added.join(', ')}`);
  } finally {
    await connection.close();
  }
}

/**
 * Starts the official CLI's dev server (SQLite-persisted, Web UI on) detached from this process, or reuses the one
 * started before, so runs survive a restart of Relearn and of the server itself.
 */
export async function ensureDevServer(opts: DevServerOptions): Promise<DevServerInfo> {
  const log = opts.log ?? (() => undefined);
  mkdirSync(opts.stateDir, { recursive: true });
  const address = `127.0.0.1:${opts.port}`;
  const uiUrl = `http://127.0.0.1:${opts.uiPort}`;
  const dbFile = path.resolve(opts.stateDir, opts.dbFile);
  const logFile = path.join(opts.stateDir, 'dev-server.log');
  const recordFile = recordPath(opts.stateDir);

  if (existsSync(recordFile)) {
    const record = recordSchema.safeParse(JSON.parse(readFileSync(recordFile, 'utf8')));
    if (record.success && record.data.port === opts.port && processAlive(record.data.pid) && (await temporalAnswers(address))) {
      await registerAttributes(address, opts.namespace, log);
      return { address, uiUrl, pid: record.data.pid, reused: true, dbFile, logFile };
    }
  }
  if (await temporalAnswers(address)) {
    // Something already serves Temporal on this port (for example a server started by hand): use it.
    log(`a Temporal server already answers at ${address}; using it`);
    await registerAttributes(address, opts.namespace, log);
    return { address, uiUrl, pid: null, reused: true, dbFile, logFile };
  }

  const cli = findTemporalCli();
  if (!cli) throw new Error("the Temporal CLI is not installed; run 'npm run setup' (or 'npm run demo', which sets up first)");
  log(`starting Temporal dev server ${cli.version} on ${address} (Web UI ${uiUrl}, database ${path.relative(process.cwd(), dbFile) || dbFile})`);
  const out = openSync(logFile, 'a');
  const child = spawn(
    cli.path,
    [
      'server',
      'start-dev',
      '--ip',
      '127.0.0.1',
      '--port',
      String(opts.port),
      '--ui-port',
      String(opts.uiPort),
      '--db-filename',
      dbFile,
      '--namespace',
      opts.namespace,
      '--log-level',
      'warn',
    ],
    { detached: true, stdio: ['ignore', out, out] },
  );
  child.unref();
  const pid = child.pid ?? null;
  const deadline = Date.now() + 60_000;
  while (!(await temporalAnswers(address, 1000))) {
    if (pid !== null && !processAlive(pid)) {
      throw new Error(`the Temporal dev server exited during start-up; see ${logFile}:\n${readFileSync(logFile, 'utf8').split('\n').slice(-10).join('\n')}`);
    }
    if (Date.now() > deadline) throw new Error(`the Temporal dev server did not answer at ${address} within 60 s; see ${logFile}`);
    await new Promise((r) => setTimeout(r, 300));
  }
  if (pid !== null) writeFileSync(recordFile, JSON.stringify({ pid, port: opts.port, uiPort: opts.uiPort, dbFile }, null, 2));
  await registerAttributes(address, opts.namespace, log);
  return { address, uiUrl, pid, reused: false, dbFile, logFile };
}

/** Stops the dev server this state folder started; resolves true when one was running. */
export async function stopDevServer(stateDir: string, timeoutMs = 10_000): Promise<boolean> {
  const running = runningDevServer(stateDir);
  if (running === undefined) return false;
  process.kill(running.pid, 'SIGTERM');
  const deadline = Date.now() + timeoutMs;
  while (processAlive(running.pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  if (processAlive(running.pid)) process.kill(running.pid, 'SIGKILL');
  return true;
}
