// One real S3-compatible server for the S3 store's tests, started once per `npm test` run and shared by the test files:
// Versity's gateway (Apache-2.0) built with `go install` into .relearn/bin (src/setup/versitygw.ts), serving a temp
// folder on a free port, recorded as .relearn-test/s3.json with its pid, so scripts/bootstrap.mjs stops it at the end.
// Tests that stop and restart a server start a private one with startS3Server instead.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { CreateBucketCommand, type S3Client } from '@aws-sdk/client-s3';
import { z } from 'zod';
import { processAlive } from '../../src/processes';
import { installVersitygw } from '../../src/setup/versitygw';
import { createS3Client } from '../../src/store';
import { freePort } from './free-port';
import { TEST_SERVER_STATE, withFileLock } from './pipeline-env';
import { waitFor } from './wait';

const RECORD = path.join(TEST_SERVER_STATE, 's3.json');
const LOCK = path.join(TEST_SERVER_STATE, 's3.lock');
const SHARED_DATA = path.join(TEST_SERVER_STATE, 's3');

const recordSchema = z.object({
  pid: z.number().int(),
  endpoint: z.string(),
  port: z.number().int(),
  dataDir: z.string(),
  accessKeyId: z.string(),
  secretAccessKey: z.string(),
  log: z.string(),
});
/** An S3-compatible server: where it answers, the folder it serves, its root keys and the pid that stops it. */
export type S3Server = z.infer<typeof recordSchema>;

/** True when something accepts TCP connections on the port (the gateway answers HTTP as soon as it listens). */
function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

function recorded(): S3Server | undefined {
  if (!existsSync(RECORD)) return undefined;
  const parsed = recordSchema.safeParse(JSON.parse(readFileSync(RECORD, 'utf8')));
  return parsed.success ? parsed.data : undefined;
}

/**
 * Starts a gateway serving `dataDir` (a fresh temp folder by default) on `port` (a free one by default) and waits
 * until it listens. The child is detached: it outlives the test process unless stopped.
 */
export async function startS3Server(opts: { dataDir?: string; port?: number; keys?: Pick<S3Server, 'accessKeyId' | 'secretAccessKey'> } = {}): Promise<S3Server & { child: ChildProcess }> {
  const bin = await installVersitygw();
  const dataDir = opts.dataDir ?? mkdtempSync(path.join(os.tmpdir(), 'relearn-s3-'));
  mkdirSync(dataDir, { recursive: true });
  const port = opts.port ?? (await freePort());
  const keys = {
    accessKeyId: opts.keys?.accessKeyId ?? `relearn${randomBytes(4).toString('hex')}`,
    secretAccessKey: opts.keys?.secretAccessKey ?? randomBytes(16).toString('hex'),
  };
  const log = path.join(dataDir, '..', `${path.basename(dataDir)}.log`);
  const out = openSync(log, 'a');
  const child = spawn(bin, ['--port', `127.0.0.1:${port}`, 'posix', dataDir], {
    detached: true,
    stdio: ['ignore', out, out],
    env: { ...process.env, ROOT_ACCESS_KEY: keys.accessKeyId, ROOT_SECRET_KEY: keys.secretAccessKey },
  });
  closeSync(out);
  child.unref();
  const server = { pid: child.pid!, endpoint: `http://127.0.0.1:${port}`, port, dataDir, ...keys, log, child };
  await waitFor(
    `the S3 gateway at ${server.endpoint} (log: ${log})`,
    async () => {
      if (child.exitCode !== null || !processAlive(server.pid)) {
        throw new Error(`versitygw exited (${child.exitCode}); its log ${log} ends:\n${readFileSync(log, 'utf8').split('\n').slice(-15).join('\n')}`);
      }
      return (await listening(port)) ? true : undefined;
    },
    30_000,
    50,
  );
  return server;
}

/** Stops a gateway started by startS3Server and waits until its port is closed. */
export async function stopS3Server(server: S3Server & { child?: ChildProcess }, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  try {
    process.kill(server.pid, signal);
  } catch {
    return;
  }
  await waitFor(`versitygw ${server.pid} to stop`, () => (processAlive(server.pid) ? undefined : true), 15_000, 20);
}

/**
 * The shared test S3 server, started (after building the gateway when needed, about 75 s the first time) unless the
 * one recorded in .relearn-test/s3.json is alive and listening.
 */
export function testS3Server(): Promise<S3Server> {
  return withFileLock(
    LOCK,
    async () => {
      mkdirSync(TEST_SERVER_STATE, { recursive: true });
      const found = recorded();
      if (found && processAlive(found.pid) && (await listening(found.port))) return found;
      // The folder the shared server serves is the run's own: a new server starts from an empty one.
      rmSync(SHARED_DATA, { recursive: true, force: true });
      const { child: _child, ...server } = await startS3Server({ dataDir: path.join(SHARED_DATA, 'buckets') });
      writeFileSync(RECORD, `${JSON.stringify(server)}\n`);
      return server;
    },
    300_000,
  );
}

/** An S3 client with the server's root keys, for tests that look at the bucket behind the store's back. */
export function rootClient(server: Pick<S3Server, 'endpoint' | 'accessKeyId' | 'secretAccessKey'>): S3Client {
  return createS3Client({
    endpoint: server.endpoint,
    forcePathStyle: true,
    maxAttempts: 1,
    credentials: { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey },
  });
}

/** Creates a bucket of its own for one test file (bucket names are global on the shared server). */
export async function freshBucket(server: S3Server, base = 'relearn'): Promise<string> {
  const bucket = `${base}-${process.pid.toString(36)}-${Date.now().toString(36)}-${randomBytes(2).toString('hex')}`;
  await rootClient(server).send(new CreateBucketCommand({ Bucket: bucket }));
  return bucket;
}

/** The AWS chain's variables for the server's root keys (the worker reads them from its environment). */
export function s3Env(server: Pick<S3Server, 'accessKeyId' | 'secretAccessKey'>): Record<string, string> {
  return { AWS_ACCESS_KEY_ID: server.accessKeyId, AWS_SECRET_ACCESS_KEY: server.secretAccessKey, AWS_REGION: 'us-east-1' };
}
