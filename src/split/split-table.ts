import type { Table } from 'apache-arrow';
import { type SplitAssignment, type SplitOptions, assignFolds, checkLabelClasses, splitToIpc } from './index';

/** A snapshot's split: the fold of every row, the split file's bytes, and the strategy actually used. */
export interface TableSplit {
  assignment: SplitAssignment;
  /** The split as an Arrow IPC file (one Int8 column `fold`, row-aligned with the snapshot). */
  bytes: Uint8Array;
  /** A regressor's rows are always split in time order: there is no class to stratify by. */
  strategy: 'stratified' | 'time';
}

/**
 * Splits a snapshot's rows (already in time order) into K folds plus a holdout of the most recent; a classifier's
 * training rows must hold at least two classes (exactly two for a binary model), and so must the earliest block of a
 * time split, on which its first fold model trains alone.
 */
export function splitTable(
  table: Table,
  opts: { split: Omit<SplitOptions, 'probeRows'>; task: 'binary' | 'multiclass' | 'regression'; label: string; probeRows: number },
): TableSplit {
  const classifier = opts.task !== 'regression';
  const stratify = opts.split.strategy === 'stratified' && classifier;
  const labelColumn = classifier ? table.getChild(opts.label) : null;
  const labels = labelColumn ? (labelColumn.toArray() as ArrayLike<unknown>) : null;
  const assignment = assignFolds(stratify ? labels : null, table.numRows, { ...opts.split, probeRows: opts.probeRows });
  if (labels && opts.task !== 'regression') {
    checkLabelClasses(labels, table.numRows - assignment.holdoutRows, { label: opts.label, task: opts.task });
    // Forward chaining: the first fold model learns from the earliest block alone.
    const first = assignment.firstBlockRows;
    if (first !== undefined) {
      checkLabelClasses(labels, first, {
        label: opts.label,
        task: opts.task,
        rows: `earliest ${first} rows, which fold 1 of a time split trains on alone`,
        remedy: 'use split.strategy: stratified, fewer split.folds, or a wider source.window',
      });
    }
  }
  return { assignment, bytes: splitToIpc(assignment.fold), strategy: stratify ? 'stratified' : 'time' };
}
