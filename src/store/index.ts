/** Content-addressed artifact store: URIs, writes and verified reads. */
export { ArtifactRefSchema, ArtifactStore, hashFile } from './artifact-store';
export type { ArtifactRef, VerifiableRef } from './artifact-store';
export { STORE_SCHEME, Sha256Schema, StoreUriPartsSchema, checkSegment, formatStoreUri, parseStoreUri } from './store-uri';
export type { StoreUriParts } from './store-uri';
