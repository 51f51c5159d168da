// Keeps the benchmarks from rotting: runs the cheapest ones (data pull; orchestration, Relearn only) at their
// seconds-long smoke size through the real runner, into a temp folder, and checks the results they wrote. No timing
// assertions.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RELEARN_ROOT } from '../../src/paths';

/** Runs `bench/run.ts --smoke --only <name>` into a fresh temp folder and hands the folder to `check`. */
function smokeRun(name: string, timeoutMs: number, check: (results: string) => void): void {
  const results = mkdtempSync(path.join(os.tmpdir(), 'relearn-bench-'));
  try {
    const run = spawnSync(process.execPath, ['--import', 'tsx', 'bench/run.ts', '--smoke', '--only', name, '--results', results], {
      cwd: RELEARN_ROOT,
      encoding: 'utf8',
      timeout: timeoutMs,
    });
    assert.equal(run.status, 0, run.stderr);
    check(results);
  } finally {
    rmSync(results, { recursive: true, force: true });
  }
}

test('npm run bench --smoke --only data-pull writes a results JSON with both sides, the machine and a summary', { timeout: 180_000 }, () => {
  smokeRun('data-pull', 170_000, (results) => {
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
  });
});

test('npm run bench --smoke --only orchestration runs Relearn alone and records the commit, the load and a history line', { timeout: 240_000 }, () => {
  smokeRun('orchestration', 230_000, (results) => {
    const report = JSON.parse(readFileSync(path.join(results, 'orchestration.json'), 'utf8')) as Record<string, any>;
    // The commit measured at: HEAD when the file was written (HEAD may have moved on since, in a shared checkout).
    assert.match(report.commit, /^[0-9a-f]{40}$/);
    const ancestor = spawnSync('git', ['merge-base', '--is-ancestor', report.commit, 'HEAD'], { cwd: RELEARN_ROOT });
    assert.equal(ancestor.status, 0, `${report.commit} is HEAD or before it`);
    assert.equal(typeof report.dirty, 'boolean');
    assert.equal(report.loadAverage.length, 3);
    for (const l of report.loadAverage) assert.equal(typeof l, 'number');
    assert.deepEqual(Object.keys(report.relearn.phases), ['sequential', 'concurrent-2']);
    for (const phase of Object.values(report.relearn.phases) as any[]) {
      assert.equal(phase.runs, 2);
      assert.equal(phase.failed, 0);
      // Every run's 4 no-op jobs logged their own intervals, so the overhead is the wall time minus real job time.
      assert.equal(phase.jobsPerRun.min, 4);
      assert.ok(phase.jobsMs.p50 > 0);
      assert.ok(phase.overheadMs.p50 > 0 && phase.overheadMs.p50 < phase.wallMs.p50);
    }
    assert.deepEqual(report.peers, {}, 'no peer is installed or run at smoke size');
    const history = readFileSync(path.join(results, 'history.jsonl'), 'utf8').trim().split('\n');
    assert.equal(history.length, 1);
    assert.equal(JSON.parse(history[0]!).commit, report.commit);
    const summary = readFileSync(path.join(results, 'summary.md'), 'utf8');
    assert.match(summary, new RegExp(`## 2\\. Orchestration overhead[\\s\\S]*commit ${report.commit.slice(0, 8)}`));
  });
});
