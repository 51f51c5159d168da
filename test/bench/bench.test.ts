// Keeps the benchmarks from rotting: runs the cheapest one (data pull) at its seconds-long smoke size through the real
// runner, into a temp folder, and checks the results it wrote. No timing assertions.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RELEARN_ROOT } from '../../src/paths';

test('npm run bench --smoke --only data-pull writes a results JSON with both sides, the machine and a summary', { timeout: 180_000 }, () => {
  const results = mkdtempSync(path.join(os.tmpdir(), 'relearn-bench-'));
  try {
    const run = spawnSync(process.execPath, ['--import', 'tsx', 'bench/run.ts', '--smoke', '--only', 'data-pull', '--results', results], {
      cwd: RELEARN_ROOT,
      encoding: 'utf8',
      timeout: 170_000,
    });
    assert.equal(run.status, 0, run.stderr);
    const report = JSON.parse(readFileSync(path.join(results, 'data-pull.json'), 'utf8')) as Record<string, any>;
    assert.equal(report.bench, 'data-pull');
    assert.equal(report.mode, 'smoke');
    for (const key of ['cpuModel', 'cores', 'memoryGB', 'node', 'python']) assert.ok(key in report.machine, `machine.${key}`);
    assert.doesNotMatch(JSON.stringify(report.machine), new RegExp(os.hostname()));
    for (const side of [report.relearn, report.pyarrow]) {
      assert.ok(side.rows > 0);
      for (const key of ['medianMs', 'minMs', 'maxMs', 'peakRssMB']) assert.equal(typeof side[key], 'number', key);
      assert.equal(side.rows, report.relearn.rows, 'both sides pull the same rows');
    }
    assert.equal(typeof report.slowdown, 'number');
    assert.ok(Array.isArray(report.summary) && report.summary.length === 1);
    const summary = readFileSync(path.join(results, 'summary.md'), 'utf8');
    assert.match(summary, /## 4\. Data pull/);
    assert.ok(!existsSync(path.join(results, 'eval.json')), 'only the selected benchmark ran');
  } finally {
    rmSync(results, { recursive: true, force: true });
  }
});
