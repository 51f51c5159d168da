import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { judge, type Evaluation } from '../../src/contracts';

function evaluation(cv: Record<string, [number, number]>, holdout: Record<string, number>, champion?: Record<string, number>): Evaluation {
  const summary = Object.fromEntries(Object.entries(cv).map(([k, [mean, std]]) => [k, { mean, std, ciLow: mean - std, ciHigh: mean + std }]));
  return { perFold: [], summary, holdout: { rows: 100, candidate: holdout, champion }, rowsScored: 0 };
}

const gate = { minimums: { roc_auc: 0.6 }, maximums: { log_loss: 0.7 }, maxCvStd: { roc_auc: 0.03 }, maxDropVsChampion: 0.01 };

describe('gate', () => {
  it('passes a first model on the minimums alone, one reason per rule', () => {
    const r = judge({ gate, primaryMetric: 'roc_auc', evaluation: evaluation({ roc_auc: [0.65, 0.01], log_loss: [0.6, 0.01] }, { roc_auc: 0.64 }), championVersion: null });
    assert.equal(r.verdict, 'PASS');
    assert.equal(r.rules.length, 4);
    assert.match(r.rules[0]!.reason, /roc_auc 0\.6500 ≥ 0\.6000/);
    assert.match(r.rules[3]!.reason, /no champion yet/);
  });

  it('rejects below a minimum and names the metric and the threshold', () => {
    const r = judge({ gate, primaryMetric: 'roc_auc', evaluation: evaluation({ roc_auc: [0.55, 0.01], log_loss: [0.6, 0] }, {}), championVersion: null });
    assert.equal(r.verdict, 'REJECT');
    const failed = r.rules.filter((x) => !x.passed);
    assert.equal(failed.length, 1);
    assert.match(failed[0]!.reason, /roc_auc 0\.5500 < 0\.6000/);
  });

  it('rejects a too-high loss and a too-large CV std', () => {
    const r = judge({ gate, primaryMetric: 'roc_auc', evaluation: evaluation({ roc_auc: [0.7, 0.05], log_loss: [0.9, 0] }, {}), championVersion: null });
    assert.equal(r.verdict, 'REJECT');
    assert.deepEqual(r.rules.filter((x) => !x.passed).map((x) => x.rule), ['maximum log_loss', 'max CV std roc_auc']);
  });

  it('rejects a regression vs the champion beyond the allowed drop, allows one within it', () => {
    const cv = { roc_auc: [0.7, 0.01] as [number, number], log_loss: [0.6, 0] as [number, number] };
    const worse = judge({ gate, primaryMetric: 'roc_auc', evaluation: evaluation(cv, { roc_auc: 0.65 }, { roc_auc: 0.67 }), championVersion: 3 });
    assert.equal(worse.verdict, 'REJECT');
    assert.match(worse.rules.at(-1)!.reason, /vs champion v3 0\.6700: worse by 0\.0200 \(exceeds the allowed drop of 0\.0100\)/);
    const slightly = judge({ gate, primaryMetric: 'roc_auc', evaluation: evaluation(cv, { roc_auc: 0.665 }, { roc_auc: 0.67 }), championVersion: 3 });
    assert.equal(slightly.verdict, 'PASS');
  });

  it('is direction-aware for lower-is-better metrics', () => {
    const g = { minimums: {}, maximums: {}, maxCvStd: {}, maxDropVsChampion: 0 };
    const better = judge({ gate: g, primaryMetric: 'rmse', evaluation: evaluation({ rmse: [3, 0.1] }, { rmse: 2.5 }, { rmse: 3 }), championVersion: 1 });
    assert.equal(better.verdict, 'PASS');
    assert.match(better.rules[0]!.reason, /better by 0\.5000/);
    const worse = judge({ gate: g, primaryMetric: 'rmse', evaluation: evaluation({ rmse: [3, 0.1] }, { rmse: 3.5 }, { rmse: 3 }), championVersion: 1 });
    assert.equal(worse.verdict, 'REJECT');
  });

  it('treats a NaN metric as failing', () => {
    const r = judge({ gate, primaryMetric: 'roc_auc', evaluation: evaluation({ roc_auc: [Number.NaN, 0], log_loss: [0.5, 0] }, {}), championVersion: null });
    assert.equal(r.verdict, 'REJECT');
    assert.match(r.rules[0]!.reason, /roc_auc NaN/);
  });
});
