import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { Float64, Table, TimeUnit, Timestamp, tableFromIPC, tableToIPC, vectorFromArray } from 'apache-arrow';
import { pullSnapshot } from '../../src/data';
import type { DataContract, PullSnapshotOptions } from '../../src/data';
import { ConfigError, DataContractError } from '../../src/errors';
import { expected, smallContract, smallFiles, smallSource, tempDir } from './helpers';

const tmp = tempDir();
after(tmp.cleanup);

const file = smallFiles.parquet;

/** The fixture read straight with apache-arrow, to count violations independently of src/data. */
const reference = tableFromIPC(readFileSync(smallFiles.arrow));

async function rejects(options: PullSnapshotOptions, pattern: RegExp, type: new (message: string) => Error = DataContractError) {
  await assert.rejects(pullSnapshot(options), (err: Error) => {
    assert.ok(err instanceof type, `expected ${type.name}, got ${err.name}: ${err.message}`);
    assert.match(err.message, pattern);
    return true;
  });
}

function withColumn(name: string, column: DataContract['columns'][string]): DataContract {
  const contract = smallContract();
  contract.columns[name] = column;
  return contract;
}

describe('data contract violations are DataContractErrors that name the file and column', () => {
  it('a contract column missing from the file', async () => {
    await rejects(
      { source: smallSource(file), contract: withColumn('gate', { type: 'string' }), requiredColumns: [] },
      new RegExp(`^${file.replaceAll(/[.*+?^${}()|[\]\\]/g, '\\$&')}: column 'gate' is missing \\(required by contract\\)$`),
    );
  });

  it('a column the model requires', async () => {
    await rejects({ source: smallSource(file), contract: smallContract(), requiredColumns: ['delay', 'weather'] }, /flights-small\.parquet: column 'weather' is missing \(required by the model\)/);
  });

  it('a column of the wrong type, in every format', async () => {
    for (const source of Object.values(smallFiles)) {
      await rejects(
        { source: smallSource(source), contract: withColumn('carrier', { type: 'int' }), requiredColumns: [] },
        /flights-small\.(parquet|csv|arrow): column 'carrier' has type Utf8, contract expects int/,
      );
    }
    await rejects(
      { source: smallSource(file), contract: withColumn('distance', { type: 'int' }), requiredColumns: [] },
      /column 'distance' has type Float64, contract expects int/,
    );
  });

  it('a time column that is missing or not a timestamp', async () => {
    await rejects({ source: smallSource(file, { timeColumn: 'when' }), contract: smallContract(), requiredColumns: [] }, /column 'when' is missing \(required as the time column\)/);
    await rejects({ source: smallSource(file, { timeColumn: 'tail' }), contract: smallContract(), requiredColumns: [] }, /column 'tail' has type Utf8, the time column must be a timestamp/);
  });

  it('an empty window names the window, the file and the minimum', async () => {
    await rejects(
      { source: smallSource(file, { window: { from: '2030-01-01', to: '2030-02-01' } }), contract: smallContract(), requiredColumns: [] },
      /flights-small\.parquet: 0 rows in window \[2030-01-01, 2030-02-01\) on 'ts', contract requires at least 10/,
    );
  });

  it('a window with fewer rows than minRows', async () => {
    const { window, rows } = expected.windows[0]!;
    const contract = { ...smallContract(), minRows: rows + 1 };
    await rejects(
      { source: smallSource(file, { window }), contract, requiredColumns: [] },
      new RegExp(`: ${rows} rows in window \\[2024-01-15, 2024-02-01\\) on 'ts', contract requires at least ${rows + 1}`),
    );
    // Exactly minRows passes.
    const ok = await pullSnapshot({ source: smallSource(file, { window }), contract: { ...contract, minRows: rows }, requiredColumns: [] });
    assert.equal(ok.stats.rows, rows);
  });

  it('nulls in a non-nullable column name the column and the count', async () => {
    const nulls = expected.features.delay!.nulls;
    assert.ok(nulls > 0);
    for (const source of Object.values(smallFiles)) {
      await rejects(
        { source: smallSource(source), contract: withColumn('delay', { type: 'int' }), requiredColumns: [] },
        new RegExp(`column 'delay' has ${nulls} null values in the file; contract says it is not nullable`),
      );
    }
  });

  it('values outside [min, max] name the column, the count and an example', async () => {
    const delay = reference.getChild('delay')!;
    let outside = 0;
    let first: number | null = null;
    for (const value of delay) {
      if (value !== null && Number(value) > 100) {
        outside++;
        first ??= Number(value);
      }
    }
    assert.ok(outside > 0);
    const error = await pullSnapshot({ source: smallSource(file), contract: withColumn('delay', { type: 'int', nullable: true, max: 100 }), requiredColumns: [] }).then(
      () => assert.fail('expected a DataContractError'),
      (err: Error) => err,
    );
    assert.ok(error instanceof DataContractError);
    assert.match(error.message, new RegExp(`column 'delay' has ${outside} values outside \\[-∞, 100\\] in the file \\(e\\.g\\. \\d+\\)`));
    const example = Number(/e\.g\. (\d+)/.exec(error.message)![1]);
    assert.ok(example > 100, 'the example is one of the violating values');
  });

  it('values not in the allowed list name the column, the count and an example', async () => {
    let outside = 0;
    for (const value of reference.getChild('carrier')!) if (value !== null && value !== 'AA' && value !== 'UA') outside++;
    await rejects(
      { source: smallSource(file), contract: withColumn('carrier', { type: 'string', nullable: true, allowed: ['AA', 'UA'] }), requiredColumns: [] },
      new RegExp(`column 'carrier' has ${outside} values not in the allowed list in the file \\(e\\.g\\. '(?!AA|UA)[A-Z0-9]{2}'; allowed: AA, UA\\)`),
    );
  });

  it('ranges are checked inside the window only', async () => {
    const { window } = expected.windows[0]!;
    const from = Date.parse('2024-01-15T00:00:00Z');
    const to = Date.parse('2024-02-01T00:00:00Z');
    const ts = reference.getChild('ts')!;
    const delay = reference.getChild('delay')!;
    let outside = 0;
    for (let i = 0; i < reference.numRows; i++) {
      const t = ts.get(i) as number;
      const d = delay.get(i) as bigint | null;
      if (t >= from && t < to && d !== null && Number(d) > 100) outside++;
    }
    await rejects(
      { source: smallSource(file, { window }), contract: withColumn('delay', { type: 'int', nullable: true, max: 100 }), requiredColumns: [] },
      new RegExp(`column 'delay' has ${outside} values? outside \\[-∞, 100\\] in window \\[2024-01-15, 2024-02-01\\) on 'ts'`),
    );
  });

  it('a derived column needs its input column', async () => {
    await rejects(
      { source: smallSource(file, { derive: [{ name: 'late', from: 'arrival', op: 'greaterThan', value: 15 }] }), contract: smallContract(), requiredColumns: [] },
      /column 'arrival' is missing \(required by derived column 'late'\)/,
    );
    await rejects(
      { source: smallSource(file, { derive: [{ name: 'hour', from: 'carrier', op: 'hour' }] }), contract: smallContract(), requiredColumns: [] },
      /column 'carrier' has type Utf8, derived column 'hour' \(hour\) expects a timestamp/,
    );
  });

  it('contract checks apply to derived columns too', async () => {
    const contract = withColumn('late', { type: 'int', allowed: ['1'] });
    await rejects(
      { source: smallSource(file, { derive: [{ name: 'late', from: 'delay', op: 'greaterThan', value: 15 }] }), contract, requiredColumns: ['late'] },
      /column 'late' has \d+ null values/,
    );
  });

  it('config mistakes in derive or window are ConfigErrors naming the field', async () => {
    await rejects(
      { source: smallSource(file, { derive: [{ name: 'late', from: 'delay', op: 'greaterThan' }] }), contract: smallContract(), requiredColumns: [] },
      /source\.derive\[0\]\.value/,
      ConfigError,
    );
    await rejects(
      { source: smallSource(file, { derive: [{ name: 'delay', from: 'ts', op: 'hour' }] }), contract: smallContract(), requiredColumns: [] },
      /source\.derive\[0\]\.name: 'delay' already exists/,
      ConfigError,
    );
    await rejects(
      { source: smallSource(file, { window: { from: 'March 1st' } }), contract: smallContract(), requiredColumns: [] },
      /source\.window\.from: 'March 1st' is not an ISO date/,
      ConfigError,
    );
  });

  it('NaN counts as missing, like null', async () => {
    const table = new Table({
      at: vectorFromArray([1, 2, 3, 4].map((h) => Date.UTC(2024, 0, 1, h)), new Timestamp(TimeUnit.MILLISECOND)),
      score: vectorFromArray([0.5, Number.NaN, null, 2], new Float64()),
    });
    const file = path.join(tmp.dir, 'nan.arrow');
    writeFileSync(file, tableToIPC(table, 'file'));
    await rejects(
      { source: { path: file, timeColumn: 'at' }, contract: { minRows: 1, columns: { score: { type: 'float' } } }, requiredColumns: [] },
      /nan\.arrow: column 'score' has 2 null values in the file/,
    );
    const { stats } = await pullSnapshot({
      source: { path: file, timeColumn: 'at' },
      contract: { minRows: 1, columns: { score: { type: 'float', nullable: true } } },
      requiredColumns: [],
    });
    assert.deepEqual({ ...stats.features.score, quantiles: undefined }, {
      kind: 'numeric', count: 2, nulls: 2, min: 0.5, max: 2, mean: 1.25, std: 0.75, quantiles: undefined,
    });
  });
});
