import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { ModelRejectedError } from '../../src/errors';
import { type CheckModelOptions, ModelCheckPool, checkChildEnvironment, checkModelIsolated } from '../../src/onnx';

// Models written by scripts/make-onnx-fixtures.py; the hostile-* ones each break one rule.
const FIXTURES = path.join(import.meta.dirname, '..', 'fixtures', 'onnx');
const GOOD = path.join(FIXTURES, 'classifier-binary.onnx');
const FEATURES = { numeric: ['distance', 'delay', 'hour'], categorical: ['origin'] };
const X_ONLY = { numeric: ['x'], categorical: [] };
const MB = 1024 * 1024;

function checkIn(pool: ModelCheckPool, modelPath: string, extra: Partial<CheckModelOptions> = {}) {
  const hostile = path.basename(modelPath).startsWith('hostile-');
  return checkModelIsolated({
    modelPath,
    expectedInputs: hostile ? X_ONLY : FEATURES,
    task: hostile ? 'regression' : 'binary',
    maxSizeBytes: 50 * MB,
    memoryLimitBytes: 512 * MB,
    timeoutMs: 20_000,
    latencyRuns: 5,
    pool,
    ...extra,
  });
}

async function assertRejected(promise: Promise<unknown>, reason: RegExp): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof ModelRejectedError, `expected ModelRejectedError, got ${String(err)}`);
    assert.match(err.message, reason);
    return true;
  });
}

/** Pids of this process's check children (the shell has exec'd into Node.js running the check script). */
function checkChildPids(): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === process.pid && readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes('check-model-child.mjs')) pids.push(Number(entry));
    } catch {
      // Gone meanwhile.
    }
  }
  return pids;
}

describe('ModelCheckPool', () => {
  test('passed checks reuse one process, up to checksPerProcess', async () => {
    const pool = new ModelCheckPool({ size: 1, checksPerProcess: 3 });
    try {
      for (let i = 0; i < 4; i++) assert.equal((await checkIn(pool, GOOD)).ok, true);
      assert.equal(pool.processesStarted, 2);
      // Another memory limit is another process: the limit holds for the whole life of a process.
      assert.equal((await checkIn(pool, GOOD, { memoryLimitBytes: 256 * MB })).ok, true);
      assert.equal(pool.processesStarted, 3);
    } finally {
      pool.close();
    }
  });

  test('a model over the memory limit in a reused process is still refused, and the next model is checked in a fresh one', async () => {
    const pool = new ModelCheckPool({ size: 1 });
    try {
      await checkIn(pool, GOOD);
      await checkIn(pool, GOOD);
      assert.equal(pool.processesStarted, 1);
      // Fails in the reused process, is tried again in a fresh one (so nothing left by earlier checks is blamed) and fails there too.
      await assertRejected(checkIn(pool, path.join(FIXTURES, 'hostile-constant-of-shape.onnx')), /^hostile-constant-of-shape\.onnx: .*exceeded the memory limit of 512 MB/);
      assert.equal(pool.processesStarted, 2);
      const next = await checkIn(pool, GOOD);
      assert.equal(next.ok, true);
      assert.equal(next.outputs.map((o) => o.name).join(','), 'label,probabilities');
      assert.equal(pool.processesStarted, 3);
    } finally {
      pool.close();
    }
  });

  test('a hanging model is killed at its timeout, once, and the next model is checked correctly', async () => {
    const pool = new ModelCheckPool({ size: 1 });
    try {
      await checkIn(pool, GOOD);
      const started = Date.now();
      await assertRejected(
        checkIn(pool, path.join(FIXTURES, 'hostile-endless-loop.onnx'), { timeoutMs: 1500 }),
        /^hostile-endless-loop\.onnx: running the model on one row exceeded the timeout of 1500 ms \(the check process was killed\)$/,
      );
      // A timeout is not tried again: a fresh process would hang the same way.
      assert.ok(Date.now() - started < 5_000, `took ${Date.now() - started} ms`);
      assert.equal(pool.processesStarted, 1);
      assert.equal((await checkIn(pool, GOOD)).ok, true);
      assert.equal(pool.processesStarted, 2);
    } finally {
      pool.close();
    }
  });

  test('a check process that dies mid-check fails that check with how it died; the next model is checked correctly', async () => {
    const pool = new ModelCheckPool({ size: 1 });
    try {
      const hanging = checkIn(pool, path.join(FIXTURES, 'hostile-endless-loop.onnx'), { timeoutMs: 60_000 });
      const deadline = Date.now() + 20_000;
      let pids = checkChildPids();
      while (pids.length === 0 && Date.now() < deadline) {
        await new Promise((resolve) => setImmediate(resolve));
        pids = checkChildPids();
      }
      assert.equal(pids.length, 1);
      process.kill(pids[0]!, 'SIGKILL');
      await assertRejected(hanging, /^hostile-endless-loop\.onnx: the check process died during (session creation|the first run on one row) \(signal SIGKILL\)/);
      assert.equal((await checkIn(pool, GOOD)).ok, true);
      assert.equal(pool.processesStarted, 2);
    } finally {
      pool.close();
    }
  });

  test('checks beyond the pool size wait their turn and all pass', async () => {
    const pool = new ModelCheckPool({ size: 2 });
    try {
      const results = await Promise.all(Array.from({ length: 6 }, () => checkIn(pool, GOOD)));
      assert.deepEqual(results.map((r) => r.ok), Array(6).fill(true));
      assert.ok(pool.processesStarted <= 2, `${pool.processesStarted} processes`);
    } finally {
      pool.close();
    }
  });

  test('a check process gets the search path, locale and temp folder of the worker, nothing else', () => {
    const env = checkChildEnvironment({
      PATH: '/usr/bin',
      LANG: 'C.UTF-8',
      LC_ALL: 'C',
      TMPDIR: '/var/tmp',
      AWS_SECRET_ACCESS_KEY: 'secret',
      NODE_OPTIONS: '--import tsx',
      HOME: '/root',
    });
    assert.deepEqual(env, { PATH: '/usr/bin', LANG: 'C.UTF-8', LC_ALL: 'C', TMPDIR: '/var/tmp' });
  });
});
