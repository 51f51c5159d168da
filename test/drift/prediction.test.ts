import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { mulberry32 } from '../../src/contracts';
import { numericValues, stringValues } from '../../src/data/columns';
import { classIndices, metricOnRecent, predictionDrift, predictionOutputs } from '../../src/drift/prediction';
import { readRecentPredictions } from '../../src/drift/prediction-log-source';
import { rocAucScore } from '../../src/metrics';
import { DataContractError } from '../../src/errors';
import { PredictionLogWriter, type PredictionLogEntry, newServerRequestId } from '../../src/prediction-log';

describe('prediction drift and the metric on labelled recent rows', () => {
  it('takes P(class 1) for binary, the predicted class for multiclass, the value for regression', () => {
    const binary = predictionOutputs('binary', { probabilities: [0.9, 0.1, 0.3, 0.7], numClasses: 2 }, [false, true]);
    assert.equal(binary.kind, 'numeric');
    assert.deepEqual(Array.from(binary.values as Float64Array), [0.1, 0.7]);
    const multi = predictionOutputs('multiclass', { probabilities: [0.2, 0.5, 0.3, 0.6, 0.1, 0.3], numClasses: 3 }, ['a', 'b', 'c']);
    assert.deepEqual(multi, { kind: 'categorical', what: 'predicted class', values: ['b', 'a'] });
    const reg = predictionOutputs('regression', { predictions: Float32Array.of(1.5, -2) }, undefined);
    assert.deepEqual(Array.from(reg.values as Float64Array), [1.5, -2]);
  });

  it('tests outputs like a feature: a shifted probability drifts, the same distribution does not', () => {
    const rng = mulberry32(5);
    const ref = { kind: 'numeric' as const, what: 'positive-class probability' as const, values: Float64Array.from({ length: 2000 }, () => rng() * 0.5) };
    const same = { ...ref, values: Float64Array.from({ length: 2000 }, () => rng() * 0.5) };
    const shifted = { ...ref, values: Float64Array.from({ length: 2000 }, () => 0.2 + rng() * 0.5) };
    const ok = predictionDrift(ref, same, {});
    assert.equal(ok.method, 'wasserstein', 'Evidently’s default above 1,000 rows');
    assert.equal(ok.drifted, false);
    assert.equal(ok.what, 'positive-class probability');
    const bad = predictionDrift(ref, shifted, { rule: { method: 'ks' } });
    assert.equal(bad.method, 'ks');
    assert.equal(bad.effectiveThreshold, 0.05, 'one test: no Bonferroni');
    assert.equal(bad.drifted, true);
    const classes = predictionDrift(
      { kind: 'categorical', what: 'predicted class', values: Array.from({ length: 600 }, (_, i) => (i % 3 === 0 ? 'a' : 'b')) },
      { kind: 'categorical', what: 'predicted class', values: Array.from({ length: 600 }, (_, i) => (i % 3 === 0 ? 'b' : 'a')) },
      { decision: 'size-based' },
    );
    assert.equal(classes.method, 'ztest');
    assert.equal(classes.drifted, true);
  });

  it('compares the primary metric with the champion’s holdout, direction-aware, with a maximum drop', () => {
    const yTrue = Int32Array.from({ length: 100 }, (_, i) => i % 2);
    // Scores right 80 times in 100.
    const probabilities = new Float64Array(200);
    for (let i = 0; i < 100; i++) {
      const right = i % 5 !== 0;
      const p1 = (yTrue[i] === 1) === right ? 0.8 : 0.2;
      probabilities[2 * i] = 1 - p1;
      probabilities[2 * i + 1] = p1;
    }
    const labelled = { task: 'binary' as const, yTrue, probabilities, numClasses: 2 };
    const auc = rocAucScore(yTrue, probabilities, 2);
    const r = metricOnRecent({ metric: 'roc_auc', labelsFrom: 'feedback', labelled, championHoldout: 0.9, maxDrop: 0.05, minSampleSize: 30 });
    assert.equal(r.value, auc);
    assert.ok(Math.abs(r.drop! - (0.9 - auc)) < 1e-12);
    assert.equal(r.drifted, true);
    assert.equal(metricOnRecent({ metric: 'roc_auc', labelsFrom: 'feedback', labelled, championHoldout: 0.82, maxDrop: 0.05, minSampleSize: 30 }).drifted, false);
    assert.equal(metricOnRecent({ metric: 'roc_auc', labelsFrom: 'feedback', labelled, championHoldout: 0.9, minSampleSize: 30 }).drifted, null, 'no maxDrop: reported only');
    // Lower is better for log_loss: a higher value is a drop.
    const ll = metricOnRecent({ metric: 'log_loss', labelsFrom: 'data', labelled, championHoldout: 0.1, maxDrop: 0.2, minSampleSize: 30 });
    assert.ok(ll.drop! > 0.2 && ll.drifted === true);
    const few = metricOnRecent({ metric: 'roc_auc', labelsFrom: 'feedback', labelled, championHoldout: 0.9, maxDrop: 0.05, minSampleSize: 500 });
    assert.equal(few.drifted, null);
    assert.match(few.note!, /fewer than 500 labelled rows/);
    const regression = metricOnRecent({
      metric: 'rmse',
      labelsFrom: 'data',
      labelled: { task: 'regression', yTrue: Float64Array.of(1, 2, 3, 4), predictions: Float64Array.of(1, 2, 3, 6) },
      championHoldout: 0.5,
      maxDrop: 0.1,
      minSampleSize: 1,
    });
    assert.equal(regression.value, 1);
    assert.equal(regression.drifted, true);
    assert.deepEqual(Array.from(classIndices([true, false, 'x', 1], [false, true])), [1, 0, -1, -1]);
  });
});

describe('the serving prediction log as recent data', () => {
  const features = { numeric: ['distance', 'hour'], categorical: ['origin'] };
  const window = { from: '2026-03-01T00:00:00Z', to: '2026-03-02T00:00:00Z' };

  function entry(over: Partial<PredictionLogEntry>): PredictionLogEntry {
    return {
      kind: 'prediction',
      requestId: newServerRequestId(),
      at: new Date('2026-03-01T10:00:00Z'),
      model: 'm',
      version: 1,
      role: 'champion',
      rows: 1,
      inputsSha256: 'x'.repeat(64),
      inputs: null,
      outputs: null,
      labels: null,
      latencyMs: 1,
      ...over,
    };
  }

  async function writeLog(entries: PredictionLogEntry[]): Promise<string> {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'relearn-predlog-'));
    const writer = new PredictionLogWriter({ dir });
    for (const e of entries) writer.append(e);
    await writer.close();
    return dir;
  }

  it('reads champion predictions of the window as columns with outputs and feedback labels; skips shadow, error and unknown kinds', async () => {
    const [a, b, e, n, late] = [newServerRequestId(), newServerRequestId(), newServerRequestId(), newServerRequestId(), newServerRequestId()];
    const inputs = (rows: Array<Array<number | string | null>>) => JSON.stringify({ features: ['hour', 'distance', 'origin'], rows });
    const dir = await writeLog([
      entry({ requestId: a, rows: 2, inputs: inputs([[8, 500, 'SFO'], [null, 700, null]]), outputs: JSON.stringify({ predictions: [false, true], probabilities: [[0.9, 0.1], [0.4, 0.6]] }) }),
      entry({ requestId: a, role: 'shadow', version: 2, inputs: inputs([[1, 1, 'X']]), outputs: JSON.stringify({ predictions: [true], probabilities: [[0, 1]] }) }),
      entry({ kind: 'error', requestId: e, inputs: null, outputs: JSON.stringify({ error: 'boom', code: 'internal' }) }),
      entry({ kind: 'something-new' as never, requestId: n, inputs: inputs([[2, 2, 'Y']]), outputs: '{}' }),
      entry({ requestId: b, at: new Date('2026-03-01T11:00:00Z'), inputs: inputs([[9, 300, 'LAX']]), outputs: JSON.stringify({ predictions: [true], probabilities: [[0.3, 0.7]] }) }),
      entry({ requestId: late, at: new Date('2026-03-02T01:00:00Z'), inputs: inputs([[0, 0, 'Z']]), outputs: JSON.stringify({ predictions: [true], probabilities: [[0, 1]] }) }),
      entry({ kind: 'feedback', requestId: a, version: null, role: null, rows: 2, inputsSha256: null, labels: JSON.stringify([false, false]), latencyMs: null }),
    ]);
    const recent = await readRecentPredictions({ dir, model: 'm', window, features, task: 'binary', maxRows: 100 });
    assert.equal(recent.requests, 2);
    assert.equal(recent.foreignIds, 0);
    assert.equal(recent.table.numRows, 3);
    assert.deepEqual(Array.from(numericValues(recent.table.getChild('distance')!)), [500, 700, 300]);
    assert.deepEqual(Array.from(numericValues(recent.table.getChild('hour')!)), [8, Number.NaN, 9]);
    assert.deepEqual(stringValues(recent.table.getChild('origin')!), ['SFO', null, 'LAX']);
    assert.deepEqual(Array.from(recent.probabilities!), [0.9, 0.1, 0.4, 0.6, 0.3, 0.7]);
    assert.equal(recent.width, 2);
    assert.deepEqual(recent.labels, [false, false, undefined]);
    assert.deepEqual(Array.from(recent.versions), [1, 1, 1]);
    const sampled = await readRecentPredictions({ dir, model: 'm', window, features, task: 'binary', maxRows: 2 });
    assert.equal(sampled.table.numRows, 2);
  });

  it('skips champion entries whose ids the server did not issue, and their feedback: they move neither the rows, the outputs nor the labels', async () => {
    const inputs = (rows: Array<Array<number | string | null>>) => JSON.stringify({ features: ['hour', 'distance', 'origin'], rows });
    const served = newServerRequestId();
    const probabilities = (p: number) => JSON.stringify({ predictions: [p > 0.5], probabilities: [[1 - p, p]] });
    const forged = ['client-1', 'rq_0123', `${served}x`, served.toUpperCase()];
    const dir = await writeLog([
      entry({ requestId: served, inputs: inputs([[8, 500, 'SFO']]), outputs: probabilities(0.25) }),
      ...forged.map((id) => entry({ requestId: id, inputs: inputs([[23, 9999, 'EVIL']]), outputs: probabilities(1) })),
      ...forged.map((id) => entry({ kind: 'feedback', requestId: id, version: null, role: null, inputsSha256: null, labels: JSON.stringify([true]), latencyMs: null })),
    ]);
    const recent = await readRecentPredictions({ dir, model: 'm', window, features, task: 'binary', maxRows: 100 });
    assert.deepEqual([recent.requests, recent.foreignIds, recent.table.numRows], [1, 4, 1]);
    assert.deepEqual(Array.from(numericValues(recent.table.getChild('distance')!)), [500]);
    assert.deepEqual(stringValues(recent.table.getChild('origin')!), ['SFO']);
    assert.deepEqual(Array.from(recent.probabilities!), [0.75, 0.25]);
    assert.deepEqual(recent.labels, [undefined]);

    const onlyForged = await writeLog(forged.map((id) => entry({ requestId: id, inputs: inputs([[1, 1, 'X']]), outputs: probabilities(1) })));
    await assert.rejects(
      readRecentPredictions({ dir: onlyForged, model: 'm', window, features, task: 'binary', maxRows: 10 }),
      /no champion predictions logged .*\(4 with request ids the server did not issue were skipped\)/,
    );
  });

  it('says to log inputs in full when only digests are there, and when nothing was logged in the window', async () => {
    const dir = await writeLog([entry({ outputs: JSON.stringify({ predictions: [true], probabilities: [[0, 1]] }) })]);
    await assert.rejects(readRecentPredictions({ dir, model: 'm', window, features, task: 'binary', maxRows: 10 }), (err: Error) => {
      assert.ok(err instanceof DataContractError);
      assert.match(err.message, /input digests only.*--log-inputs full/);
      return true;
    });
    await assert.rejects(
      readRecentPredictions({ dir, model: 'm', window: { from: '2026-04-01', to: '2026-04-02' }, features, task: 'binary', maxRows: 10 }),
      /no champion predictions logged/,
    );
  });
});
