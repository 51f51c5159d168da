// The estimated-performance part of a drift check: CBPE fitted on the champion's own holdout (the rows of its
// training snapshot its split kept out of training: data it was not trained on, with labels), applied to the
// champion's probabilities on the recent window, compared with the champion's holdout value of the metric; and the
// realized value beside it where the window has labels.
import { tableFromIPC, type Table } from 'apache-arrow';
import type { ModelConfig } from '../config/schema';
import { estimatedMetricOf } from '../config/estimated';
import type { VersionRecord } from '../registry';
import { foldsFromTable } from '../split';
import type { ArtifactStore } from '../store';
import type { openSession } from '../onnx';
import { scoreRows } from '../onnx';
import { computeMetrics } from '../metrics';
import { estimateCbpe, fitCbpe, type CbpeEstimate } from './estimated';
import type { EstimatedMetric } from './estimated-metrics';
import { classIndices, type LabelledOutputs } from './prediction';

/** What the report and the summary say of the estimate. */
export interface EstimatedPerformance {
  metric: EstimatedMetric;
  method: 'cbpe';
  /** Rows of the window the estimate is made on (the champion's outputs), and of the holdout it was calibrated on. */
  rows: number;
  calibrationRows: number;
  /** Which classes' probabilities were recalibrated (isotonic) before estimating. */
  calibrated: boolean[];
  value: number;
  samplingError: number;
  /** value ± SAMPLING_ERROR_RANGE sampling errors, clipped to [0, 1]. */
  lower: number;
  upper: number;
  /** Every metric CBPE estimates, for the report. */
  all: CbpeEstimate;
  championHoldout: number | null;
  /** How far the estimate is below the holdout value (positive = worse). */
  drop: number | null;
  maxDrop: number;
  /** True when drop > maxDrop; null without a verdict (too few rows, no holdout value). */
  drifted: boolean | null;
  /** The metric on the window's labelled rows, where it has labels. */
  realized?: { value: number | null; rows: number; labelsFrom: 'feedback' | 'data' };
  assumptions: string;
}

/** A check that could not estimate: why, and no verdict. */
export interface EstimatedSkipped {
  metric: EstimatedMetric;
  note: string;
  drifted: null;
}

/** The words the report and the docs give the assumptions in. */
export const CBPE_ASSUMPTIONS =
  'The estimate holds while the relation between features and label is the one of the holdout (no concept shift; a shift of the inputs alone is fine) '
  + "and the calibration learnt on the champion's holdout still holds where the window's inputs lie.";

/** The champion and what a check has opened of it: its ONNX session, its training snapshot, its classes. */
interface ChampionContext {
  store: ArtifactStore;
  champion: VersionRecord;
  cfg: ModelConfig;
  session: Awaited<ReturnType<typeof openSession>>;
  reference: Table;
  classes: ReadonlyArray<string | number | boolean>;
}

/** The champion's holdout rows scored, with their labels: CBPE's calibration data. */
async function holdoutRows(input: ChampionContext): Promise<{ yTrue: Int32Array; probabilities: Float32Array; numClasses: number } | string> {
  const { champion, cfg, reference } = input;
  const split = (champion.lineage as { split?: { uri: string; sha256: string } }).split;
  if (!split) return `champion v${champion.version} records no split, so its holdout is unknown`;
  const fold = foldsFromTable(tableFromIPC(await input.store.readVerified(split)) as Table);
  if (fold.length !== reference.numRows) return `the split of v${champion.version} has ${fold.length} rows, its snapshot ${reference.numRows}`;
  const rows: number[] = [];
  fold.forEach((f, i) => {
    if (f === -1) rows.push(i);
  });
  const labelColumn = reference.getChild(cfg.label);
  if (!labelColumn || rows.length === 0) return `the snapshot of v${champion.version} has no labelled holdout rows`;
  const scored = await scoreRows({ session: input.session, table: reference, rows: Int32Array.from(rows), features: cfg.features, task: cfg.task, modelName: `${champion.model} v${champion.version}` });
  const yTrue = classIndices(rows.map((i) => labelColumn.get(i) as unknown), input.classes);
  return { yTrue, probabilities: scored.probabilities as Float32Array, numClasses: scored.numClasses ?? input.classes.length };
}

/**
 * Estimates the configured metric on the window's champion probabilities, or says why not (`note`, no verdict).
 * `realized` is the metric on the window's labelled rows, when there are any.
 */
export async function estimatePerformance(input: ChampionContext & {
  window: { probabilities: ArrayLike<number>; numClasses: number } | undefined;
  championHoldout: (metric: string) => number | null;
  labelled?: { labelsFrom: 'feedback' | 'data'; outputs: LabelledOutputs };
  minSampleSize: number;
}): Promise<EstimatedPerformance | EstimatedSkipped> {
  const block = input.cfg.drift!.estimated!;
  const metric = estimatedMetricOf(input.cfg, block);
  const skipped = (note: string): EstimatedSkipped => ({ metric, note, drifted: null });
  if (!input.window || input.window.probabilities.length === 0) return skipped('no champion outputs on the window to estimate from');
  const rows = input.window.probabilities.length / input.window.numClasses;
  if (rows < input.minSampleSize) return skipped(`fewer than ${input.minSampleSize} rows with the champion's outputs`);
  const calibration = await holdoutRows(input);
  if (typeof calibration === 'string') return skipped(calibration);
  const model = fitCbpe(calibration);
  const all = estimateCbpe(model, input.window.probabilities);
  const est = all[metric];
  const championHoldout = input.championHoldout(metric) ?? model.reference[metric];
  const drop = Number.isFinite(est.value) ? championHoldout - est.value : null;
  return {
    metric,
    method: 'cbpe',
    rows,
    calibrationRows: calibration.yTrue.length,
    calibrated: model.calibrated,
    value: est.value,
    samplingError: est.samplingError,
    lower: est.lower,
    upper: est.upper,
    all,
    championHoldout,
    drop,
    maxDrop: block.maxDrop,
    drifted: drop === null ? null : drop > block.maxDrop,
    ...(input.labelled ? { realized: realizedOf(metric, input.labelled) } : {}),
    assumptions: CBPE_ASSUMPTIONS,
  };
}

/** The metric on the window's labelled rows (null where it is undefined there, e.g. one class only). */
function realizedOf(metric: EstimatedMetric, labelled: { labelsFrom: 'feedback' | 'data'; outputs: LabelledOutputs }): NonNullable<EstimatedPerformance['realized']> {
  const o = labelled.outputs;
  const rows = o.yTrue.length;
  if (o.task === 'regression' || rows === 0) return { value: null, rows, labelsFrom: labelled.labelsFrom };
  const value = computeMetrics(o.task, o.yTrue, o.probabilities, o.numClasses)[metric];
  return { value: Number.isFinite(value) ? value : null, rows, labelsFrom: labelled.labelsFrom };
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const f4 = (x: number | null | undefined) => (x === null || x === undefined || !Number.isFinite(x) ? '—' : x.toFixed(4));

/** The drift report's section on estimated performance: the verdict, every estimate with its band, realized beside. */
export function renderEstimatedHtml(e: EstimatedPerformance | EstimatedSkipped | undefined): string {
  if (!e) return '';
  if ('note' in e) return `<h2>Estimated performance (CBPE)</h2><p>No estimate of ${escapeHtml(e.metric)}: ${escapeHtml(e.note)}.</p>`;
  const verdict = e.drifted === null ? 'no verdict' : e.drifted ? 'DROP' : 'ok';
  const realizedOf = (metric: EstimatedMetric) => (e.realized && metric === e.metric ? f4(e.realized.value) : '—');
  const rows = (['roc_auc', 'accuracy', 'f1'] as const)
    .map(
      (m) => `<tr${m === e.metric ? ' class="chosen"' : ''}><td>${m}</td><td>${f4(e.all[m].value)}</td><td>[${f4(e.all[m].lower)}, ${f4(e.all[m].upper)}]</td>`
        + `<td>${realizedOf(m)}</td></tr>`,
    )
    .join('');
  const realized = e.realized
    ? ` Realized on the window's ${e.realized.rows} labelled rows (from ${e.realized.labelsFrom}): <strong>${f4(e.realized.value)}</strong>.`
    : ' The window has no labels: only the estimate is known.';
  return `<h2>Estimated performance (CBPE, no labels needed)</h2>
<p>Estimated ${escapeHtml(e.metric)} of the champion on ${e.rows} rows: <strong>${f4(e.value)}</strong> (band ${f4(e.lower)} – ${f4(e.upper)}, ±3 sampling errors); `
    + `champion's holdout ${f4(e.championHoldout)}; drop ${f4(e.drop)} (max ${e.maxDrop}) — <strong>${verdict}</strong>.${realized}</p>
<table><thead><tr><th>metric</th><th>estimated</th><th>band</th><th>realized</th></tr></thead><tbody>${rows}</tbody></table>
<p><small>Calibrated on ${e.calibrationRows} holdout rows of the champion (isotonic where it helps: ${e.calibrated.map((c) => (c ? 'yes' : 'no')).join(', ')}). ${escapeHtml(e.assumptions)}</small></p>`;
}
