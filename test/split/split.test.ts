import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { tableFromIPC } from 'apache-arrow';
import { trainFoldsOf } from '../../src/contracts';
import { DataContractError } from '../../src/errors';
import { RELEARN_ROOT } from '../../src/paths';
import { assignFolds, foldsFromTable, splitToIpc } from '../../src/split';

const opts = { folds: 5, strategy: 'stratified' as const, holdoutFraction: 0.2, seed: 7, probeRows: 20 };

describe('split', () => {
  const labels = Int32Array.from({ length: 10_000 }, (_, i) => (i * 7919) % 10 < 3 ? 1 : 0);

  it('holds out the most recent rows and fills every fold', () => {
    const a = assignFolds(labels, labels.length, opts);
    assert.equal(a.holdoutRows, 2000);
    for (let i = 8000; i < 10_000; i++) assert.equal(a.fold[i], -1);
    for (let i = 0; i < 8000; i++) assert.ok(a.fold[i]! >= 0 && a.fold[i]! < 5);
    assert.deepEqual(a.foldRows, [1600, 1600, 1600, 1600, 1600]);
    assert.equal(a.probeRows.length, 20);
    assert.ok(a.probeRows.every((r) => r >= 8000 && r < 10_000));
  });

  it('stratifies: every fold has the overall positive share (±1 row)', () => {
    const a = assignFolds(labels, labels.length, opts);
    let positives = 0;
    for (let i = 0; i < 8000; i++) positives += labels[i]!;
    for (let k = 0; k < 5; k++) {
      let pos = 0;
      for (let i = 0; i < 8000; i++) if (a.fold[i] === k) pos += labels[i]!;
      assert.ok(Math.abs(pos - positives / 5) <= 1, `fold ${k}: ${pos} positives`);
    }
  });

  it('is deterministic for a seed and changes with it', () => {
    const a = assignFolds(labels, labels.length, opts);
    const b = assignFolds(labels, labels.length, opts);
    const c = assignFolds(labels, labels.length, { ...opts, seed: 8 });
    assert.deepEqual(a.fold, b.fold);
    assert.notDeepEqual(a.fold, c.fold);
  });

  it('time strategy: the earliest block (marked K) then folds 0..K-1, contiguous, in time order', () => {
    const a = assignFolds(null, 1000, { ...opts, strategy: 'time' });
    // 800 training rows in 6 blocks: 5 of floor(800 / 6) = 133 at the end, the earliest takes the other 135.
    assert.equal(a.firstBlockRows, 135);
    assert.deepEqual(a.foldRows, [133, 133, 133, 133, 133]);
    for (let i = 0; i < 135; i++) assert.equal(a.fold[i], 5);
    for (let i = 136; i < 800; i++) assert.ok(a.fold[i]! >= a.fold[i - 1]! && a.fold[i]! < 5);
    assert.equal(assignFolds(labels, labels.length, opts).firstBlockRows, undefined, 'a stratified split has no earliest block');
  });

  it("time strategy: each fold model's training and scored rows are scikit-learn's TimeSeriesSplit", () => {
    const fixture = JSON.parse(readFileSync(path.join(RELEARN_ROOT, 'test/fixtures/split/time-series-split.json'), 'utf8')) as {
      cases: Array<{ n: number; folds: number; splits: Array<{ train: [number, number]; test: [number, number] }> }>;
    };
    const range = ([from, to]: [number, number]) => Array.from({ length: to - from }, (_, i) => from + i);
    const rowsOf = (fold: Int8Array, n: number, values: number[]) => range([0, n]).filter((i) => values.includes(fold[i]!));
    assert.ok(fixture.cases.length >= 8);
    for (const c of fixture.cases) {
      // One holdout row (the smallest holdout) leaves exactly n rows to the folds.
      const a = assignFolds(null, c.n + 1, { ...opts, folds: c.folds, strategy: 'time', holdoutFraction: 1e-9 });
      assert.equal(a.holdoutRows, 1);
      const plan = { folds: c.folds, forwardChaining: true };
      c.splits.forEach((s, k) => {
        assert.deepEqual(rowsOf(a.fold, c.n, trainFoldsOf(plan, k)), range(s.train), `n=${c.n} K=${c.folds}: fold ${k} trains on`);
        assert.deepEqual(rowsOf(a.fold, c.n, [k]), range(s.test), `n=${c.n} K=${c.folds}: fold ${k} is scored on`);
        assert.equal(a.foldRows[k], s.test[1] - s.test[0]);
      });
      assert.deepEqual(rowsOf(a.fold, c.n, trainFoldsOf(plan, 'final')), range([0, c.n]), 'the final model trains on every row before the holdout');
    }
  });

  it('trainFoldsOf: forward chaining trains on earlier blocks; otherwise on every other fold', () => {
    assert.deepEqual(trainFoldsOf({ folds: 3, forwardChaining: true }, 0), [3]);
    assert.deepEqual(trainFoldsOf({ folds: 3, forwardChaining: true }, 2), [3, 0, 1]);
    assert.deepEqual(trainFoldsOf({ folds: 3, forwardChaining: true }, 'final'), [3, 0, 1, 2]);
    assert.deepEqual(trainFoldsOf({ folds: 3, forwardChaining: false }, 1), [0, 2]);
    assert.deepEqual(trainFoldsOf({ folds: 3, forwardChaining: false }, 'final'), [0, 1, 2]);
  });

  it('round-trips through the Arrow split file', () => {
    const a = assignFolds(labels, labels.length, opts);
    assert.deepEqual(foldsFromTable(tableFromIPC(splitToIpc(a.fold))), a.fold);
  });

  it('refuses too few rows with a clear error', () => {
    assert.throws(() => assignFolds(null, 8, opts), (err: unknown) => err instanceof DataContractError && /8 rows are too few for 5 folds/.test(err.message));
  });
});
