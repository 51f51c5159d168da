import Table from 'cli-table3';
import pc from 'picocolors';
import type { RetrainResult, RolloutStep, UndefinedMetrics, UndefinedMetricsOfEvaluation } from '../contracts';

/** A number for people: 4 decimals, NaN spelled out. */
export function num(x: number | null | undefined, digits = 4): string {
  if (x === null || x === undefined || Number.isNaN(x)) return 'NaN';
  return x.toFixed(digits);
}

/**
 * Cells of metrics that are undefined on their set, for a table: a cell reads `undefined [1]` and each distinct reason is
 * listed once under the table as `[1] roc_auc undefined (class 'snow' never occurs in the 146 rows of the holdout)`.
 * A metric without a reason prints its number (NaN in runs recorded before reasons existed).
 */
export class UndefinedMetricNotes {
  private readonly notes: string[] = [];

  /** The cell of `metric`: its number, or `undefined [k]` when `reasons` says why it has none. */
  cell(metric: string, value: number | null | undefined, reasons: UndefinedMetrics | undefined, digits = 4): string {
    const why = reasons?.[metric];
    if (why === undefined) return num(value, digits);
    const note = `${metric} undefined (${why})`;
    let k = this.notes.indexOf(note);
    if (k < 0) k = this.notes.push(note) - 1;
    return `undefined [${k + 1}]`;
  }

  /** The footnotes, one line each; empty when every cell had a number. */
  lines(): string[] {
    return this.notes.map((note, k) => `[${k + 1}] ${note}`);
  }
}

/** A table of metrics per fold, mean ± std and holdout rows, with a footnote per reason a metric is undefined. */
export function metricRowsTable(input: {
  metrics: string[];
  perFold: Array<Record<string, number>>;
  summary: Record<string, { mean?: number; std?: number } | undefined>;
  holdout: Array<{ label: string; values: Record<string, number> | undefined; reasons: UndefinedMetrics | undefined }>;
  undefined: UndefinedMetricsOfEvaluation | undefined;
}): string {
  const notes = new UndefinedMetricNotes();
  const why = input.undefined;
  const rows: Array<Array<string | number>> = input.perFold.map((m, k) => [`fold ${k + 1}`, ...input.metrics.map((name) => notes.cell(name, m[name], why?.perFold?.[k]))]);
  rows.push([
    'mean ± std',
    ...input.metrics.map((name) =>
      why?.summary?.[name] !== undefined ? notes.cell(name, Number.NaN, why.summary) : `${num(input.summary[name]?.mean)} ± ${num(input.summary[name]?.std)}`,
    ),
  ]);
  for (const h of input.holdout) rows.push([h.label, ...input.metrics.map((name) => notes.cell(name, h.values?.[name], h.reasons))]);
  return [table(['', ...input.metrics], rows), ...notes.lines()].join('\n');
}

/** An aligned table; borders only on a TTY so piped output stays greppable. */
export function table(head: string[], rows: Array<Array<string | number>>): string {
  const tty = Boolean(process.stdout.isTTY);
  const t = new Table({
    head: head.map((h) => (tty ? pc.bold(h) : h)),
    style: { head: [], border: [], compact: true },
    chars: tty
      ? undefined
      : { top: '', 'top-mid': '', 'top-left': '', 'top-right': '', bottom: '', 'bottom-mid': '', 'bottom-left': '', 'bottom-right': '', left: '', 'left-mid': '', mid: '', 'mid-mid': '', right: '', 'right-mid': '', middle: '  ' },
  });
  for (const row of rows) t.push(row.map(String));
  return t.toString();
}

/** One live-traffic step (shadow, approval, guard) with the numbers behind its decision. */
export function printRolloutStep(step: RolloutStep): void {
  const colour = step.decision === 'promote' || step.decision === 'keep' ? pc.green : step.decision === 'rollback' ? pc.red : pc.yellow;
  console.log(`  ${step.phase.padEnd(10)} ${colour(step.decision.toUpperCase())} (${step.decidedBy}) — ${step.reason}`);
  const e = step.evidence;
  if (e === undefined) return;
  const c = e.comparison;
  const health = e.contender;
  console.log(
    `             ${e.pairedRequests} requests scored by both v${e.contenderVersion} and v${e.baselineVersion}, ${e.labeledRows} labeled rows; ` +
      `v${e.contenderVersion}: ${health.requests} requests, errors ${(100 * health.errorRate).toFixed(2)}%, p99 ${health.p99LatencyMs === null ? 'n/a' : `${health.p99LatencyMs.toFixed(1)} ms`}`,
  );
  if (c !== null && c.championValue !== null && c.shadowValue !== null) {
    const mc = c.mcnemar ? `; McNemar b=${c.mcnemar.b} c=${c.mcnemar.c} p=${c.mcnemar.pValue.toPrecision(3)}` : '';
    console.log(
      `             ${c.metric} v${e.contenderVersion} ${num(c.shadowValue)} vs v${e.baselineVersion} ${num(c.championValue)}; ` +
        `diff ${num(c.diff ?? Number.NaN)}, ${Math.round(100 * c.confidence)}% CI [${num(c.ciLow ?? Number.NaN)}, ${num(c.ciHigh ?? Number.NaN)}], margin ${c.margin}${mc}`,
    );
  }
}

/** Prints a finished run the way the demo and `run --wait` show it. */
export function printRunResult(result: RetrainResult, opts: { uiLink?: string } = {}): void {
  const s = result.snapshot;
  const sampled = s.sampled ? ` — sampled ${s.sampled.toRows.toLocaleString('en-US')} of ${s.sampled.fromRows.toLocaleString('en-US')} rows in the window` : '';
  console.log(`  snapshot   ${s.rows.toLocaleString('en-US')} rows, ${s.timeRange.from} → ${s.timeRange.to}${sampled}`);
  console.log(`             sha256 ${s.artifact.sha256}  (${s.artifact.uri})`);
  console.log(
    `  split      ${result.split.folds} ${result.split.strategy} folds of ${result.split.foldRows.join('/')} rows` +
      // A forward-chained time split: each fold trained on the blocks before it, the earliest only ever trained on.
      (result.split.firstBlockRows !== undefined ? `, each trained on the rows before it (the first ${result.split.firstBlockRows} train only)` : '') +
      ` + holdout of ${result.split.holdoutRows} most recent rows`,
  );
  const e = result.evaluation;
  const holdout = [{ label: `holdout (${e.holdout.rows})`, values: e.holdout.candidate, reasons: e.undefined?.holdout?.candidate }];
  if (e.holdout.champion) holdout.push({ label: `champion v${result.championBefore} holdout`, values: e.holdout.champion, reasons: e.undefined?.holdout?.champion });
  console.log(
    metricRowsTable({ metrics: Object.keys(e.summary), perFold: e.perFold, summary: e.summary, holdout, undefined: e.undefined })
      .split('\n')
      .map((l) => `  ${l}`)
      .join('\n'),
  );
  const verdict = result.gate.verdict === 'PASS' ? pc.green('PASS') : pc.red('REJECT');
  console.log(`  gate       ${verdict} (primary metric ${result.gate.primaryMetric})`);
  for (const rule of result.gate.rules) console.log(`             ${rule.passed ? pc.green('✓') : pc.red('✗')} ${rule.reason}`);
  for (const step of result.rollout ?? []) printRolloutStep(step);
  const decision =
    result.decision === 'promoted' ? pc.green('PROMOTED') : result.decision === 'rolled-back' ? pc.red('ROLLED BACK') : pc.yellow('REJECTED');
  console.log(
    `  decision   ${decision}: registered v${result.version}; champion ${result.championBefore === null ? '(none)' : `v${result.championBefore}`} → ${
      result.championAfter === null ? '(none)' : `v${result.championAfter}`
    }${result.promotion.promoted && result.decision !== 'rolled-back' ? '' : ` — ${result.promotion.reason}`}`,
  );
  const onnx = result.candidate;
  console.log(
    `  onnx       ${(onnx.artifact.sizeBytes / 1024).toFixed(1)} KiB, single-row latency ${onnx.singleRowLatencyMs.toFixed(3)} ms, parity max |Δ| ${onnx.parityMaxAbsDiff.toExponential(2)}`,
  );
  if (opts.uiLink) console.log(`  web ui     ${opts.uiLink}`);
  if (result.report) console.log(`  report     ${result.report.path}`);
}
