import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { tableFromIPC } from 'apache-arrow';
import { DataContractError } from '../../src/errors';
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

  it('time strategy makes contiguous blocks in time order', () => {
    const a = assignFolds(null, 1000, { ...opts, strategy: 'time' });
    for (let i = 1; i < 800; i++) assert.ok(a.fold[i]! >= a.fold[i - 1]!);
    assert.deepEqual(a.foldRows, [160, 160, 160, 160, 160]);
  });

  it('round-trips through the Arrow split file', () => {
    const a = assignFolds(labels, labels.length, opts);
    assert.deepEqual(foldsFromTable(tableFromIPC(splitToIpc(a.fold))), a.fold);
  });

  it('refuses too few rows with a clear error', () => {
    assert.throws(() => assignFolds(null, 8, opts), (err: unknown) => err instanceof DataContractError && /8 rows are too few for 5 folds/.test(err.message));
  });
});
