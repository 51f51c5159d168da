import path from 'node:path';
import type { LoadedConfig } from '../config';
import { ConfigError } from '../errors';
import { type ArtifactStore, LocalArtifactStore } from './artifact-store';

/** The artifact store temporal.yaml's `store:` names: a folder under stateDir (default `store`) or an S3 bucket. */
export function openArtifactStore(loaded: Pick<LoadedConfig, 'config' | 'stateDir'>): ArtifactStore {
  const { store } = loaded.config;
  if (store.url.startsWith('s3://')) {
    throw new ConfigError(`store.url: ${store.url}: the S3 store is not available in this build`);
  }
  return new LocalArtifactStore(path.resolve(loaded.stateDir, store.url));
}
