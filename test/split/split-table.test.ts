import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { tableFromArrays, tableFromIPC } from 'apache-arrow';
import { DataContractError } from '../../src/errors';
import { assignFolds, foldsFromTable } from '../../src/split';
import { splitTable } from '../../src/split/split-table';

const split = { folds: 3, strategy: 'stratified' as const, holdoutFraction: 0.2, seed: 7 };
const rows = 60;
const table = tableFromArrays({
  x: Float64Array.from({ length: rows }, (_, i) => i),
  label: Int32Array.from({ length: rows }, (_, i) => (i % 4 === 0 ? 1 : 0)),
  three: Int32Array.from({ length: rows }, (_, i) => i % 3),
});

describe('splitTable', () => {
  it('a classifier is stratified by its label; the bytes are the split file of the same assignment', () => {
    const s = splitTable(table, { split, task: 'binary', label: 'label', probeRows: 5 });
    assert.equal(s.strategy, 'stratified');
    assert.deepEqual(s.assignment, assignFolds(table.getChild('label')!.toArray() as ArrayLike<unknown>, rows, { ...split, probeRows: 5 }));
    assert.deepEqual(foldsFromTable(tableFromIPC(s.bytes)), s.assignment.fold);
  });

  it('a regressor is split in time order even when stratification is asked for', () => {
    const s = splitTable(table, { split, task: 'regression', label: 'x', probeRows: 5 });
    assert.equal(s.strategy, 'time');
    assert.deepEqual(s.assignment, assignFolds(null, rows, { ...split, probeRows: 5 }));
  });

  it("a time-split classifier whose earliest block has one class: a data contract error (its first fold model learns from that block alone)", () => {
    // 48 training rows in 4 blocks of 12 (3 folds): the first 12 rows are all 0, a 1 comes later.
    const late = tableFromArrays({ x: Float64Array.from({ length: rows }, (_, i) => i), label: Int32Array.from({ length: rows }, (_, i) => (i >= 12 && i % 5 === 0 ? 1 : 0)) });
    assert.throws(
      () => splitTable(late, { split: { ...split, strategy: 'time' }, task: 'binary', label: 'label', probeRows: 5 }),
      (err: unknown) =>
        err instanceof DataContractError &&
        /label column 'label' has a single class \(0\) in the earliest 12 rows, which fold 1 of a time split trains on alone; .*split\.strategy: stratified/.test(err.message),
    );
    assert.equal(splitTable(late, { split, task: 'binary', label: 'label', probeRows: 5 }).strategy, 'stratified');
  });

  it('a binary model over a label of three classes is a data contract error naming the column', () => {
    assert.throws(
      () => splitTable(table, { split: { ...split, strategy: 'time' }, task: 'binary', label: 'three', probeRows: 5 }),
      (err: unknown) => err instanceof DataContractError && /label column 'three' has 3 classes/.test(err.message),
    );
    assert.equal(splitTable(table, { split, task: 'multiclass', label: 'three', probeRows: 5 }).strategy, 'stratified');
  });
});
