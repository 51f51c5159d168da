import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { type PredictionLogEntry, PredictionLogWriter, newServerRequestId } from '../../src/prediction-log';
import { type MeasureLiveInput, measureLiveWindow } from '../../src/shadow/live-window';

const DAY = '2025-03-10';
const at = (seconds: number) => new Date(Date.parse(`${DAY}T00:00:00.000Z`) + seconds * 1000);
const REQUESTS = 40;

/** Two rows per request: probabilities of classes [0, 1] and their argmax. */
function outputs(p1: number, p2: number): string {
  const probabilities = [
    [1 - p1, p1],
    [1 - p2, p2],
  ];
  return JSON.stringify({ predictions: probabilities.map((r) => (r[1]! > r[0]! ? 1 : 0)), probabilities });
}

function prediction(requestId: string, when: Date, version: number, role: 'champion' | 'shadow', out: string): PredictionLogEntry {
  return { kind: 'prediction', requestId, at: when, model: 'm', version, role, rows: 2, inputsSha256: 'x', inputs: null, outputs: out, labels: null, latencyMs: 2 };
}

/**
 * A log where `answering` serves and `mirrored` is mirrored, every request labeled [1, 0]: version 1 is always right,
 * version 2 says 1 for both rows (right half the time). `mirrored` also fails once.
 */
async function writeLog(answering: number, mirrored: number): Promise<string> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'relearn-live-window-'));
  const writer = new PredictionLogWriter({ dir, flushIntervalMs: 3_600_000 });
  const out = (version: number) => (version === 1 ? outputs(0.9, 0.1) : outputs(0.9, 0.8));
  for (let k = 0; k < REQUESTS; k++) {
    const id = newServerRequestId();
    writer.append(prediction(id, at(100 + 10 * k), answering, 'champion', out(answering)));
    writer.append(prediction(id, at(101 + 10 * k), mirrored, 'shadow', out(mirrored)));
    writer.append({ kind: 'feedback', requestId: id, at: at(102 + 10 * k), model: 'm', version: null, role: null, rows: 2, inputsSha256: null, inputs: null, outputs: null, labels: '[1,0]', latencyMs: null });
  }
  writer.append({ kind: 'error', requestId: newServerRequestId(), at: at(50), model: 'm', version: mirrored, role: 'shadow', rows: 2, inputsSha256: null, inputs: null, outputs: '{"error":"boom","code":"internal"}', labels: null, latencyMs: 3 });
  await writer.close();
  return dir;
}

const WINDOW: Omit<MeasureLiveInput, 'phase' | 'compare'> = {
  model: 'm',
  baselineVersion: 1,
  contenderVersion: 2,
  since: at(0).toISOString(),
  task: 'binary',
  metric: 'accuracy',
  classes: [0, 1],
  margin: 0.05,
  confidence: 0.95,
  resamples: 200,
  seed: 1,
  minRows: 10,
};
const until = at(3600);

describe('measureLiveWindow', () => {
  test('shadow phase: the baseline answers, the contender is mirrored; counts only until asked to compare', async () => {
    const logDir = await writeLog(1, 2);
    const counted = await measureLiveWindow({ ...WINDOW, phase: 'shadow', compare: false, logDir, until });
    assert.equal(counted.comparison, null);
    assert.equal(counted.until, until.toISOString());
    assert.equal(counted.pairedRequests, REQUESTS);
    assert.equal(counted.labeledRows, 2 * REQUESTS);
    // The contender's health: its 40 mirrored answers and its one error.
    assert.equal(counted.contender.requests, REQUESTS + 1);
    assert.equal(counted.contender.errorRate, 1 / (REQUESTS + 1));

    const compared = await measureLiveWindow({ ...WINDOW, phase: 'shadow', compare: true, logDir, until });
    const c = compared.comparison!;
    assert.equal(c.championValue, 1, 'the baseline v1 is right on every row');
    assert.equal(c.shadowValue, 0.5, 'the contender v2 on half of them');
    assert.equal(c.verdict, 'worse');
    assert.match(c.reason, /^accuracy: v2 0\.5000 vs v1 1\.0000 on 80 labeled rows; diff −0\.5000 \(positive = v2 better\)/);
  });

  test('guard phase: the contender answers and the baseline is mirrored; the comparison is still contender against baseline', async () => {
    const logDir = await writeLog(2, 1);
    const evidence = await measureLiveWindow({ ...WINDOW, phase: 'guard', compare: true, logDir, until });
    const c = evidence.comparison!;
    assert.equal(c.championValue, 1);
    assert.equal(c.shadowValue, 0.5);
    assert.match(c.reason, /^accuracy: v2 0\.5000 vs v1 1\.0000 on 80 labeled rows/);
    // Health is the contender's, which answered every request without an error.
    assert.equal(evidence.contender.requests, REQUESTS);
    assert.equal(evidence.contender.errorRate, 0);
  });

  test('maxRows compares the earliest labeled rows only; the counts still cover the window', async () => {
    const logDir = await writeLog(1, 2);
    const evidence = await measureLiveWindow({ ...WINDOW, phase: 'shadow', compare: true, maxRows: 30, logDir, until });
    assert.equal(evidence.labeledRows, 2 * REQUESTS);
    assert.equal(evidence.comparison!.rows, 30);
    assert.match(evidence.comparison!.reason, / on 30 labeled rows; /);
  });
});
