// The search's pure planning: proposals (grid, seeded random), trial ids, halving rungs, ranking. No server.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseConfig } from '../../src/config';
import type { SearchConfig } from '../../src/config/search';
import { gridPoints, paramsDigest, planRungs, proposeTrials, rangePoints, rankByMetric } from '../../workflows/search-plan';

function searchOf(block: string): SearchConfig {
  const text = `
models:
  m1:
    task: binary
    source: { path: data.parquet, timeColumn: ts }
    features: { numeric: [a] }
    label: y
    search:
${block.trim().split('\n').map((l) => `      ${l}`).join('\n')}
`;
  return parseConfig(text, 'temporal.yaml').models.m1!.search!;
}

const SPACE = `
space:
  C: { type: float, min: 0.001, max: 1000, scale: log }
  max_iter: { type: int, min: 50, max: 400 }
  class_weight: [null, balanced]
  tol: { type: float, min: 0.0001, max: 0.01 }
`;

describe('search plan', () => {
  it('random search with the same seed proposes the same points; another seed other points', () => {
    const a = proposeTrials(searchOf(`strategy: random\nbudget: 8\nseed: 7\n${SPACE}`));
    const b = proposeTrials(searchOf(`strategy: random\nbudget: 8\nseed: 7\n${SPACE}`));
    const c = proposeTrials(searchOf(`strategy: random\nbudget: 8\nseed: 8\n${SPACE}`));
    assert.equal(a.trials.length, 8);
    assert.deepEqual(a, b);
    assert.notDeepEqual(a.trials.map((t) => t.id), c.trials.map((t) => t.id));
    for (const t of a.trials) {
      const C = t.params.C as number;
      const maxIter = t.params.max_iter as number;
      assert.ok(C >= 0.001 && C <= 1000, `C ${C}`);
      assert.ok(Number.isInteger(maxIter) && maxIter >= 50 && maxIter <= 400, `max_iter ${maxIter}`);
      assert.ok([null, 'balanced'].includes(t.params.class_weight as string | null));
    }
    // A log scale spreads draws over the decades: some below 1 and some above.
    assert.ok(a.trials.some((t) => (t.params.C as number) < 1) && a.trials.some((t) => (t.params.C as number) > 1));
  });

  it('a parameter set drawn twice is one trial, trained once', () => {
    const p = proposeTrials(searchOf('strategy: random\nbudget: 20\nseed: 3\nspace:\n  class_weight: [null, balanced]\n  fit_intercept: [true, false]'));
    assert.equal(p.proposed, 20);
    assert.equal(p.trials.length, 4);
    assert.equal(p.duplicates, 16);
    assert.equal(new Set(p.trials.map((t) => t.id)).size, 4);
  });

  it('a grid visits every point once, ranges at their steps on their scale', () => {
    assert.deepEqual(rangePoints({ type: 'float', min: 0.01, max: 100, scale: 'log', steps: 5 }), [0.01, 0.1, 1, 10, 100]);
    assert.deepEqual(rangePoints({ type: 'int', min: 1, max: 3, scale: 'linear', steps: 5 }), [1, 2, 3]);
    const grid = gridPoints({ C: [0.1, 1], class_weight: [null, 'balanced'], tol: { type: 'float', min: 0.001, max: 0.003, scale: 'linear', steps: 3 } });
    assert.equal(grid.length, 12);
    assert.equal(new Set(grid.map((g) => paramsDigest(g))).size, 12);
    const p = proposeTrials(searchOf('strategy: grid\nbudget: 12\nspace:\n  C: [0.1, 1]\n  class_weight: [null, balanced]\n  tol: { type: float, min: 0.001, max: 0.003, steps: 3 }'));
    assert.equal(p.trials.length, 12);
    assert.equal(p.duplicates, 0);
  });

  it('trial ids are a digest of the canonical parameter set: key order does not matter, values do', () => {
    assert.equal(paramsDigest({ C: 1, class_weight: null }), paramsDigest({ class_weight: null, C: 1 }));
    assert.notEqual(paramsDigest({ C: 1 }), paramsDigest({ C: 1.0000001 }));
    assert.notEqual(paramsDigest({ C: 1 }), paramsDigest({ C: '1' }));
    assert.match(paramsDigest({ C: 1 }), /^[0-9a-f]{16}$/);
  });

  it('successive halving: rungs on growing row shares keep the best 1/eta', () => {
    assert.deepEqual(planRungs(searchOf(`strategy: halving\n${SPACE}`), 6), [{ rowShare: 0.333333, trials: 6 }, { rowShare: 1, trials: 2 }]);
    assert.deepEqual(planRungs(searchOf(`strategy: halving\nhalving: { eta: 2, minRowShare: 0.25 }\n${SPACE}`), 8), [
      { rowShare: 0.25, trials: 8 },
      { rowShare: 0.5, trials: 4 },
      { rowShare: 1, trials: 2 },
    ]);
    assert.deepEqual(planRungs(searchOf(`strategy: random\n${SPACE}`), 6), [{ rowShare: 1, trials: 6 }]);
  });

  it('ranks by the metric in its direction; unscored trials last', () => {
    const trials = [
      { id: 'a', metric: { mean: 0.7, std: 0.01 } },
      { id: 'b', metric: { mean: 0.8, std: 0.02 } },
      { id: 'c' },
      { id: 'd', metric: { mean: 0.8, std: 0.01 } },
    ];
    assert.deepEqual(rankByMetric(trials, 'higher').map((t) => t.id), ['d', 'b', 'a', 'c']);
    assert.deepEqual(rankByMetric(trials, 'lower').map((t) => t.id), ['a', 'd', 'b', 'c']);
  });
});
