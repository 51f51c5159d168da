// The run report's charts as Vega-Lite specs, each carrying its own data (the stored points, never recomputed).
// A chart with nothing to draw is left out; the page says why.
import type { ModelCurves } from '../evaluate/curves';
import type { RunReportData } from './data';

/** A Vega-Lite spec, as plain JSON. */
export type VegaLiteSpec = Record<string, unknown>;

/** One chart of the report: where it goes, its title, the spec, and a line saying what to read from it. */
export interface ReportChart {
  id: string;
  title: string;
  caption: string;
  spec: VegaLiteSpec;
}

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';
const WIDTH = 360;
const HEIGHT = 280;
// Candidate first, champion second, in every chart.
const MODEL_COLORS = { domain: ['candidate', 'champion'], range: ['#1f77b4', '#ff7f0e'] };

function base(extra: VegaLiteSpec): VegaLiteSpec {
  return { $schema: SCHEMA, width: WIDTH, height: HEIGHT, ...extra };
}

function diagonal(): VegaLiteSpec {
  return {
    data: { values: [{ x: 0, y: 0 }, { x: 1, y: 1 }] },
    mark: { type: 'line', strokeDash: [4, 4], color: '#999' },
    encoding: { x: { field: 'x', type: 'quantitative' }, y: { field: 'y', type: 'quantitative' } },
  };
}

function roleLabel(data: RunReportData, role: 'candidate' | 'champion'): string {
  return role === 'candidate' ? `candidate v${data.version}` : `champion v${data.parentVersion ?? '?'}`;
}

/** The stored curves of each model that has them: [role, its curves]. */
function modelsOf(data: RunReportData): Array<['candidate' | 'champion', ModelCurves]> {
  const c = data.curves;
  if (!c) return [];
  return c.champion ? [['candidate', c.candidate], ['champion', c.champion]] : [['candidate', c.candidate]];
}

function curveChart(data: RunReportData, kind: 'roc' | 'pr'): VegaLiteSpec | null {
  const rows: Array<Record<string, unknown>> = [];
  for (const [role, curves] of modelsOf(data)) {
    const list = kind === 'roc' ? curves.roc : curves.pr;
    const oneClass = (list?.length ?? 0) === 1;
    for (const { label, curve } of list ?? []) {
      const series = oneClass ? roleLabel(data, role) : `${roleLabel(data, role)} · ${label}`;
      if ('fpr' in curve) {
        curve.fpr.forEach((x, i) => rows.push({ model: role, series, order: i, x, y: curve.tpr[i], threshold: curve.thresholds[i] }));
      } else {
        curve.recall.forEach((x, i) => rows.push({ model: role, series, order: i, x, y: curve.precision[i], threshold: curve.thresholds[i] ?? null }));
      }
    }
  }
  if (rows.length === 0) return null;
  const [xTitle, yTitle] = kind === 'roc' ? ['false positive rate', 'true positive rate'] : ['recall', 'precision'];
  return base({
    layer: [
      ...(kind === 'roc' ? [diagonal()] : []),
      {
        data: { values: rows },
        mark: { type: 'line', interpolate: kind === 'roc' ? 'linear' : 'step-after', strokeWidth: 2 },
        encoding: {
          x: { field: 'x', type: 'quantitative', title: xTitle, scale: { domain: [0, 1] } },
          y: { field: 'y', type: 'quantitative', title: yTitle, scale: { domain: [0, 1] } },
          color: { field: 'series', type: 'nominal', title: null, legend: { orient: 'bottom-right' } },
          strokeDash: { field: 'model', type: 'nominal', legend: null, scale: { domain: ['candidate', 'champion'], range: [[1, 0], [6, 3]] } },
          order: { field: 'order', type: 'quantitative' },
          tooltip: [
            { field: 'series', title: 'model' },
            { field: 'x', title: xTitle, format: '.3f' },
            { field: 'y', title: yTitle, format: '.3f' },
            { field: 'threshold', format: '.3f' },
          ],
        },
      },
    ],
  });
}

function calibrationChart(data: RunReportData): VegaLiteSpec | null {
  const rows = modelsOf(data).flatMap(([role, c]) =>
    (c.calibration?.probPred ?? []).map((p, i) => ({ model: role, series: roleLabel(data, role), predicted: p, observed: c.calibration!.probTrue[i], rows: c.calibration!.count[i] })),
  );
  if (rows.length === 0) return null;
  const enc = {
    x: { field: 'predicted', type: 'quantitative', title: 'mean predicted probability (bin)', scale: { domain: [0, 1] } },
    y: { field: 'observed', type: 'quantitative', title: 'share of positives', scale: { domain: [0, 1] } },
    color: { field: 'model', type: 'nominal', title: null, scale: MODEL_COLORS, legend: { orient: 'bottom-right' } },
  };
  return base({
    layer: [
      diagonal(),
      { data: { values: rows }, mark: { type: 'line' }, encoding: enc },
      {
        data: { values: rows },
        mark: { type: 'point', filled: true },
        encoding: { ...enc, size: { field: 'rows', type: 'quantitative', title: 'rows in bin' }, tooltip: [{ field: 'series', title: 'model' }, { field: 'predicted', format: '.3f' }, { field: 'observed', format: '.3f' }, { field: 'rows' }] },
      },
    ],
  });
}

function confusionChart(data: RunReportData): VegaLiteSpec | null {
  const rows = modelsOf(data).flatMap(([role, c]) =>
    (c.confusion?.counts ?? []).flatMap((counts, i) => counts.map((n, j) => ({ model: roleLabel(data, role), actual: c.confusion!.actual[i], predicted: c.confusion!.predicted[j], rows: n }))),
  );
  if (rows.length === 0) return null;
  const cell = { x: { field: 'predicted', type: 'nominal', title: 'predicted' }, y: { field: 'actual', type: 'nominal', title: 'actual' } };
  return {
    $schema: SCHEMA,
    data: { values: rows },
    facet: { column: { field: 'model', type: 'nominal', title: null } },
    spec: {
      width: 200,
      height: 200,
      layer: [
        { mark: 'rect', encoding: { ...cell, color: { field: 'rows', type: 'quantitative', scale: { scheme: 'blues' } }, tooltip: [{ field: 'actual' }, { field: 'predicted' }, { field: 'rows' }] } },
        { mark: { type: 'text', fontSize: 13 }, encoding: { ...cell, text: { field: 'rows', type: 'quantitative' } } },
      ],
    },
  };
}

function predictedActualChart(data: RunReportData): VegaLiteSpec | null {
  const rows = modelsOf(data).flatMap(([role, c]) =>
    (c.predictedVsActual?.actual ?? []).map((a, i) => ({ model: role, series: roleLabel(data, role), actual: a, predicted: c.predictedVsActual!.predicted[i] })),
  );
  if (rows.length === 0) return null;
  const values = rows.flatMap((r) => [r.actual, r.predicted as number]);
  const lo = Math.min(...values);
  const hi = Math.max(...values);
  return base({
    layer: [
      {
        data: { values: [{ x: lo, y: lo }, { x: hi, y: hi }] },
        mark: { type: 'line', strokeDash: [4, 4], color: '#999' },
        encoding: { x: { field: 'x', type: 'quantitative' }, y: { field: 'y', type: 'quantitative' } },
      },
      {
        data: { values: rows },
        mark: { type: 'point', opacity: 0.6 },
        encoding: {
          x: { field: 'actual', type: 'quantitative', scale: { zero: false } },
          y: { field: 'predicted', type: 'quantitative', scale: { zero: false } },
          color: { field: 'model', type: 'nominal', title: null, scale: MODEL_COLORS },
          tooltip: [{ field: 'series', title: 'model' }, { field: 'actual', format: '.3f' }, { field: 'predicted', format: '.3f' }],
        },
      },
    ],
  });
}

function residualChart(data: RunReportData): VegaLiteSpec | null {
  const rows = modelsOf(data).flatMap(([role, c]) =>
    (c.residuals?.counts ?? []).map((n, i) => ({ model: role, series: roleLabel(data, role), from: c.residuals!.edges[i], to: c.residuals!.edges[i + 1], rows: n })),
  );
  if (rows.length === 0) return null;
  return base({
    data: { values: rows },
    mark: { type: 'bar', opacity: 0.6, binSpacing: 0 },
    encoding: {
      x: { field: 'from', type: 'quantitative', title: 'residual (actual − predicted)' },
      x2: { field: 'to' },
      y: { field: 'rows', type: 'quantitative', stack: null },
      color: { field: 'model', type: 'nominal', title: null, scale: MODEL_COLORS },
      tooltip: [{ field: 'series', title: 'model' }, { field: 'from', format: '.3f' }, { field: 'to', format: '.3f' }, { field: 'rows' }],
    },
  });
}

function perFoldChart(data: RunReportData): VegaLiteSpec | null {
  // Each row carries its metric's stored CV mean, for the rule (a facet's layers share one data set).
  const rows = data.perFold.flatMap((m, i) =>
    Object.entries(m)
      .filter(([, v]) => Number.isFinite(v))
      .map(([metric, value]) => ({ metric, fold: `fold ${i + 1}`, value, mean: Number.isFinite(data.cv[metric]?.mean) ? data.cv[metric]!.mean : null })),
  );
  if (rows.length === 0) return null;
  return {
    $schema: SCHEMA,
    data: { values: rows },
    facet: { column: { field: 'metric', type: 'nominal', title: null } },
    resolve: { scale: { y: 'independent' } },
    spec: {
      width: 90,
      height: 200,
      layer: [
        {
          mark: { type: 'point', filled: true, size: 70 },
          encoding: {
            y: { field: 'value', type: 'quantitative', title: null, scale: { zero: false } },
            color: { field: 'fold', type: 'nominal', title: null },
            tooltip: [{ field: 'metric' }, { field: 'fold' }, { field: 'value', format: '.4f' }],
          },
        },
        {
          transform: [{ filter: 'datum.mean != null' }],
          mark: { type: 'rule', color: '#333' },
          encoding: { y: { field: 'mean', type: 'quantitative', aggregate: 'min' }, tooltip: [{ field: 'mean', title: 'CV mean', aggregate: 'min', format: '.4f' }] },
        },
      ],
    },
  };
}

function windowsChart(data: RunReportData): VegaLiteSpec | null {
  const rows = data.windows
    .filter((w) => w.interval !== null)
    .map((w) => ({
      window: `${w.phase} v${w.version}${w.baselineVersion !== null ? ` vs v${w.baselineVersion}` : ''}`,
      low: w.interval!.low,
      high: w.interval!.high,
      estimate: w.interval!.estimate,
      threshold: w.interval!.threshold,
      harm: w.interval!.harmThreshold,
      what: w.interval!.what,
      outcome: w.outcome ?? w.decision,
      decision: w.decision,
      rows: w.interval!.rows,
    }));
  if (rows.length === 0) return null;
  const y = { field: 'window', type: 'nominal', title: null, sort: null };
  const tooltip = [{ field: 'window' }, { field: 'what' }, { field: 'low', format: '.4f' }, { field: 'high', format: '.4f' }, { field: 'threshold', title: 'margin', format: '.4f' }, { field: 'outcome' }, { field: 'decision' }, { field: 'rows' }];
  return {
    $schema: SCHEMA,
    width: 560,
    height: { step: 42 },
    data: { values: rows },
    layer: [
      { mark: { type: 'rule', color: '#bbb' }, encoding: { x: { datum: 0, type: 'quantitative' } } },
      {
        mark: { type: 'rule', strokeWidth: 3 },
        encoding: {
          y,
          x: { field: 'low', type: 'quantitative', title: 'difference, positive = contender better' },
          x2: { field: 'high' },
          color: { field: 'outcome', type: 'nominal', title: 'outcome' },
          tooltip,
        },
      },
      { mark: { type: 'point', filled: true, size: 60, color: '#222' }, encoding: { y, x: { field: 'estimate', type: 'quantitative' }, tooltip } },
      { transform: [{ filter: 'datum.threshold != null' }], mark: { type: 'tick', color: '#d62728', thickness: 2, size: 30 }, encoding: { y, x: { field: 'threshold', type: 'quantitative' }, tooltip } },
      { transform: [{ filter: 'datum.harm != null && datum.harm != datum.threshold' }], mark: { type: 'tick', color: '#8c564b', thickness: 2, size: 30 }, encoding: { y, x: { field: 'harm', type: 'quantitative' }, tooltip } },
    ],
  };
}

function versionsChart(data: RunReportData): VegaLiteSpec | null {
  const rows = data.versions.filter((v) => v.value !== null).map((v) => ({ ...v, label: `v${v.version}`, thisRun: v.version === data.version }));
  if (rows.length === 0) return null;
  const x = { field: 'version', type: 'ordinal', title: 'version', sort: null };
  return {
    $schema: SCHEMA,
    width: Math.max(WIDTH, 60 * rows.length),
    height: HEIGHT,
    data: { values: rows },
    layer: [
      { mark: { type: 'line', color: '#999' }, encoding: { x, y: { field: 'value', type: 'quantitative', scale: { zero: false }, title: `${data.primaryMetric} (CV mean, 95% interval)` } } },
      { transform: [{ filter: 'datum.ciLow != null' }], mark: { type: 'rule', color: '#999' }, encoding: { x, y: { field: 'ciLow', type: 'quantitative' }, y2: { field: 'ciHigh' } } },
      {
        mark: { type: 'point', filled: true, size: 120 },
        encoding: {
          x,
          y: { field: 'value', type: 'quantitative' },
          color: { field: 'outcome', type: 'nominal', title: 'became champion?', scale: { domain: ['promoted', 'rolled-back', 'rejected'], range: ['#2ca02c', '#d62728', '#7f7f7f'] } },
          shape: { field: 'outcome', type: 'nominal', scale: { domain: ['promoted', 'rolled-back', 'rejected'], range: ['triangle-up', 'triangle-down', 'circle'] } },
          tooltip: [{ field: 'label', title: 'version' }, { field: 'value', format: '.4f' }, { field: 'holdout', format: '.4f' }, { field: 'verdict', title: 'gate' }, { field: 'outcome' }, { field: 'createdAt' }],
        },
      },
      { transform: [{ filter: 'datum.thisRun' }], mark: { type: 'point', size: 400, color: '#000', strokeWidth: 1.5 }, encoding: { x, y: { field: 'value', type: 'quantitative' } } },
    ],
  };
}

function driftChart(data: RunReportData): VegaLiteSpec | null {
  const rows = (data.drift?.features ?? []).filter((f) => f.statistic !== null).map((f) => ({ ...f, verdict: f.drifted === null ? 'no verdict' : f.drifted ? 'drifted' : 'stable' }));
  if (rows.length === 0) return null;
  const y = { field: 'feature', type: 'nominal', title: null, sort: null };
  return {
    $schema: SCHEMA,
    width: 420,
    height: { step: 26 },
    data: { values: rows },
    layer: [
      {
        mark: 'bar',
        encoding: {
          y,
          x: { field: 'statistic', type: 'quantitative', title: 'statistic (p-value for tests, else distance)' },
          color: { field: 'verdict', type: 'nominal', title: null, scale: { domain: ['drifted', 'stable', 'no verdict'], range: ['#d62728', '#2ca02c', '#bbb'] } },
          tooltip: [{ field: 'feature' }, { field: 'method' }, { field: 'statistic', format: '.4g' }, { field: 'threshold', format: '.4g' }, { field: 'verdict' }],
        },
      },
      { transform: [{ filter: 'datum.threshold != null' }], mark: { type: 'tick', color: '#000', thickness: 2 }, encoding: { y, x: { field: 'threshold', type: 'quantitative' } } },
    ],
  };
}

/** Every chart the run's stored data can draw, in the order the page shows them. */
export function reportCharts(data: RunReportData): ReportChart[] {
  const holdout = `holdout of ${data.holdout.rows ?? '?'} rows`;
  const against = data.curves?.champion ? `candidate v${data.version} and champion v${data.parentVersion ?? '?'} on the same ${holdout}` : `candidate v${data.version} on the ${holdout}`;
  const charts: Array<[string, string, string, VegaLiteSpec | null]> = [
    ['roc', 'ROC curve', `${against}; dashed diagonal: chance`, curveChart(data, 'roc')],
    ['pr', 'Precision–recall curve', against, curveChart(data, 'pr')],
    ['calibration', 'Calibration', `${against}: share of positives per bin of predicted probability; point size: rows in the bin`, calibrationChart(data)],
    ['confusion', 'Confusion matrix', `${against}: rows by actual label, columns by predicted label`, confusionChart(data)],
    ['predicted-actual', 'Predicted against actual', `${against}: an evenly spaced sample of ${data.curves?.candidate.predictedVsActual?.actual.length ?? 0} rows`, predictedActualChart(data)],
    ['residuals', 'Residuals', `${against}: every row, in equal-width bins`, residualChart(data)],
    ['per-fold', 'Metrics per fold', `cross-validation over ${data.perFold.length} folds; line: the mean`, perFoldChart(data)],
    ['windows', 'Live-traffic windows', 'each window\'s interval of the difference, positive = the contender better; dot: the estimate; red tick: the margin the lower end must clear (brown: the harm bound)', windowsChart(data)],
    ['versions', `${data.primaryMetric} across versions`, 'CV mean with its 95% interval per version; ▲ promoted and kept, ▼ rolled back, ● never champion; ringed: this run', versionsChart(data)],
    ['drift', 'Drift per feature', `the drift report that started this run${data.drift ? ` (${data.drift.uri})` : ''}; tick: the threshold`, driftChart(data)],
  ];
  return charts.filter((c): c is [string, string, string, VegaLiteSpec] => c[3] !== null).map(([id, title, caption, spec]) => ({ id, title, caption, spec }));
}
