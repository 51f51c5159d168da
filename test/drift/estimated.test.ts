import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { estimateCbpe, fitCbpe } from '../../src/drift/estimated';
import { ESTIMATED_METRICS } from '../../src/drift/estimated-metrics';
import { fitIsotonic, predictIsotonic } from '../../src/drift/isotonic';
import { RELEARN_ROOT } from '../../src/paths';

// NannyML's CBPE on the flights data (scripts/make-cbpe-fixtures.py): the same calibration rows and window scores.
interface Estimate {
  value: number;
  samplingError: number;
  lower: number;
  upper: number;
}
interface Task {
  calibration: { y: number[]; p: number[] };
  needsCalibration: boolean | boolean[];
  windows: Array<{ from: string; p: number[]; nannyml: Record<string, Estimate> }>;
}
const fixture = JSON.parse(readFileSync(path.join(RELEARN_ROOT, 'test/fixtures/drift/cbpe/flights-cbpe.json'), 'utf8')) as {
  binary: Task;
  multiclass: Task & { classes: string[] };
};
const TOLERANCE = 0.005;

function binaryRows(p: number[]): Float64Array {
  const out = new Float64Array(p.length * 2);
  p.forEach((v, i) => {
    out[2 * i] = 1 - v;
    out[2 * i + 1] = v;
  });
  return out;
}

describe('CBPE against NannyML 0.13.1 on the flights windows (test/fixtures/drift/cbpe)', () => {
  for (const task of ['binary', 'multiclass'] as const) {
    const t = fixture[task];
    const width = task === 'binary' ? 2 : fixture.multiclass.classes.length;
    const asRows = (p: number[]) => (task === 'binary' ? binaryRows(p) : Float64Array.from(p));
    const model = fitCbpe({ yTrue: Int32Array.from(t.calibration.y), probabilities: asRows(t.calibration.p), numClasses: width });

    it(`${task}: calibrates the classes NannyML calibrates`, () => {
      assert.deepEqual(model.calibrated, task === 'binary' ? [t.needsCalibration] : t.needsCalibration);
    });

    for (const w of t.windows) {
      it(`${task}, week of ${w.from}: ROC AUC, accuracy and F1 within ${TOLERANCE} of NannyML's, the band's sampling error too`, () => {
        const ours = estimateCbpe(model, asRows(w.p));
        assert.equal(ours.rows, w.p.length / (task === 'binary' ? 1 : width));
        for (const metric of ESTIMATED_METRICS) {
          const theirs = w.nannyml[metric]!;
          const mine = ours[metric];
          assert.ok(Math.abs(mine.value - theirs.value) <= TOLERANCE, `${metric}: ours ${mine.value}, NannyML ${theirs.value}`);
          // Ties among the scores are ordered differently (numpy's argsort is not stable): ROC AUC's components differ at 1e-7.
          assert.ok(Math.abs(mine.samplingError - theirs.samplingError) <= 1e-6, `${metric} sampling error: ours ${mine.samplingError}, NannyML ${theirs.samplingError}`);
          assert.ok(mine.lower < mine.value && mine.value < mine.upper);
          assert.ok(Math.abs(mine.upper - mine.lower - (theirs.upper - theirs.lower)) <= 2 * TOLERANCE);
        }
      });
    }
  }

  it('isotonic regression: non-decreasing, ties merged, clipped outside the fitted range', () => {
    const fit = fitIsotonic([0.1, 0.2, 0.2, 0.3, 0.4], [0, 1, 0, 0, 1]);
    // Tied 0.2 → 0.5; the violator pair (0.5, 0) pools to 0.25 over 0.2 and 0.3 (weights 2 and 1: (1 + 0) / 3).
    assert.deepEqual(Array.from(fit.x), [0.1, 0.2, 0.3, 0.4]);
    assert.deepEqual(Array.from(fit.y).map((v) => Math.round(v * 1e12) / 1e12), [0, 0.333333333333, 0.333333333333, 1]);
    assert.equal(predictIsotonic(fit, -1), 0);
    assert.equal(predictIsotonic(fit, 2), 1);
    assert.ok(Math.abs(predictIsotonic(fit, 0.35) - (0.333333333333 + 1) / 2) < 1e-9);
  });

  it('a well-ranked but overconfident model: the estimate follows the calibration, not the raw scores', () => {
    // Scores 0.9 and 0.1, right only 70% of the time: raw scores would promise 90% accuracy.
    const y: number[] = [];
    const p: number[] = [];
    for (let i = 0; i < 1000; i++) {
      const high = i % 2 === 0;
      p.push(high ? 0.9 : 0.1);
      y.push((i % 10 < 7) === high ? 1 : 0);
    }
    const model = fitCbpe({ yTrue: Int32Array.from(y), probabilities: binaryRows(p), numClasses: 2 });
    const est = estimateCbpe(model, binaryRows(p.slice(0, 400)));
    assert.ok(Math.abs(est.accuracy.value - 0.7) < 0.01, `accuracy ${est.accuracy.value}`);
  });
});
