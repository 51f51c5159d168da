// Request ids the server issues. A window pairs a champion's and a shadow's prediction and the feedback labels by
// request id, so the id must come from the server: 128 random bits behind a fixed prefix, which no client can choose
// or guess. Whatever id a client sends is kept beside it as a correlation field and never used to pair.
import { randomBytes } from 'node:crypto';

/** Prefix of every server-issued request id. */
export const SERVER_REQUEST_ID_PREFIX = 'rq_';
const SERVER_REQUEST_ID = /^rq_[0-9a-f]{32}$/;

/** A new server request id: `rq_` and 32 hex digits (128 random bits). */
export function newServerRequestId(): string {
  return `${SERVER_REQUEST_ID_PREFIX}${randomBytes(16).toString('hex')}`;
}

/** Whether `id` has the form of a server-issued request id (what live windows count). */
export function isServerRequestId(id: string): boolean {
  return SERVER_REQUEST_ID.test(id);
}
