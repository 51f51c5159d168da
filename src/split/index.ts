import { makeVector, Table, tableToIPC } from 'apache-arrow';
import { DataContractError } from '../errors';
import { mulberry32 } from '../contracts';

/** How a snapshot is split: K folds plus a holdout of the most recent rows. */
export interface SplitOptions {
  folds: number;
  strategy: 'stratified' | 'time';
  holdoutFraction: number;
  seed: number;
  /** How many holdout rows to use as probe rows for ONNX parity checks. */
  probeRows: number;
}

/** The fold of every snapshot row (-1 = holdout) and a summary of it. */
export interface SplitAssignment {
  fold: Int8Array;
  /** Rows of folds 0..K-1, the rows each fold model is scored on. */
  foldRows: number[];
  holdoutRows: number;
  probeRows: number[];
  /** A time split only: rows of its earliest block (fold value K), which fold models train on and none is scored on. */
  firstBlockRows?: number;
}

/**
 * Splits rows that are already sorted by time: the most recent `holdoutFraction` become the holdout; the rest go to
 * K folds, stratified by label (shuffled per class with the seed, dealt round-robin), or to K+1 contiguous time blocks
 * for forward chaining as scikit-learn's TimeSeriesSplit cuts them: K blocks of floor(rest / (K+1)) rows at the end,
 * which are folds 0..K-1, and the earliest block (the rest, marked K), so fold k trains on blocks before it only.
 */
export function assignFolds(labels: ArrayLike<unknown> | null, rows: number, opts: SplitOptions): SplitAssignment {
  const holdout = Math.min(rows - opts.folds, Math.max(1, Math.round(rows * opts.holdoutFraction)));
  const rest = rows - holdout;
  if (rest < opts.folds * 2) {
    throw new DataContractError(
      `split: ${rows} rows are too few for ${opts.folds} folds plus a holdout (need at least ${opts.folds * 2 + 1}): ` +
        `split.holdoutFraction ${opts.holdoutFraction} keeps ${holdout} rows for the holdout and leaves ${rest} to train on, ` +
        `${opts.folds * 2} are needed (lower split.holdoutFraction or split.folds, or widen source.window)`,
    );
  }
  const fold = new Int8Array(rows).fill(-1);
  let firstBlockRows: number | undefined;
  if (opts.strategy === 'time' || labels === null) {
    const size = Math.floor(rest / (opts.folds + 1));
    firstBlockRows = rest - opts.folds * size;
    for (let i = 0; i < rest; i++) fold[i] = i < firstBlockRows ? opts.folds : Math.floor((i - firstBlockRows) / size);
  } else {
    const byClass = new Map<string, number[]>();
    for (let i = 0; i < rest; i++) {
      const key = String(labels[i]);
      let list = byClass.get(key);
      if (!list) byClass.set(key, (list = []));
      list.push(i);
    }
    const random = mulberry32(opts.seed);
    let offset = 0;
    for (const key of [...byClass.keys()].sort()) {
      const list = byClass.get(key)!;
      for (let i = list.length - 1; i > 0; i--) {
        const j = Math.floor(random() * (i + 1));
        [list[i], list[j]] = [list[j]!, list[i]!];
      }
      for (let i = 0; i < list.length; i++) fold[list[i]!] = (offset + i) % opts.folds;
      offset = (offset + list.length) % opts.folds;
    }
  }
  const foldRows = new Array<number>(opts.folds).fill(0);
  for (let i = 0; i < rest; i++) if (fold[i]! < opts.folds) foldRows[fold[i]!]! += 1;
  const probes = Math.min(opts.probeRows, holdout);
  const probeRows = Array.from({ length: probes }, (_, k) => rest + Math.floor((k * holdout) / probes));
  return { fold, foldRows, holdoutRows: holdout, probeRows, ...(firstBlockRows !== undefined ? { firstBlockRows } : {}) };
}

/**
 * Checks that a classification label has the classes its task needs in the rows the folds train on (the first
 * `trainRows`, before the holdout): one class cannot be learnt, and a binary model cannot take three. `rows` names
 * those rows in the message (default: the training rows).
 */
export function checkLabelClasses(
  labels: ArrayLike<unknown>,
  trainRows: number,
  opts: { label: string; task: 'binary' | 'multiclass'; rows?: string; remedy?: string },
): void {
  const rows = opts.rows ?? `${trainRows} training rows`;
  const classes = new Set<string>();
  for (let i = 0; i < trainRows && classes.size <= 100; i++) {
    const value = labels[i];
    if (value !== null && value !== undefined) classes.add(String(value));
  }
  const shown = [...classes].sort().slice(0, 10).join(', ');
  if (classes.size < 2) {
    throw new DataContractError(
      `split: label column '${opts.label}' has ${classes.size === 0 ? 'no values' : `a single class (${shown})`} in the ${rows}; ` +
        `a ${opts.task} model needs at least 2 classes (${opts.remedy ?? 'widen source.window or check the label'})`,
    );
  }
  if (opts.task === 'binary' && classes.size > 2) {
    throw new DataContractError(
      `split: label column '${opts.label}' has ${classes.size > 100 ? 'over 100' : classes.size} classes (${shown}${classes.size > 10 ? ', …' : ''}) in the ${rows}; a binary model needs exactly 2 (use task: multiclass)`,
    );
  }
}

/** The split as an Arrow IPC file with one Int8 column `fold`, row-aligned with the snapshot. */
export function splitToIpc(fold: Int8Array): Uint8Array {
  const table = new Table({ fold: makeVector(fold) });
  return tableToIPC(table, 'file');
}

/** Reads the `fold` column of a split file. */
export function foldsFromTable(table: Table): Int8Array {
  const column = table.getChild('fold');
  if (!column) throw new DataContractError("split file has no 'fold' column");
  return Int8Array.from(column.toArray() as ArrayLike<number>);
}
