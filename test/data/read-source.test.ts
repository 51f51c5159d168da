import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import {
  Dictionary,
  Int32,
  Int64,
  LargeUtf8,
  Table,
  TimeUnit,
  Timestamp,
  Utf8,
  tableFromIPC,
  tableToIPC,
  vectorFromArray,
} from 'apache-arrow';
import { pullSnapshot, readSource } from '../../src/data';
import type { SourceConfig } from '../../src/data';
import { DataSourceError } from '../../src/errors';
import { expected, smallContract, smallFiles, smallSource, tempDir } from './helpers';

const tmp = tempDir();
after(tmp.cleanup);

function write(name: string, bytes: Uint8Array | string): string {
  const file = path.join(tmp.dir, name);
  writeFileSync(file, bytes);
  return file;
}

async function sourceError(source: SourceConfig, pattern: RegExp): Promise<void> {
  for (const attempt of [() => readSource(source), () => pullSnapshot({ source, contract: smallContract(), requiredColumns: [] })]) {
    await assert.rejects(attempt(), (err: Error) => {
      assert.ok(err instanceof DataSourceError, `expected DataSourceError, got ${err.name}: ${err.message}`);
      assert.ok(err.message.startsWith(`${source.path}: `), `message names the file: ${err.message}`);
      assert.match(err.message, pattern);
      return true;
    });
  }
}

describe('readSource', () => {
  it('reads the same rows from Parquet, CSV, an Arrow IPC file and an Arrow IPC stream', async () => {
    const stream = write('small.arrows', tableToIPC(tableFromIPC(readFileSync(smallFiles.arrow)), 'stream'));
    for (const file of [...Object.values(smallFiles), stream]) {
      const table = await readSource(smallSource(file), { columnTypes: { zone: 'string' } });
      assert.equal(table.numRows, expected.rows, file);
      assert.deepEqual(
        table.schema.fields.map((f) => f.name),
        ['ts', 'delay', 'distance', 'big', 'carrier', 'tail', 'zone', 'cancelled'],
      );
    }
  });

  it('keeps only rows inside the window, [from, to) in UTC', async () => {
    for (const { window, rows } of expected.windows) {
      for (const [format, file] of Object.entries(smallFiles)) {
        const table = await readSource(smallSource(file, { window }));
        assert.equal(table.numRows, rows, `${format} ${JSON.stringify(window)}`);
      }
    }
  });

  it('reads every row when the window has no bound (a run started without one)', async () => {
    for (const [format, file] of Object.entries(smallFiles)) {
      const table = await readSource(smallSource(file, { window: {} }));
      assert.equal(table.numRows, expected.rows, format);
    }
  });

  it('reads every row when applyWindow is false', async () => {
    const table = await readSource(smallSource(smallFiles.parquet, { window: expected.windows[0]!.window }), { applyWindow: false });
    assert.equal(table.numRows, expected.rows);
  });

  it('takes the format from source.format over the extension', async () => {
    const copy = write('small.data', readFileSync(smallFiles.parquet));
    const table = await readSource(smallSource(copy, { format: 'parquet' }));
    assert.equal(table.numRows, expected.rows);
  });
});

describe('column types', () => {
  it('dictionary and LargeUtf8 strings become Utf8; Int64 narrows only when lossless', async () => {
    const table = new Table({
      at: vectorFromArray([1_700_000_000_000, 1_700_000_060_000, 1_700_000_120_000], new Timestamp(TimeUnit.MILLISECOND)),
      city: vectorFromArray(['Oslo', 'Lima', 'Oslo'], new Dictionary(new Utf8(), new Int32())),
      note: vectorFromArray(['é', null, 'long enough to skip packing'], new LargeUtf8()),
      small: vectorFromArray([1n, -2n, 3n], new Int64()),
      huge: vectorFromArray([2n ** 60n, 1n, null], new Int64()),
    });
    const file = write('types.arrow', tableToIPC(table, 'file'));
    const read = await readSource({ path: file, timeColumn: 'at' });
    const types = Object.fromEntries(read.schema.fields.map((f) => [f.name, String(f.type)]));
    assert.deepEqual(types, { at: 'Timestamp<MILLISECOND>', city: 'Utf8', note: 'Utf8', small: 'Int32', huge: 'Int64' });
    assert.deepEqual([...read.getChild('city')!], ['Oslo', 'Lima', 'Oslo']);
    assert.deepEqual([...read.getChild('note')!], ['é', null, 'long enough to skip packing']);
    assert.deepEqual([...read.getChild('small')!], [1, -2, 3]);
    assert.deepEqual([...read.getChild('huge')!], [2n ** 60n, 1n, null]);
  });

  it('64-bit integers and strings read through DuckDB come out whole, over many chunks, nulls or not', async () => {
    // 20,000 rows: ten DuckDB chunks (each fetched while the one before is copied) and several of the reader's blocks.
    const n = 20_000;
    const rows = Array.from({ length: n }, (_, i) => {
      const big = i === n - 1 ? 2n ** 60n + 1n : BigInt(i);
      // Strings past 12 bytes live outside DuckDB's 16-byte slots.
      const text = i % 11 === 0 ? '' : i % 2 ? `s${i % 100}` : `a value longer than twelve bytes number ${i}`;
      return [`2024-01-01T00:00:${String(i % 60).padStart(2, '0')}Z`, i - 10_000, 5_000_000_000 + i, i % 7 === 0 ? '' : String(i), big, text];
    });
    const text = `at,fits,wide,gaps,huge,text\n${rows.map((r) => r.join(',')).join('\n')}\n`;
    const read = await readSource({ path: write('bigints.csv', text), timeColumn: 'at' });
    const types = Object.fromEntries(read.schema.fields.map((f) => [f.name, String(f.type)]));
    assert.deepEqual(types, { at: 'Timestamp<MICROSECOND, UTC>', fits: 'Int32', wide: 'Float64', gaps: 'Int32', huge: 'Int64', text: 'Utf8' });
    assert.deepEqual([...read.getChild('text')!], rows.map((r) => (r[5] === '' ? null : r[5])));
    assert.deepEqual([...read.getChild('fits')!], rows.map((r) => r[1]));
    assert.deepEqual([...read.getChild('wide')!], rows.map((r) => r[2]));
    assert.deepEqual([...read.getChild('gaps')!], rows.map((r) => (r[3] === '' ? null : Number(r[3]))));
    assert.deepEqual([...read.getChild('huge')!], rows.map((r) => r[4]));
  });

  it('CSV times: offsets are converted to UTC, plain dates are midnight UTC', async () => {
    const withOffsets = write('offsets.csv', 'at,v\n2024-03-01T10:30:00+02:00,1\n2024-03-01T23:30:00-05:00,2\n2024-03-02T00:15:00Z,3\n');
    const snapshot = await pullSnapshot({
      source: { path: withOffsets, timeColumn: 'at', window: { from: '2024-03-01T08:30:00', to: '2024-03-02T04:30:00' }, derive: [{ name: 'hour', from: 'at', op: 'hour' }, { name: 'day', from: 'at', op: 'dayOfMonth' }] },
      contract: { minRows: 1, columns: { v: { type: 'int' } } },
      requiredColumns: ['hour'],
    });
    // 08:30Z is inside [from, to); 04:30Z on the 2nd is the excluded upper bound.
    assert.deepEqual([...snapshot.table.getChild('v')!], [1, 3]);
    assert.deepEqual([...snapshot.table.getChild('hour')!], [8, 0]);
    assert.deepEqual([...snapshot.table.getChild('day')!], [1, 2]);

    const dates = write('dates.csv', 'day,v\n2024-02-28,1\n2024-02-29,2\n2024-03-01,3\n');
    const byDay = await pullSnapshot({
      source: { path: dates, timeColumn: 'day', window: { from: '2024-02-29' }, derive: [{ name: 'dow', from: 'day', op: 'dayOfWeek' }] },
      contract: { minRows: 1, columns: { day: { type: 'timestamp' } } },
      requiredColumns: [],
    });
    assert.deepEqual([...byDay.table.getChild('v')!], [2, 3]);
    // 2024-02-29 was a Thursday, 2024-03-01 a Friday (Monday = 0).
    assert.deepEqual([...byDay.table.getChild('dow')!], [3, 4]);
    assert.deepEqual(byDay.stats.timeRange, { from: '2024-02-29T00:00:00.000Z', to: '2024-03-01T00:00:00.000Z' });
  });
});

describe('unreadable sources are DataSourceErrors naming the file', () => {
  it('a missing file', async () => {
    await sourceError(smallSource(path.join(tmp.dir, 'nope.parquet')), /file not found/);
  });

  it('a folder', async () => {
    await sourceError(smallSource(tmp.dir, { format: 'csv' }), /not a file/);
  });

  it('a file whose format cannot be told', async () => {
    await sourceError(smallSource(write('data.txt', 'a,b\n1,2\n')), /cannot tell the format.*set source\.format/);
  });

  it('a CSV file named .parquet', async () => {
    await sourceError(smallSource(write('text.parquet', readFileSync(smallFiles.csv))), /not a Parquet file/);
  });

  it('a truncated Parquet file', async () => {
    const bytes = readFileSync(smallFiles.parquet);
    await sourceError(smallSource(write('cut.parquet', bytes.subarray(0, bytes.length / 2))), /not a Parquet file/);
  });

  it('a Parquet file with a corrupt footer', async () => {
    const bytes = Buffer.from(readFileSync(smallFiles.parquet));
    bytes.fill(0xab, bytes.length - 200, bytes.length - 8);
    await sourceError(smallSource(write('corrupt.parquet', bytes)), /cannot read as Parquet/);
  });

  it('a Parquet file named .arrow', async () => {
    await sourceError(smallSource(write('parquet.arrow', readFileSync(smallFiles.parquet))), /not an Arrow IPC file or stream/);
  });

  it('a truncated Arrow IPC file', async () => {
    const bytes = readFileSync(smallFiles.arrow);
    await sourceError(smallSource(write('cut.arrow', bytes.subarray(0, 3000))), /cannot read as Arrow IPC/);
  });

  it('a binary file named .csv', async () => {
    await sourceError(smallSource(write('binary.csv', readFileSync(smallFiles.parquet))), /not a CSV file/);
  });

  it('an empty CSV file', async () => {
    await sourceError(smallSource(write('empty.csv', '')), /empty CSV file/);
  });
});
