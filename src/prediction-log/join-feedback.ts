import { type ClassLabel, type PredictionLogEntry, parseLoggedLabels, parseLoggedOutputs } from './record';

/** A logged prediction with its parsed outputs and the labels that feedback attached to it (null when none came). */
export interface LabeledPrediction {
  requestId: string;
  at: Date;
  version: number;
  role: 'champion' | 'shadow';
  predictions: Array<ClassLabel | number>;
  probabilities?: number[][];
  labels: ClassLabel[] | null;
}

/**
 * Joins predictions with feedback by request id, one result per prediction entry, so a champion and a shadow entry
 * of the same request both get the labels. The first feedback for an id (in log order) is the one that counts: a
 * later one never replaces it (the server refuses a second label and logs it as a `conflict`, which is not joined).
 */
export function joinFeedback(entries: readonly PredictionLogEntry[]): LabeledPrediction[] {
  const labels = new Map<string, ClassLabel[]>();
  for (const e of entries) {
    if (e.kind === 'feedback' && e.labels !== null && !labels.has(e.requestId)) labels.set(e.requestId, parseLoggedLabels(e));
  }
  const out: LabeledPrediction[] = [];
  for (const e of entries) {
    if (e.kind !== 'prediction' || e.outputs === null || e.version === null || e.role === null) continue;
    const outputs = parseLoggedOutputs(e);
    out.push({
      requestId: e.requestId,
      at: e.at,
      version: e.version,
      role: e.role,
      predictions: outputs.predictions,
      ...(outputs.probabilities !== undefined ? { probabilities: outputs.probabilities } : {}),
      labels: labels.get(e.requestId) ?? null,
    });
  }
  return out;
}
