// What the registry needs from a database: statements with bound parameters, and transactions. The registry's logic
// (src/registry/registry.ts) is written once against this; sqlite-db.ts and postgres-db.ts provide it.

/** A value bound to a `?` placeholder. */
export type SqlValue = string | number | null;

/** Runs statements inside one transaction (or one snapshot for reads). */
export interface SqlSession {
  /** Rows of a query; `?` placeholders are bound in order. */
  rows<R>(sql: string, params?: readonly SqlValue[]): Promise<R[]>;
  /** A statement whose rows are not needed. */
  run(sql: string, params?: readonly SqlValue[]): Promise<void>;
}

/** A registry database: SQLite file or PostgreSQL server. */
export interface RegistryDb {
  /** Where the registry lives, for messages: a file path, or a URL without its password. */
  readonly location: string;
  /** Applies the migrations it lacks (once; later calls wait for the first). */
  ready(): Promise<void>;
  /**
   * Runs `fn` in a write transaction that no other writer of `model` runs beside; either everything `fn` wrote is
   * committed or nothing is. `fn` may run again after a transient fault, so it must only read and write the database.
   */
  write<T>(model: string, fn: (session: SqlSession) => Promise<T>): Promise<T>;
  /** Runs `fn` on one consistent snapshot. */
  read<T>(fn: (session: SqlSession) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}
