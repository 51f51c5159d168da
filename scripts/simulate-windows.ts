// Measures the window decision rules' error rates, power and rows to a decision by simulating windows with a look at
// every poll (src/shadow/window-simulation.ts: calibrated binormal scorers at the demo's traffic), and writes the table
// into docs/shadow.md between its `simulate-windows` markers. Seeded: the same arguments give the same table.
//   npm run simulate-windows [-- --windows 1000 --bootstrap-windows 1000 --resamples 1000 --seed 1 --no-write]
// Exits 1 when the sequential test's false rollback or false promotion rate is above the nominal 1 − confidence.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { RELEARN_ROOT } from '../src/paths';
import type { DecideWindowConfig } from '../src/shadow/decide-window';
import {
  type BinormalPair,
  type SimulatedTest,
  type WindowScenario,
  type WindowTally,
  DEMO_TRAFFIC,
  aucOfSeparation,
  expectedBrier,
  separationForAuc,
  separationForBrierRatio,
  simulateWindows,
} from '../src/shadow/window-simulation';

const START = '<!-- simulate-windows:start (written by scripts/simulate-windows.ts) -->';
const END = '<!-- simulate-windows:end -->';

class UsageError extends Error {}

function usage(message: string): never {
  throw new UsageError(message);
}

function positiveInt(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) usage(`--${name} must be a positive integer, got '${value}'`);
  return n;
}

function main(): void {
  let parsed;
  try {
    parsed = parseArgs({
      options: {
        windows: { type: 'string' },
        'bootstrap-windows': { type: 'string' },
        resamples: { type: 'string' },
        seed: { type: 'string' },
        'no-write': { type: 'boolean' },
      },
    }).values;
  } catch (err) {
    usage((err as Error).message);
  }
  const windows = positiveInt('windows', parsed.windows, 1000);
  const bootstrapWindows = positiveInt('bootstrap-windows', parsed['bootstrap-windows'], 1000);
  const resamples = positiveInt('resamples', parsed.resamples, 1000);
  const seed = positiveInt('seed', parsed.seed, 1);

  const { baseRate, auc, correlation, rows, lookEvery } = DEMO_TRAFFIC;
  const mu = separationForAuc(auc);
  const config = (kind: 'shadow' | 'guard', plannedRows: number = rows): DecideWindowConfig => ({
    test: 'sequential',
    margin: 0.01,
    lossMargin: 0.005,
    harmMargin: 0,
    lossHarmMargin: 0,
    confidence: 0.95,
    minLabeledRows: plannedRows,
    resamples,
    seed: 7,
    onInconclusive: kind === 'shadow' ? 'reject' : 'keep',
  });
  const pair = (contenderSeparation: number): BinormalPair => ({ baseRate, baselineSeparation: mu, contenderSeparation, correlation });
  const scenario = (kind: 'shadow' | 'guard', contender: number, windowRows: number = rows): WindowScenario => ({
    kind,
    pair: pair(contender),
    rows: windowRows,
    lookEvery,
    config: config(kind, windowRows),
  });
  // Worse by exactly the margin: the sequential tests' margin is 0.5% of the Brier score; the bootstrap's 0.01 ROC AUC.
  const muLossMargin = separationForBrierRatio(mu, baseRate, 1.005);
  const muAucMargin = separationForAuc(auc - 0.01);
  const muDrop = separationForAuc(auc - 0.02);

  interface Row {
    label: string;
    counted: string;
    pick: (t: WindowTally) => number;
    scenarios: Partial<Record<SimulatedTest, WindowScenario>>;
    nominal?: boolean;
  }
  const table: Row[] = [
    {
      label: 'guard, equal quality (ROC AUC 0.63 both)',
      counted: 'false rollback (fail)',
      pick: (t) => t.fail,
      nominal: true,
      scenarios: { sequential: scenario('guard', mu), 'fixed-every-poll': scenario('guard', mu), 'fixed-once': scenario('guard', mu) },
    },
    {
      label: `shadow, worse by exactly the margin (Brier +0.5%: ROC AUC ${aucOfSeparation(muLossMargin).toFixed(4)}; bootstrap: ROC AUC 0.62)`,
      counted: 'false promotion (pass)',
      pick: (t) => t.pass,
      nominal: true,
      scenarios: {
        sequential: scenario('shadow', muLossMargin),
        'fixed-every-poll': scenario('shadow', muLossMargin),
        'fixed-once': scenario('shadow', muAucMargin),
      },
    },
    {
      label: 'guard, a real drop (ROC AUC 0.61 vs 0.63)',
      counted: 'power (rollback on evidence)',
      pick: (t) => t.fail,
      scenarios: { sequential: scenario('guard', muDrop), 'fixed-every-poll': scenario('guard', muDrop), 'fixed-once': scenario('guard', muDrop) },
    },
    {
      label: 'guard, the same drop, windows twice as long (14,000 rows)',
      counted: 'power (rollback on evidence)',
      pick: (t) => t.fail,
      scenarios: { sequential: scenario('guard', muDrop, 2 * rows), 'fixed-every-poll': scenario('guard', muDrop, 2 * rows) },
    },
    {
      label: 'shadow, equal quality',
      counted: 'promotion on evidence (pass)',
      pick: (t) => t.pass,
      scenarios: { sequential: scenario('shadow', mu), 'fixed-every-poll': scenario('shadow', mu), 'fixed-once': scenario('shadow', mu) },
    },
  ];

  const tests: SimulatedTest[] = ['sequential', 'fixed-every-poll', 'fixed-once'];
  const results = new Map<string, WindowTally>();
  let runIndex = 0;
  const started = Date.now();
  for (const row of table) {
    for (const test of tests) {
      const s = row.scenarios[test];
      runIndex++;
      if (s === undefined) continue;
      const n = test === 'fixed-once' ? bootstrapWindows : windows;
      const t0 = Date.now();
      const tally = simulateWindows(s, test, n, seed * 1000 + runIndex);
      results.set(`${row.label}|${test}`, tally);
      process.stderr.write(`${row.label} — ${test}: ${JSON.stringify(tally)} (${((Date.now() - t0) / 1000).toFixed(1)} s)\n`);
    }
  }

  const pct = (k: number, n: number) => `${((100 * k) / n).toFixed(1)}% (${k}/${n})`;
  const cell = (row: Row, test: SimulatedTest) => {
    const t = results.get(`${row.label}|${test}`);
    return t === undefined ? '—' : pct(row.pick(t), t.windows);
  };
  const medianCell = (row: Row, test: SimulatedTest) => {
    const t = results.get(`${row.label}|${test}`);
    return t === undefined ? '—' : t.medianRows.toLocaleString('en-US');
  };
  const decidedCell = (row: Row, test: SimulatedTest) => {
    const t = results.get(`${row.label}|${test}`);
    if (t === undefined) return '—';
    const decided = t.pass + t.fail;
    return decided === 0 ? '— (none decided)' : `${t.medianDecidedRows.toLocaleString('en-US')} (${decided} decided)`;
  };
  const lines: string[] = [];
  lines.push(
    `Windows of ${rows.toLocaleString('en-US')} labeled rows (one poll every ${lookEvery} rows), 20% positives, baseline ROC AUC ${auc}, ` +
      `noise correlation ${correlation} between the two models; confidence 0.95, margin 0.01 ROC AUC (bootstrap) or 0.5% of the ` +
      `Brier score (sequential and fixed-sample), harm margin 0. ${windows.toLocaleString('en-US')} windows per cell, ` +
      `${bootstrapWindows.toLocaleString('en-US')} for the bootstrap (${resamples} resamples each); seed ${seed}.`,
    '',
    '| window, contender | counted | sequential, a look every poll | fixed-sample interval, a look every poll | paired bootstrap of ROC AUC, one look at the end |',
    '| --- | --- | ---: | ---: | ---: |',
  );
  for (const row of table) {
    lines.push(`| ${row.label} | ${row.counted} | ${cell(row, 'sequential')} | ${cell(row, 'fixed-every-poll')} | ${cell(row, 'fixed-once')} |`);
  }
  lines.push(
    '',
    'Median labeled rows to a decision: over all windows (an inconclusive one counts its end, where its default is taken), and over the windows that passed or failed on evidence.',
    '',
    '| window, contender | sequential, all | sequential, decided | fixed-sample every poll, all | fixed-sample every poll, decided | bootstrap, one look |',
    '| --- | ---: | ---: | ---: | ---: | ---: |',
  );
  for (const row of table) {
    lines.push(
      `| ${row.label} | ${medianCell(row, 'sequential')} | ${decidedCell(row, 'sequential')} | ${medianCell(row, 'fixed-every-poll')} | ` +
        `${decidedCell(row, 'fixed-every-poll')} | ${medianCell(row, 'fixed-once')} |`,
    );
  }
  const sd = results.get(`${table[0]!.label}|fixed-once`)?.aucDiffSd;
  lines.push(
    '',
    `In this model the ROC AUC difference of two equally good models on ${rows.toLocaleString('en-US')} rows has a standard deviation of ` +
      `${sd === undefined ? '—' : sd.toFixed(4)} across windows (the demo's bootstrap intervals imply about 0.0072); the expected Brier score ` +
      `is ${expectedBrier(mu, baseRate).toFixed(5)} at ROC AUC ${auc} and ${expectedBrier(muDrop, baseRate).toFixed(5)} at ${auc - 0.02} ` +
      `(${(100 * (expectedBrier(muDrop, baseRate) / expectedBrier(mu, baseRate) - 1)).toFixed(2)}% higher).`,
  );
  process.stderr.write(`simulated in ${((Date.now() - started) / 1000).toFixed(0)} s\n`);
  const text = lines.join('\n');
  process.stdout.write(`${text}\n`);

  const nominal = 1 - 0.95;
  const over = table
    .filter((r) => r.nominal === true)
    .map((r) => ({ r, t: results.get(`${r.label}|sequential`)! }))
    .filter(({ r, t }) => r.pick(t) / t.windows > nominal);
  if (parsed['no-write'] !== true) {
    const doc = path.join(RELEARN_ROOT, 'docs', 'shadow.md');
    const current = readFileSync(doc, 'utf8');
    const a = current.indexOf(START);
    const b = current.indexOf(END);
    if (a < 0 || b < a) {
      process.stderr.write(`simulate-windows: docs/shadow.md has no '${START}' … '${END}' markers\n`);
      process.exitCode = 1;
      return;
    }
    writeFileSync(doc, `${current.slice(0, a + START.length)}\n${text}\n${current.slice(b)}`);
    process.stderr.write('wrote the table into docs/shadow.md\n');
  }
  if (over.length > 0) {
    for (const { r, t } of over) process.stderr.write(`simulate-windows: ${r.label}: sequential ${r.counted} ${pct(r.pick(t), t.windows)} is above the nominal ${100 * nominal}%\n`);
    process.exitCode = 1;
  }
}

try {
  main();
} catch (err) {
  if (!(err instanceof UsageError)) throw err;
  process.stderr.write(`simulate-windows: ${err.message}\nusage: npm run simulate-windows -- [--windows N] [--bootstrap-windows N] [--resamples N] [--seed N] [--no-write]\n`);
  process.exitCode = 2;
}
