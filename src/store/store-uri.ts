import { z } from 'zod';
import { ArtifactIntegrityError } from '../errors';

/** The scheme every artifact URI starts with. */
export const STORE_SCHEME = 'store://';

// A leading dot is refused so that `.`/`..` can never be a segment and so that the store's own
// temp files (which start with a dot) can never be addressed by a URI.
const SEGMENT_PATTERN = /^[A-Za-z0-9_-][A-Za-z0-9._-]*$/;
const SHA256_PATTERN = /^[0-9a-f]{64}$/;
const MAX_SEGMENT_LENGTH = 200;

/** A lowercase hex SHA-256 digest. */
export const Sha256Schema = z.string().regex(SHA256_PATTERN, 'expected 64 lowercase hex digits (a SHA-256)');

/** The parts of a `store://<kind>/<sha256>/<name>` URI. */
export const StoreUriPartsSchema = z.object({
  kind: z.string(),
  sha256: Sha256Schema,
  name: z.string(),
});
/** The parts of a `store://<kind>/<sha256>/<name>` URI. */
export type StoreUriParts = z.infer<typeof StoreUriPartsSchema>;

/** Throws ArtifactIntegrityError unless `value` is a safe kind or file name segment. */
export function checkSegment(field: 'kind' | 'name', value: string, context: string): void {
  const problem = segmentProblem(value);
  if (problem !== undefined) {
    throw new ArtifactIntegrityError(
      `${context}: ${field} ${JSON.stringify(value)} ${problem}; expected 1-${MAX_SEGMENT_LENGTH} characters from [A-Za-z0-9._-], not starting with "."`,
    );
  }
}

function segmentProblem(value: string): string | undefined {
  if (value.length === 0) return 'is empty';
  if (value.length > MAX_SEGMENT_LENGTH) return `is ${value.length} characters long`;
  if (value.includes('\0')) return 'contains a NUL byte';
  if (value.includes('/') || value.includes('\\')) return 'contains a path separator';
  if (value.includes('%')) return 'contains percent-encoding (URIs are not decoded)';
  if (value.startsWith('.')) return 'starts with "."';
  if (!SEGMENT_PATTERN.test(value)) return 'contains a character outside [A-Za-z0-9._-]';
  return undefined;
}

/**
 * Parses and validates a store URI without decoding it.
 * WHATWG `new URL()` is deliberately not used: it would silently collapse `..` segments.
 */
export function parseStoreUri(uri: string): StoreUriParts {
  const shown = JSON.stringify(uri);
  if (typeof uri !== 'string' || !uri.startsWith(STORE_SCHEME)) {
    throw new ArtifactIntegrityError(`artifact URI ${shown} is not a store URI; expected store://<kind>/<sha256>/<name>`);
  }
  const segments = uri.slice(STORE_SCHEME.length).split('/');
  if (segments.length !== 3) {
    throw new ArtifactIntegrityError(
      `artifact URI ${shown} has ${segments.length} path segments; expected exactly 3: store://<kind>/<sha256>/<name>`,
    );
  }
  const [kind = '', sha256 = '', name = ''] = segments;
  checkSegment('kind', kind, `artifact URI ${shown}`);
  if (!SHA256_PATTERN.test(sha256)) {
    throw new ArtifactIntegrityError(
      `artifact URI ${shown}: digest ${JSON.stringify(sha256)} is not a SHA-256; expected 64 lowercase hex digits`,
    );
  }
  checkSegment('name', name, `artifact URI ${shown}`);
  return { kind, sha256, name };
}

/** Builds the canonical URI for an artifact; validates the parts the same way parsing does. */
export function formatStoreUri(parts: StoreUriParts): string {
  const uri = `${STORE_SCHEME}${parts.kind}/${parts.sha256}/${parts.name}`;
  parseStoreUri(uri);
  return uri;
}
