// Trust boundaries of training jobs on the real dev server, the real worker and the real trainer: a job sees none of
// the worker's credentials, a secret it prints never reaches the run's history, an oversize model never lands in the
// store, output files over their caps are refused. Jobs are test/fixtures/trainers/leaky.py and hostile.py.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import type { LoadedConfig } from '../../src/config';
import { connectClient } from '../../src/temporal/connection';
import { RELEARN_ROOT } from '../../src/paths';
import { failingRun } from '../bad-input/helpers';
import { envDuringSuite } from '../helpers/env';
import { runPipeline, smallFlightsModel, testConfig, uniqueModelName } from '../helpers/pipeline-env';

const LEAKY = path.join(RELEARN_ROOT, 'test/fixtures/trainers/leaky.py');
const HOSTILE = path.join(RELEARN_ROOT, 'test/fixtures/trainers/hostile.py');
// TEMPORAL_API_KEY itself would switch the test's own connection to TLS; the unit test in job-output.test.ts sets it.
const WORKER_SECRETS = { RELEARN_SERVE_TOKEN: 'serve-pipeline-token-0123456789', AWS_SECRET_ACCESS_KEY: 'aws-pipeline-secret-abcdefghij' };
const base = smallFlightsModel() as { split: Record<string, unknown>; trainer: Record<string, unknown> };

function trainerRunning(args: string[], extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    split: { ...base.split, folds: 2 },
    trainer: { ...base.trainer, command: ['{python}', ...args, '{spec}'], maxAttempts: 1, maxParallel: 1, ...extra },
  };
}

/** Every file under `dir`, relative to it. */
function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name)));
}

describe('untrusted jobs: environment, stderr, model size, output caps', { timeout: 900_000 }, () => {
  envDuringSuite(WORKER_SECRETS);

  it("a job that prints its environment shows none of the worker's credentials, and has its own trainer.env; the run succeeds", async () => {
    const model = uniqueModelName('jobenv');
    const loaded = await testConfig({
      [model]: { ...base, ...trainerRunning([LEAKY, 'env'], { env: { FEATURE_STORE_URL: 'http://features.internal' } }) },
    });
    const outcome = await runPipeline(loaded, model);
    assert.ok(outcome.result, `the run succeeds with the allow-list environment: ${outcome.failure}`);
    const jobsDir = path.join(loaded.stateDir, 'jobs');
    const envFiles = filesUnder(jobsDir).filter((f) => f.endsWith('out/env.json'));
    assert.ok(envFiles.length >= 3, `every job wrote env.json (${envFiles.length})`);
    for (const file of envFiles) {
      const env = JSON.parse(readFileSync(path.join(jobsDir, file), 'utf8')) as Record<string, string>;
      assert.equal(env.RELEARN_SERVE_TOKEN, undefined, file);
      assert.equal(env.AWS_SECRET_ACCESS_KEY, undefined, file);
      for (const secret of Object.values(WORKER_SECRETS)) assert.ok(!JSON.stringify(env).includes(secret), file);
      assert.equal(env.FEATURE_STORE_URL, 'http://features.internal', file);
      assert.equal(env.OMP_NUM_THREADS, '1', file);
    }
  });

  it('a secret a failing job prints on stderr is not in the failure message nor anywhere in the run history', async () => {
    let loaded: LoadedConfig | undefined;
    const o = await failingRun(trainerRunning([LEAKY, 'stderr-secret']), undefined, (l) => {
      loaded = l;
    });
    assert.match(o.failure!, /fatal: feature store refused the connection/, 'the useful part of the tail is kept');
    assert.match(o.failure!, /\[redacted\]/);
    const { client, close } = await connectClient(loaded!);
    try {
      const history = JSON.stringify(await client.workflow.getHandle(o.workflowId, o.runId).fetchHistory());
      for (const secret of ['AKIAIOSFODNN7EXAMPLE', 'wJalrXUtnFEMI', 'eyJhbGciOiJIUzI1NiJ9', 'hunter2-db-pass']) {
        assert.ok(!o.failure!.includes(secret), `${secret} in the failure message`);
        assert.ok(!history.includes(secret), `${secret} in the run history`);
      }
    } finally {
      await close();
    }
  });

  it('an oversize model is rejected before it is copied: the store holds no model', async () => {
    let storeDir = '';
    const o = await failingRun({ ...trainerRunning([HOSTILE, 'oversize']), export: { maxSizeBytes: 1024 } }, undefined, (loaded) => {
      storeDir = path.join(loaded.stateDir, 'store');
    });
    assert.equal(o.failureType, 'ModelRejected');
    assert.match(o.failure!, /model\.onnx of fold-\d: \S+ KB exceeds the cap of 1 KB/);
    const stored = filesUnder(storeDir);
    assert.ok(stored.length > 0, 'the snapshot and split were stored');
    assert.deepEqual(stored.filter((f) => f.startsWith('models')), [], 'no model in the store');
  });

  it('status.json over 1 MiB: JobContractError naming the file and the cap', async () => {
    const o = await failingRun(trainerRunning([LEAKY, 'huge-status']));
    assert.equal(o.failureType, 'JobContractError');
    assert.match(o.failure!, /\/out\/status\.json: not a valid status\.json: \d+ bytes, over the cap of 1048576 bytes/);
  });

  it('probe.json over its cap: JobContractError naming the file and the cap; no model stored', async () => {
    let storeDir = '';
    const o = await failingRun(trainerRunning([LEAKY, 'huge-probe']), undefined, (loaded) => {
      storeDir = path.join(loaded.stateDir, 'store');
    });
    assert.equal(o.failureType, 'JobContractError');
    assert.match(o.failure!, /\/out\/probe\.json: not a valid probe\.json: \d+ bytes, over the cap of \d+ bytes/);
    assert.deepEqual(filesUnder(storeDir).filter((f) => f.startsWith('models')), []);
  });
});
