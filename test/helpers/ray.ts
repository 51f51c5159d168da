// One real Ray head for the Ray launcher tests, started once per `npm test` run and shared by the test files: Ray from
// PyPI in its own environment (.relearn/ray-venv, test/requirements-ray.txt), `ray start --head --block` on free
// ports, recorded as .relearn-test/ray.json. The recorded pid is the `ray start --block` process, which stops the
// whole head (GCS, raylet, dashboard, job drivers) on SIGTERM, so scripts/bootstrap.mjs stops it like the dev server.
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { processAlive } from '../../src/processes';
import { installRayEnv, RAY_BIN } from '../../src/setup';
import { freePorts } from './free-port';
import { TEST_SERVER_STATE, withFileLock } from './pipeline-env';
import { waitFor } from './wait';

const RECORD = path.join(TEST_SERVER_STATE, 'ray.json');
const LOCK = path.join(TEST_SERVER_STATE, 'ray.lock');

const recordSchema = z.object({ pid: z.number().int(), address: z.string(), gcsPort: z.number().int(), tempDir: z.string(), log: z.string() });
/** The shared Ray head: its dashboard address (the Jobs API) and the pid that stops it. */
export type RayHead = z.infer<typeof recordSchema>;

async function answers(address: string): Promise<boolean> {
  try {
    const response = await fetch(`${address}/api/jobs/`, { signal: AbortSignal.timeout(5000) });
    return response.status === 200;
  } catch {
    return false;
  }
}

function recorded(): RayHead | undefined {
  if (!existsSync(RECORD)) return undefined;
  const parsed = recordSchema.safeParse(JSON.parse(readFileSync(RECORD, 'utf8')));
  return parsed.success ? parsed.data : undefined;
}

/** Starts a Ray head of its own (the benchmarks' too, with record: false: not the shared test head); stop it with stopRayHead. */
export async function startRayHead({ record = true }: { record?: boolean } = {}): Promise<RayHead> {
  const [gcsPort, dashboardPort, nodeManagerPort, objectManagerPort, clientPort, agentPort, agentGrpcPort, runtimeEnvPort, metricsPort] =
    (await freePorts(9)) as [number, number, number, number, number, number, number, number, number];
  // Short: Ray puts unix sockets under it, whose paths may not exceed 107 bytes.
  const tempDir = mkdtempSync(path.join(os.tmpdir(), 'relearn-ray-'));
  const log = path.join(tempDir, 'head.log');
  const out = openSync(log, 'a');
  const child = spawn(
    RAY_BIN,
    [
      'start',
      '--head',
      '--block',
      `--port=${gcsPort}`,
      '--node-ip-address=127.0.0.1',
      '--include-dashboard=true',
      '--dashboard-host=127.0.0.1',
      `--dashboard-port=${dashboardPort}`,
      `--node-manager-port=${nodeManagerPort}`,
      `--object-manager-port=${objectManagerPort}`,
      `--ray-client-server-port=${clientPort}`,
      `--dashboard-agent-listen-port=${agentPort}`,
      `--dashboard-agent-grpc-port=${agentGrpcPort}`,
      `--runtime-env-agent-port=${runtimeEnvPort}`,
      `--metrics-export-port=${metricsPort}`,
      '--num-cpus=2',
      '--object-store-memory=100000000',
      `--temp-dir=${tempDir}`,
      '--disable-usage-stats',
    ],
    { detached: true, stdio: ['ignore', out, out], env: { ...process.env, RAY_USAGE_STATS_ENABLED: '0' } },
  );
  closeSync(out);
  child.unref();
  const head: RayHead = { pid: child.pid!, address: `http://127.0.0.1:${dashboardPort}`, gcsPort, tempDir, log };
  if (record) writeFileSync(RECORD, `${JSON.stringify(head)}\n`);
  await waitFor(
    `the Ray head's Jobs API at ${head.address} (log: ${log})`,
    async () => {
      if (!processAlive(head.pid)) throw new Error(`ray start --head exited; its log ${log} ends:\n${readFileSync(log, 'utf8').split('\n').slice(-15).join('\n')}`);
      return (await answers(head.address)) ? true : undefined;
    },
    180_000,
    250,
  );
  return head;
}

/**
 * The shared test Ray head, started (after installing Ray when needed, about 2 minutes the first time) unless the one
 * recorded in .relearn-test/ray.json is alive and answering.
 */
export function testRayHead(): Promise<RayHead> {
  return withFileLock(
    LOCK,
    async () => {
      await installRayEnv(() => undefined);
      mkdirSync(TEST_SERVER_STATE, { recursive: true });
      const head = recorded();
      if (head && processAlive(head.pid) && (await answers(head.address))) return head;
      // The folder of a head that has stopped holds only its logs (a few MB): not worth keeping.
      if (head && !processAlive(head.pid)) rmSync(head.tempDir, { recursive: true, force: true });
      return startRayHead();
    },
    600_000,
  );
}

/** Stops a head startRayHead started (SIGTERM to `ray start --block` stops the whole head) and removes its folder. */
export async function stopRayHead(head: RayHead): Promise<void> {
  if (processAlive(head.pid)) {
    process.kill(head.pid, 'SIGTERM');
    await waitFor('the Ray head to stop', () => (processAlive(head.pid) ? undefined : true), 60_000, 250).catch(() => process.kill(head.pid, 'SIGKILL'));
  }
  rmSync(head.tempDir, { recursive: true, force: true });
}

/** Ray's own list of submissions (GET /api/jobs/), for counting what was submitted. */
export async function rayJobList(address: string): Promise<Array<{ submission_id: string; status: string; metadata?: Record<string, string> | null }>> {
  const response = await fetch(`${address}/api/jobs/`);
  if (response.status !== 200) throw new Error(`GET ${address}/api/jobs/ answered ${response.status}`);
  return (await response.json()) as Array<{ submission_id: string; status: string; metadata?: Record<string, string> | null }>;
}
