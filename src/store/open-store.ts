import path from 'node:path';
import type { LoadedConfig } from '../config';
import { parseS3Url } from '../config/store';
import { type ArtifactStore, LocalArtifactStore } from './artifact-store';
import { S3ArtifactStore } from './s3-store';

/** Folder under stateDir where an S3 store keeps the checked local copies verifiedPath returns. */
export const S3_CACHE_DIR = 'store-cache';

/**
 * The `store` block of a job spec when the store is S3 (undefined for a local folder): where a job on another machine
 * reads its inputs by URI; the credentials come from that machine's AWS chain.
 */
export function jobStoreSpec(
  store: LoadedConfig['config']['store'],
): { url: string; endpoint?: string; region?: string; forcePathStyle?: boolean } | undefined {
  if (parseS3Url(store.url) === undefined) return undefined;
  return {
    url: store.url,
    ...(store.endpoint !== undefined ? { endpoint: store.endpoint } : {}),
    ...(store.region !== undefined ? { region: store.region } : {}),
    ...(store.forcePathStyle !== undefined ? { forcePathStyle: store.forcePathStyle } : {}),
  };
}

/** The artifact store temporal.yaml's `store:` names: a folder under stateDir (default `store`) or an S3 bucket. */
export function openArtifactStore(loaded: Pick<LoadedConfig, 'config' | 'stateDir'>): ArtifactStore {
  const { store } = loaded.config;
  const s3 = parseS3Url(store.url);
  if (s3 !== undefined) {
    return new S3ArtifactStore({
      ...s3,
      ...(store.endpoint !== undefined ? { endpoint: store.endpoint } : {}),
      ...(store.region !== undefined ? { region: store.region } : {}),
      ...(store.forcePathStyle !== undefined ? { forcePathStyle: store.forcePathStyle } : {}),
      ...(store.partSizeBytes !== undefined ? { partSizeBytes: store.partSizeBytes } : {}),
      cacheDir: path.join(loaded.stateDir, S3_CACHE_DIR),
    });
  }
  return new LocalArtifactStore(path.resolve(loaded.stateDir, store.url));
}
