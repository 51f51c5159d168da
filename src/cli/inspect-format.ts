import pc from 'picocolors';
import { num, table } from './format';
import type { MetricSummary } from '../contracts';

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

/** The metrics table: one row per fold, mean ± std, candidate and champion on the holdout. */
export function metricsTable(input: {
  perFold: Array<Record<string, number>>;
  summary: Record<string, MetricSummary>;
  holdout: { rows?: number; candidate?: Record<string, number>; champion?: Record<string, number> };
  championVersion: number | null;
}): string {
  const metrics = Object.keys(input.summary);
  const rows: Array<Array<string | number>> = input.perFold.map((m, k) => [`fold ${k + 1}`, ...metrics.map((name) => num(m[name]))]);
  rows.push(['mean ± std', ...metrics.map((name) => `${num(input.summary[name]?.mean)} ± ${num(input.summary[name]?.std)}`)]);
  if (input.holdout.candidate) {
    rows.push([`candidate, holdout (${input.holdout.rows ?? '?'})`, ...metrics.map((name) => num(input.holdout.candidate?.[name]))]);
  }
  if (input.holdout.champion) {
    rows.push([`champion v${input.championVersion ?? '?'}, holdout`, ...metrics.map((name) => num(input.holdout.champion?.[name]))]);
  }
  return table(['', ...metrics], rows);
}
