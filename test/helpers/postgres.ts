// One real PostgreSQL server for the registry tests, started once per `npm test` run and shared by the test files:
// Debian's postgresql (installed by set-up when missing), a cluster made by initdb in a temporary folder, listening on
// a free loopback port with password authentication, recorded as .relearn-test/postgres.json with the postmaster's
// pid (scripts/bootstrap.mjs stops it at the end if this run started it). Each test file makes its own database.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { z } from 'zod';
import { processAlive } from '../../src/processes';
import { postgresConnectionFields } from '../../src/registry';
import { findPostgresBin, installPostgres } from '../../src/setup';
import { freePort } from './free-port';
import { TEST_SERVER_STATE, withFileLock } from './file-lock';

const RECORD = path.join(TEST_SERVER_STATE, 'postgres.json');
const LOCK = path.join(TEST_SERVER_STATE, 'postgres.lock');
/** The superuser the tests connect as; its password is in the record's passwordFile. */
const USER = 'relearn';

const recordSchema = z.object({ pid: z.number().int(), port: z.number().int(), dir: z.string(), passwordFile: z.string(), log: z.string() });
/** The shared test server: where it listens, the file holding the password, and the pid that stops it. */
export type TestPostgres = z.infer<typeof recordSchema>;

function recorded(): TestPostgres | undefined {
  if (!existsSync(RECORD)) return undefined;
  const parsed = recordSchema.safeParse(JSON.parse(readFileSync(RECORD, 'utf8')));
  return parsed.success ? parsed.data : undefined;
}

async function answers(server: TestPostgres): Promise<boolean> {
  const client = new pg.Client(clientConfig(server, 'postgres'));
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

function clientConfig(server: TestPostgres, database: string): pg.ClientConfig {
  return { host: '127.0.0.1', port: server.port, user: USER, database, password: readFileSync(server.passwordFile, 'utf8').trim() };
}

// initdb and the server refuse to run as root: as root they run as Debian's `postgres` user, which owns the folder.
function asServerUser(bin: string, args: string[]): { cmd: string; args: string[] } {
  return process.getuid?.() === 0 ? { cmd: 'runuser', args: ['-u', 'postgres', '--', bin, ...args] } : { cmd: bin, args };
}

function run(bin: string, args: string[], what: string): void {
  const { cmd, args: full } = asServerUser(bin, args);
  const r = spawnSync(cmd, full, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  if (r.status !== 0) throw new Error(`${what} failed (${cmd} ${full.join(' ')} exited ${String(r.status)}):\n${r.stdout}${r.stderr}`);
}

/** Starts a PostgreSQL server of its own (the benchmarks' too, with record: false: not the shared test server); stop it with stopPostgresServer. */
export async function startPostgresServer({ record = true }: { record?: boolean } = {}): Promise<TestPostgres> {
  const bin = findPostgresBin();
  if (bin === undefined) throw new Error("PostgreSQL's server is not installed (npm test installs Debian's postgresql; as root: apt-get install -y postgresql)");
  const dir = mkdtempSync(path.join(os.tmpdir(), 'relearn-pg-'));
  const passwordFile = path.join(dir, 'password');
  writeFileSync(passwordFile, `${randomBytes(12).toString('hex')}\n`, { mode: 0o600 });
  if (process.getuid?.() === 0) {
    const uid = Number(spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).stdout.trim());
    const gid = Number(spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).stdout.trim());
    chownSync(dir, uid, gid);
    chownSync(passwordFile, uid, gid);
  }
  const data = path.join(dir, 'data');
  const log = path.join(dir, 'server.log');
  run(path.join(bin, 'initdb'), ['-D', data, '-U', USER, `--pwfile=${passwordFile}`, '--auth=scram-sha-256', '-E', 'UTF8', '--locale=C', '--no-sync'], 'initdb');
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    // No unix socket (its folder would need to exist and be the server's); fsync off: the data is thrown away.
    const options = `-p ${port} -c listen_addresses=127.0.0.1 -c unix_socket_directories= -c fsync=off -c max_connections=100`;
    try {
      run(path.join(bin, 'pg_ctl'), ['-D', data, '-l', log, '-o', options, '-w', '-t', '60', 'start'], 'pg_ctl start');
    } catch (err) {
      if (attempt >= 3) throw err;
      continue;
    }
    const pid = Number(readFileSync(path.join(data, 'postmaster.pid'), 'utf8').split('\n')[0]);
    const server: TestPostgres = { pid, port, dir, passwordFile, log };
    if (record) writeFileSync(RECORD, `${JSON.stringify(server)}\n`);
    return server;
  }
}

/** The shared test server, started (after installing PostgreSQL when needed) unless the recorded one answers. */
export function testPostgres(): Promise<TestPostgres> {
  return withFileLock(
    LOCK,
    async () => {
      await installPostgres(() => undefined);
      mkdirSync(TEST_SERVER_STATE, { recursive: true });
      const server = recorded();
      if (server && processAlive(server.pid) && (await answers(server))) return server;
      // The folder of a server that was stopped (by the end of an earlier npm test) holds nothing anyone needs.
      if (server && !processAlive(server.pid)) rmSync(server.dir, { recursive: true, force: true });
      return startPostgresServer();
    },
    600_000,
  );
}

/** Stops a server startPostgresServer started and removes its folder. */
export function stopPostgresServer(server: TestPostgres): void {
  const bin = findPostgresBin();
  if (bin !== undefined && processAlive(server.pid)) run(path.join(bin, 'pg_ctl'), ['-D', path.join(server.dir, 'data'), '-m', 'fast', '-w', 'stop'], 'pg_ctl stop');
  rmSync(server.dir, { recursive: true, force: true });
}

/** Creates a database on `server`; its URL (no password) and the file holding the password. */
export async function createDatabase(server: TestPostgres, name: string): Promise<{ url: string; passwordFile: string }> {
  const client = new pg.Client(clientConfig(server, 'postgres'));
  await client.connect();
  try {
    await client.query(`CREATE DATABASE "${name}"`);
  } finally {
    await client.end();
  }
  return { url: `postgres://${USER}@127.0.0.1:${server.port}/${name}`, passwordFile: server.passwordFile };
}

let counter = 0;

/** A registry database of one's own on the shared server: its URL (no password) and the file holding the password. */
export async function createTestDatabase(prefix: string): Promise<{ url: string; passwordFile: string; server: TestPostgres }> {
  const server = await testPostgres();
  counter += 1;
  const name = `${prefix.replace(/[^a-z0-9]/gi, '_').toLowerCase()}_${process.pid}_${Date.now().toString(36)}_${counter}`;
  return { ...(await createDatabase(server, name)), server };
}

/** Runs SQL on a test database as another tool would (outside Relearn), with the shared server's password. */
export async function rawPostgres(url: string, passwordFile: string, sql: string): Promise<pg.QueryResult> {
  const client = new pg.Client({ ...postgresConnectionFields(url), password: readFileSync(passwordFile, 'utf8').trim() });
  await client.connect();
  try {
    return await client.query(sql);
  } finally {
    await client.end();
  }
}
