import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { gateSummary, judge, type Evaluation } from '../../src/contracts';

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

  it('a rule on a metric undefined in cross-validation says why and cannot pass; rules on defined metrics read as before', () => {
    const why = "class 'snow' never occurs in the 120 rows of fold 2";
    const e = { ...evaluation({ roc_auc: [Number.NaN, Number.NaN], log_loss: [0.6, 0.01] }, {}), undefined: { summary: { roc_auc: why } } };
    const r = judge({ gate, primaryMetric: 'roc_auc', evaluation: e, championVersion: null });
    assert.equal(r.verdict, 'REJECT');
    assert.deepEqual(
      r.rules.map((x) => [x.rule, x.passed, x.reason]),
      [
        ['minimum roc_auc', false, `roc_auc is undefined in cross-validation: ${why} — the rule cannot pass`],
        ['maximum log_loss', true, 'log_loss 0.6000 ≤ 0.7000 (CV mean)'],
        ['max CV std roc_auc', false, `roc_auc is undefined in cross-validation: ${why} — the rule cannot pass`],
        ['non-regression vs champion', true, 'no champion yet: judged by the minimums alone'],
      ],
    );
    // A stand-in number (scikit-learn's R² of 0 for a constant target) does not pass a rule either.
    const r2 = judge({
      gate: { minimums: { r2: -1 }, maximums: {}, maxCvStd: {}, maxDropVsChampion: 0 },
      primaryMetric: 'r2',
      evaluation: { ...evaluation({ r2: [0, 0] }, {}), undefined: { summary: { r2: "the target is 3.5 in all 40 rows of fold 1, so its variance (R²'s denominator) is 0" } } },
      championVersion: null,
    });
    assert.equal(r2.verdict, 'REJECT');
    assert.match(r2.rules[0]!.reason, /^r2 is undefined in cross-validation: the target is 3\.5 in all 40 rows of fold 1/);
  });

  it('an undefined primary metric on the holdout: the comparison with the champion says why and cannot pass', () => {
    const cv = { roc_auc: [0.7, 0.01] as [number, number], log_loss: [0.6, 0] as [number, number] };
    const why = "class 'snow' never occurs in the 146 rows of the holdout";
    const e = { ...evaluation(cv, { roc_auc: Number.NaN }, { roc_auc: Number.NaN }), undefined: { holdout: { candidate: { roc_auc: why }, champion: { roc_auc: why } } } };
    const r = judge({ gate, primaryMetric: 'roc_auc', evaluation: e, championVersion: 4 });
    assert.equal(r.verdict, 'REJECT');
    assert.deepEqual(r.rules.at(-1), {
      rule: 'non-regression vs champion',
      passed: false,
      reason: `roc_auc is undefined on the holdout: ${why} — the rule cannot pass`,
    });
    assert.equal(gateSummary(r), `gate: REJECT — roc_auc is undefined on the holdout: ${why} — the rule cannot pass`);
    // Only the champion's is undefined (it knows other classes than the candidate).
    const champ = { ...evaluation(cv, { roc_auc: 0.71 }, { roc_auc: Number.NaN }), undefined: { holdout: { champion: { roc_auc: "class '7' never occurs in the 146 rows of the holdout" } } } };
    const rc = judge({ gate, primaryMetric: 'roc_auc', evaluation: champ, championVersion: 4 });
    assert.equal(rc.rules.at(-1)!.reason, "roc_auc of champion v4 is undefined on the holdout: class '7' never occurs in the 146 rows of the holdout — the rule cannot pass");
    // A metric undefined on the holdout but not the primary one leaves the comparison as it was.
    const other = { ...evaluation(cv, { roc_auc: 0.665 }, { roc_auc: 0.67 }), undefined: { holdout: { candidate: { recall: 'x' } } } };
    assert.equal(judge({ gate, primaryMetric: 'roc_auc', evaluation: other, championVersion: 3 }).verdict, 'PASS');
  });

  it('treats a NaN metric as failing', () => {
    const r = judge({ gate, primaryMetric: 'roc_auc', evaluation: evaluation({ roc_auc: [Number.NaN, 0], log_loss: [0.5, 0] }, {}), championVersion: null });
    assert.equal(r.verdict, 'REJECT');
    assert.match(r.rules[0]!.reason, /roc_auc NaN/);
  });
});
