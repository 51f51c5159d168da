// Nobody answers an approval: the configured default decision applies when the durable timer fires.
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { CHAMPION_ALIAS, openRegistry } from '../../src/registry';
import { runPipeline, smallFlightsModel, testConfig, uniqueModelName } from '../helpers/pipeline-env';
import type { RetrainResult } from '../../src/contracts';

test('an unanswered approval ends in its default decision (reject) when its durable timer fires', { timeout: 300_000 }, async () => {
  const rejecting = uniqueModelName('approval');
  const loaded = await testConfig(
    {
      [rejecting]: smallFlightsModel({ rollout: { approval: { required: true, timeout: '2s' } } }),
    },
    { prefix: 'approval' },
  );
  const rejected = await runPipeline(loaded, rejecting);
  const r1 = rejected.result as RetrainResult;
  assert.equal(r1?.gate.verdict, 'PASS', rejected.failure);
  assert.equal(r1.decision, 'rejected');
  assert.deepEqual(r1.rollout?.map((s) => `${s.phase}:${s.decision}:${s.decidedBy}`), ['approval:reject:timeout']);
  assert.match(r1.promotion.reason, /nobody answered within 2 s; default: reject/);

  const registry = openRegistry(loaded);
  try {
    assert.equal(await registry.getAlias(rejecting, CHAMPION_ALIAS), null);
    assert.deepEqual((await registry.listEvaluations(rejecting)).map((e) => `${e.phase}:${e.decision}`), ['approval:reject']);
  } finally {
    await registry.close();
  }
});
