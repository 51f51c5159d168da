import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { computeMetricsWithReasons } from '../../src/metrics';
import { assertMatches, readMetricFixture } from './helpers';

interface Verdict {
  value: number | null;
  /** scikit-learn's warning or error when it says the metric is not defined. */
  undefined: string | null;
  /** 'metric': no value at all; 'class-term': a macro average with a 0/0 term for some class. */
  scope: 'metric' | 'class-term' | null;
}

interface UndefinedCase {
  name: string;
  task: 'binary' | 'multiclass' | 'regression';
  nClasses?: number;
  classNames?: string[];
  yTrue: number[];
  proba?: number[];
  yPred?: number[];
  sklearn: Record<string, Verdict>;
}

const fixture = readMetricFixture<{ cases: UndefinedCase[] }>('undefined.json');

function explain(c: UndefinedCase, set = 'the holdout') {
  if (c.task === 'regression') return computeMetricsWithReasons('regression', Float64Array.from(c.yTrue), Float64Array.from(c.yPred!), { set });
  return computeMetricsWithReasons(c.task, Int32Array.from(c.yTrue), Float64Array.from(c.proba!), c.nClasses!, { set, classNames: c.classNames });
}

describe('undefined metrics match scikit-learn', () => {
  it('covers a missing class, a constant target and a 0/0 ratio', () => {
    const names = fixture.cases.map((c) => c.name);
    for (const expected of ['multiclass-missing-class', 'binary-only-negatives', 'binary-never-predicted', 'regression-constant-target', 'regression-one-row']) {
      assert.ok(names.includes(expected), `fixture lacks ${expected}`);
    }
  });

  for (const c of fixture.cases) {
    it(`${c.name}: a reason exactly for the metrics scikit-learn leaves without a value`, () => {
      const got = explain(c);
      const expected = Object.entries(c.sklearn)
        .filter(([, v]) => v.scope === 'metric')
        .map(([name]) => name)
        .sort();
      assert.deepEqual(Object.keys(got.undefined).sort(), expected, JSON.stringify(got.undefined));
      // A metric with a value in scikit-learn has the same value here, including a macro average with a 0/0 term.
      for (const [name, v] of Object.entries(c.sklearn)) {
        if (v.scope !== 'metric') assertMatches(got.metrics[name]!, v.value, `${c.name} ${name}`);
      }
    });
  }
});

describe('undefined metric reasons in words', () => {
  const byName = (name: string) => fixture.cases.find((c) => c.name === name)!;

  it('names the missing class and the rows of the set', () => {
    const r = explain(byName('multiclass-missing-class'));
    assert.equal(r.undefined.roc_auc, "class 'snow' never occurs in the 146 rows of the holdout");
    assert.ok(Number.isNaN(r.metrics.roc_auc!));
    assert.ok(Number.isFinite(r.metrics.log_loss!), 'log loss with every class of the model is defined');
    const three = explain(byName('multiclass-three-missing'), 'fold 2');
    assert.equal(three.undefined.roc_auc, "classes 'drizzle', 'fog' and 'snow' never occur in the 146 rows of fold 2");
  });

  it('says which side of a binary ratio is empty', () => {
    assert.deepEqual(explain(byName('binary-only-negatives')).undefined, {
      roc_auc: "class 'delayed' never occurs in the 60 rows of the holdout",
      recall: "class 'delayed' (the positive class) never occurs in the 60 rows of the holdout",
    });
    assert.deepEqual(explain(byName('binary-only-positives')).undefined, { roc_auc: "class 'on-time' never occurs in the 60 rows of the holdout" });
    assert.equal(explain(byName('binary-never-predicted')).undefined.precision, "the model predicts class 'delayed' (the positive class) for none of the 60 rows of the holdout");
    assert.equal(
      explain(byName('binary-nothing-positive')).undefined.f1,
      "class 'delayed' (the positive class) neither occurs in the 60 rows of the holdout nor is predicted for any of them",
    );
  });

  it('gives the constant target of R² and the single row', () => {
    assert.equal(explain(byName('regression-constant-target')).undefined.r2, "the target is 3.5 in all 40 rows of the holdout, so its variance (R²'s denominator) is 0");
    assert.equal(explain(byName('regression-one-row'), 'fold 3').undefined.r2, 'R² needs at least two rows, and fold 3 has only one');
  });

  it('names classes by index when the model gave no names', () => {
    const c = byName('multiclass-missing-class');
    const r = computeMetricsWithReasons('multiclass', Int32Array.from(c.yTrue), Float64Array.from(c.proba!), 5, { set: 'the holdout' });
    assert.equal(r.undefined.roc_auc, "class '3' never occurs in the 146 rows of the holdout");
  });
});
