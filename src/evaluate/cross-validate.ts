// Cross-validation as Relearn computes it: every number a decision uses comes from onnxruntime scoring the stored
// ONNX bytes, never from what a training job says about itself. No Temporal here: the caller passes a model reader
// (the store's verified read) and a progress callback (the activity's heartbeat).
import type { Table } from 'apache-arrow';
import type { ModelConfig } from '../config/schema';
import type { ArtifactRef, Evaluation, MetricSummary, UndefinedMetrics, UndefinedMetricsOfEvaluation } from '../contracts';
import { DataContractError } from '../errors';
import { type MetricsWithReasons, type ReasonContext, computeMetricsWithReasons, summarizeFolds } from '../metrics';
import { type EvaluationCurves, type HoldoutScores, evaluationCurves } from './curves';
import { type FeatureSpec, openSession, scoreRows } from '../onnx';

/** The class labels a classifier reported in its status.json, in the order of its probability columns. */
export type ModelClasses = ReadonlyArray<string | number | boolean>;

/** Where cross-validation is: the stage and the rows scored so far, for a heartbeat to resume from. */
export interface CrossValidateProgress {
  stage: string;
  rows: number;
}

/** Inputs of crossValidate. */
export interface CrossValidateInput {
  table: Table;
  /** The fold of every table row, -1 for the holdout (the split's `fold` column). */
  fold: Int8Array;
  /** One model per fold, each scored on the rows of its own fold; `classes` defaults to the candidate's. */
  folds: ReadonlyArray<{ fold: number; artifact: ArtifactRef; classes?: ModelClasses | undefined }>;
  /** The model for the holdout; a search trial has none and scores its folds only. */
  candidate?: ArtifactRef | undefined;
  /** The current champion, scored on the same holdout rows as the candidate. */
  champion?: { artifact: ArtifactRef; classes: ModelClasses | undefined } | undefined;
  task: ModelConfig['task'];
  features: FeatureSpec;
  label: string;
  /** The candidate's classes. */
  classes: ModelClasses | undefined;
  /** Reads a model's ONNX bytes (the store's digest-checked read). */
  readModel: (ref: ArtifactRef) => Promise<Uint8Array>;
  /** Called while fold models are scored. */
  onProgress?: (progress: CrossValidateProgress) => void;
  /** Stores the holdout's curves (ROC, precision-recall, calibration, confusion, residuals) for the run report. */
  storeCurves?: (curves: EvaluationCurves) => Promise<ArtifactRef>;
}

/** Scores each fold model on its held-out fold and summarises the folds, then the candidate (and champion) on the holdout. */
export async function crossValidate(input: CrossValidateInput): Promise<Evaluation> {
  const { table, fold, onProgress } = input;
  if (fold.length !== table.numRows) {
    throw new DataContractError(`split has ${fold.length} rows but the snapshot has ${table.numRows}`);
  }
  const score = (artifact: ArtifactRef, rows: Int32Array, classes: ModelClasses | undefined, set: string, onRows?: (done: number) => void) =>
    scoreModel({ ...input, artifact, rows, classes, set, onRows });

  let rowsScored = 0;
  const perFold: Array<Record<string, number>> = [];
  const undefinedPerFold: UndefinedMetrics[] = [];
  for (const f of input.folds) {
    const rows = rowsWhere(fold, f.fold);
    // Folds are named from 1, as the training jobs' summaries name them ("train fold 1/3").
    const scored = await score(f.artifact, rows, f.classes ?? input.classes, `fold ${f.fold + 1}`, (done) =>
      onProgress?.({ stage: `fold ${f.fold}`, rows: rowsScored + done }),
    );
    perFold.push(scored.metrics);
    undefinedPerFold.push(scored.undefined);
    rowsScored += rows.length;
    onProgress?.({ stage: `fold ${f.fold} done`, rows: rowsScored });
  }
  const summary: Record<string, MetricSummary> = {};
  const undefinedSummary: UndefinedMetrics = {};
  for (const metric of Object.keys(perFold[0] ?? {})) {
    const s = summarizeFolds(perFold.map((m) => m[metric]!));
    summary[metric] = { mean: s.mean, std: s.std, ciLow: s.ciLow, ciHigh: s.ciHigh };
    // A metric undefined on any fold has no CV mean: the summary keeps the reasons of those folds.
    const reasons = undefinedPerFold.map((u) => u[metric]).filter((r): r is string => r !== undefined);
    if (reasons.length > 0) undefinedSummary[metric] = reasons.join('; ');
  }
  const explained = (holdout: UndefinedMetricsOfEvaluation['holdout'] = {}): { undefined?: UndefinedMetricsOfEvaluation } => {
    const out: UndefinedMetricsOfEvaluation = {};
    if (undefinedPerFold.some((u) => Object.keys(u).length > 0)) out.perFold = undefinedPerFold;
    if (Object.keys(undefinedSummary).length > 0) out.summary = undefinedSummary;
    if (holdout.candidate || holdout.champion) out.holdout = holdout;
    // Only an evaluation with an undefined metric carries the field: every other result stays as it was.
    return Object.keys(out).length > 0 ? { undefined: out } : {};
  };
  if (!input.candidate) return { perFold, summary, holdout: { rows: 0, candidate: {} }, rowsScored, ...explained() };

  const holdoutRows = rowsWhere(fold, -1);
  const candidate = await score(input.candidate, holdoutRows, input.classes, 'the holdout');
  rowsScored += holdoutRows.length;
  let champion: ScoredMetrics | undefined;
  if (input.champion) {
    champion = await score(input.champion.artifact, holdoutRows, input.champion.classes, 'the holdout');
    rowsScored += holdoutRows.length;
  }
  // The report's charts are drawn from these points, computed from the same outputs as the holdout metrics.
  const curves = await input.storeCurves?.(evaluationCurves(input.task, holdoutRows.length, candidate.scores, champion?.scores));
  return {
    perFold,
    summary,
    holdout: { rows: holdoutRows.length, candidate: candidate.metrics, champion: champion?.metrics, ...(curves ? { curves } : {}) },
    rowsScored,
    ...explained({
      ...(Object.keys(candidate.undefined).length > 0 ? { candidate: candidate.undefined } : {}),
      ...(champion && Object.keys(champion.undefined).length > 0 ? { champion: champion.undefined } : {}),
    }),
  };
}

/** Every metric of one model on `rows` of the table, its outputs computed by onnxruntime, and why any is undefined there. */
async function scoreModel(opts: {
  readModel: CrossValidateInput['readModel'];
  artifact: ArtifactRef;
  table: Table;
  rows: Int32Array;
  task: ModelConfig['task'];
  features: FeatureSpec;
  label: string;
  classes: ModelClasses | undefined;
  /** The set the rows are, as reasons name it: 'fold 2', 'the holdout'. */
  set: string;
  onRows?: ((done: number) => void) | undefined;
}): Promise<ScoredMetrics> {
  const session = await openSession(await opts.readModel(opts.artifact));
  const scored = await scoreRows({
    session,
    table: opts.table,
    rows: opts.rows,
    features: opts.features,
    task: opts.task,
    onProgress: opts.onRows,
  });
  const y = targets(opts.table, opts.label, opts.rows, opts.task, opts.classes);
  if (opts.task === 'regression') {
    const scores: HoldoutScores = { task: 'regression', y: y as Float64Array, predictions: scored.predictions! };
    return { ...computeMetricsWithReasons('regression', scores.y, scores.predictions, { set: opts.set }), scores };
  }
  const nClasses = scored.numClasses ?? opts.classes?.length ?? 2;
  const probabilities = scored.probabilities!;
  const scores: HoldoutScores = { task: opts.task, y: y as Int32Array, probabilities, nClasses, classes: opts.classes };
  return { ...classifierMetrics(opts.task, y as Int32Array, probabilities, nClasses, { set: opts.set, classNames: opts.classes }), scores };
}

/** A model's metrics on a set, with the outputs they came from. */
type ScoredMetrics = MetricsWithReasons & { scores: HoldoutScores };

/**
 * Classification metrics where a row whose label the model never saw (class -1) is wrong: the problem is widened by
 * one class that the model gives probability 0 in every row, so such a row is never predicted right, its log loss is
 * the clipped maximum, and macro averages count the unseen class (scikit-learn's numbers for the widened problem).
 * A binary model keeps class 1 as its positive class: for precision, recall, F1 and ROC AUC an unseen label is a
 * negative. Without unseen labels this is computeMetrics unchanged.
 */
function classifierMetrics(
  task: 'binary' | 'multiclass',
  y: Int32Array,
  probabilities: Float32Array,
  nClasses: number,
  context: ReasonContext,
): MetricsWithReasons {
  if (!y.includes(-1)) return computeMetricsWithReasons(task, y, probabilities, nClasses, context);
  const width = nClasses + 1;
  const widened = new Float32Array(y.length * width);
  for (let i = 0; i < y.length; i++) widened.set(probabilities.subarray(i * nClasses, (i + 1) * nClasses), i * width);
  const wideContext = { ...context, classNames: Array.from({ length: width }, (_, c) => (c < nClasses ? (context.classNames?.[c] ?? c) : 'a label the model never saw')) };
  const wide = computeMetricsWithReasons('multiclass', y.map((k) => (k < 0 ? nClasses : k)), widened, width, wideContext);
  if (task === 'multiclass') return wide;
  const positive = computeMetricsWithReasons('binary', y.map((k) => (k === 1 ? 1 : 0)), probabilities, nClasses, context);
  // Accuracy and log loss are defined on any rows, so the reasons are the binary problem's.
  return { metrics: { ...positive.metrics, accuracy: wide.metrics.accuracy!, log_loss: wide.metrics.log_loss! }, undefined: positive.undefined };
}

/** Label column → class indices in the order of the model's `classes` (or float targets for regression). */
function targets(table: Table, label: string, rows: Int32Array, task: ModelConfig['task'], classes: ModelClasses | undefined): Int32Array | Float64Array {
  const column = table.getChild(label);
  if (!column) throw new DataContractError(`snapshot has no label column '${label}'`);
  if (task === 'regression') {
    const out = new Float64Array(rows.length);
    for (let i = 0; i < rows.length; i++) out[i] = Number(column.get(rows[i]!));
    return out;
  }
  if (!classes || classes.length === 0) throw new DataContractError(`classifier for label '${label}' reported no classes in status.json`);
  const index = new Map(classes.map((c, i) => [String(c), i]));
  const out = new Int32Array(rows.length);
  for (let i = 0; i < rows.length; i++) {
    const value = column.get(rows[i]!);
    const k = index.get(String(typeof value === 'bigint' ? Number(value) : value));
    // A label the model never saw is class -1: classifierMetrics counts it as a wrong answer in every row it appears in.
    out[i] = k ?? -1;
  }
  return out;
}

/** The indices of the rows whose fold is `value` (-1: the holdout), in table order. */
function rowsWhere(fold: Int8Array, value: number): Int32Array {
  let n = 0;
  for (let i = 0; i < fold.length; i++) if (fold[i] === value) n++;
  const rows = new Int32Array(n);
  let j = 0;
  for (let i = 0; i < fold.length; i++) if (fold[i] === value) rows[j++] = i;
  return rows;
}
