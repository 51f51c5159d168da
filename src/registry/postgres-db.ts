import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import pg from 'pg';
import { ConfigError, RegistryCredentialsError } from '../errors';
import { REGISTRY_MIGRATIONS, REGISTRY_SCHEMA_VERSION } from './migrations';
import type { RegistryDb, SqlSession, SqlValue } from './sql';

/** A registry database that cannot be reached or answered with a transient fault; worth retrying. */
export class RegistryUnavailableError extends Error {
  override readonly name = 'RegistryUnavailableError';
}

/** How to reach a PostgreSQL registry. The password never travels in the URL: PGPASSWORD or a file on the worker. */
export interface PostgresRegistryOptions {
  /** `postgres://user@host:port/database` (no password). */
  url: string;
  /** A file holding the password (first line), read on every new connection; else PGPASSWORD, else none. */
  passwordFile?: string;
  /** Connections in the pool (default 4). */
  maxConnections?: number;
  connectTimeoutMs?: number;
  /** Attempts of a call when the server cannot be reached or answers with a transient fault (default 3). */
  attempts?: number;
}

// Every registry process takes this lock while it migrates, so two workers starting at once apply each migration once.
const MIGRATION_LOCK_KEY = 'relearn.registry.migrations';
const SCHEMA_TABLE = 'relearn_schema';

// SQLSTATE classes and codes that say "try again later" (connection, resources, shutdown, serialization) or "you
// may not come in" (credentials).
const TRANSIENT_CODES = new Set(['40001', '40P01', '53300', '57P01', '57P02', '57P03', '55P03']);
const TRANSIENT_ERRNOS = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'EPIPE']);
const CREDENTIAL_CODES = new Set(['28P01', '28000']);

/** The URL as it may be shown: without a password, even one given by mistake. */
export function redactPostgresUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password === '') return url;
    parsed.password = '';
    return parsed.toString();
  } catch {
    return '(unparsable URL)';
  }
}

/** The registry on a PostgreSQL server: a connection pool, writers of one model serialised by an advisory lock. */
export class PostgresRegistryDb implements RegistryDb {
  readonly location: string;
  private readonly pool: pg.Pool;
  private readonly attempts: number;
  private migrated: Promise<void> | undefined;
  private passwordGiven = true;

  constructor(private readonly options: PostgresRegistryOptions) {
    this.location = redactPostgresUrl(options.url);
    this.attempts = Math.max(1, options.attempts ?? 3);
    const { passwordFile } = options;
    this.pool = new pg.Pool({
      ...postgresConnectionFields(options.url),
      max: options.maxConnections ?? 4,
      connectionTimeoutMillis: options.connectTimeoutMs ?? 10_000,
      // Read at each connection, so a rotated password is picked up without a restart. With none at all (and a server
      // that asks for one) a throwaway one is sent: pg would otherwise give up without answering the server, which then
      // holds the half-open connection (and the process) until its authentication timeout; this way the server says no.
      password: async () => {
        const password = passwordFile !== undefined ? await readPasswordFile(passwordFile) : process.env.PGPASSWORD;
        this.passwordGiven = password !== undefined && password !== '';
        return this.passwordGiven ? (password as string) : `no-password-${randomUUID()}`;
      },
    });
    // An idle connection the server dropped must not crash the process; the next checkout opens a new one.
    this.pool.on('error', () => undefined);
  }

  ready(): Promise<void> {
    this.migrated ??= this.attempt('apply migrations', () => this.migrate());
    // A failed start-up is tried again by the next call rather than remembered forever.
    this.migrated.catch(() => {
      this.migrated = undefined;
    });
    return this.migrated;
  }

  write<T>(model: string, fn: (session: SqlSession) => Promise<T>): Promise<T> {
    return this.attempt('write', () =>
      this.transaction('BEGIN', async (client, session) => {
        // Writers of one model take turns: the read of an alias and the write that depends on it are one step, and
        // two registrations cannot pick the same next version number. An alias row that does not exist yet cannot
        // be locked with SELECT ... FOR UPDATE, so the lock is on the model's name.
        await client.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [`relearn.registry/${model}`]);
        return fn(session);
      }),
    );
  }

  read<T>(fn: (session: SqlSession) => Promise<T>): Promise<T> {
    return this.attempt('read', () => this.transaction('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY', (_client, session) => fn(session)));
  }

  async close(): Promise<void> {
    await this.pool.end();
  }

  private async migrate(): Promise<void> {
    await this.transaction('BEGIN', async (client) => {
      await client.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [MIGRATION_LOCK_KEY]);
      await client.query(`CREATE TABLE IF NOT EXISTS ${SCHEMA_TABLE} (version INTEGER NOT NULL)`);
      const { rows } = await client.query<{ version: number }>(`SELECT version FROM ${SCHEMA_TABLE}`);
      const current = rows[0]?.version ?? 0;
      if (current > REGISTRY_SCHEMA_VERSION) {
        throw new ConfigError(
          `registry ${this.location}: schema version ${current}, expected ${REGISTRY_SCHEMA_VERSION} (written by a different Relearn version)`,
        );
      }
      for (const migration of REGISTRY_MIGRATIONS.filter((m) => m.version > current)) {
        await client.query(migration.postgres);
      }
      if (rows.length === 0) await client.query(`INSERT INTO ${SCHEMA_TABLE} (version) VALUES ($1)`, [REGISTRY_SCHEMA_VERSION]);
      else if (current < REGISTRY_SCHEMA_VERSION) await client.query(`UPDATE ${SCHEMA_TABLE} SET version = $1`, [REGISTRY_SCHEMA_VERSION]);
    });
  }

  private async transaction<T>(begin: string, fn: (client: pg.PoolClient, session: SqlSession) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    // A connection the server drops while it is checked out also emits 'error'; the failed query reports it, and an
    // unheard event would end the process.
    const ignoreDrop = (): void => undefined;
    client.on('error', ignoreDrop);
    const session: SqlSession = {
      rows: async <R>(sql: string, params: readonly SqlValue[] = []) => (await client.query(numberPlaceholders(sql), [...params])).rows as R[],
      run: async (sql: string, params: readonly SqlValue[] = []) => {
        await client.query(numberPlaceholders(sql), [...params]);
      },
    };
    let broken: unknown;
    try {
      await client.query(begin);
      const result = await fn(client, session);
      await client.query('COMMIT');
      return result;
    } catch (err) {
      broken = err;
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      // A connection that failed mid-way is dropped from the pool rather than handed to the next caller.
      client.off('error', ignoreDrop);
      client.release(broken !== undefined && isTransient(broken) ? true : undefined);
    }
  }

  /**
   * Runs `fn`, again after a transient fault (every write of the registry is keyed by its run, so a transaction whose
   * COMMIT was lost finds its own rows the second time); faults are reported with the URL and what failed.
   */
  private async attempt<T>(what: string, fn: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await fn();
      } catch (err) {
        if (err instanceof ConfigError || err instanceof RegistryCredentialsError) throw err;
        if (isCredentialFault(err)) {
          const source = this.options.passwordFile !== undefined ? `the file ${this.options.passwordFile}` : 'PGPASSWORD';
          throw new RegistryCredentialsError(
            `registry ${this.location}: the server refused the credentials (${errorText(err)}); ` +
              (this.passwordGiven ? `the password comes from ${source}, never from the URL` : `no password was given: ${source} is empty or unset (never put it in the URL)`),
          );
        }
        if (databaseCode(err) === '3D000') {
          throw new ConfigError(`registry ${this.location}: ${errorText(err)} (create it, or fix registry.postgres in temporal.yaml)`);
        }
        if (!isTransient(err)) throw err;
        if (attempt >= this.attempts) {
          throw new RegistryUnavailableError(`registry ${this.location}: cannot ${what} after ${attempt} attempts: ${errorText(err)}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 200 * 4 ** (attempt - 1)));
      }
    }
  }
}

async function readPasswordFile(file: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`registry.passwordFile: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  return text.split(/\r?\n/, 1)[0] ?? '';
}

// The URL's parts as pg's fields: pg lets the fields parsed from a connection string override a `password` given
// beside it, so the URL is taken apart here and the password (PGPASSWORD or the file) added on its own.
/** The fields of a `postgres://` URL as pg takes them (host, port, user, database, ssl), without any password. */
export function postgresConnectionFields(url: string): pg.ClientConfig {
  const u = new URL(url);
  const sslmode = u.searchParams.get('sslmode');
  return {
    host: decodeURIComponent(u.hostname.replace(/^\[|\]$/g, '')),
    port: u.port === '' ? 5432 : Number(u.port),
    ...(u.username !== '' ? { user: decodeURIComponent(u.username) } : {}),
    database: decodeURIComponent(u.pathname.slice(1)),
    ...(sslmode === null || sslmode === 'disable' || sslmode === 'prefer' ? {} : { ssl: sslmode === 'no-verify' ? { rejectUnauthorized: false } : true }),
  };
}

// The SQL of the registry is written with `?` (SQLite's placeholders); pg numbers them. No statement of the
// registry holds a `?` inside a string literal.
function numberPlaceholders(sql: string): string {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
}

function databaseCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

function isCredentialFault(err: unknown): boolean {
  const code = databaseCode(err);
  if (code !== undefined && CREDENTIAL_CODES.has(code)) return true;
  // pg refuses to start SCRAM without a password before the server says anything.
  return err instanceof Error && /SASL: SCRAM-SERVER-FIRST-MESSAGE: client password must be a string/.test(err.message);
}

function isTransient(err: unknown): boolean {
  const code = databaseCode(err);
  if (code !== undefined && (TRANSIENT_CODES.has(code) || TRANSIENT_ERRNOS.has(code) || code.startsWith('08'))) return true;
  if (!(err instanceof Error)) return false;
  return /timeout exceeded when trying to connect|Connection terminated|connection timeout/i.test(err.message);
}

function errorText(err: unknown): string {
  if (err instanceof AggregateError && err.errors.length > 0) return err.errors.map((e) => errorText(e)).join('; ');
  return err instanceof Error ? err.message || databaseCode(err) || err.name : String(err);
}
