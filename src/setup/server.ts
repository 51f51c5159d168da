// The server half of `relearn setup`: a Temporal server named in temporal.yaml (or TEMPORAL_ADDRESS) gets Relearn's
// search attributes once, so its runs are filterable in the Web UI. The embedded dev server registers them itself.
import { Connection } from '@temporalio/client';
import type { LoadedConfig } from '../config';
import { ConfigError } from '../errors';
import { resolveTemporalTarget } from '../temporal/connection';
import { ensureSearchAttributes } from '../temporal/search-attributes';
import { RELEARN_SEARCH_ATTRIBUTES } from '../contracts';

/** What the registration did. */
export interface ServerSetupResult {
  address: string;
  namespace: string;
  /** Attributes added now; empty when all were there already. */
  added: string[];
}

/** The `temporal` command an operator runs when Relearn may not register the attributes itself. */
export function searchAttributeCommand(namespace: string): string {
  const pairs = RELEARN_SEARCH_ATTRIBUTES.map((k) => `--name ${k.name} --type ${k.type[0]}${k.type.slice(1).toLowerCase()}`).join(' ');
  return `temporal operator search-attribute create --namespace ${namespace} ${pairs}`;
}

/** True when temporal.yaml or the environment names a server (rather than the embedded dev server). */
export function namesRemoteServer(loaded: LoadedConfig): boolean {
  return Boolean(process.env.TEMPORAL_ADDRESS ?? loaded.config.temporal.address);
}

/**
 * Registers Relearn's search attributes on the configured server (idempotent). A namespace that refuses — missing
 * namespace, no permission, a cloud namespace that only takes them through its own control plane — ends in one
 * ConfigError naming the server, the namespace, its answer and the command an operator can run instead.
 */
export async function registerServerSearchAttributes(loaded: LoadedConfig): Promise<ServerSetupResult> {
  const target = await resolveTemporalTarget(loaded);
  if (target.embedded) throw new ConfigError('temporal.yaml: temporal.address: no server is named (the embedded dev server registers the attributes at start)');
  let connection: Connection;
  try {
    connection = await Connection.connect({ address: target.address, tls: target.tls, apiKey: target.apiKey, connectTimeout: 10_000 });
  } catch (err) {
    throw new ConfigError(`temporal.address: cannot reach ${target.address}: ${(err as Error).message}`);
  }
  try {
    const added = await ensureSearchAttributes(connection, target.namespace);
    return { address: target.address, namespace: target.namespace, added };
  } catch (err) {
    const answer = String((err as Error).message)
      .replace(/^namespace '[^']*' refused Relearn's search attributes: /, '')
      .split('\n')[0];
    throw new ConfigError(
      `namespace '${target.namespace}' on ${target.address} refused Relearn's search attributes (${answer}); ` +
        `an operator can add them with: ${searchAttributeCommand(target.namespace)}`,
    );
  } finally {
    await connection.close();
  }
}
