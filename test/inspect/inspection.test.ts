import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse, stringify } from 'yaml';
import { type LoadedConfig, loadConfig } from '../../src/config';
import { readRunHistory } from '../../src/inspect/history';
import { RELEARN_ROOT } from '../../src/paths';
import { findTemporalCli } from '../../src/temporal/cli';
import { connectClient } from '../../src/temporal/connection';
import type { DevServerInfo } from '../../src/temporal/dev-server';
import { startRetrain } from '../../src/temporal/runs';
import { createRelearnWorker } from '../../src/temporal/worker';
import { runPipeline, smallFlightsModel, testConfig, testServer, uniqueModelName } from '../helpers/pipeline-env';
import { waitFor } from '../helpers/wait';
import type { RetrainResult, RetrainStatus } from '../../src/contracts';

const CLI = path.join(RELEARN_ROOT, 'src/cli/main.ts');

/** Runs `relearn <args>` as a user would, in a child process. */
function relearn(config: string, ...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', CLI, '--config', config, ...args], {
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' },
    timeout: 120_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('run inspection on the real dev server', { timeout: 900_000 }, () => {
  const model = uniqueModelName('inspect');
  let loaded: LoadedConfig;
  let first: { workflowId: string; runId: string; result: RetrainResult };
  let midRun: RetrainStatus | undefined;
  let second: Awaited<ReturnType<typeof runPipeline>>;
  let server: DevServerInfo;

  before(async () => {
    server = await testServer();
    const base = await testConfig({ [model]: smallFlightsModel() });
    // The run links point at the shared test server's Web UI.
    const doc = parse(readFileSync(base.configPath, 'utf8'));
    doc.temporal.webUi = server.uiUrl;
    writeFileSync(base.configPath, stringify(doc));
    loaded = loadConfig(base.configPath);

    // First run, watched through its `status` query while it goes.
    const { client, target, close } = await connectClient(loaded);
    const { worker, close: closeWorker } = await createRelearnWorker(loaded, target);
    try {
      const started = await startRetrain(client, target, loaded, model);
      const handle = client.workflow.getHandle(started.workflowId, started.runId);
      const result = await worker.runUntil(async () => {
        const done = handle.result() as Promise<RetrainResult>;
        let finished = false;
        done.finally(() => (finished = true)).catch(() => undefined);
        // Until a model is trained or the run ends (the first test then fails, saying status was never caught mid-run).
        await waitFor(
          'the status query to report a trained model, or the run to end',
          async () => {
            if (finished) return true;
            const s = await handle.query<RetrainStatus>('status').catch(() => undefined);
            if (s?.stage === 'train' && (s.progress?.done ?? 0) >= 1) midRun = s;
            return midRun ? true : undefined;
          },
          600_000,
          100,
        );
        return done;
      });
      first = { workflowId: started.workflowId, runId: started.runId, result };
    } finally {
      await closeWorker();
      await close();
    }
    // A second run on a later window, judged against champion v1.
    second = await runPipeline(loaded, model, { window: { from: '2001-03-01', to: '2001-03-08' } });
  });

  it('the status query answers mid-run with the stage, progress within it and links', () => {
    assert.ok(midRun, 'status was queried while the models were training');
    assert.equal(midRun.stage, 'train');
    assert.equal(midRun.progress?.total, 4);
    assert.equal(midRun.progress?.unit, 'models');
    assert.ok(midRun.progress!.done >= 1 && midRun.progress!.done < 4, JSON.stringify(midRun.progress));
    assert.match(midRun.links?.snapshot ?? '', /^store:\/\/snapshots\//);
    assert.match(midRun.links?.split ?? '', /^store:\/\//);
    assert.ok(Object.keys(midRun.links?.jobDirs ?? {}).length >= 1, 'a finished job’s folder is linked');
    assert.match(midRun.summary ?? '', /^train: \d\/4 models trained and exported/);
    assert.equal(first.result.decision, 'promoted');
    assert.equal(second.failure, undefined, second.failure);
  });

  it('a visibility query on each search attribute returns the run', async () => {
    const { client, close } = await connectClient(loaded);
    try {
      const primary = first.result.evaluation.summary.roc_auc!.mean;
      const conditions = [
        `RelearnModel = '${model}'`,
        `RelearnStage = 'done'`,
        `RelearnTrigger = 'manual'`,
        `RelearnDecision = 'promoted'`,
        `RelearnVersion = 1`,
        `RelearnPrimaryMetric >= ${primary - 1e-9} AND RelearnPrimaryMetric <= ${primary + 1e-9}`,
      ];
      for (const condition of conditions) {
        const query = `WorkflowId = 'retrain/${model}' AND ${condition}`;
        // The visibility index follows the run by a few milliseconds.
        let ids: string[] = [];
        await waitFor(
          `${condition} to return the run`,
          async () => {
            ids = [];
            for await (const wf of client.workflow.list({ query })) ids.push(wf.runId);
            return ids.includes(first.runId) ? true : undefined;
          },
          10_000,
          250,
        ).catch(() => undefined);
        assert.ok(ids.includes(first.runId), `${condition} → ${JSON.stringify(ids)}`);
      }
    } finally {
      await close();
    }
  });

  it('the official CLI finds the run by RelearnModel and RelearnDecision', () => {
    const cli = findTemporalCli();
    assert.ok(cli, 'the Temporal CLI is installed by the set-up');
    const r = spawnSync(
      cli.path,
      ['workflow', 'list', '--address', server.address, '--query', `RelearnModel = '${model}' AND RelearnVersion = 1`, '-o', 'json'],
      { encoding: 'utf8' },
    );
    assert.equal(r.status, 0, r.stderr);
    const rows = JSON.parse(r.stdout) as Array<{ execution: { runId: string } }>;
    assert.deepEqual(rows.map((x) => x.execution.runId), [first.runId]);
  });

  it('the memo holds the run’s lineage: snapshot digest, parent version, config digest, decision', async () => {
    const { client, close } = await connectClient(loaded);
    try {
      const one = (await client.workflow.getHandle(first.workflowId, first.runId).describe()).memo ?? {};
      assert.equal(one.configDigest, loaded.digest);
      assert.equal(one.snapshotSha256, first.result.snapshot.artifact.sha256);
      assert.equal(one.parentVersion, 'none');
      assert.equal(one.version, 1);
      assert.equal(one.decision, 'promoted');
      assert.match(String(one.gate), /^gate: PASS — roc_auc 0\.\d{4} ≥ 0\.5000/);
      const two = (await client.workflow.getHandle(second.workflowId, second.runId).describe()).memo ?? {};
      assert.equal(two.parentVersion, 1);
      assert.equal(two.snapshotSha256, second.result!.snapshot.artifact.sha256);
    } finally {
      await close();
    }
  });

  it('the event history reads as the data flow, with a summary per activity and the gate in words', async () => {
    const { client, close } = await connectClient(loaded);
    try {
      const h = readRunHistory(await client.workflow.getHandle(first.workflowId, first.runId).fetchHistory());
      assert.deepEqual(h.stages.map((s) => s.stage), ['pull', 'split', 'train', 'evaluate', 'register', 'promote', 'report']);
      const summaries = h.activities.map((a) => a.summary);
      assert.ok(summaries.includes('train fold 1/3') && summaries.includes('train fold 3/3') && summaries.includes('train final model'));
      assert.ok(summaries.some((s) => /^gate: PASS — roc_auc 0\.\d{4} ≥ 0\.5000/.test(s ?? '')), JSON.stringify(summaries));
      assert.ok(summaries.includes(`look up the champion of ${model}`));
      assert.ok(summaries.includes('promote v1 to champion'));
      assert.match(h.staticSummary ?? '', new RegExp(`^retrain ${model} \\(manual\\)`));
    } finally {
      await close();
    }
  });

  it('`relearn show` prints stages with durations, metrics per fold, gate reasons, decision and the UI link', () => {
    const r = relearn(loaded.configPath, 'show', model, 'v1');
    assert.equal(r.code, 0, r.stderr);
    for (const text of ['stages', 'train fold 2/3', 'fold 1', 'fold 3', 'mean ± std', 'candidate, holdout', 'gate       PASS', 'no champion yet', 'PROMOTED', 'champion (none) → v1']) {
      assert.ok(r.stdout.includes(text), `show lacks '${text}':\n${r.stdout}`);
    }
    assert.ok(r.stdout.includes(`web ui     ${server.uiUrl}/namespaces/default/workflows/`), r.stdout);
    // Default: the newest run, which was compared with champion v1.
    const latest = relearn(loaded.configPath, 'show', model, '--json');
    assert.equal(latest.code, 0, latest.stderr);
    const report = JSON.parse(latest.stdout);
    assert.equal(report.runId, second.runId);
    assert.equal(report.memo.parentVersion, 1);
    assert.ok(report.result.evaluation.holdout.champion, 'champion scored on the holdout');
    assert.ok(report.history.stages.every((s: { durationMs: number | null }) => typeof s.durationMs === 'number'));
    const byPrefix = relearn(loaded.configPath, 'show', model, first.runId.slice(0, 12), '--json');
    assert.equal(JSON.parse(byPrefix.stdout).runId, first.runId);
  });

  it('`relearn lineage` prints snapshot → jobs → ONNX → evaluations → promotions from the registry', () => {
    const r = relearn(loaded.configPath, 'lineage', model, 'v1');
    assert.equal(r.code, 0, r.stderr);
    const res = first.result;
    for (const text of [res.snapshot.artifact.sha256, res.candidate.artifact.sha256, 'fold-0', 'final', 'roc_auc', 'champion: (none) → v1  promote']) {
      assert.ok(r.stdout.includes(text), `lineage lacks '${text}':\n${r.stdout}`);
    }
    const json = JSON.parse(relearn(loaded.configPath, 'lineage', model, '2', '--json').stdout);
    assert.equal(json.parentVersion, 1);
    assert.equal(json.snapshot.sha256, second.result!.snapshot.artifact.sha256);
    assert.equal(json.jobs.length, 4);
    const missing = relearn(loaded.configPath, 'lineage', model, '9');
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /has no version 9 \(registered: v1, v2\)/);
  });

  it('`relearn gate --what-if` flips a decision when a threshold changes, and moves nothing', () => {
    const auditBefore = JSON.parse(relearn(loaded.configPath, 'versions', model, '--json').stdout).audit.length;
    const same = JSON.parse(relearn(loaded.configPath, 'gate', '--what-if', '--min', 'roc_auc=0.5', model, '--json').stdout);
    assert.deepEqual(same.changed, []);
    const auc1 = first.result.evaluation.summary.roc_auc!.mean;
    const strict = relearn(loaded.configPath, 'gate', '--what-if', '--min', `roc_auc=${(auc1 + 1e-6).toFixed(6)}`, model);
    assert.equal(strict.code, 0, strict.stderr);
    assert.match(strict.stdout, /v1 PASS → REJECT/);
    // The same rules from a file.
    const file = path.join(path.dirname(loaded.configPath), 'strict-gate.yaml');
    writeFileSync(file, stringify({ gate: { minimums: { roc_auc: 0.999 } } }));
    const fromFile = JSON.parse(relearn(loaded.configPath, 'gate', '--what-if', file, model, '--json').stdout);
    assert.ok(fromFile.changed.includes(1), JSON.stringify(fromFile.changed));
    assert.equal(fromFile.runs[0].whatIf.verdict, 'REJECT');
    // Nothing moved.
    const versions = JSON.parse(relearn(loaded.configPath, 'versions', model, '--json').stdout);
    assert.equal(versions.audit.length, auditBefore);
  });

  it('`relearn runs` filters by decision, trigger and start time', () => {
    const ids = (...args: string[]) => {
      const r = relearn(loaded.configPath, 'runs', model, '--json', ...args);
      assert.equal(r.code, 0, r.stderr);
      return (JSON.parse(r.stdout) as Array<{ runId: string }>).map((x) => x.runId);
    };
    assert.deepEqual(ids().sort(), [first.runId, second.runId].sort());
    assert.ok(ids('--decision', 'promoted').includes(first.runId));
    assert.deepEqual(ids('--decision', 'failed'), []);
    assert.equal(ids('--trigger', 'manual').length, 2);
    assert.deepEqual(ids('--trigger', 'drift'), []);
    assert.equal(ids('--since', '1h').length, 2);
    assert.deepEqual(ids('--since', '2001-01-01').sort(), [first.runId, second.runId].sort());
    assert.deepEqual(ids('--since', '2999-01-01'), []);
    const bad = relearn(loaded.configPath, 'runs', '--since', 'yesterday-ish');
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--since: 'yesterday-ish' is neither a date/);
  });

  it('`relearn setup --server` registers the search attributes idempotently and says clearly when a namespace refuses', () => {
    const ok = relearn(loaded.configPath, 'setup', '--server');
    assert.equal(ok.code, 0, ok.stderr);
    assert.ok(ok.stdout.includes(`search attributes already registered in namespace default on ${server.address}`), ok.stdout);
    const doc = parse(readFileSync(loaded.configPath, 'utf8'));
    doc.temporal.namespace = 'relearn-no-such-namespace';
    const refusing = path.join(path.dirname(loaded.configPath), 'refusing.yaml');
    writeFileSync(refusing, stringify(doc));
    const refused = relearn(refusing, 'setup', '--server');
    assert.equal(refused.code, 2, refused.stdout + refused.stderr);
    assert.ok(refused.stderr.includes(`namespace 'relearn-no-such-namespace' on ${server.address} refused Relearn's search attributes`), refused.stderr);
    assert.match(refused.stderr, /temporal operator search-attribute create --namespace relearn-no-such-namespace --name RelearnModel --type Keyword/);
    assert.equal(refused.stderr.trim().split('\n').length, 1, 'one line, no stack trace');
  });

  after(() => undefined);
});
