// The registry's two backends as the registry tests see them, so one suite runs on both: a SQLite file per test, or
// a database of its own per test on the shared test PostgreSQL server (test/helpers/postgres.ts).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { PostgresRegistryDb, Registry, type RegistryOptions, type RegistryStore, openSqliteRegistry } from '../../src/registry';
import { createTestDatabase, rawPostgres } from '../helpers/postgres';

/** One backend: where a fresh registry lives, how to open it, and how another tool would reach its tables. */
export interface RegistryBackend {
  name: 'sqlite' | 'postgres';
  /** A new, empty registry: a file path or a database URL. */
  fresh(): Promise<string>;
  /** Opens the registry at `location` (a PostgreSQL one connects and migrates on its first call). */
  open(location: string, options?: RegistryOptions): RegistryStore;
  /** Runs one statement outside Relearn, as another tool with the same access would. */
  rawSql(location: string, sql: string): Promise<void>;
  /** Statements that switch off the immutability of versions, as someone with the owner's rights could. */
  dropVersionGuard: string;
  /** A statement that records schema version `n` as the database's own. */
  setSchemaVersion(n: number): string;
}

let workDir: string | undefined;
let counter = 0;
let passwordFile = '';

/** A SQLite file per test, in one temporary folder removed by `cleanupBackends`. */
export const sqliteBackend: RegistryBackend = {
  name: 'sqlite',
  fresh() {
    workDir ??= mkdtempSync(path.join(tmpdir(), 'relearn-registry-'));
    counter += 1;
    return Promise.resolve(path.join(workDir, `db-${counter}`, 'registry.sqlite'));
  },
  open: (location, options) => openSqliteRegistry(location, options),
  async rawSql(location, sql) {
    const raw = new Database(location);
    try {
      raw.exec(sql);
    } finally {
      raw.close();
    }
    await Promise.resolve();
  },
  dropVersionGuard: 'DROP TRIGGER versions_no_update',
  setSchemaVersion: (n) => `PRAGMA user_version = ${n}`,
};

/** A database per test on the shared test server. */
export const postgresBackend: RegistryBackend = {
  name: 'postgres',
  async fresh() {
    const db = await createTestDatabase('registry');
    passwordFile = db.passwordFile;
    return db.url;
  },
  open: (location, options) => new Registry(new PostgresRegistryDb({ url: location, passwordFile }), options),
  async rawSql(location, sql) {
    await rawPostgres(location, passwordFile, sql);
  },
  dropVersionGuard: 'ALTER TABLE versions DISABLE TRIGGER versions_no_change',
  setSchemaVersion: (n) => `UPDATE relearn_schema SET version = ${n}`,
};

/** Both backends, SQLite first. */
export const BACKENDS: readonly RegistryBackend[] = [sqliteBackend, postgresBackend];

/** The password file of the PostgreSQL test databases made so far (for child processes). */
export function postgresPasswordFile(): string {
  return passwordFile;
}

/** Removes the SQLite files' folder. */
export function cleanupBackends(): void {
  if (workDir !== undefined) rmSync(workDir, { recursive: true, force: true });
  workDir = undefined;
}
