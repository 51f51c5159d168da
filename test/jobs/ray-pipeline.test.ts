// A whole retrain run whose training jobs run on a real Ray head (trainer.launcher: { ray: { address } }): the real
// trainer, submitted through the Jobs API, its outputs read back from the run folders, the candidate promoted. Ray's
// own job list says each job was submitted once.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { connectClient } from '../../src/temporal/connection';
import { startRetrain } from '../../src/temporal/runs';
import { createRelearnWorker } from '../../src/temporal/worker';
import { activityAttempts, outcomeOf } from '../faults/harness';
import { freePort } from '../helpers/free-port';
import { type PipelineOutcome, runPipeline, smallFlightsModel, testConfig, uniqueModelName } from '../helpers/pipeline-env';
import { rayJobList, testRayHead } from '../helpers/ray';

describe('a retrain run with its training jobs on Ray', { timeout: 420_000 }, () => {
  let address: string;
  let outcome: PipelineOutcome;
  let model: string;

  before(async () => {
    address = (await testRayHead()).address;
    model = uniqueModelName('ray-flights');
    const base = smallFlightsModel();
    const loaded = await testConfig(
      // Two folds: three Ray jobs (each pays Ray's few seconds of driver start-up) are enough to show every one submitted once.
      { [model]: { ...base, split: { ...(base.split as object), folds: 2 }, trainer: { ...(base.trainer as object), launcher: { ray: { address } } } } },
      { prefix: 'ray' },
    );
    outcome = await runPipeline(loaded, model);
  });

  test('promotes the candidate trained on Ray', () => {
    assert.equal(outcome.failure, undefined, outcome.failure);
    assert.equal(outcome.result?.decision, 'promoted');
    assert.equal(outcome.result?.version, 1);
    assert.ok(outcome.result!.candidate.parityMaxAbsDiff <= 1e-4, 'the ONNX export of the Ray-trained model matches its native predictions');
  });

  test('Ray lists each training job (2 folds + final) exactly once, under its job id, succeeded', async () => {
    const mine = (await rayJobList(address)).filter((job) => job.metadata?.['relearn.workflowId'] === outcome.workflowId);
    const roles = mine.map((job) => job.submission_id.split('_').at(-1)).sort();
    assert.deepEqual(roles, ['final', 'fold-0', 'fold-1']);
    assert.ok(mine.every((job) => job.status === 'SUCCEEDED'));
    assert.ok(mine.every((job) => job.submission_id === job.metadata?.['relearn.jobId']), 'submission id = job id');
    // The worker's launch list reads Ray's job list (which holds other tests' jobs too).
    const launched = outcome.launches.filter((l) => l.jobId.startsWith(`retrain_${model}_`));
    assert.deepEqual(launched.map((l) => l.jobId).sort(), mine.map((job) => job.submission_id).sort());
  });

  test('an unreachable Ray dashboard fails the training attempt naming its URL, is retried, and registers nothing', async () => {
    const port = await freePort();
    const name = uniqueModelName('ray-gone');
    const base = smallFlightsModel();
    const loaded = await testConfig(
      { [name]: { ...base, trainer: { ...(base.trainer as object), maxAttempts: 2, launcher: { ray: { address: `http://127.0.0.1:${port}` } } } } },
      { prefix: 'ray' },
    );
    // Driven here, not by runPipeline, whose launch list would ask the unreachable dashboard again.
    const { client, target, close } = await connectClient(loaded);
    const { worker, close: closeWorker } = await createRelearnWorker(loaded, target);
    try {
      const started = await startRetrain(client, target, loaded, name);
      const handle = client.workflow.getHandle(started.workflowId, started.runId);
      const failed = await worker.runUntil(outcomeOf(handle));
      assert.equal(failed.result, undefined);
      assert.match(failed.failure ?? '', new RegExp(`Ray dashboard http://127\\.0\\.0\\.1:${port} is unreachable \\(GET /api/jobs/retrain_[^:]+: ECONNREFUSED\\)`));
      const attempts = (await activityAttempts(handle)).filter((a) => a.type === 'runTrainingJob');
      assert.ok(attempts.some((a) => a.attempt === 2 && a.outcome === 'failed'), `a second attempt was made: ${JSON.stringify(attempts)}`);
      assert.ok(!(await activityAttempts(handle)).some((a) => a.type.startsWith('register')), 'nothing was registered');
    } finally {
      await closeWorker();
      await close();
    }
  });
});
