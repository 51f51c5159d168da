/** Content-addressed artifact store: URIs, writes and verified reads, in a local folder or an S3 bucket. */
export { ArtifactRefSchema, LocalArtifactStore, hashFile, jsonBytes } from './artifact-store';
export type { ArtifactRef, ArtifactStore, VerifiableRef } from './artifact-store';
export { S3_CACHE_DIR, jobStoreSpec, openArtifactStore } from './open-store';
export { S3ArtifactStore, createS3Client } from './s3-store';
export type { S3StoreOptions } from './s3-store';
export { STORE_SCHEME, Sha256Schema, StoreUriPartsSchema, checkSegment, formatStoreUri, parseStoreUri } from './store-uri';
export type { StoreUriParts } from './store-uri';
