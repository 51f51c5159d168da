import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type PredictionLogEntry, joinFeedback } from '../../src/prediction-log';

const at = (seconds: number) => new Date(Date.UTC(2024, 4, 1, 10, 0, seconds));

function prediction(requestId: string, seconds: number, version: number, role: 'champion' | 'shadow', outputs: object): PredictionLogEntry {
  return { kind: 'prediction', requestId, at: at(seconds), model: 'm', version, role, rows: 1, inputsSha256: 'x', inputs: null, outputs: JSON.stringify(outputs), labels: null, latencyMs: 1 };
}

function feedback(requestId: string, seconds: number, labels: unknown[]): PredictionLogEntry {
  return { kind: 'feedback', requestId, at: at(seconds), model: 'm', version: null, role: null, rows: labels.length, inputsSha256: null, inputs: null, outputs: null, labels: JSON.stringify(labels), latencyMs: null };
}

describe('joining feedback to predictions', () => {
  test('by request id, one result per prediction entry, the first feedback standing (a later one, or a conflict entry, never replaces it); errors and feedback are not predictions', () => {
    const entries: PredictionLogEntry[] = [
      prediction('a', 0, 1, 'champion', { predictions: ['yes'], probabilities: [[0.2, 0.8]] }),
      prediction('a', 1, 2, 'shadow', { predictions: ['no'], probabilities: [[0.6, 0.4]] }),
      prediction('b', 2, 1, 'champion', { predictions: [4.5] }),
      { ...prediction('c', 3, 1, 'champion', {}), kind: 'error', outputs: '{"error":"boom","code":"internal"}' },
      feedback('a', 4, ['yes']),
      feedback('a', 5, ['no']),
      { ...feedback('b', 5.5, [9]), kind: 'conflict' },
      feedback('z', 6, ['orphan']),
    ];
    assert.deepEqual(joinFeedback(entries), [
      { requestId: 'a', at: at(0), version: 1, role: 'champion', predictions: ['yes'], probabilities: [[0.2, 0.8]], labels: ['yes'] },
      { requestId: 'a', at: at(1), version: 2, role: 'shadow', predictions: ['no'], probabilities: [[0.6, 0.4]], labels: ['yes'] },
      { requestId: 'b', at: at(2), version: 1, role: 'champion', predictions: [4.5], labels: null },
    ]);
  });
});
