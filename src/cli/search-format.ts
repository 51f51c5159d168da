import pc from 'picocolors';
import { num, table } from './format';
import type { SearchSummary, TrialRecord } from '../contracts';

function paramText(params: Record<string, unknown>): string {
  return Object.keys(params)
    .sort()
    .map((k) => `${k}=${typeof params[k] === 'number' ? String(params[k]) : JSON.stringify(params[k])}`)
    .join(' ');
}

function statusWord(t: TrialRecord, rungs: number): string {
  if (t.status === 'completed') return pc.green('completed');
  if (t.status === 'stopped') return pc.yellow(`stopped (rung ${t.rung + 1}/${rungs})`);
  return pc.red('failed');
}

/** The search in a few lines: strategy, metric, best params, and one row per trial sorted by the selection metric. */
export function searchLines(search: SearchSummary): string[] {
  const rungs = search.rungs.length > 1 ? `, rungs on ${search.rungs.map((r) => `${Math.round(r * 100)}%`).join(' → ')} of the rows` : '';
  const repeats = search.duplicates > 0 ? `, ${search.duplicates} repeated draws trained once` : '';
  const head = `search    ${search.strategy} on ${search.metric} (${search.direction} is better): ${search.trials.length} trials × ${search.folds} folds${rungs}${repeats}`;
  const rows = search.trials.map((t, i) => [
    t.id === search.best.id ? pc.bold(`${i + 1} ★`) : String(i + 1),
    t.id.slice(0, 8),
    paramText(t.params),
    t.metric ? `${num(t.metric.mean)} ± ${num(t.metric.std)}` : '—',
    t.rowsSeen.toLocaleString('en-US'),
    t.jobs,
    t.status === 'failed' ? `${statusWord(t, search.rungs.length)}: ${(t.error ?? '').split('\n')[0]!.slice(0, 100)}` : statusWord(t, search.rungs.length),
  ]);
  return [
    head,
    `best      ${paramText(search.best.params)} — ${search.metric} ${num(search.best.metric.mean)} ± ${num(search.best.metric.std)}`,
    ...table(['#', 'trial', 'params', `${search.metric} mean ± std`, 'rows seen', 'jobs', 'status'], rows).split('\n'),
  ];
}
