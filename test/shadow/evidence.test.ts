import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { createHash } from 'node:crypto';
import { type PredictionLogEntry, PredictionLogWriter } from '../../src/prediction-log';
import { collectShadowEvidence, compareShadow } from '../../src/shadow';

const DAY1 = '2025-03-10';
const DAY2 = '2025-03-11';
const at = (day: string, seconds: number) => new Date(Date.parse(`${day}T00:00:00.000Z`) + seconds * 1000);

/** A request id of the server's form (`rq_` and 32 hex digits) made from a readable name; windows count only these. */
const sid = (name: string) => `rq_${createHash('md5').update(name).digest('hex')}`;

function prediction(requestId: string, when: Date, version: number, role: 'champion' | 'shadow', outputs: object, latencyMs: number, rows = 2): PredictionLogEntry {
  return { kind: 'prediction', requestId: sid(requestId), at: when, model: 'm', version, role, rows, inputsSha256: 'x', inputs: null, outputs: JSON.stringify(outputs), labels: null, latencyMs };
}

function feedback(requestId: string, when: Date, labels: unknown[]): PredictionLogEntry {
  return { kind: 'feedback', requestId: sid(requestId), at: when, model: 'm', version: null, role: null, rows: labels.length, inputsSha256: null, inputs: null, outputs: null, labels: JSON.stringify(labels), latencyMs: null };
}

function error(requestId: string, when: Date, version: number, role: 'champion' | 'shadow'): PredictionLogEntry {
  return { kind: 'error', requestId: sid(requestId), at: when, model: 'm', version, role, rows: 2, inputsSha256: null, inputs: null, outputs: '{"error":"boom","code":"internal"}', labels: null, latencyMs: 3 };
}

async function writeLog(entries: PredictionLogEntry[]): Promise<string> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'relearn-evidence-'));
  const writer = new PredictionLogWriter({ dir, flushIntervalMs: 3_600_000 });
  // Two flushes: a window is read across several files.
  const half = Math.floor(entries.length / 2);
  for (const e of entries.slice(0, half)) writer.append(e);
  await writer.flush();
  for (const e of entries.slice(half)) writer.append(e);
  await writer.close();
  return dir;
}

/** A binary classifier's outputs for two rows: probability rows and argmax labels of classes [0, 1]. */
function binary(p1: number, p2: number) {
  const probabilities = [
    [1 - p1, p1],
    [1 - p2, p2],
  ];
  return { predictions: probabilities.map((r) => (r[1]! > r[0]! ? 1 : 0)), probabilities };
}

describe('collectShadowEvidence', () => {
  test('pairs champion and shadow entries by request id where feedback came, flattens them per row, counts the rest', async () => {
    const entries: PredictionLogEntry[] = [];
    // Before the window: ignored.
    entries.push(prediction('early', at(DAY1, 5), 1, 'champion', binary(0.9, 0.1), 99), prediction('early', at(DAY1, 6), 2, 'shadow', binary(0.9, 0.1), 99), feedback('early', at(DAY1, 7), [1, 0]));
    for (let k = 0; k < 10; k++) {
      const t = 100 + k * 10;
      entries.push(prediction(`r${k}`, at(DAY1, t), 1, 'champion', binary(0.1 * k, 0.95 - 0.1 * k), k + 1));
      if (k !== 8) entries.push(prediction(`r${k}`, at(DAY1, t + 1), 2, 'shadow', binary(0.05 * k, 0.5), 0.5 * (k + 1)));
      if (k < 7) entries.push(feedback(`r${k}`, at(DAY1, t + 2), [k % 2, 1]));
    }
    entries.push(feedback('r7', at(DAY1, 172), [0, 0, 1])); // wrong label count → unusable
    entries.push(feedback('r7', at(DAY1, 195), [1, 1])); // a later feedback never replaces the first: r7 stays unusable
    entries.push(prediction('shadow-only', at(DAY1, 300), 2, 'shadow', binary(0.5, 0.5), 1));
    entries.push(prediction('other-version', at(DAY1, 301), 3, 'champion', binary(0.5, 0.5), 1));
    entries.push(error('e1', at(DAY1, 302), 1, 'champion'));
    const logDir = await writeLog(entries);

    const ev = await collectShadowEvidence({ logDir, model: 'm', championVersion: 1, shadowVersion: 2, since: at(DAY1, 50) });
    assert.equal(ev.task, 'binary');
    assert.deepEqual(ev.classes, [0, 1]);
    assert.deepEqual(ev.counts, { championRequests: 10, shadowRequests: 10, pairedRequests: 9, labeledRequests: 7, rows: 14, unusableFeedback: 1, foreignIds: 0 });
    // r0..r6 in time order, two rows each.
    assert.deepEqual(ev.labels, [0, 1, 1, 1, 0, 1, 1, 1, 0, 1, 1, 1, 0, 1]);
    const k = 3;
    assert.deepEqual(ev.champion.probabilities!.slice(4 * k, 4 * k + 4), binary(0.1 * k, 0.95 - 0.1 * k).probabilities.flat());
    assert.deepEqual(ev.shadow.positive!.slice(2 * k, 2 * k + 2), [0.05 * k, 0.5]);
    assert.deepEqual(ev.champion.predicted.slice(2 * k, 2 * k + 2), binary(0.1 * k, 0.95 - 0.1 * k).predictions);
    assert.equal(ev.shadow.probabilities!.length, 2 * ev.counts.rows);

    // Latency over all 10 champion requests of v1 (1..10 ms; numpy linear: p50 5.5, p99 9.91) and 1 error.
    assert.equal(ev.versions.champion.predictions, 10);
    assert.equal(ev.versions.champion.errors, 1);
    assert.equal(ev.versions.champion.errorRate, 1 / 11);
    assert.equal(ev.versions.champion.latencyP50Ms, 5.5);
    assert.ok(Math.abs(ev.versions.champion.latencyP99Ms! - 9.91) < 1e-12);
    assert.equal(ev.versions.shadow.predictions, 10);
    assert.equal(ev.versions.shadow.errorRate, 0);

    // The evidence plugs into the comparison as it is.
    const result = compareShadow({
      task: ev.task!,
      metric: 'accuracy',
      labels: ev.labels,
      champion: ev.champion,
      shadow: ev.shadow,
      classes: ev.classes!,
      margin: 0.05,
      confidence: 0.95,
      minRows: 10,
      resamples: 50,
    });
    assert.equal(result.rows, 14);
    assert.notEqual(result.verdict, 'insufficient');
  });

  test('reads only the days in range, and the window end excludes later entries', async () => {
    const entries: PredictionLogEntry[] = [];
    for (const [i, day] of [DAY1, DAY2].entries()) {
      for (let k = 0; k < 3; k++) {
        const id = `${day}-${k}`;
        entries.push(prediction(id, at(day, 60 * k), 4, 'champion', { predictions: [1.5 * k + i, 2] }, 1), prediction(id, at(day, 60 * k + 1), 5, 'shadow', { predictions: [k, 2.5] }, 1));
        entries.push(feedback(id, at(day, 60 * k + 2), [k + 0.25, 2]));
      }
    }
    const logDir = await writeLog(entries);
    // A day outside the range holding a file that is not Arrow: reading it would throw.
    mkdirSync(path.join(logDir, 'm', '2025-03-09'));
    writeFileSync(path.join(logDir, 'm', '2025-03-09', '000000000-1-000001.arrow'), 'not arrow');
    mkdirSync(path.join(logDir, 'm', '2025-03-12'));
    writeFileSync(path.join(logDir, 'm', '2025-03-12', '000000000-1-000001.arrow'), 'not arrow');

    const ev = await collectShadowEvidence({ logDir, model: 'm', championVersion: 4, shadowVersion: 5, since: at(DAY1, 30), until: at(DAY2, 90) });
    assert.equal(ev.task, 'regression');
    assert.equal(ev.classes, null);
    // DAY1 k=1,2 and DAY2 k=0,1 (k=2 at 120 s is after the end).
    assert.deepEqual(ev.counts, { championRequests: 4, shadowRequests: 4, pairedRequests: 4, labeledRequests: 4, rows: 8, unusableFeedback: 0, foreignIds: 0 });
    assert.deepEqual(ev.labels, [1.25, 2, 2.25, 2, 0.25, 2, 1.25, 2]);
    assert.deepEqual(ev.champion.predicted, [1.5, 2, 3, 2, 1, 2, 2.5, 2]);
    assert.deepEqual(ev.shadow.predicted, [1, 2.5, 2, 2.5, 0, 2.5, 1, 2.5]);
    await assert.rejects(collectShadowEvidence({ logDir, model: 'm', championVersion: 4, shadowVersion: 5, since: at(DAY1, 0), until: at('2025-03-12', 1) }));
  });

  test('a guard window reverses the roles: the new champion answers, the previous one is the shadow', async () => {
    const entries: PredictionLogEntry[] = [];
    for (let k = 0; k < 4; k++) {
      entries.push(prediction(`g${k}`, at(DAY1, k), 7, 'champion', binary(0.8, 0.2), 2), prediction(`g${k}`, at(DAY1, k), 6, 'shadow', binary(0.3, 0.7), 1));
      entries.push(feedback(`g${k}`, at(DAY1, k + 1), ['1', '0']));
    }
    entries.push(error('g-err', at(DAY1, 9), 7, 'champion'), error('g-err2', at(DAY1, 9), 6, 'shadow'));
    const logDir = await writeLog(entries);
    const ev = await collectShadowEvidence({ logDir, model: 'm', championVersion: 7, shadowVersion: 6, since: at(DAY1, 0) });
    assert.equal(ev.counts.rows, 8);
    // Feedback labels are matched to the classes by their text, as the server does.
    assert.deepEqual(ev.labels.slice(0, 2), [1, 0]);
    assert.deepEqual(ev.champion.predicted.slice(0, 2), [1, 0]);
    assert.deepEqual(ev.shadow.predicted.slice(0, 2), [0, 1]);
    assert.equal(ev.versions.champion.errorRate, 1 / 5);
    assert.equal(ev.versions.shadow.errorRate, 1 / 5);
    const none = await collectShadowEvidence({ logDir, model: 'm', championVersion: 6, shadowVersion: 7, since: at(DAY1, 0) });
    assert.equal(none.counts.pairedRequests, 0);
    assert.equal(none.task, null);
  });

  test('string classes are inferred in sorted order, or taken as given; mismatched outputs are a data contract error', async () => {
    const three = (p: number[]) => ({ predictions: [['high', 'low', 'mid'][p.indexOf(Math.max(...p))]], probabilities: [p] });
    const entries = [
      prediction('s0', at(DAY1, 1), 1, 'champion', three([0.6, 0.3, 0.1]), 1, 1),
      prediction('s0', at(DAY1, 1), 2, 'shadow', three([0.1, 0.7, 0.2]), 1, 1),
      feedback('s0', at(DAY1, 2), ['mid']),
      prediction('s1', at(DAY1, 3), 1, 'champion', three([0.2, 0.2, 0.6]), 1, 1),
      prediction('s1', at(DAY1, 3), 2, 'shadow', three([0.2, 0.2, 0.6]), 1, 1),
      feedback('s1', at(DAY1, 4), ['low']),
    ];
    const logDir = await writeLog(entries);
    const inferred = await collectShadowEvidence({ logDir, model: 'm', championVersion: 1, shadowVersion: 2, since: at(DAY1, 0) });
    assert.equal(inferred.task, 'multiclass');
    assert.deepEqual(inferred.classes, ['high', 'low', 'mid']);
    assert.deepEqual(inferred.labels, [2, 1]);
    assert.deepEqual(inferred.champion.predicted, [0, 2]);
    assert.equal(inferred.champion.positive, undefined);
    const given = await collectShadowEvidence({ logDir, model: 'm', championVersion: 1, shadowVersion: 2, since: at(DAY1, 0), classes: ['high', 'low', 'mid'] });
    assert.deepEqual(given.labels, inferred.labels);
    await assert.rejects(collectShadowEvidence({ logDir, model: 'm', championVersion: 1, shadowVersion: 2, since: at(DAY1, 0), classes: [0, 1] }), {
      name: 'DataContractError',
      message: /2 classes given .* 3 probability columns/,
    });

    const mixed = await writeLog([
      prediction('x', at(DAY1, 1), 1, 'champion', binary(0.2, 0.4), 1),
      prediction('x', at(DAY1, 1), 2, 'shadow', { predictions: [0, 0], probabilities: [[0.5, 0.2, 0.3], [0.5, 0.2, 0.3]] }, 1),
      feedback('x', at(DAY1, 2), [0, 1]),
    ]);
    await assert.rejects(collectShadowEvidence({ logDir: mixed, model: 'm', championVersion: 1, shadowVersion: 2, since: at(DAY1, 0) }), {
      name: 'DataContractError',
      message: /v1 gives 2 probability columns and v2 3/,
    });
  });
});
