// A whole retrain run whose training jobs run on a real Ray head (trainer.launcher: { ray: { address } }): the real
// trainer, submitted through the Jobs API, its outputs read back from the run folders, the candidate promoted. Ray's
// own job list says each job was submitted once.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
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
      { [model]: { ...base, trainer: { ...(base.trainer as object), launcher: { ray: { address } } } } },
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

  test('Ray lists each training job (3 folds + final) exactly once, under its job id, succeeded', async () => {
    const mine = (await rayJobList(address)).filter((job) => job.metadata?.['relearn.workflowId'] === outcome.workflowId);
    const roles = mine.map((job) => job.submission_id.split('_').at(-1)).sort();
    assert.deepEqual(roles, ['final', 'fold-0', 'fold-1', 'fold-2']);
    assert.ok(mine.every((job) => job.status === 'SUCCEEDED'));
    assert.ok(mine.every((job) => job.submission_id === job.metadata?.['relearn.jobId']), 'submission id = job id');
    // The worker's launch list reads Ray's job list (which holds other tests' jobs too).
    const launched = outcome.launches.filter((l) => l.jobId.startsWith(`retrain_${model}_`));
    assert.deepEqual(launched.map((l) => l.jobId).sort(), mine.map((job) => job.submission_id).sort());
  });
});
