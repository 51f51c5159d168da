import { mkdirSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { ConfigError } from '../errors';
import { REGISTRY_MIGRATIONS, REGISTRY_SCHEMA_VERSION } from './migrations';
import type { RegistryDb, SqlSession, SqlValue } from './sql';

const DEFAULT_BUSY_TIMEOUT_MS = 5_000;

/** The registry in one SQLite file (WAL mode); writers on other connections wait up to the busy timeout. */
export class SqliteRegistryDb implements RegistryDb {
  // better-sqlite3 runs a statement synchronously, but a transaction here spans awaits: calls on this connection
  // take turns, or one call's statements would land inside another's transaction.
  private turn: Promise<unknown> = Promise.resolve();
  private readonly session: SqlSession;

  private constructor(
    private readonly db: Database.Database,
    readonly location: string,
  ) {
    this.session = {
      rows: <R>(sql: string, params: readonly SqlValue[] = []) => Promise.resolve(this.db.prepare(sql).all(...params) as R[]),
      run: (sql: string, params: readonly SqlValue[] = []) => {
        this.db.prepare(sql).run(...params);
        return Promise.resolve();
      },
    };
  }

  /** Opens (creating if needed) the file and applies the migrations it lacks, before returning. */
  static open(dbPath: string, options: { busyTimeoutMs?: number } = {}): SqliteRegistryDb {
    if (dbPath !== ':memory:') mkdirSync(path.dirname(path.resolve(dbPath)), { recursive: true });
    const db = new Database(dbPath);
    try {
      // The busy timeout comes first so that even switching to WAL waits for other writers.
      db.pragma(`busy_timeout = ${Math.max(0, Math.trunc(options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS))}`);
      db.pragma('journal_mode = WAL');
      // FULL: a promotion that returned must survive a power cut; the registry writes rarely.
      db.pragma('synchronous = FULL');
      db.pragma('foreign_keys = ON');
      db.transaction(() => {
        const schemaVersion = db.pragma('user_version', { simple: true }) as number;
        if (schemaVersion > REGISTRY_SCHEMA_VERSION) {
          throw new ConfigError(
            `registry ${dbPath}: schema version ${String(schemaVersion)}, expected ${REGISTRY_SCHEMA_VERSION} (written by a different Relearn version)`,
          );
        }
        for (const migration of REGISTRY_MIGRATIONS.filter((m) => m.version > schemaVersion)) {
          db.exec(migration.sqlite);
          db.pragma(`user_version = ${migration.version}`);
        }
      }).immediate();
    } catch (err) {
      db.close();
      throw err;
    }
    return new SqliteRegistryDb(db, dbPath);
  }

  ready(): Promise<void> {
    return Promise.resolve();
  }

  write<T>(_model: string, fn: (session: SqlSession) => Promise<T>): Promise<T> {
    // IMMEDIATE takes the file's write lock up front: the read of an alias and the write that depends on it are one step.
    return this.inTurn(() => this.transaction('BEGIN IMMEDIATE', fn));
  }

  read<T>(fn: (session: SqlSession) => Promise<T>): Promise<T> {
    return this.inTurn(() => this.transaction('BEGIN DEFERRED', fn));
  }

  async close(): Promise<void> {
    await this.turn.catch(() => undefined);
    this.db.close();
  }

  private async transaction<T>(begin: string, fn: (session: SqlSession) => Promise<T>): Promise<T> {
    this.db.exec(begin);
    try {
      const result = await fn(this.session);
      this.db.exec('COMMIT');
      return result;
    } catch (err) {
      if (this.db.inTransaction) this.db.exec('ROLLBACK');
      throw err;
    }
  }

  private inTurn<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.turn.then(fn, fn);
    this.turn = result.catch(() => undefined);
    return result;
  }
}
