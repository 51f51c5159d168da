// Request ids the server issues. A window pairs a champion's and a shadow's prediction and the feedback labels by
// request id, so the id must come from the server: 128 random bits behind a fixed prefix, which no client can choose
// or guess. Whatever id a client sends is kept beside it as a correlation field and never used to pair.
import { randomFillSync } from 'node:crypto';

/** Prefix of every server-issued request id. */
export const SERVER_REQUEST_ID_PREFIX = 'rq_';
const SERVER_REQUEST_ID = /^rq_[0-9a-f]{32}$/;

// Random bytes are drawn from the CSPRNG for many ids at a time (as Node does for randomUUID): one call per request
// was ~3% of the serving thread's time on one-row requests. Each id still takes 16 bytes no other id uses.
const ID_BYTES = 16;
const IDS_PER_DRAW = 256;
const pool = Buffer.alloc(ID_BYTES * IDS_PER_DRAW);
let nextId = IDS_PER_DRAW;

/** A new server request id: `rq_` and 32 hex digits (128 random bits). */
export function newServerRequestId(): string {
  if (nextId === IDS_PER_DRAW) {
    randomFillSync(pool);
    nextId = 0;
  }
  const start = ID_BYTES * nextId++;
  return `${SERVER_REQUEST_ID_PREFIX}${pool.toString('hex', start, start + ID_BYTES)}`;
}

/** Whether `id` has the form of a server-issued request id (what live windows count). */
export function isServerRequestId(id: string): boolean {
  return SERVER_REQUEST_ID.test(id);
}
