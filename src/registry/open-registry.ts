import path from 'node:path';
import type { LoadedConfig } from '../config';
import { DEFAULT_REGISTRY_FILE } from '../config/registry';
import { PostgresRegistryDb } from './postgres-db';
import { Registry, type RegistryOptions, type RegistryStore, openSqliteRegistry } from './registry';

/**
 * The registry temporal.yaml's `registry:` names: the SQLite file under stateDir (default) or a PostgreSQL database.
 * A PostgreSQL registry connects and migrates on its first call (or on `ready()`, which the worker awaits at start-up).
 */
export function openRegistry(loaded: Pick<LoadedConfig, 'config' | 'stateDir' | 'baseDir'>, options: RegistryOptions = {}): RegistryStore {
  const { registry } = loaded.config;
  if (registry.postgres !== undefined) {
    const db = new PostgresRegistryDb({
      url: registry.postgres,
      ...(registry.passwordFile !== undefined ? { passwordFile: path.resolve(loaded.baseDir, registry.passwordFile) } : {}),
    });
    return new Registry(db, options);
  }
  return openSqliteRegistry(registryFile(loaded), options);
}

/** The absolute SQLite file the config names (the default one when the registry is PostgreSQL). */
export function registryFile(loaded: Pick<LoadedConfig, 'config' | 'stateDir'>): string {
  return path.resolve(loaded.stateDir, loaded.config.registry.sqlite ?? DEFAULT_REGISTRY_FILE);
}
