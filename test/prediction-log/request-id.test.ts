import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isServerRequestId, newServerRequestId } from '../../src/prediction-log';

test('server request ids are well-formed and never repeat, across several draws of random bytes', () => {
  const ids = Array.from({ length: 1000 }, () => newServerRequestId());
  for (const id of ids) assert.ok(isServerRequestId(id), `not a server request id: ${id}`);
  assert.equal(new Set(ids).size, ids.length);
  // No 128-bit part shares a half with another: bytes of the pool are never handed out twice.
  const halves = ids.flatMap((id) => [id.slice(3, 19), id.slice(19)]);
  assert.equal(new Set(halves).size, halves.length);
});
