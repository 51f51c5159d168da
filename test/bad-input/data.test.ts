// Bad data files through the real pull path (src/data pullSnapshot, as the pullData activity calls it) and the real
// split functions (as splitData calls them). Each case ends in a non-retryable error type whose message names the
// file and the column or the config key, and what was expected.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { type DataContract, pullSnapshot, type SourceConfig } from '../../src/data';
import { DataContractError, DataSourceError, type RelearnError } from '../../src/errors';
import { VENV_PYTHON } from '../../src/paths';
import { assignFolds, checkLabelClasses } from '../../src/split';

const dir = mkdtempSync(path.join(os.tmpdir(), 'relearn-bad-data-'));

function file(name: string, content: string | Uint8Array): string {
  const p = path.join(dir, name);
  writeFileSync(p, content);
  return p;
}

/** A CSV with a day per row: ts, x (feature), y (label), from `rows` of [x, y]. */
function csv(name: string, rows: Array<[string | number, string | number]>, header = 'ts,x,y'): string {
  const lines = rows.map(([x, y], i) => `2001-01-${String(1 + (i % 28)).padStart(2, '0')},${x},${y}`);
  return file(name, `${header}\n${lines.join('\n')}\n`);
}

const looseContract: DataContract = { minRows: 1, columns: {} };

/** Runs pullSnapshot and returns the error it must throw. */
async function pullError(source: Partial<SourceConfig> & { path: string }, contract = looseContract, requiredColumns = ['x', 'y']): Promise<RelearnError> {
  try {
    await pullSnapshot({ source: { timeColumn: 'ts', ...source }, contract, requiredColumns });
  } catch (err) {
    assert.ok(err instanceof DataContractError || err instanceof DataSourceError, `expected a data error, got ${String(err)}`);
    return err;
  }
  assert.fail('the pull must fail');
}

describe('bad data files: the pull fails naming the file and the column', () => {
  it('NaN in a feature: names the column, the count and how to allow it', async () => {
    const p = csv('nan-feature.csv', [[1.5, 0], ['nan', 1], [2.5, 1], [3.5, 0]]);
    const err = await pullError({ path: p });
    assert.equal(err.type, 'DataContractError');
    assert.match(err.message, /nan-feature\.csv: column 'x' has 1 NaN value in the file; features and the label must be numbers/);
    assert.match(err.message, /contract\.columns\.x\.nullable: true/);
    // The same file passes once the contract allows the feature to be missing.
    const ok = await pullSnapshot({
      source: { path: p, timeColumn: 'ts' },
      contract: { minRows: 1, columns: { x: { type: 'float', nullable: true } } },
      requiredColumns: ['x', 'y'],
    });
    assert.equal(ok.stats.rows, 4);
  });

  it('Infinity in a label: names the column and an example, even when the column may be missing', async () => {
    const p = csv('inf-label.csv', [[1, 0.5], [2, 'inf'], [3, '-inf'], [4, 1.5]]);
    const err = await pullError({ path: p }, { minRows: 1, columns: { y: { type: 'float', nullable: true } } });
    assert.equal(err.type, 'DataContractError');
    assert.match(err.message, /inf-label\.csv: column 'y' has 2 infinite values in the file \(e\.g\. Infinity\); features and the label must be finite numbers/);
  });

  it('a time column that is not a timestamp: names the column, its type and what it must be', async () => {
    const p = file('text-time.csv', 'ts,x,y\nyesterday,1,0\ntoday,2,1\ntomorrow,3,0\n');
    const err = await pullError({ path: p, window: { from: '2001-01-01' } });
    assert.equal(err.type, 'DataContractError');
    assert.match(err.message, /text-time\.csv: column 'ts' has type Utf8, the time column must be a timestamp or date/);
  });

  it('a Parquet file that is not Parquet (a CSV renamed): names the file and the missing magic bytes', async () => {
    const p = file('renamed.parquet', 'ts,x,y\n2001-01-01,1,0\n');
    const err = await pullError({ path: p });
    assert.equal(err.type, 'DataSourceError');
    assert.match(err.message, /renamed\.parquet: not a Parquet file \(no PAR1 magic bytes\)/);
  });

  it('a Parquet file with valid magic bytes and a corrupt body: names the file and the reader’s reason', async () => {
    const p = file('corrupt.parquet', Buffer.concat([Buffer.from('PAR1'), Buffer.alloc(64, 7), Buffer.from([16, 0, 0, 0]), Buffer.from('PAR1')]));
    const err = await pullError({ path: p });
    assert.equal(err.type, 'DataSourceError');
    assert.match(err.message, /corrupt\.parquet: cannot read as Parquet: /);
  });

  it('an empty CSV (0 bytes): names the file and says a header row is required', async () => {
    const err = await pullError({ path: file('empty.csv', '') });
    assert.equal(err.type, 'DataSourceError');
    assert.match(err.message, /empty\.csv: empty CSV file \(a header row is required\)/);
  });

  it('a CSV with a header and no rows: says so instead of blaming the time column', async () => {
    const err = await pullError({ path: file('header-only.csv', 'ts,x,y\n') });
    assert.equal(err.type, 'DataSourceError');
    assert.match(err.message, /header-only\.csv: empty CSV file \(a header row but no data rows\)/);
  });

  it('duplicate column names in a CSV header: names the column and how often it appears', async () => {
    const p = csv('dup.csv', [[1, 0], [2, 1]], 'ts,x,x');
    const err = await pullError({ path: p }, looseContract, ['x']);
    assert.equal(err.type, 'DataContractError');
    assert.match(err.message, /dup\.csv: column name 'x' appears 2 times; column names must be unique/);
  });

  it('duplicate column names in a Parquet schema: names the column', async () => {
    const p = path.join(dir, 'dup.parquet');
    const made = spawnSync(VENV_PYTHON, [
      '-c',
      'import sys, datetime, pyarrow as pa, pyarrow.parquet as pq\n' +
        't = pa.table([pa.array([datetime.datetime(2001, 1, 1)] * 3), pa.array([1.0, 2.0, 3.0]), pa.array([0, 1, 0])], names=["ts", "x", "x"])\n' +
        'pq.write_table(t, sys.argv[1])',
      p,
    ], { encoding: 'utf8' });
    assert.equal(made.status, 0, made.stderr);
    const err = await pullError({ path: p }, looseContract, ['x']);
    assert.equal(err.type, 'DataContractError');
    assert.match(err.message, /dup\.parquet: column name 'x' appears 2 times/);
  });

  it('a file that does not exist: names the file', async () => {
    const err = await pullError({ path: path.join(dir, 'nowhere.parquet') });
    assert.equal(err.type, 'DataSourceError');
    assert.match(err.message, /nowhere\.parquet: file not found/);
  });

  it('a CSV whose feature column is text: the contract names the column, its type and the expected one', async () => {
    const p = csv('text-feature.csv', [['low', 0], ['high', 1]]);
    const err = await pullError({ path: p }, { minRows: 1, columns: { x: { type: 'number' } } });
    assert.equal(err.type, 'DataContractError');
    assert.match(err.message, /text-feature\.csv: column 'x' has type Utf8, contract expects number/);
  });
});

describe('bad data for the split: the error names the label column or the split key', () => {
  const opts = { folds: 5, strategy: 'stratified' as const, holdoutFraction: 0.8, seed: 1, probeRows: 10 };

  it('a holdout that leaves too few rows to train on names split.holdoutFraction', () => {
    assert.throws(() => assignFolds(null, 30, opts), (err: unknown) => {
      assert.ok(err instanceof DataContractError);
      assert.match(err.message, /split: 30 rows are too few for 5 folds/);
      assert.match(err.message, /split\.holdoutFraction 0\.8 keeps 24 rows for the holdout and leaves 6 to train on, 10 are needed/);
      return true;
    });
  });

  it('a label column with a single class names the column, the class and the task', () => {
    const labels = new Int32Array(40);
    assert.throws(() => checkLabelClasses(labels, 32, { label: 'delayed', task: 'binary' }), (err: unknown) => {
      assert.ok(err instanceof DataContractError);
      assert.match(err.message, /label column 'delayed' has a single class \(0\) in the 32 training rows; a binary model needs at least 2 classes/);
      return true;
    });
  });

  it('a binary label with three classes names the column and suggests multiclass', () => {
    const labels = ['a', 'b', 'c', 'a', 'b', 'c'];
    assert.throws(() => checkLabelClasses(labels, 6, { label: 'kind', task: 'binary' }), /label column 'kind' has 3 classes \(a, b, c\).*use task: multiclass/);
  });

  it('the second class only in the holdout still counts as one class for training', () => {
    const labels = [...Array(30).fill('no'), ...Array(10).fill('yes')];
    assert.throws(() => checkLabelClasses(labels, 30, { label: 'churn', task: 'binary' }), /label column 'churn' has a single class \(no\)/);
    assert.doesNotThrow(() => checkLabelClasses(labels, 40, { label: 'churn', task: 'binary' }));
  });
});
