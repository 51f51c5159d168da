// Bad JSON data files through the real pull path (src/data pullSnapshot, as the pullData activity calls it). Each case
// ends in a non-retryable error whose message names the file and the column or the object at fault, and what was
// expected; the contract checks themselves say the same for JSON as for CSV.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { stringify } from 'yaml';
import { loadConfig } from '../../src/config';
import { type DataContract, pullSnapshot, type SourceConfig } from '../../src/data';
import { ConfigError, DataContractError, DataSourceError, type RelearnError } from '../../src/errors';

const dir = mkdtempSync(path.join(os.tmpdir(), 'relearn-bad-json-'));

function file(name: string, content: string | Uint8Array): string {
  const p = path.join(dir, name);
  writeFileSync(p, content);
  return p;
}

/** Rows of {ts, x, y}, one day each. */
function rows(values: Array<[unknown, unknown]>): Array<Record<string, unknown>> {
  return values.map(([x, y], i) => ({ ts: `2001-01-${String(1 + i).padStart(2, '0')}`, x, y }));
}

const looseContract: DataContract = { minRows: 1, columns: {} };

/** Runs pullSnapshot and returns the error it must throw. */
async function pullError(source: Partial<SourceConfig> & { path: string }, contract = looseContract, requiredColumns = ['x', 'y']): Promise<RelearnError> {
  try {
    await pullSnapshot({ source: { timeColumn: 'ts', ...source }, contract, requiredColumns });
  } catch (err) {
    assert.ok(err instanceof DataContractError || err instanceof DataSourceError, `expected a data error, got ${String(err)}`);
    assert.ok(err.message.startsWith(`${source.path}: `), `the message names the file: ${err.message}`);
    return err;
  }
  assert.fail('the pull must fail');
}

describe('bad JSON files: the pull fails naming the file, and the column or object', () => {
  it('not valid JSON (a cut-off array): names the file, the reason and where', async () => {
    const err = await pullError({ path: file('cut.json', '[{"ts": "2001-01-01", "x": 1, "y": 0},\n {"ts": "2001-01-02", "x": ') });
    assert.equal(err.type, 'DataSourceError');
    assert.match(err.message, /cut\.json: not valid JSON: Unexpected end of JSON input at line 2, column 28$/);
  });

  it('not valid JSON (one bad line of newline-delimited JSON)', async () => {
    const lines = rows([[1, 0], [2, 1]]).map((r) => JSON.stringify(r));
    const err = await pullError({ path: file('bad-line.ndjson', `${lines[0]}\n{"ts": "2001-01-02", x: 2}\n${lines[1]}\n`) });
    assert.equal(err.type, 'DataSourceError');
    assert.match(err.message, /bad-line\.ndjson: not valid JSON: Expected double-quoted property name at line 2, column 22$/);
  });

  it('a binary file named .json', async () => {
    const err = await pullError({ path: file('binary.json', Buffer.from([0x50, 0x41, 0x52, 0x31, 0, 0, 0, 7])) });
    assert.equal(err.type, 'DataSourceError');
    assert.match(err.message, /binary\.json: not a JSON file \(binary content\)/);
  });

  it('an empty file, and an empty array: no objects', async () => {
    const zero = await pullError({ path: file('zero.json', '') });
    assert.match(zero.message, /zero\.json: empty JSON file \(an array of objects, or one object per line, is required\)/);
    const empty = await pullError({ path: file('empty.json', '[]\n') });
    assert.equal(empty.type, 'DataSourceError');
    assert.match(empty.message, /empty\.json: no objects in the JSON file \(an empty array or no lines\); one object per row is required/);
  });

  it('a key missing from some objects: names the column, how many objects lack it and the first', async () => {
    const data = rows([[1, 0], [2, 1], [3, 0], [4, 1]]);
    delete data[2]!.x;
    delete data[3]!.x;
    const err = await pullError({ path: file('missing-key.json', JSON.stringify(data)) });
    assert.equal(err.type, 'DataContractError');
    assert.match(err.message, /missing-key\.json: column 'x' is missing from 2 of 4 objects \(first: object 3\); every object must have the same keys \(write "x": null for a missing value\)/);
  });

  it('a column of numbers with a string in it: names the column, both types and the first odd object', async () => {
    const err = await pullError({ path: file('mixed.ndjson', rows([[1, 0], [2, 1], ['three', 0], [4, 1]]).map((r) => JSON.stringify(r)).join('\n')) });
    assert.equal(err.type, 'DataContractError');
    assert.match(err.message, /mixed\.ndjson: column 'x' mixes types: numbers in 3 objects, strings in 1 \(first: object 3\); every value of a column must have one type/);
  });

  it('a boolean label with a number in it', async () => {
    const err = await pullError({ path: file('bool-number.json', JSON.stringify(rows([[1, true], [2, false], [3, 1]]))) });
    assert.match(err.message, /bool-number\.json: column 'y' mixes types: booleans in 2 objects, numbers in 1 \(first: object 3\)/);
  });

  it('a nested object where a column is expected: names the column and the object, and says to flatten it', async () => {
    const err = await pullError({ path: file('nested.json', JSON.stringify(rows([[1, 0], [{ value: 2, unit: 'm' }, 1]]))) });
    assert.equal(err.type, 'DataContractError');
    assert.match(err.message, /nested\.json: column 'x' holds an object in object 2; expected a number, string, boolean or null in each column \(flatten nested values into columns of their own\)/);
  });

  it('an array where a column is expected, and a file of columns instead of rows', async () => {
    const list = await pullError({ path: file('list.json', JSON.stringify(rows([[[1, 2], 0]]))) });
    assert.match(list.message, /list\.json: column 'x' holds an array in object 1; expected a number, string, boolean or null/);
    const columnar = await pullError({ path: file('columnar.json', JSON.stringify({ ts: ['2001-01-01'], x: [1], y: [0] })) });
    assert.match(columnar.message, /columnar\.json: column 'ts' holds an array in object 1/);
  });

  it('elements that are not objects: names the first and what each element must be', async () => {
    const err = await pullError({ path: file('numbers.json', '[1, 2, 3]') });
    assert.equal(err.type, 'DataContractError');
    assert.match(err.message, /numbers\.json: object 1 is a number, not an object; each element must be an object with one key per column \(a JSON array of objects, or one object per line\)/);
    const arrays = await pullError({ path: file('rows.json', '[["2001-01-01", 1, 0]]') });
    assert.match(arrays.message, /rows\.json: object 1 is an array, not an object/);
  });

  it('a key twice in one object, and names that differ only in case', async () => {
    const twice = await pullError({ path: file('dup.json', '[{"ts": "2001-01-01", "x": 1, "x": 2, "y": 0}]') });
    assert.equal(twice.type, 'DataContractError');
    assert.match(twice.message, /dup\.json: column name 'x' appears more than once in object 1; column names must be unique/);
    const cased = await pullError({ path: file('case.json', '[{"ts": "2001-01-01", "x": 1, "X": 2, "y": 0}]') });
    assert.match(cased.message, /case\.json: column names 'x' and 'X' differ only in case; column names must be unique ignoring case/);
  });

  it('the contract checks give the same messages for JSON as for CSV', async () => {
    const data = rows([[1.5, 0], [null, 1], [2.5, 1], [3.5, 0]]);
    const csv = file('same.csv', `ts,x,y\n${data.map((r) => `${String(r.ts)},${r.x === null ? '' : String(r.x)},${String(r.y)}`).join('\n')}\n`);
    const json = file('same.json', JSON.stringify(data));
    const contracts: DataContract[] = [
      { minRows: 1, columns: { x: { type: 'float' } } }, // a null where none is allowed
      { minRows: 10, columns: {} }, // too few rows
      { minRows: 1, columns: { x: { type: 'float', nullable: true, max: 3 } } }, // out of range
      { minRows: 1, columns: { x: { type: 'string' } } }, // wrong type
      { minRows: 1, columns: { y: { type: 'int', min: 0, max: 0 } } }, // an int out of range
    ];
    for (const contract of contracts) {
      const fromCsv = await pullError({ path: csv }, contract);
      const fromJson = await pullError({ path: json }, contract);
      assert.equal(fromJson.type, fromCsv.type, JSON.stringify(contract));
      assert.equal(fromJson.message.replace(json, 'FILE'), fromCsv.message.replace(csv, 'FILE'), JSON.stringify(contract));
    }
    const missing = await pullError({ path: json }, looseContract, ['x', 'z']);
    assert.match(missing.message, /same\.json: column 'z' is missing \(required by the model\)/);
  });

  it('a JSON source outside the data root is refused when temporal.yaml is loaded', () => {
    const root = mkdtempSync(path.join(dir, 'root-'));
    const config = path.join(root, 'temporal.yaml');
    const model = { task: 'binary', source: { path: '../same.json', format: 'json', timeColumn: 'ts' }, features: { numeric: ['x'] }, label: 'y' };
    writeFileSync(config, stringify({ models: { m: model } }));
    assert.throws(() => loadConfig(config), (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.match(err.message, /temporal\.yaml: models\.m\.source\.path: '.*same\.json' is outside the data root/);
      return true;
    });
  });
});
