// `relearn gate --what-if`: the gate is a pure function of stored metrics (workflows/gate.ts), so past runs can be
// judged again under other rules without moving anything.
import type { GateConfig } from '../config/schema';
import type { AuditEntry, VersionRecord } from '../registry';
import { judge, type Evaluation, type GateResult } from '../contracts';

/** One past run judged again. */
export interface WhatIfRow {
  version: number;
  runId: string;
  createdAt: string;
  /** The champion the run was compared with. */
  championVersion: number | null;
  recorded: { verdict: string; decision: 'promoted' | 'rejected' };
  whatIf: { verdict: GateResult['verdict']; rules: GateResult['rules'] };
  changed: boolean;
}

/** Re-judges every registered version with `gate`, against the champion each run actually faced. */
export function rejudgeVersions(input: {
  versions: VersionRecord[];
  audit: AuditEntry[];
  gate: GateConfig;
  primaryMetric: string;
}): WhatIfRow[] {
  const promotedRuns = new Set(input.audit.filter((a) => a.action === 'promote' && a.alias === 'champion').map((a) => `${a.toVersion}/${a.runId}`));
  return input.versions.map((v) => {
    const metrics = v.metrics as {
      cv?: Evaluation['summary'];
      perFold?: Evaluation['perFold'];
      holdout?: Evaluation['holdout'];
      undefined?: Evaluation['undefined'];
    };
    const lineage = v.lineage as { parentVersion?: number | null };
    const championVersion = lineage.parentVersion ?? null;
    const evaluation: Evaluation = {
      summary: metrics.cv ?? {},
      perFold: metrics.perFold ?? [],
      holdout: metrics.holdout ?? { rows: 0, candidate: {} },
      rowsScored: 0,
      ...(metrics.undefined ? { undefined: metrics.undefined } : {}),
    };
    const recordedVerdict = String((v.gate as { verdict?: string }).verdict ?? '?');
    const result = judge({ gate: input.gate, primaryMetric: input.primaryMetric, evaluation, championVersion });
    return {
      version: v.version,
      runId: v.runId,
      createdAt: v.createdAt,
      championVersion,
      recorded: { verdict: recordedVerdict, decision: promotedRuns.has(`${v.version}/${v.runId}`) ? 'promoted' : 'rejected' },
      whatIf: { verdict: result.verdict, rules: result.rules },
      changed: result.verdict !== recordedVerdict,
    };
  });
}
