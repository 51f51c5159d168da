import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { mulberry32 } from '../../src/contracts/random';
import { confidenceSequence, fixedSampleInterval, mixtureRho2, momentsOf, standardRadius } from '../../src/shadow/confidence-sequence';
import { type DecideWindowConfig, type DecideWindowInput, decideWindow } from '../../src/shadow/decide-window';
import { rowLosses } from '../../src/shadow/row-loss';
import { DEMO_TRAFFIC, drawPairedRows, separationForAuc } from '../../src/shadow/window-simulation';
import type { ShadowTask } from '../../src/shadow/compare';

const FIXTURE = path.join(import.meta.dirname, '..', 'fixtures', 'shadow', 'sequential', 'confidence-sequence.json');

interface Look {
  rows: number;
  baselineLoss: number;
  contenderLoss: number;
  diff: number;
  lower: number;
  upper: number;
  passAbove: number;
  failBelow: number;
  outcome: 'pass' | 'fail' | 'inconclusive';
  fixedLow: number;
  fixedHigh: number;
}
interface Case {
  name: string;
  task: ShadowTask;
  classes: number;
  kind: 'shadow' | 'guard';
  lossMargin: number;
  lossHarmMargin: number;
  confidence: number;
  plannedRows: number;
  labels: number[];
  baseline: number[];
  contender: number[];
  looks: Look[];
}
interface Fixture {
  boundaries: Array<{ rows: number; plannedRows: number; alpha: number; radius: number; rho2: number }>;
  cases: Case[];
}

const fixture = JSON.parse(readFileSync(FIXTURE, 'utf8')) as Fixture;

/** |actual − expected| ≤ tol · max(1, |expected|). */
function close(actual: number | null | undefined, expected: number, what: string, tol = 1e-9): void {
  assert.ok(actual !== null && actual !== undefined, `${what}: ${actual}, expected ${expected}`);
  assert.ok(Math.abs(actual - expected) <= tol * Math.max(1, Math.abs(expected)), `${what}: ${actual} vs ${expected}`);
}

function baseConfig(overrides: Partial<DecideWindowConfig> = {}): DecideWindowConfig {
  return {
    test: 'sequential',
    margin: 0.01,
    lossMargin: 0.005,
    harmMargin: 0,
    lossHarmMargin: 0,
    confidence: 0.95,
    minLabeledRows: 2000,
    resamples: 200,
    seed: 7,
    onInconclusive: 'reject',
    ...overrides,
  };
}

function scores(task: ShadowTask, values: ArrayLike<number>) {
  return task === 'regression' ? { predicted: values } : { probabilities: values };
}

/** Demo-like traffic: two equally good calibrated models (ROC AUC 0.63), or the contender `drop` lower. */
function demoRows(n: number, seed: number, drop = 0) {
  const mu = separationForAuc(DEMO_TRAFFIC.auc);
  return drawPairedRows(
    { baseRate: DEMO_TRAFFIC.baseRate, baselineSeparation: mu, contenderSeparation: separationForAuc(DEMO_TRAFFIC.auc - drop), correlation: DEMO_TRAFFIC.correlation },
    n,
    mulberry32(seed),
  );
}

function demoInput(kind: 'shadow' | 'guard', rows: ReturnType<typeof demoRows>, config: DecideWindowConfig, extra: Partial<DecideWindowInput> = {}): DecideWindowInput {
  return {
    kind,
    task: 'binary',
    metric: 'roc_auc',
    labels: rows.labels,
    baseline: { probabilities: rows.baseline },
    contender: { probabilities: rows.contender },
    classes: 2,
    config,
    names: { baseline: 'v1', contender: 'v3' },
    ...extra,
  };
}

describe('the confidence sequence against confseq and the paper (scripts/make-confidence-sequence-fixtures.py)', () => {
  test('the unit-variance radius and ρ² at many row counts, planned sizes and levels', () => {
    assert.ok(fixture.boundaries.length >= 60);
    for (const b of fixture.boundaries) {
      close(mixtureRho2(b.plannedRows, b.alpha), b.rho2, `ρ² t*=${b.plannedRows} α=${b.alpha}`, 1e-12);
      close(standardRadius(b.rows, mixtureRho2(b.plannedRows, b.alpha), b.alpha), b.radius, `radius t=${b.rows} t*=${b.plannedRows} α=${b.alpha}`, 1e-12);
    }
  });

  test('the sequence is tightest near the planned row count', () => {
    const alpha = 0.05;
    const width = (t: number, planned: number) => standardRadius(t, mixtureRho2(planned, alpha), alpha) * Math.sqrt(t);
    // Scaled by √t (a fixed-sample interval would be flat at 1.96), the sequence is lowest at its planned size.
    assert.ok(width(7000, 7000) < width(7000, 700));
    assert.ok(width(700, 700) < width(700, 7000));
    assert.ok(width(7000, 7000) > 1.96, 'wider than a fixed-sample interval: the price of looking at every poll');
  });

  for (const c of fixture.cases) {
    test(`${c.name}: per-row losses, the bounds and the outcome at every look`, () => {
      const width = c.task === 'regression' ? 1 : c.classes;
      for (const look of c.looks) {
        const t = look.rows;
        const labels = c.labels.slice(0, t);
        const input: DecideWindowInput = {
          kind: c.kind,
          task: c.task,
          metric: c.task === 'regression' ? 'rmse' : 'accuracy',
          labels,
          baseline: scores(c.task, c.baseline.slice(0, t * width)),
          contender: scores(c.task, c.contender.slice(0, t * width)),
          classes: c.classes,
          config: baseConfig({
            lossMargin: c.lossMargin,
            lossHarmMargin: c.lossHarmMargin,
            confidence: c.confidence,
            minLabeledRows: c.plannedRows,
            onInconclusive: c.kind === 'shadow' ? 'reject' : 'keep',
          }),
          reportPrimary: false,
          minRows: 1,
        };
        const d = decideWindow(input);
        const s = d.sequential;
        assert.ok(s !== null, `${c.name}@${t}: no sequential evidence`);
        const at = `${c.name}@${t}`;
        close(s.baselineLoss, look.baselineLoss, `${at} baseline loss (scikit-learn)`, 1e-12);
        close(s.contenderLoss, look.contenderLoss, `${at} contender loss (scikit-learn)`, 1e-12);
        close(s.diff, look.diff, `${at} diff`, 1e-12);
        close(s.lower, look.lower, `${at} lower`);
        close(s.upper, look.upper, `${at} upper`);
        close(s.passAbove, look.passAbove, `${at} passAbove`, 1e-12);
        close(s.failBelow, look.failBelow, `${at} failBelow`, 1e-12);
        assert.equal(d.outcome, look.outcome, `${at}: ${d.reason}`);
        assert.equal(d.lower, s.lower);
        assert.equal(d.upper, s.upper);

        // The fixed-sample interval of z = d + lossMargin · loss_baseline (scipy.stats.norm.ppf).
        const lb = rowLosses(c.task, labels, c.baseline.slice(0, t * width), c.classes);
        const lc = rowLosses(c.task, labels, c.contender.slice(0, t * width), c.classes);
        const z = lb.map((v, i) => v - lc[i]! + c.lossMargin * v);
        const fixed = fixedSampleInterval(momentsOf(z), c.confidence);
        close(fixed.low, look.fixedLow, `${at} fixed-sample low`);
        close(fixed.high, look.fixedHigh, `${at} fixed-sample high`);
        const seq = confidenceSequence(momentsOf(z), c.confidence, c.plannedRows);
        assert.ok(seq.radius > fixed.radius, `${at}: the sequence is wider than the one-look interval`);
      }
      const outcomes = new Set(c.looks.map((l) => l.outcome));
      assert.ok(outcomes.size >= 1);
    });
  }

  test('the fixture covers pass, fail and inconclusive, in both window kinds', () => {
    const seen = new Set(fixture.cases.flatMap((c) => c.looks.map((l) => `${c.kind}:${l.outcome}`)));
    for (const k of ['shadow:pass', 'shadow:fail', 'shadow:inconclusive', 'guard:pass', 'guard:fail', 'guard:inconclusive']) assert.ok(seen.has(k), `no ${k} look`);
  });
});

describe('decideWindow: two questions, three outcomes', () => {
  // Equally good models on 6,450 rows, the guard window the issue reported as "worse than v1".
  const equal = demoRows(6450, 11);

  test('guard, fixed test: equally good models are not rolled back when the interval straddles −margin', () => {
    // Find seeds whose bootstrap interval straddles both −margin and 0 (the case the old rule rolled back).
    let straddling: ReturnType<typeof decideWindow> | undefined;
    for (let seed = 11; seed < 60 && straddling === undefined; seed++) {
      const d = decideWindow(demoInput('guard', demoRows(6450, seed), baseConfig({ test: 'fixed', minLabeledRows: 6000, onInconclusive: 'keep' }), { final: true }));
      if (d.lower !== null && d.upper !== null && d.lower < -0.01 && d.upper > 0) straddling = d;
    }
    assert.ok(straddling !== undefined, 'no window with an interval straddling −margin and 0');
    assert.equal(straddling.outcome, 'inconclusive');
    assert.equal(straddling.action, 'keep');
    assert.equal(straddling.decidedBy, 'default');
    assert.match(straddling.reason, /^inconclusive: roc_auc: v3 .* vs v1 .* paired bootstrap CI/);
    assert.match(straddling.reason, /no evidence of harm/);
    assert.match(straddling.reason, /default keep$/);
    assert.doesNotMatch(straddling.reason, /worse/);
    // The shadow window asks the other question: the same interval does not show non-inferiority, so by default the
    // candidate is rejected — and the words still say inconclusive.
    const shadow = decideWindow({ ...demoInput('shadow', demoRows(6450, 11), baseConfig({ test: 'fixed', minLabeledRows: 6000 })), final: true });
    if (shadow.outcome === 'inconclusive') {
      assert.equal(shadow.action, 'reject');
      assert.doesNotMatch(shadow.reason, /worse/);
    }
  });

  test('sequential: an inconclusive window goes on, and at maxDuration takes its default', () => {
    const open = decideWindow(demoInput('guard', equal, baseConfig({ onInconclusive: 'keep' }), { reportPrimary: false }));
    assert.equal(open.outcome, 'inconclusive', open.reason);
    assert.equal(open.action, 'continue');
    assert.equal(open.decidedBy, 'waiting');
    assert.doesNotMatch(open.reason, /worse/);
    const closed = decideWindow(demoInput('guard', equal, baseConfig({ onInconclusive: 'rollback' }), { reportPrimary: false, final: true }));
    assert.equal(closed.action, 'rollback');
    assert.equal(closed.decidedBy, 'default');
    assert.match(closed.reason, /the window reached maxDuration: default rollback$/);
    const shadow = decideWindow(demoInput('shadow', equal, baseConfig(), { reportPrimary: false, final: true }));
    assert.equal(shadow.outcome, 'inconclusive', shadow.reason);
    assert.equal(shadow.action, 'reject');
    assert.match(shadow.reason, /^inconclusive: Brier score v3 .* vs v1 .* on 6450 labeled rows; .*95% confidence sequence/);
  });

  test('sequential: a large drop fails both windows on evidence; the reason says worse and names the loss', () => {
    const bad = demoRows(6000, 5, 0.1);
    const guard = decideWindow(demoInput('guard', bad, baseConfig({ onInconclusive: 'keep' }), { reportPrimary: true }));
    assert.equal(guard.outcome, 'fail', guard.reason);
    assert.equal(guard.action, 'rollback');
    assert.equal(guard.decidedBy, 'evidence');
    assert.ok(guard.upper! < guard.failBelow!);
    assert.equal(guard.failBelow, 0, 'harm margin 0: worse at all');
    assert.match(guard.reason, /^v3 is worse than v1: Brier score/);
    assert.match(guard.reason, /upper bound < 0 \(no difference\) → fail; roc_auc v3 .* paired bootstrap CI/);
    assert.ok(guard.primary !== null && guard.primary.diff! < 0, 'the primary metric is reported beside');
    const shadow = decideWindow(demoInput('shadow', bad, baseConfig(), { reportPrimary: false }));
    assert.equal(shadow.outcome, 'fail');
    assert.equal(shadow.action, 'reject');
    assert.match(shadow.reason, /^v3 is worse than v1 by more than the margin: .* \(the margin, 0.5% of v1's Brier score\) → fail$/);
  });

  test('sequential: a clearly better contender passes both windows before the planned row count', () => {
    const good = demoRows(1500, 6, -0.15);
    for (const kind of ['shadow', 'guard'] as const) {
      const d = decideWindow(demoInput(kind, good, baseConfig({ onInconclusive: kind === 'shadow' ? 'reject' : 'keep', minLabeledRows: 7000 }), { reportPrimary: false }));
      assert.equal(d.outcome, 'pass', d.reason);
      assert.equal(d.action, kind === 'shadow' ? 'promote' : 'keep');
      assert.ok(d.lower! >= d.passAbove!);
      assert.match(d.reason, /^v3 is not worse than v1 by more than the margin: .* lower bound ≥ −0\.\d+ \(the margin, 0.5% of v1's Brier score\) → pass$/);
    }
  });

  test('guard: evidence of harm wins over non-inferiority when the harm margin is inside the margin', () => {
    // A contender slightly worse, on many rows: within a generous margin (pass) and behind the baseline (fail).
    const slightly = demoRows(60_000, 8, 0.03);
    const d = decideWindow(demoInput('guard', slightly, baseConfig({ lossMargin: 0.05, lossHarmMargin: 0, onInconclusive: 'keep', minLabeledRows: 60_000 }), { reportPrimary: false }));
    assert.ok(d.lower! >= d.passAbove!, `lower ${d.lower} passAbove ${d.passAbove}`);
    assert.ok(d.upper! < d.failBelow!, `upper ${d.upper} failBelow ${d.failBelow}`);
    assert.equal(d.outcome, 'fail');
    // The shadow window, asked whether it is within 5%, says pass.
    const s = decideWindow(demoInput('shadow', slightly, baseConfig({ lossMargin: 0.05, minLabeledRows: 60_000 }), { reportPrimary: false }));
    assert.equal(s.outcome, 'pass');
  });

  test('fixed: waits for its planned row count, then looks; the harm margin moves the fail line', () => {
    const rows = demoRows(3000, 9, 0.1);
    const waiting = decideWindow(demoInput('guard', rows, baseConfig({ test: 'fixed', minLabeledRows: 5000, onInconclusive: 'keep' })));
    assert.equal(waiting.outcome, 'inconclusive');
    assert.equal(waiting.decidedBy, 'waiting');
    assert.equal(waiting.lower, null);
    assert.match(waiting.reason, /waiting: the fixed test looks once, at 5000 labeled rows; 3000 so far/);
    const looked = decideWindow(demoInput('guard', rows, baseConfig({ test: 'fixed', minLabeledRows: 3000, onInconclusive: 'keep' })));
    assert.equal(looked.outcome, 'fail', looked.reason);
    assert.equal(looked.failBelow, 0);
    assert.equal(looked.sequential, null);
    const lenient = decideWindow(demoInput('guard', rows, baseConfig({ test: 'fixed', minLabeledRows: 3000, harmMargin: 0.5, onInconclusive: 'keep' })));
    assert.equal(lenient.failBelow, -0.5);
    assert.notEqual(lenient.outcome, 'fail', lenient.reason);
    assert.equal(waiting.primary, null, 'no bootstrap before the fixed test looks');
    const shadow = decideWindow(demoInput('shadow', rows, baseConfig({ test: 'fixed', minLabeledRows: 3000 })));
    assert.equal(shadow.outcome, 'fail');
    assert.equal(shadow.action, 'reject');
    assert.match(shadow.reason, /^v3 is worse than v1 by more than the margin: roc_auc: .*; upper bound < −0\.0100 \(the margin\) → fail$/);
    // At maxDuration the fixed test looks at what it has.
    const early = decideWindow(demoInput('guard', rows, baseConfig({ test: 'fixed', minLabeledRows: 5000, onInconclusive: 'keep' }), { final: true }));
    assert.equal(early.outcome, 'fail');
  });

  test('too few rows for the sequential test is inconclusive, with the count', () => {
    const few = demoRows(60, 3);
    const d = decideWindow(demoInput('guard', few, baseConfig({ onInconclusive: 'keep' }), { reportPrimary: false }));
    assert.equal(d.outcome, 'inconclusive');
    assert.equal(d.reason, 'inconclusive: 60 labeled rows, fewer than the 100 the sequential test needs');
  });

  test('identical models pass at once (every difference is 0)', () => {
    const rows = demoRows(500, 4);
    const d = decideWindow({ ...demoInput('guard', rows, baseConfig({ onInconclusive: 'keep' }), { reportPrimary: false }), contender: { probabilities: rows.baseline } });
    assert.equal(d.outcome, 'pass');
    assert.equal(d.sequential!.diff, 0);
  });

  test('refuses a default that does not belong to the window kind', () => {
    const rows = demoRows(200, 2);
    assert.throws(() => decideWindow(demoInput('shadow', rows, baseConfig({ onInconclusive: 'keep' }))), /onInconclusive of a shadow window must be reject or promote, got 'keep'/);
    assert.throws(() => decideWindow(demoInput('guard', rows, baseConfig({ onInconclusive: 'reject' }))), /onInconclusive of a guard window must be keep or rollback, got 'reject'/);
  });
});
