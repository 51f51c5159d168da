import pc from 'picocolors';
import { metricRowsTable } from './format';
import type { MetricSummary, UndefinedMetricsOfEvaluation } from '../contracts';

/** A duration for people: 850 ms, 12.3 s, 4 min 05 s. */
export function duration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || Number.isNaN(ms)) return '';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const min = Math.floor(ms / 60_000);
  return `${min} min ${String(Math.round((ms % 60_000) / 1000)).padStart(2, '0')} s`;
}

/** A decision word, coloured on a TTY. */
export function decisionWord(decision: string | null | undefined): string {
  if (!decision) return pc.dim('(none yet)');
  const word = decision.toUpperCase();
  return decision === 'promoted' ? pc.green(word) : decision === 'failed' || decision === 'rolled-back' ? pc.red(word) : pc.yellow(word);
}

/** Indents every line of a block. */
export function indent(block: string, by = '  '): string {
  return block
    .split('\n')
    .map((l) => `${by}${l}`)
    .join('\n');
}

/** The metrics table: one row per fold, mean ± std, candidate and champion on the holdout; undefined metrics footnoted. */
export function metricsTable(input: {
  perFold: Array<Record<string, number>>;
  summary: Record<string, MetricSummary>;
  holdout: { rows?: number; candidate?: Record<string, number>; champion?: Record<string, number> };
  championVersion: number | null;
  undefined?: UndefinedMetricsOfEvaluation | undefined;
}): string {
  const why = input.undefined?.holdout;
  const holdout = [];
  if (input.holdout.candidate) holdout.push({ label: `candidate, holdout (${input.holdout.rows ?? '?'})`, values: input.holdout.candidate, reasons: why?.candidate });
  if (input.holdout.champion) holdout.push({ label: `champion v${input.championVersion ?? '?'}, holdout`, values: input.holdout.champion, reasons: why?.champion });
  return metricRowsTable({ metrics: Object.keys(input.summary), perFold: input.perFold, summary: input.summary, holdout, undefined: input.undefined });
}
