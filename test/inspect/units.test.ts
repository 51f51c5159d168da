import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { readRunHistory } from '../../src/inspect/history';
import { parseSince, runsQuery } from '../../src/inspect/runs';
import { rejudgeVersions } from '../../src/inspect/what-if';
import { RELEARN_ROOT } from '../../src/paths';
import type { VersionRecord } from '../../src/registry';
import { gateSummary, judge } from '../../src/contracts';

describe('inspection helpers', () => {
  it('runsQuery combines the filters on search attributes and quotes values', () => {
    assert.equal(runsQuery({}), "WorkflowType = 'retrain'");
    assert.equal(
      runsQuery({ model: 'flights-delay', decision: 'rolled-back', trigger: 'drift', since: '2026-01-01T00:00:00.000Z' }),
      "WorkflowType = 'retrain' AND RelearnModel = 'flights-delay' AND RelearnDecision = 'rolled-back' AND RelearnTrigger = 'drift' AND StartTime >= '2026-01-01T00:00:00.000Z'",
    );
    assert.equal(runsQuery({ model: "a'b" }), "WorkflowType = 'retrain' AND RelearnModel = 'a\\'b'");
  });

  it('parseSince takes dates and ages', () => {
    const now = new Date('2026-05-10T12:00:00Z');
    assert.equal(parseSince('7d', now), '2026-05-03T12:00:00.000Z');
    assert.equal(parseSince('12h', now), '2026-05-10T00:00:00.000Z');
    assert.equal(parseSince('30m', now), '2026-05-10T11:30:00.000Z');
    assert.equal(parseSince('2w', now), '2026-04-26T12:00:00.000Z');
    assert.equal(parseSince('2001-03-01', now), '2001-03-01T00:00:00.000Z');
    assert.throws(() => parseSince('last tuesday', now), /--since: 'last tuesday' is neither a date/);
  });

  it('gateSummary puts the failed rules in one line, and every rule on PASS', () => {
    const reject = {
      verdict: 'REJECT' as const,
      primaryMetric: 'f1',
      rules: [
        { rule: 'minimum f1', passed: false, reason: 'f1 0.6100 < 0.6500 (CV mean)', brief: 'f1 0.6100 < 0.6500' },
        { rule: 'minimum accuracy', passed: true, reason: 'accuracy 0.9000 ≥ 0.8000 (CV mean)', brief: 'accuracy 0.9000 ≥ 0.8000' },
      ],
    };
    assert.equal(gateSummary(reject), 'gate: REJECT — f1 0.6100 < 0.6500');
    assert.equal(gateSummary({ ...reject, verdict: 'PASS', rules: [reject.rules[1]!] }), 'gate: PASS — accuracy 0.9000 ≥ 0.8000');
    assert.ok(gateSummary({ ...reject, rules: Array(20).fill(reject.rules[0]) }).length <= 180);
    // A rule recorded before rules had a brief is shown with its whole reason (never cut down by pattern).
    const { brief: _, ...older } = reject.rules[0]!;
    assert.equal(gateSummary({ ...reject, rules: [older] }), 'gate: REJECT — f1 0.6100 < 0.6500 (CV mean)');
  });

  it('judge gives every threshold rule a brief: its reason without what it was measured on', () => {
    const summary = { f1: { mean: 0.61, std: 0.2, ciLow: 0.5, ciHigh: 0.7 } };
    const gate = judge({
      gate: { minimums: { f1: 0.65 }, maximums: { f1: 0.9 }, maxCvStd: { f1: 0.1 }, maxDropVsChampion: 0 },
      primaryMetric: 'f1',
      evaluation: { perFold: [], summary, holdout: { rows: 0, candidate: {} }, rowsScored: 0 },
      championVersion: null,
    });
    assert.deepEqual(
      gate.rules.map((r) => [r.reason, r.brief]),
      [
        ['f1 0.6100 < 0.6500 (CV mean)', 'f1 0.6100 < 0.6500'],
        ['f1 0.6100 ≤ 0.9000 (CV mean)', 'f1 0.6100 ≤ 0.9000'],
        ['f1 std 0.2000 > 0.1000 across folds', 'f1 std 0.2000 > 0.1000'],
        ['no champion yet: judged by the minimums alone', undefined],
      ],
    );
    assert.equal(gateSummary(gate), 'gate: REJECT — f1 0.6100 < 0.6500; f1 std 0.2000 > 0.1000');
  });

  it('readRunHistory turns a recorded history into activities, stages and the result', () => {
    const file = path.join(RELEARN_ROOT, 'test/histories/retrain/vs-champion.json');
    const h = readRunHistory(historyFromJSON(JSON.parse(readFileSync(file, 'utf8'))));
    assert.deepEqual(h.stages.map((s) => s.stage), ['pull', 'split', 'train', 'evaluate', 'register', 'promote'].filter((s) => h.stages.some((x) => x.stage === s)));
    assert.equal(h.activities.filter((a) => a.activityType === 'runTrainingJob').length, 4);
    assert.ok(h.activities.every((a) => a.state === 'completed' && a.attempts >= 1 && (a.durationMs ?? -1) >= 0));
    assert.equal(h.activities[0]!.summary, 'pull replay-flights data');
    assert.match(h.staticSummary ?? '', /^retrain replay-flights \(manual\)/);
    assert.equal((h.result as { model: string }).model, 'replay-flights');
    const failed = readRunHistory(historyFromJSON(JSON.parse(readFileSync(path.join(RELEARN_ROOT, 'test/histories/retrain/failed-bad-params.json'), 'utf8'))));
    assert.match(failed.failure ?? '', /JobParams|param/i);
    assert.equal(failed.result, undefined);
  });

  it('rejudgeVersions re-runs the gate on stored metrics against the champion each run faced', () => {
    const version = (n: number, auc: number, parent: number | null, champAuc?: number): VersionRecord =>
      ({
        model: 'm',
        version: n,
        runId: `run-${n}`,
        workflowId: 'retrain/m',
        createdAt: '2026-01-01T00:00:00.000Z',
        metrics: {
          cv: { roc_auc: { mean: auc, std: 0.01, ciLow: auc - 0.02, ciHigh: auc + 0.02 } },
          perFold: [],
          holdout: { rows: 10, candidate: { roc_auc: auc }, ...(champAuc !== undefined ? { champion: { roc_auc: champAuc } } : {}) },
        },
        gate: { verdict: 'PASS' },
        lineage: { parentVersion: parent },
      }) as unknown as VersionRecord;
    const versions = [version(1, 0.7, null), version(2, 0.68, 1, 0.7)];
    const audit = [{ action: 'promote', alias: 'champion', toVersion: 1, runId: 'run-1' }] as never;
    const gate = { minimums: { roc_auc: 0.69 }, maximums: {}, maxCvStd: {}, maxDropVsChampion: 0.05 };
    const rows = rejudgeVersions({ versions, audit, gate, primaryMetric: 'roc_auc' });
    assert.deepEqual(rows.map((r) => [r.version, r.recorded.decision, r.whatIf.verdict, r.changed]), [
      [1, 'promoted', 'PASS', false],
      [2, 'rejected', 'REJECT', true],
    ]);
    assert.match(rows[1]!.whatIf.rules[0]!.reason, /roc_auc 0\.6800 < 0\.6900/);
  });
});
