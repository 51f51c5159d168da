import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { resolveScopeTokens, resolveServeToken } from '../../src/cli/serve';
import { ConfigError } from '../../src/errors';
import { serializeOutputs } from '../../src/prediction-log';
import { MicroBatcher, outputsJson, rowOutputs } from '../../src/serve';
import type { FeatureColumns, ModelSignature } from '../../src/serve';

describe('serve token', () => {
  test('auth on needs a token of at least 16 characters from --token-file or RELEARN_SERVE_TOKEN; --no-auth needs none', () => {
    assert.throws(() => resolveServeToken({ auth: true }, {}), (err: unknown) => err instanceof ConfigError && /set RELEARN_SERVE_TOKEN or pass --token-file/.test(err.message));
    assert.throws(() => resolveServeToken({ auth: true }, { RELEARN_SERVE_TOKEN: 'short' }), /at least 16 characters/);
    assert.equal(resolveServeToken({ auth: true }, { RELEARN_SERVE_TOKEN: ' 0123456789abcdef0123 ' }), '0123456789abcdef0123');
    const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'relearn-token-')), 'token');
    writeFileSync(file, 'file-token-0123456789abcdef\n');
    assert.equal(resolveServeToken({ auth: true, tokenFile: file }, { RELEARN_SERVE_TOKEN: 'ignored-env-token-0123456789' }), 'file-token-0123456789abcdef');
    assert.throws(() => resolveServeToken({ auth: true, tokenFile: `${file}-missing` }, {}), /--token-file .*cannot be read/);
    assert.equal(resolveServeToken({ auth: false }, {}), null);
  });

  test('feedback and metrics tokens: from their file or env var, absent by default, never the predict token', () => {
    const predict = 'predict-token-0123456789';
    assert.deepEqual(resolveScopeTokens({ auth: true }, predict, {}), {});
    assert.deepEqual(resolveScopeTokens({ auth: false }, null, { RELEARN_FEEDBACK_TOKEN: 'feedback-token-0123456789' }), { feedbackToken: null, metricsToken: null });
    assert.deepEqual(
      resolveScopeTokens({ auth: true }, predict, { RELEARN_FEEDBACK_TOKEN: 'feedback-token-0123456789', RELEARN_METRICS_TOKEN: 'metrics-token-0123456789' }),
      { feedbackToken: 'feedback-token-0123456789', metricsToken: 'metrics-token-0123456789' },
    );
    const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'relearn-token-')), 'feedback');
    writeFileSync(file, `${predict}\n`);
    assert.throws(
      () => resolveScopeTokens({ auth: true, feedbackTokenFile: file }, predict, {}),
      (err: unknown) => err instanceof ConfigError && /the feedback token is the same as the predict token/.test(err.message),
    );
    assert.throws(() => resolveScopeTokens({ auth: true }, predict, { RELEARN_METRICS_TOKEN: 'short' }), /\$RELEARN_METRICS_TOKEN: the token must be at least 16 characters/);
  });
});

describe('micro-batcher', () => {
  const request = (values: number[]): FeatureColumns => ({ rows: values.length, numeric: [Float32Array.from(values)], categorical: [] });
  // Output per row: its numeric value times the lane's factor, so every request can check its own rows.
  const times = (columns: FeatureColumns, factor: number) => ({ data: Float32Array.from(columns.numeric[0]!, (v) => v * factor), width: 1 });

  test('requests of one window share a run and each gets its own rows back, in order', async () => {
    const runs: number[] = [];
    const batcher = new MicroBatcher<string>(
      async (parts) => {
        runs.push(...parts.map((p) => p.columns.rows));
        return parts.map((p) => times(p.columns, 10));
      },
      { windowMs: 5, maxBatchRows: 6 },
    );
    const outs = await Promise.all([batcher.score(request([1, 2]), 'a'), batcher.score(request([3]), 'a'), batcher.score(request([4, 5, 6]), 'a'), batcher.score(request([7, 8]), 'a')]);
    assert.deepEqual(outs.map((o) => Array.from(o.data)), [[10, 20], [30], [40, 50, 60], [70, 80]]);
    // 6 rows fill the first batch at once; the last request waits for the window.
    assert.deepEqual(runs, [6, 2]);
  });

  test('two lanes of one window go out in one call, one part each; a part that fails rejects only its own requests', async () => {
    const calls: Array<Array<{ lane: string; rows: number }>> = [];
    const batcher = new MicroBatcher<string>(
      async (parts) => {
        calls.push(parts.map((p) => ({ lane: p.lane, rows: p.columns.rows })));
        return parts.map((p) => (p.lane === 'broken' ? { error: new Error('the broken lane failed') } : times(p.columns, p.lane === 'champion' ? 10 : 100)));
      },
      { windowMs: 5, maxBatchRows: 4 },
    );
    const outs = await Promise.all([
      batcher.score(request([1, 2]), 'champion'),
      batcher.score(request([3]), 'shadow'),
      batcher.score(request([4]), 'champion'),
      batcher.score(request([5, 6]), 'shadow'),
    ]);
    assert.deepEqual(outs.map((o) => Array.from(o.data)), [[10, 20], [300], [40], [500, 600]]);
    assert.deepEqual(calls, [[{ lane: 'champion', rows: 3 }, { lane: 'shadow', rows: 3 }]]);

    // The row limit is per lane: a lane that fills sends every lane's part at once; the overflowing request waits.
    calls.length = 0;
    const [ok, failed, late] = await Promise.allSettled([
      batcher.score(request([1, 2, 3]), 'champion'),
      batcher.score(request([9]), 'broken'),
      batcher.score(request([7, 8]), 'champion'),
    ]);
    assert.deepEqual(calls, [[{ lane: 'champion', rows: 3 }, { lane: 'broken', rows: 1 }], [{ lane: 'champion', rows: 2 }]]);
    assert.deepEqual(ok.status === 'fulfilled' && Array.from(ok.value.data), [10, 20, 30]);
    assert.equal(failed.status === 'rejected' && (failed.reason as Error).message, 'the broken lane failed');
    assert.deepEqual(late.status === 'fulfilled' && Array.from(late.value.data), [70, 80]);
  });
});

describe('outputs as JSON text', () => {
  test('outputsJson writes what serializeOutputs(rowOutputs(...)) writes: classifiers with number, string and boolean classes, regression, ties, -0, NaN and infinities', () => {
    const awkward = [0.1, 0.7, 0.2, 1 / 3, 1 / 3, 1 / 3, -0, Number.NaN, 1, Number.POSITIVE_INFINITY, 0, Number.NEGATIVE_INFINITY, 1e-30, 3.4e38, 0.5];
    const random = Array.from({ length: 300 }, (_, i) => Math.sin(i * 12.9898) * 0.5 + 0.5);
    const classifier = (classes: Array<string | number | boolean>) => ({ kind: 'classifier', classes }) as unknown as ModelSignature;
    const cases: Array<[ModelSignature, number[], number]> = [
      [classifier([0, 1, 2]), awkward, 3],
      [classifier(['low', 'mid', 'high']), random, 3],
      [classifier([true, false]), random, 2],
      [classifier(['a "quoted" \\ class', 'b']), random.slice(0, 20), 2],
      [{ kind: 'regression' } as unknown as ModelSignature, [...awkward, ...random], 1],
    ];
    for (const [signature, values, width] of cases) {
      const out = { data: Float32Array.from(values), width };
      const rows = values.length / width;
      assert.equal(outputsJson(signature, out, rows), serializeOutputs(rowOutputs(signature, out, rows)));
      assert.equal(outputsJson(signature, out, 1), serializeOutputs(rowOutputs(signature, out, 1)));
    }
  });
});
