import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Client, Connection, type TLSConfig } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import type { LoadedConfig } from '../config';
import { ConfigError } from '../errors';
import { ensureDevServer } from './dev-server';

/** Where to reach Temporal, after temporal.yaml and the environment are combined. */
export interface TemporalTarget {
  address: string;
  namespace: string;
  taskQueue: string;
  tls?: TLSConfig;
  apiKey?: string;
  /** The Web UI's base address, when known. */
  uiUrl?: string;
  /** True when Relearn runs the server itself (the embedded dev server). */
  embedded: boolean;
}

function readPem(file: string, field: string, baseDir: string): Buffer {
  const absolute = path.resolve(baseDir, file);
  try {
    return readFileSync(absolute);
  } catch {
    throw new ConfigError(`temporal.yaml: temporal.tls.${field}: cannot read ${file}`);
  }
}

/**
 * Resolves the Temporal target: an `address` (temporal.yaml or TEMPORAL_ADDRESS) connects to that server with its
 * namespace, TLS client certs and API key; no address starts or reuses the embedded dev server.
 */
export async function resolveTemporalTarget(loaded: LoadedConfig, log?: (line: string) => void): Promise<TemporalTarget> {
  const t = loaded.config.temporal;
  const env = process.env;
  const namespace = env.TEMPORAL_NAMESPACE ?? t.namespace;
  const address = env.TEMPORAL_ADDRESS ?? t.address;
  if (!address) {
    const server = await ensureDevServer({
      stateDir: loaded.stateDir,
      port: t.devServer.port,
      uiPort: t.devServer.uiPort,
      dbFile: t.devServer.dbFile,
      namespace,
      log,
    });
    return { address: server.address, namespace, taskQueue: t.taskQueue, uiUrl: server.uiUrl, embedded: true };
  }
  const certPath = env.TEMPORAL_TLS_CLIENT_CERT_PATH ?? t.tls?.clientCertPath;
  const keyPath = env.TEMPORAL_TLS_CLIENT_KEY_PATH ?? t.tls?.clientKeyPath;
  const caPath = env.TEMPORAL_TLS_SERVER_CA_CERT_PATH ?? t.tls?.serverRootCACertPath;
  if ((certPath === undefined) !== (keyPath === undefined)) {
    throw new ConfigError('temporal.yaml: temporal.tls: clientCertPath and clientKeyPath must be given together');
  }
  const apiKey = env[t.apiKeyEnv ?? 'TEMPORAL_API_KEY'];
  let tls: TLSConfig | undefined;
  if (certPath && keyPath) {
    tls = {
      clientCertPair: { crt: readPem(certPath, 'clientCertPath', loaded.baseDir), key: readPem(keyPath, 'clientKeyPath', loaded.baseDir) },
      serverRootCACertificate: caPath ? readPem(caPath, 'serverRootCACertPath', loaded.baseDir) : undefined,
      serverNameOverride: t.tls?.serverNameOverride,
    };
  } else if (apiKey || t.tls) {
    tls = {};
  }
  const uiUrl = (env.TEMPORAL_WEB_UI ?? t.webUi)?.replace(/\/+$/, '');
  return { address, namespace, taskQueue: t.taskQueue, tls, apiKey, uiUrl, embedded: false };
}

/** A connected Temporal client plus what it was connected to. */
export interface ConnectedClient {
  client: Client;
  target: TemporalTarget;
  close(): Promise<void>;
}

/** Connects a client to the resolved target. */
export async function connectClient(loaded: LoadedConfig, log?: (line: string) => void): Promise<ConnectedClient> {
  const target = await resolveTemporalTarget(loaded, log);
  const connection = await Connection.connect({ address: target.address, tls: target.tls, apiKey: target.apiKey });
  const client = new Client({ connection, namespace: target.namespace });
  return { client, target, close: () => connection.close() };
}

/** Connects a worker's native connection to the resolved target. */
export async function connectWorker(target: TemporalTarget): Promise<NativeConnection> {
  return NativeConnection.connect({ address: target.address, tls: target.tls, apiKey: target.apiKey });
}

/** The Web UI link of one workflow run, when the UI address is known. */
export function runUrl(target: TemporalTarget, workflowId: string, runId?: string): string | undefined {
  if (!target.uiUrl) return undefined;
  const base = `${target.uiUrl}/namespaces/${encodeURIComponent(target.namespace)}/workflows/${encodeURIComponent(workflowId)}`;
  return runId ? `${base}/${runId}/history` : base;
}
