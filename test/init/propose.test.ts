// What `relearn init` proposes, from files read through the real source reader: the task from the label's type and
// distinct values, the columns left out and why, the time column, the contract; and the flags the data contradicts.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ConfigError, DataContractError } from '../../src/errors';
import { type ProposeOptions, profileFile, proposeModel } from '../../src/init';

const dir = mkdtempSync(path.join(os.tmpdir(), 'relearn-init-propose-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const vega = (name: string) => fileURLToPath(new URL(`../../node_modules/vega-datasets/data/${name}`, import.meta.url));

let fileCounter = 0;
/** A CSV of `rows` rows: a `day` column, then one column per entry of `columns` (value of row i). */
function csv(columns: Record<string, (i: number) => string | number | boolean | null>, rows = 300): string {
  const names = Object.keys(columns);
  const lines = [['day', ...names].join(',')];
  for (let i = 0; i < rows; i++) {
    const day = new Date(Date.UTC(2020, 0, 1) + i * 86_400_000).toISOString().slice(0, 10);
    lines.push([day, ...names.map((n) => columns[n]!(i) ?? '')].join(','));
  }
  const file = path.join(dir, `data-${++fileCounter}.csv`);
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

async function propose(file: string, options: ProposeOptions = {}) {
  return proposeModel(await profileFile(file), options);
}

/** A feature that is fine in every respect. */
const signal = (i: number) => ((i * 37) % 101) / 10;

describe('relearn init: the task from the label', () => {
  const cases: Array<{ what: string; label: (i: number) => string | number | boolean; task: string; classes?: unknown[] }> = [
    { what: 'booleans', label: (i) => i % 3 === 0, task: 'binary', classes: [false, true] },
    { what: 'text with two values', label: (i) => (i % 3 === 0 ? 'spam' : 'ham'), task: 'binary', classes: ['ham', 'spam'] },
    { what: 'text with five values', label: (i) => ['sun', 'rain', 'fog', 'snow', 'drizzle'][i % 5]!, task: 'multiclass', classes: ['drizzle', 'fog', 'rain', 'snow', 'sun'] },
    { what: 'whole numbers 0 and 1', label: (i) => i % 2, task: 'binary', classes: [0, 1] },
    { what: 'whole numbers with 4 values (ratings)', label: (i) => 1 + (i % 4), task: 'multiclass', classes: [1, 2, 3, 4] },
    { what: 'whole numbers with many values', label: (i) => 100 + ((i * 7) % 40), task: 'regression' },
    { what: 'fractional numbers', label: (i) => 0.5 + i / 7, task: 'regression' },
  ];
  for (const c of cases) {
    it(`${c.what} → ${c.task}`, async () => {
      const p = await propose(csv({ x: signal, target: c.label }));
      assert.equal(p.label.value, 'target');
      assert.equal(p.label.given, false);
      assert.match(p.label.why, /the last column; pass --label to pick another/);
      assert.equal(p.task.value, c.task);
      assert.deepEqual(p.classes, c.classes ?? null);
      assert.equal(p.estimator, c.task === 'regression' ? 'ridge' : 'logistic_regression');
    });
  }

  it('--task is taken when the label fits it, and refused naming the flag when it does not', async () => {
    const file = csv({ x: signal, grade: (i) => 1 + (i % 4), temp: (i) => i / 3, kind: (i) => ['a', 'b', 'c'][i % 3]! });
    assert.equal((await propose(file, { label: 'grade', task: 'regression' })).task.value, 'regression');
    assert.equal((await propose(file, { label: 'kind', task: 'multiclass' })).task.given, true);
    await assert.rejects(propose(file, { label: 'temp', task: 'binary' }), (err: Error) => {
      assert.ok(err instanceof ConfigError);
      assert.match(err.message, /^--task binary: label 'temp' holds fractional numbers \(Float64\); class labels must be whole numbers, text or booleans \(use --task regression\)$/);
      return true;
    });
    await assert.rejects(propose(file, { label: 'kind', task: 'regression' }), /^ConfigError: --task regression: label 'kind' holds text; a regression label must be numeric \(use --task multiclass\)$/);
    await assert.rejects(propose(file, { label: 'grade', task: 'binary' }), /--task binary: label 'grade' has 4 classes \(1, 2, 3, 4\); use --task multiclass/);
  });

  it('a label with one value, or with too many text values, is refused', async () => {
    const file = csv({ x: signal, same: () => 'a', name: (i) => `n${(i * 13) % 120}` });
    await assert.rejects(propose(file, { label: 'same' }), /--label: column 'same' in .* has one value \('a'\) in every row; there is nothing to learn/);
    await assert.rejects(propose(file, { label: 'name' }), /--label: column 'name' in .* is text with 120 distinct values, too many to be classes \(at most 50\)/);
  });
});

describe('relearn init: features, and the columns left out', () => {
  it('leaves out identifiers, constants, almost-null columns, other dates and free text, saying why', async () => {
    const file = csv({
      id: (i) => 5000 + i, // whole numbers, one per row, named like an id
      counter: (i) => i + 1, // one per row, consecutive: a row number
      code: (i) => `c-${(i * 7919) % 100_003}`, // text, one per row
      constant: () => 7,
      sparse: (i) => (i % 20 === 0 ? 1.5 : null), // 95% null
      opened: (i) => `2019-01-${String(1 + (i % 28)).padStart(2, '0')}`,
      comment: (i) => `note ${(i * 31) % 200}`, // 200 distinct in 300 rows
      weight: (i) => 1000 + ((i * 7919) % 100_003), // whole numbers, one per row, but a measurement
      ratio: (i) => i / 301, // all distinct fractions: a measurement
      city: (i) => ['Oslo', 'Lima', 'Pune'][i % 3]!,
      flag: (i) => i % 2 === 0,
      y: (i) => (i % 3 === 0 ? 'yes' : 'no'),
    });
    const p = await propose(file);
    assert.deepEqual(p.features, { numeric: ['weight', 'ratio', 'flag'], categorical: ['city'] });
    assert.deepEqual(p.excluded, [
      { name: 'id', why: 'one distinct value per row (an identifier)' },
      { name: 'counter', why: 'one distinct value per row (an identifier)' },
      { name: 'code', why: 'one distinct value per row (an identifier)' },
      { name: 'constant', why: 'one value in every row (7): nothing to learn from' },
      { name: 'sparse', why: '95% null (almost all null)' },
      { name: 'opened', why: 'a date/time other than the time column (source.derive can make hour, dayOfWeek, month or dayOfMonth features of it)' },
      { name: 'comment', why: 'text with 200 distinct values in 300 rows (names or free text, too many to be categories)' },
    ]);
    assert.equal(p.time.value, 'day');
  });

  it('the default label skips a last column that cannot be one', async () => {
    const p = await propose(csv({ x: signal, churned: (i) => i % 2 === 0, row_id: (i) => i }));
    assert.equal(p.label.value, 'churned');
    assert.match(p.label.why, /^the last column that can be a label; pass --label to pick another$/);
    assert.deepEqual(p.excluded, [{ name: 'row_id', why: 'one distinct value per row (an identifier)' }]);
  });

  it('text with more distinct values than classes can be a feature but not the default label', async () => {
    const p = await propose(csv({ x: signal, y: (i) => i % 2, city: (i) => `city ${(i * 7) % 60}` }));
    assert.equal(p.label.value, 'y');
    assert.deepEqual(p.features, { numeric: ['x'], categorical: ['city'] });
  });

  it('no usable feature is refused, listing what was left out', async () => {
    await assert.rejects(propose(csv({ id: (i) => `u${i}`, y: (i) => i % 2 })), (err: Error) => {
      assert.ok(err instanceof ConfigError);
      assert.match(err.message, /no column can be a feature besides the label 'y' and the time column 'day' \(id: one distinct value per row \(an identifier\)\)/);
      return true;
    });
  });
});

describe('relearn init: the time column and the contract', () => {
  it('the most complete of several date columns, unless --time names one; a non-date --time is refused', async () => {
    const file = csv({ shipped: (i) => (i % 10 === 0 ? null : '2021-05-01'), x: signal, y: (i) => i % 2 });
    const p = await propose(file);
    assert.equal(p.time.value, 'day');
    assert.match(p.time.why, /the first complete of 2 date\/time columns \(day, shipped\); pass --time to pick another/);
    assert.deepEqual(p.excluded.map((e) => e.name), ['shipped']);
    const chosen = await propose(file, { time: 'shipped' });
    assert.equal(chosen.time.value, 'shipped');
    assert.match(chosen.warnings.join('\n'), /time column 'shipped' has 30 null values; runs refuse them/);
    await assert.rejects(propose(file, { time: 'x' }), /^ConfigError: --time: column 'x' in .* holds fractional numbers \(Float64\); the time column must be a date or timestamp$/);
    await assert.rejects(propose(file, { time: 'nope' }), /^ConfigError: --time: no column 'nope' in .*\(columns: day, shipped, x, y\)$/);
  });

  it('a file without any date column names the file and says what the time column is for', async () => {
    await assert.rejects(propose(vega('penguins.json')), (err: Error) => {
      assert.ok(err instanceof DataContractError);
      assert.match(err.message, /penguins\.json: no date or timestamp column \(columns: Species, Island, Beak Length \(mm\), .*\); a model needs one as its time column/);
      return true;
    });
  });

  it('contract: each column’s type, nullable where nulls were seen, min 0 where nothing was below, the classes of a text label', async () => {
    const file = csv({ temp: (i) => (i % 50 === 0 ? null : -5 + (i % 30)), rain: (i) => (i % 7) / 2, city: (i) => (i % 9 === 0 ? null : ['Oslo', 'Lima'][i % 2]!), sky: (i) => ['sun', 'fog', 'rain'][i % 3]! }, 150);
    const p = await propose(file);
    assert.deepEqual(p.contract, {
      minRows: 75,
      columns: {
        day: { type: 'timestamp' },
        temp: { type: 'number', nullable: true },
        rain: { type: 'number', min: 0 },
        city: { type: 'string', nullable: true },
        sky: { type: 'string', allowed: ['fog', 'rain', 'sun'] },
      },
    });
    const large = await propose(csv({ x: signal, amount: (i) => i / 3 }, 400));
    assert.deepEqual(large.contract.columns.amount, { type: 'number', min: 0 });
    assert.equal(large.contract.minRows, 100);
  });

  it('seattle-weather.csv: weather as a multiclass label from four numeric features, dated by date', async () => {
    const p = await propose(vega('seattle-weather.csv'));
    assert.equal(p.label.value, 'weather');
    assert.equal(p.task.value, 'multiclass');
    assert.deepEqual(p.classes, ['drizzle', 'fog', 'rain', 'snow', 'sun']);
    assert.equal(p.time.value, 'date');
    assert.deepEqual(p.features, { numeric: ['precipitation', 'temp_max', 'temp_min', 'wind'], categorical: [] });
    assert.deepEqual(p.excluded, []);
  });

  it('cars.json (through the JSON reader): the car names are left out as free text, nulls allowed where the file has them', async () => {
    const p = await propose(vega('cars.json'));
    assert.equal(p.time.value, 'Year');
    assert.equal(p.label.value, 'Origin');
    assert.deepEqual(p.excluded, [{ name: 'Name', why: 'text with 311 distinct values in 406 rows (names or free text, too many to be categories)' }]);
    assert.equal(p.contract.columns.Horsepower!.nullable, true);
    assert.equal(p.contract.columns.Cylinders!.nullable, undefined);
  });
});
