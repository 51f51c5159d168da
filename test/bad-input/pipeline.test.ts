import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { RELEARN_ROOT } from '../../src/paths';
import { smallFlightsModel } from '../helpers/pipeline-env';
import { failingRun } from './helpers';

describe('bad input ends in a clear failure and nothing promoted', { timeout: 600_000 }, () => {
  const base = smallFlightsModel() as { source: Record<string, unknown>; contract: Record<string, unknown>; features: Record<string, unknown>; trainer: Record<string, unknown> };

  it('missing column: names the column and the file', async () => {
    const o = await failingRun({ features: { numeric: ['distance', 'air_time'], categorical: ['origin'] } });
    assert.equal(o.failureType, 'DataContractError');
    assert.match(o.failure!, /flights-3m\.parquet/);
    assert.match(o.failure!, /'air_time'/);
    assert.equal(o.launches.length, 0, 'no training job launched');
  });

  it('wrong type: names the column, its type and the expected one', async () => {
    const o = await failingRun({
      contract: { ...base.contract, columns: { origin: { type: 'int' } } },
    });
    assert.equal(o.failureType, 'DataContractError');
    assert.match(o.failure!, /'origin'/);
    assert.match(o.failure!, /int/);
  });

  it('empty window: names the window and the file', async () => {
    const o = await failingRun({ source: { ...base.source, window: { from: '2002-01-01', to: '2002-02-01' } } });
    assert.equal(o.failureType, 'DataContractError');
    assert.match(o.failure!, /2002-01-01/);
    assert.match(o.failure!, /flights-3m\.parquet/);
  });

  it('unreadable file: names the file', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'relearn-bad-'));
    const file = path.join(dir, 'garbage.parquet');
    writeFileSync(file, 'this is not parquet\n');
    const o = await failingRun({ source: { ...base.source, path: file } });
    assert.equal(o.failureType, 'DataSourceError');
    assert.match(o.failure!, /garbage\.parquet/);
  });

  it('trainer exit code 2 (bad params): fails at once, the job is not retried', async () => {
    const o = await failingRun({ trainer: { ...base.trainer, params: { C: 1.0, not_a_param: 3 }, maxAttempts: 3 } });
    assert.equal(o.failureType, 'JobParamsError');
    assert.match(o.failure!, /not_a_param/);
    const perJob = new Map<string, number>();
    for (const l of o.launches) perJob.set(l.jobId, (perJob.get(l.jobId) ?? 0) + 1);
    assert.ok(perJob.size >= 1);
    for (const [job, count] of perJob) assert.equal(count, 1, `${job} launched ${count} times`);
  });

  it('trainer crash: retried up to maxAttempts, then the run fails with its last stderr lines', async () => {
    const crash = path.join(RELEARN_ROOT, 'test/fixtures/trainers/crash.py');
    const o = await failingRun({ trainer: { ...base.trainer, command: ['{python}', crash, '{spec}'], maxAttempts: 2, maxParallel: 1 } });
    assert.match(o.failure!, /simulated trainer crash/);
    assert.match(o.failure!, /exited with code 1/);
    const fold0 = o.launches.filter((l) => l.jobId.endsWith('fold-0'));
    assert.equal(fold0.length, 2, 'launched once per attempt');
    assert.deepEqual(fold0.map((l) => l.run), [1, 2]);
  });
});

describe('invalid temporal.yaml', () => {
  it('the CLI exits 2 and names the path in the file, without a stack trace', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'relearn-bad-config-'));
    const file = path.join(dir, 'temporal.yaml');
    writeFileSync(file, 'models:\n  m:\n    task: binary\n    source: { path: x.csv, timeColumn: t }\n    features: { numeric: [a] }\n    label: y\n    split: { folds: 1 }\n');
    const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(RELEARN_ROOT, 'src/cli/main.ts'), '--config', file, 'runs'], {
      encoding: 'utf8',
      cwd: RELEARN_ROOT,
    });
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /temporal\.yaml: models\.m\.split\.folds: /);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  });

  it('the CLI exits 2 for an unknown model and lists the known ones', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(RELEARN_ROOT, 'src/cli/main.ts'), 'versions', 'no-such-model'], {
      encoding: 'utf8',
      cwd: RELEARN_ROOT,
    });
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /models\.no-such-model: no such model \(known: flights-delay, flights-delay-mislabeled, flights-delay-fixed\)/);
  });
});
