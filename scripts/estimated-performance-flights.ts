// The check of estimated performance on real data: a January champion on every later week of the flights data,
// its ROC AUC estimated by Relearn's CBPE (no labels) against the realized ROC AUC from the labels, with NannyML's
// estimate beside. Reads the scores scripts/make-cbpe-fixtures.py cached and NannyML's numbers it wrote as a fixture;
// writes the table into docs/estimated-performance.md (between its markers) and the chart as
// docs/estimated-performance-flights.svg (Vega-Lite, rendered by vega without a browser).
//
//   .relearn/nannyml-venv/bin/python scripts/make-cbpe-fixtures.py   (once: scores and NannyML's estimates)
//   npx tsx scripts/estimated-performance-flights.ts
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import * as vega from 'vega';
import * as vegaLite from 'vega-lite';
import { estimateCbpe, fitCbpe } from '../src/drift/estimated';
import { computeMetrics } from '../src/metrics';
import { RELEARN_ROOT } from '../src/paths';

const SCORES = path.join(RELEARN_ROOT, '.relearn/cache/cbpe/flights-weeks-scores.json');
const NANNYML = path.join(RELEARN_ROOT, 'test/fixtures/drift/cbpe/flights-weeks.json');
const DOC = path.join(RELEARN_ROOT, 'docs/estimated-performance.md');
const SVG = path.join(RELEARN_ROOT, 'docs/estimated-performance-flights.svg');
const BEGIN = '<!-- flights-table:begin (scripts/estimated-performance-flights.ts) -->';
const END = '<!-- flights-table:end -->';

interface Scores {
  calibration: { y: number[]; p: number[] };
  weeks: Array<{ from: string; y: number[]; p: number[] }>;
}
interface NannymlWeeks {
  nannyml: string;
  weeks: Array<{ from: string; to: string; rows: number; nannyml: Record<string, { value: number }>; realized: Record<string, number> }>;
}

const asRows = (p: number[]) => Float64Array.from(p.flatMap((v) => [1 - v, v]));

async function main(): Promise<void> {
  if (!existsSync(SCORES)) {
    console.error(`${path.relative(RELEARN_ROOT, SCORES)} is missing: run .relearn/nannyml-venv/bin/python scripts/make-cbpe-fixtures.py first`);
    process.exitCode = 2;
    return;
  }
  const scores = JSON.parse(readFileSync(SCORES, 'utf8')) as Scores;
  const theirs = JSON.parse(readFileSync(NANNYML, 'utf8')) as NannymlWeeks;
  const model = fitCbpe({ yTrue: Int32Array.from(scores.calibration.y), probabilities: asRows(scores.calibration.p), numClasses: 2 });
  const rows = scores.weeks.map((w) => {
    const est = estimateCbpe(model, asRows(w.p));
    const realized = computeMetrics('binary', Int32Array.from(w.y), asRows(w.p), 2).roc_auc;
    const nannyml = theirs.weeks.find((t) => t.from === w.from)?.nannyml.roc_auc?.value ?? Number.NaN;
    return { week: w.from, rows: w.p.length, estimated: est.roc_auc.value, lower: est.roc_auc.lower, upper: est.roc_auc.upper, nannyml, realized };
  });
  const mae = rows.reduce((s, r) => s + Math.abs(r.estimated - r.realized), 0) / rows.length;
  const inBand = rows.filter((r) => r.realized >= r.lower && r.realized <= r.upper).length;
  const maxVsNannyml = Math.max(...rows.map((r) => Math.abs(r.estimated - r.nannyml)));
  const f = (x: number) => x.toFixed(4);
  const table = [
    '| week from | rows | estimated ROC AUC (Relearn) | band (±3 SE) | NannyML 0.13.1 | realized (labels) | error |',
    '| --- | ---: | ---: | --- | ---: | ---: | ---: |',
    ...rows.map((r) => `| ${r.week} | ${r.rows} | ${f(r.estimated)} | ${f(r.lower)} – ${f(r.upper)} | ${f(r.nannyml)} | ${f(r.realized)} | ${(r.estimated - r.realized >= 0 ? '+' : '') + f(r.estimated - r.realized)} |`),
    '',
    `Mean absolute error of the estimate: **${f(mae)}** over ${rows.length} weeks; the realized value lies inside the band in ${inBand} of ${rows.length} weeks. `
      + `Largest difference between Relearn's and NannyML's estimate: ${maxVsNannyml.toExponential(1)}. Calibration: ${scores.calibration.p.length} holdout rows (${model.calibrated[0] ? 'isotonic' : 'raw scores kept'}).`,
  ].join('\n');
  const doc = readFileSync(DOC, 'utf8');
  const from = doc.indexOf(BEGIN);
  const to = doc.indexOf(END);
  if (from < 0 || to < from) throw new Error(`${path.relative(RELEARN_ROOT, DOC)}: the markers ${BEGIN} … ${END} are missing`);
  writeFileSync(DOC, `${doc.slice(0, from + BEGIN.length)}\n${table}\n${doc.slice(to)}`);

  const long = rows.flatMap((r) => [
    { week: r.week, series: 'estimated (Relearn CBPE)', value: r.estimated, lower: r.lower, upper: r.upper },
    { week: r.week, series: 'realized (labels)', value: r.realized },
  ]);
  const spec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    width: 640,
    height: 260,
    title: 'January champion on later weeks: estimated ROC AUC (shaded: ± 3 sampling errors) vs realized',
    data: { values: long },
    encoding: { x: { field: 'week', type: 'temporal', title: 'week starting' } },
    layer: [
      {
        transform: [{ filter: "datum.series === 'estimated (Relearn CBPE)'" }],
        mark: { type: 'area', opacity: 0.2, color: '#1f77b4' },
        encoding: { y: { field: 'lower', type: 'quantitative', title: 'ROC AUC', scale: { zero: false } }, y2: { field: 'upper' } },
      },
      {
        mark: { type: 'line', point: true },
        encoding: {
          y: { field: 'value', type: 'quantitative' },
          color: { field: 'series', type: 'nominal', scale: { range: ['#1f77b4', '#d62728'] }, legend: { orient: 'bottom', title: null, labelLimit: 320 } },
        },
      },
    ],
  };
  const view = new vega.View(vega.parse(vegaLite.compile(spec as never).spec), { renderer: 'none' });
  writeFileSync(SVG, await view.toSVG());
  console.log(table);
  console.log(`wrote ${path.relative(RELEARN_ROOT, DOC)} and ${path.relative(RELEARN_ROOT, SVG)}`);
}

await main();
