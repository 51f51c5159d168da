// A registry written by hand for the report and registry-page tests: three versions of one model (v1 promoted;
// v2 promoted after a shadow window, then rolled back by its guard window; v3 drift-triggered and rejected), the
// holdout curves of v2 and a drift report in the store.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { GateResult } from '../../src/contracts';
import { evaluationCurves } from '../../src/evaluate';
import { openSqliteRegistry, type RegistryStore } from '../../src/registry';
import { LocalArtifactStore } from '../../src/store';

export const MODEL = 'flights';
const SHA = 'a'.repeat(64);
const fixture = JSON.parse(readFileSync(path.join(import.meta.dirname, '..', 'fixtures', 'evaluate', 'curves.json'), 'utf8')) as {
  binary: Array<{ y: number[]; proba: number[] }>;
};

function gate(verdict: 'PASS' | 'REJECT', value: number): GateResult {
  return { verdict, primaryMetric: 'roc_auc', rules: [{ rule: 'min roc_auc', passed: verdict === 'PASS', reason: `roc_auc ${value} ≥ 0.6` }] };
}

/** Writes the sample registry and store under `dir`. */
export async function buildSampleRegistry(dir: string): Promise<{ registry: RegistryStore; store: LocalArtifactStore }> {
  const registry = openSqliteRegistry(path.join(dir, 'registry.db'));
  const store = new LocalArtifactStore(path.join(dir, 'store'));
  const [a, b] = fixture.binary as [{ y: number[]; proba: number[] }, { y: number[]; proba: number[] }];
  const scores = (c: { y: number[]; proba: number[] }) => ({ task: 'binary' as const, y: Int32Array.from(c.y), probabilities: Float32Array.from(c.proba), nClasses: 2, classes: [false, true] });
  const curves = await store.putJson('curves', 'holdout-curves.json', evaluationCurves('binary', a.y.length, scores(a), scores(b)));
  const drift = await store.putJson('drift', 'report.json', {
    model: MODEL,
    datasetDrift: true,
    share: 0.5,
    features: [
      { feature: 'distance', method: 'ks', statistic: 0.001, threshold: 0.05, effectiveThreshold: 0.025, drifted: true },
      { feature: 'hour', method: 'ks', statistic: 0.4, threshold: 0.05, effectiveThreshold: 0.025, drifted: false },
    ],
  });
  const register = async (run: string, value: number, extra: { curves?: { uri: string; sha256: string; sizeBytes: number }; lineage?: Record<string, unknown>; verdict?: 'PASS' | 'REJECT' } = {}) =>
    registry.registerVersion({
      model: MODEL,
      artifactUri: `store://model/${SHA}/model.onnx`,
      artifactSha256: SHA,
      sizeBytes: 10,
      snapshotUri: `store://snapshot/${SHA}/s.arrow`,
      snapshotSha256: SHA,
      params: {},
      metrics: {
        cv: { roc_auc: { mean: value, std: 0.01, ciLow: value - 0.02, ciHigh: value + 0.02 }, f1: { mean: 0.5, std: 0.02, ciLow: 0.45, ciHigh: 0.55 } },
        perFold: [{ roc_auc: value - 0.01, f1: 0.49 }, { roc_auc: value + 0.01, f1: 0.51 }],
        holdout: { rows: a.y.length, candidate: { roc_auc: value, f1: 0.5 }, ...(extra.curves ? { curves: extra.curves } : {}) },
      },
      gate: gate(extra.verdict ?? 'PASS', value) as unknown as Record<string, never>,
      lineage: { trigger: 'manual', estimator: 'logistic_regression', parentVersion: null, ...extra.lineage },
      workflowId: `retrain/${MODEL}`,
      runId: run,
    });
  await register('run-1111', 0.7);
  await registry.promote({ model: MODEL, version: 1, expectedChampion: null, reason: 'gate PASS', workflowId: `retrain/${MODEL}`, runId: 'run-1111' });
  await register('run-2222', 0.72, { curves, lineage: { parentVersion: 1 } });
  // The shadow window as the bootstrap comparison records it, the guard window as a decision with three outcomes.
  await registry.recordEvaluation({
    model: MODEL,
    version: 2,
    phase: 'shadow',
    decision: 'promote',
    reason: 'not worse',
    evidence: { decidedBy: 'evidence', baselineVersion: 1, comparison: { metric: 'roc_auc', rows: 400, diff: 0.01, ciLow: -0.01, ciHigh: 0.03, margin: 0.02, verdict: 'not-worse' } },
    workflowId: `retrain/${MODEL}`,
    runId: 'run-2222',
  });
  await registry.promote({ model: MODEL, version: 2, expectedChampion: 1, reason: 'gate PASS; shadow: not worse', workflowId: `retrain/${MODEL}`, runId: 'run-2222' });
  await registry.recordEvaluation({
    model: MODEL,
    version: 2,
    phase: 'guard',
    decision: 'rollback',
    reason: 'harm shown',
    evidence: { decidedBy: 'evidence', baselineVersion: 1, decision: { outcome: 'fail', rows: 300, lower: -0.09, upper: -0.04, passAbove: -0.01, failBelow: -0.02, sequential: { loss: 'brier', diff: -0.06 } } },
    workflowId: `retrain/${MODEL}`,
    runId: 'run-2222',
  });
  await registry.moveAlias({ model: MODEL, alias: 'champion', toVersion: 1, expectedVersion: 2, reason: 'guard: harm shown', workflowId: `retrain/${MODEL}`, runId: 'run-2222', action: 'rollback' });
  await register('run-3333', 0.55, { verdict: 'REJECT', lineage: { trigger: 'drift', parentVersion: 1, reason: `2 of 4 features drifted on 2001-03-01 → 2001-03-08; report ${drift.uri}` } });
  return { registry, store };
}
