// A drift monitor whose input no retry can mend fails on the real dev server within seconds, with the message and
// the failure type (ConfigError), instead of staying Running while Temporal retries its failing workflow task.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { connectClient } from '../../src/temporal/connection';
import { createRelearnWorker } from '../../src/temporal/worker';
import { FailureType, type DriftMonitorInput } from '../../src/contracts';
import { smallFlightsModel, testConfig, uniqueModelName } from '../helpers/pipeline-env';

/** How long a run may take to fail: one workflow task, no activity (about 2 s; the margin is for a loaded machine). */
const FAIL_WITHIN_MS = 30_000;

interface Outcome {
  status: string;
  failure?: ApplicationFailure;
  ms: number;
  workflowTaskFailures: number;
}

describe('drift monitor input that cannot succeed on retry fails the run', { timeout: 120_000 }, () => {
  const model = uniqueModelName('monitor-input');
  let loaded: Awaited<ReturnType<typeof testConfig>>;

  before(async () => {
    // Loaded through the config schema: `last: 200000000d` is a valid duration that no date can reach back.
    loaded = await testConfig({ [model]: { ...smallFlightsModel(), drift: { every: '1s', window: { last: '200000000d' } } } });
  });

  async function runMonitor(input: DriftMonitorInput): Promise<Outcome> {
    const { client, target, close } = await connectClient(loaded);
    const { worker, close: closeWorker } = await createRelearnWorker(loaded, target);
    try {
      const started = Date.now();
      const handle = await client.workflow.start('driftMonitor', {
        taskQueue: target.taskQueue,
        workflowId: `monitor/${input.model}-${started}`,
        args: [input],
      });
      return await worker.runUntil(async () => {
        let failure: ApplicationFailure | undefined;
        let timer: NodeJS.Timeout | undefined;
        const waited = await Promise.race([
          handle.result().then(
            () => 'completed',
            (err: unknown) => {
              if (!(err instanceof WorkflowFailedError)) throw err;
              if (err.cause instanceof ApplicationFailure) failure = err.cause;
              return 'failed';
            },
          ),
          new Promise<string>((resolve) => (timer = setTimeout(() => resolve('still running'), FAIL_WITHIN_MS))),
        ]);
        clearTimeout(timer);
        const ms = Date.now() - started;
        const described = await handle.describe();
        const history = await handle.fetchHistory();
        const workflowTaskFailures = (history.events ?? []).filter((e) => e.workflowTaskFailedEventAttributes).length;
        if (waited === 'still running') await handle.terminate('test: the monitor did not fail');
        return { status: described.status.name, failure, ms, workflowTaskFailures };
      });
    } finally {
      await closeWorker();
      await close();
    }
  }

  it('a model without a drift block: FAILED with a ConfigError naming the model, no workflow task retried', async () => {
    const cfg = { ...loaded.config.models[model]!, drift: undefined };
    const outcome = await runMonitor({ model, modelConfig: cfg, configDigest: loaded.digest, maxChecks: 1 });
    assert.equal(outcome.status, 'FAILED', `after ${outcome.ms} ms`);
    assert.equal(outcome.failure?.type, FailureType.Config);
    assert.equal(outcome.failure?.nonRetryable, true);
    assert.equal(outcome.failure?.message, `temporal.yaml: models.${model}.drift: model ${model} has no drift block in temporal.yaml; a drift monitor needs one`);
    assert.equal(outcome.workflowTaskFailures, 0);
  });

  it('a window no date can start (drift.window.last of 200000000d): FAILED with a ConfigError naming the key', async () => {
    const cfg = loaded.config.models[model]!;
    assert.equal(cfg.drift?.window.last, 200_000_000 * 86_400_000);
    const outcome = await runMonitor({ model, modelConfig: cfg, configDigest: loaded.digest, maxChecks: 1 });
    assert.equal(outcome.status, 'FAILED', `after ${outcome.ms} ms`);
    assert.equal(outcome.failure?.type, FailureType.Config);
    assert.match(outcome.failure?.message ?? '', new RegExp(`^temporal\\.yaml: models\\.${model}\\.drift\\.window\\.last: expected a duration such as 7d .* got 17280000000000000 ms$`));
    assert.equal(outcome.workflowTaskFailures, 0);
  });

  it('a drift block without the interval between checks: FAILED with a ConfigError naming drift.every', async () => {
    const base = loaded.config.models[model]!;
    const cfg = { ...base, drift: { ...base.drift!, every: undefined as unknown as number } };
    const outcome = await runMonitor({ model, modelConfig: cfg, configDigest: loaded.digest, maxChecks: 1 });
    assert.equal(outcome.status, 'FAILED', `after ${outcome.ms} ms`);
    assert.equal(outcome.failure?.type, FailureType.Config);
    assert.match(outcome.failure?.message ?? '', /drift\.every: expected a duration of at least 1 ms between checks, got undefined$/);
  });
});
