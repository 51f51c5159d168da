// Bad job outputs and bad data that only a real run meets, on the real dev server. Each run must end in a
// non-retryable failure naming the file or column, with nothing registered or promoted; a broken job contract is not
// retried (each job launched once). Training jobs here are test/fixtures/trainers/broken-outputs.py in one mode each.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { RELEARN_ROOT } from '../../src/paths';
import { smallFlightsModel } from '../helpers/pipeline-env';
import { failingRun, launchesPerJob } from './helpers';

const BROKEN = path.join(RELEARN_ROOT, 'test/fixtures/trainers/broken-outputs.py');
const base = smallFlightsModel() as { source: Record<string, unknown>; split: Record<string, unknown>; trainer: Record<string, unknown> };

/** The small flights pipeline with two folds, its jobs run by broken-outputs.py in `mode`. */
function brokenTrainer(mode: string): Record<string, unknown> {
  return {
    split: { ...base.split, folds: 2 },
    trainer: { ...base.trainer, command: ['{python}', BROKEN, mode, '{spec}'], maxAttempts: 2, maxParallel: 1 },
  };
}

function assertLaunchedOnce(o: Awaited<ReturnType<typeof failingRun>>): void {
  const perJob = launchesPerJob(o);
  assert.ok(perJob.size >= 1, 'a job was launched');
  for (const [job, count] of perJob) assert.equal(count, 1, `${job} launched ${count} times: a broken contract is not retried`);
}

describe('bad job outputs: JobContractError naming the file, not retried, nothing promoted', { timeout: 900_000 }, () => {
  it('status.json missing after exit code 0', async () => {
    const o = await failingRun(brokenTrainer('no-status'));
    assert.equal(o.failureType, 'JobContractError');
    assert.match(o.failure!, /training job \S+fold-0 exited 0 but wrote no status\.json in \S+\/out/);
    assertLaunchedOnce(o);
  });

  it('status.json that is not JSON', async () => {
    const o = await failingRun(brokenTrainer('status-not-json'));
    assert.equal(o.failureType, 'JobContractError');
    assert.match(o.failure!, /\/out\/status\.json: not a valid status\.json: not JSON \(/);
    assertLaunchedOnce(o);
  });

  it('status.json with a field of the wrong type: names the field', async () => {
    const o = await failingRun(brokenTrainer('status-bad-field'));
    assert.equal(o.failureType, 'JobContractError');
    assert.match(o.failure!, /status\.json: not a valid status\.json: trainRows: Invalid input: expected number, received string/);
    assertLaunchedOnce(o);
  });

  it('model.onnx missing: names the job and its output folder', async () => {
    const o = await failingRun(brokenTrainer('no-model'));
    assert.equal(o.failureType, 'JobContractError');
    assert.match(o.failure!, /training job \S+ wrote no model\.onnx in \S+\/out/);
    assertLaunchedOnce(o);
  });

  it('probe.json malformed (after a real training): names the file and the field', async () => {
    const o = await failingRun(brokenTrainer('probe-malformed'));
    assert.equal(o.failureType, 'JobContractError');
    assert.match(o.failure!, /\/out\/probe\.json: not a valid probe\.json: rows\.0: Invalid input: expected number, received string/);
    assertLaunchedOnce(o);
  });
});

describe('bad data met by a run: failure naming the column or key, no job launched, nothing promoted', { timeout: 600_000 }, () => {
  it('a label column with one class in the window', async () => {
    // No flight in the window is 100,000 minutes late, so every label is 0.
    const derive = (base.source.derive as Array<Record<string, unknown>>).map((d) => (d.name === 'delayed' ? { ...d, value: 100_000 } : d));
    const o = await failingRun({ source: { ...base.source, derive } });
    assert.equal(o.failureType, 'DataContractError');
    assert.match(o.failure!, /label column 'delayed' has a single class \(0\) in the \d+ training rows; a binary model needs at least 2 classes/);
    assert.equal(o.launches.length, 0);
  });

  it('a holdout that leaves too few rows to train on', async () => {
    const o = await failingRun({
      source: { ...base.source, sample: { maxRows: 30, seed: 3 } },
      contract: { minRows: 10, columns: {} },
      split: { ...base.split, folds: 5, holdoutFraction: 0.8 },
    });
    assert.equal(o.failureType, 'DataContractError');
    assert.match(o.failure!, /split: 30 rows are too few for 5 folds.*split\.holdoutFraction 0\.8/);
    assert.equal(o.launches.length, 0);
  });

  it('a run whose source lies outside the worker’s data root is refused at pull time too', async () => {
    const root = mkdtempSync(path.join(os.tmpdir(), 'relearn-data-root-'));
    const o = await failingRun({}, undefined, (loaded) => {
      // The config was loaded with a permissive root; the worker that pulls is stricter.
      loaded.dataRoot = root;
    });
    assert.equal(o.failureType, 'ConfigError');
    assert.match(o.failure!, /models\.bad-\S+\.source\.path: '\S+flights-3m\.parquet' is outside the data root '\S+relearn-data-root-\S+'/);
    assert.equal(o.launches.length, 0);
  });
});
