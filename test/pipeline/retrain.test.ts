import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { connectClient } from '../../src/temporal/connection';
import { startRetrain } from '../../src/temporal/runs';
import { createRelearnWorker } from '../../src/temporal/worker';
import { openSqliteRegistry } from '../../src/registry';
import { openArtifactStore } from '../../src/store';
import { runPipeline, smallFlightsModel, testConfig, uniqueModelName } from '../helpers/pipeline-env';
import type { RetrainResult } from '../../src/contracts';

describe('retrain pipeline on the real dev server with the real trainer', { timeout: 600_000 }, () => {
  const model = uniqueModelName('flights');
  let loaded: Awaited<ReturnType<typeof testConfig>>;
  let first: Awaited<ReturnType<typeof runPipeline>>;

  before(async () => {
    loaded = await testConfig({ [model]: smallFlightsModel() });
    first = await runPipeline(loaded, model);
  });

  it('reaches a decision: the first model passes the minimums and becomes champion v1', () => {
    assert.equal(first.failure, undefined, first.failure);
    const r = first.result!;
    assert.equal(r.decision, 'promoted');
    assert.equal(r.version, 1);
    assert.equal(r.championBefore, null);
    assert.equal(r.championAfter, 1);
    assert.equal(r.gate.verdict, 'PASS');
    assert.ok(r.gate.rules.some((rule) => rule.reason.includes('no champion yet')));
    assert.equal(r.evaluation.perFold.length, 3);
    const auc = r.evaluation.summary.roc_auc!;
    assert.ok(auc.mean > 0.5 && auc.mean < 1, `roc_auc ${auc.mean}`);
    assert.ok(auc.ciLow <= auc.mean && auc.mean <= auc.ciHigh);
    assert.ok(r.candidate.parityMaxAbsDiff <= 1e-4);
  });

  it('links its result to the run report, stored and verified in the store', async () => {
    const report = first.result!.report;
    assert.ok(report, 'the result links to its report');
    const store = openArtifactStore(loaded);
    const page = new TextDecoder().decode(await store.readVerified(report));
    assert.equal(store.locate(report.uri), report.path);
    assert.match(page, /<html/);
    assert.ok(page.includes(`${model}`) && page.includes('v1'), 'the report names its model and version');
    assert.ok(page.includes('vega'), 'the chart library is inlined');
  });

  it('launched every training job exactly once (3 folds + final)', () => {
    const roles = first.launches.map((l) => l.jobId.split('_').at(-1)).sort();
    assert.deepEqual(roles, ['final', 'fold-0', 'fold-1', 'fold-2']);
  });

  it('keeps only references in the run: the history is small', async () => {
    const { client, close } = await connectClient(loaded);
    try {
      const history = await client.workflow.getHandle(first.workflowId, first.runId).fetchHistory();
      const bytes = JSON.stringify(history).length;
      assert.ok((history.events?.length ?? 0) < 200, `${history.events?.length} events`);
      assert.ok(bytes < 256 * 1024, `${bytes} bytes of history`);
    } finally {
      await close();
    }
  });

  it('the registry holds v1 with its lineage, and the audit log the promotion', async () => {
    const registry = openSqliteRegistry(path.join(loaded.stateDir, 'registry.db'));
    try {
      const v1 = (await registry.getVersion(model, 1))!;
      const r = first.result!;
      assert.equal(v1.artifactSha256, r.candidate.artifact.sha256);
      assert.equal(v1.snapshotSha256, r.snapshot.artifact.sha256);
      assert.equal(v1.workflowId, `retrain/${model}`);
      assert.equal(v1.runId, first.runId);
      const lineage = v1.lineage as { jobs: Array<{ role: string }>; configDigest: string; parentVersion: number | null };
      assert.deepEqual(lineage.jobs.map((j) => j.role), ['fold-0', 'fold-1', 'fold-2', 'final']);
      assert.equal(lineage.configDigest, loaded.digest);
      assert.equal(lineage.parentVersion, null);
      assert.equal((await registry.getAlias(model, 'champion'))?.version, 1);
      const audit = await registry.auditLog(model);
      assert.equal(audit.length, 1);
      assert.equal(audit[0]!.action, 'promote');
      assert.equal(audit[0]!.toVersion, 1);
      // The registered bytes are the bytes that were evaluated.
      const store = openArtifactStore(loaded);
      await store.verifiedPath({ uri: v1.artifactUri, sha256: v1.artifactSha256 });
    } finally {
      await registry.close();
    }
  });

  it('a second run is gated against champion v1 on the same holdout', async () => {
    const second = await runPipeline(loaded, model, { window: { from: '2001-03-01', to: '2001-03-08' } });
    assert.equal(second.failure, undefined, second.failure);
    const r = second.result!;
    assert.equal(r.version, 2);
    assert.equal(r.championBefore, 1);
    assert.ok(r.evaluation.holdout.champion, 'champion scored on the holdout');
    const rule = r.gate.rules.find((x) => x.rule === 'non-regression vs champion')!;
    assert.match(rule.reason, /vs champion v1/);
    assert.equal(r.decision === 'promoted', rule.passed && r.gate.verdict === 'PASS');
    const registry = openSqliteRegistry(path.join(loaded.stateDir, 'registry.db'));
    try {
      assert.equal((await registry.getAlias(model, 'champion'))?.version, r.decision === 'promoted' ? 2 : 1);
      assert.equal(((await registry.getVersion(model, 2))!.lineage as { parentVersion: number }).parentVersion, 1);
    } finally {
      await registry.close();
    }
  });

  it('a second start while a run is going returns the running run, never a parallel one', async () => {
    const name = uniqueModelName('dedupe');
    const cfg = await testConfig({ [name]: smallFlightsModel() });
    const { client, target, close } = await connectClient(cfg);
    const { worker, close: closeWorker } = await createRelearnWorker(cfg, target);
    try {
      const a = await startRetrain(client, target, cfg, name);
      const b = await startRetrain(client, target, cfg, name);
      assert.equal(a.existing, false);
      assert.equal(b.existing, true);
      assert.equal(b.runId, a.runId);
      const running = [];
      for await (const wf of client.workflow.list({ query: `WorkflowId = 'retrain/${name}'` })) running.push(wf.runId);
      assert.deepEqual(running, [a.runId]);
      const result = await worker.runUntil(client.workflow.getHandle(a.workflowId, a.runId).result() as Promise<RetrainResult>);
      assert.equal(result.version, 1);
    } finally {
      await closeWorker();
      await close();
    }
  });

  after(() => undefined);
});
