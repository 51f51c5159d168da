import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { Worker } from '@temporalio/worker';
import { RELEARN_ROOT } from '../../src/paths';
import { workflowBundle } from '../../src/temporal/worker';

const DIR = path.join(RELEARN_ROOT, 'test', 'histories');

// Determinism guard: every recorded history must replay on today's workflow code without a non-determinism error.
// Re-record with scripts/record-histories.ts only for changes guarded by patched().
describe('replay of recorded retrain histories', () => {
  const files = readdirSync(DIR).filter((f) => f.endsWith('.json')).sort();

  it('has recorded histories to replay', () => {
    assert.ok(files.length >= 3, `found ${files.length} histories in test/histories`);
  });

  for (const file of files) {
    it(`replays ${file}`, { timeout: 120_000 }, async () => {
      const history = historyFromJSON(JSON.parse(readFileSync(path.join(DIR, file), 'utf8')));
      const bundle = await workflowBundle(path.join(os.tmpdir(), 'relearn-replay-cache'));
      const result = await Worker.runReplayHistory({ workflowBundle: bundle }, history, `replay-${file}`);
      assert.equal(result, undefined);
    });
  }
});
