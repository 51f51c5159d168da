// Multivariate drift by a domain classifier: can a model tell the recent window from the reference? A sample of each
// side, labelled 0 (reference) and 1 (current), is split into stratified folds; one job per fold is trained through
// the job launcher like any training job (the model's own trainer, a binary task), its ONNX model is opened the way an
// exported model is (a private copy, checked in a child process first), and each held-out fold is scored with
// onnxruntime. The cross-validated ROC AUC is the drift statistic: 0.5 when the windows cannot be told apart, more when
// they can — including changes univariate tests miss, such as a correlation between two features that moved while
// both marginals stayed put. Explained drift: each feature's share of that signal (the AUC lost when the feature is
// permuted in the held-out folds), weighted by how much the champion's own outputs move when that feature is permuted
// on the reference, so a shift in a feature the champion ignores ranks low.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { makeVector, Table, tableToIPC, Utf8, vectorFromArray, type Vector } from 'apache-arrow';
import { mulberry32 } from '../contracts/random';
import type { ModelConfig } from '../config/schema';
import { numericValues, stringValues } from '../data/columns';
import { samplePositions } from '../data/sample';
import type { JobSpec } from '../jobs/contract';
import { rocAucScore } from '../metrics/classification';
import { checkModelIsolated, copyModelForCheck, openSession, scoreRows } from '../onnx';
import { splitToIpc } from '../split';
import type { ArtifactStore } from '../store';

/** The label column of the domain table: 0 for reference rows, 1 for current rows. */
export const DOMAIN_LABEL = 'relearn_domain';

/** The `drift.multivariate` block, as the check reads it. */
export interface DomainClassifierOptions {
  maxAuc: number;
  folds: number;
  /** Rows sampled from each side (seeded). */
  maxRows: number;
  estimator: string;
  params: Record<string, unknown>;
  /** Shuffles per feature in the permutation importances. */
  permutations: number;
  /** Reference rows the champion's sensitivity is measured on. */
  sensitivityRows: number;
  seed: number;
}

/** One feature's part in the multivariate drift. */
export interface ExplainedFeature {
  feature: string;
  /** Mean ROC AUC the domain classifier loses when the feature is shuffled in the held-out folds. */
  domainImportance: number;
  /** The feature's share of the domain classifier's positive importances (0–1). */
  share: number;
  /** Mean change of the champion's output when the feature is shuffled on the reference (absent without a champion score). */
  championSensitivity: number | null;
  /** share × sensitivity, normalised to sum 1 over the features: how much of the drift reaches the champion. */
  impact: number;
}

/** The multivariate verdict of one check. */
export interface MultivariateDrift {
  method: 'domain-classifier';
  /** Cross-validated ROC AUC (mean over the held-out folds). */
  auc: number;
  foldAucs: number[];
  maxAuc: number;
  drifted: boolean;
  referenceRows: number;
  currentRows: number;
  folds: number;
  estimator: string;
  jobIds: string[];
  /** Features by impact, largest first (by share when the champion's sensitivity is unknown). */
  explained: ExplainedFeature[];
  /** What the champion's sensitivity measures. */
  sensitivity: string;
}

/**
 * Runs one training job to the end through the worker's launcher (launch or re-attach by `jobKey`, await with
 * heartbeats) and says where its outputs are. The worker's own config decides the command and its environment.
 */
export type RunTrainingJob = (job: { jobKey: string; spec: Omit<JobSpec, 'outputDir' | 'jobId'> }) => Promise<{ jobId: string; outputDir: string }>;

/** What the check needs to store the domain table and run the fold jobs. */
export interface DomainClassifierDeps {
  store: ArtifactStore;
  runJob: RunTrainingJob;
}

type ColumnValues = Float64Array | Array<string | null>;

/** The champion, for its sensitivity to each feature. */
export interface ChampionScorer {
  session: Awaited<ReturnType<typeof openSession>>;
  task: ModelConfig['task'];
  name: string;
}

function vectorOf(values: ColumnValues): Vector {
  return values instanceof Float64Array ? makeVector(values) : vectorFromArray(values, new Utf8());
}

function tableOf(columns: Map<string, ColumnValues>, replace?: { name: string; values: ColumnValues }): Table {
  const vectors: Record<string, Vector> = {};
  for (const [name, values] of columns) vectors[name] = vectorOf(replace?.name === name ? replace.values : values);
  return new Table(vectors);
}

function gather(values: ColumnValues, rows: ArrayLike<number>): ColumnValues {
  if (values instanceof Float64Array) return Float64Array.from({ length: rows.length }, (_, i) => values[rows[i]!]!);
  return Array.from({ length: rows.length }, (_, i) => values[rows[i]!]!);
}

function shuffled(values: ColumnValues, random: () => number): ColumnValues {
  const out = values instanceof Float64Array ? values.slice() : values.slice();
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const swap = out[i]!;
    out[i] = out[j]!;
    out[j] = swap as never;
  }
  return out;
}

/** The features of `rows` of a table as plain arrays (numeric as float64 with NaN, categorical as strings or null). */
function featureColumns(table: Table, features: ModelConfig['features'], rows: Int32Array): Map<string, ColumnValues> {
  const columns = new Map<string, ColumnValues>();
  for (const f of features.numeric) columns.set(f, gather(numericValues(table.getChild(f)!), rows));
  for (const f of features.categorical) columns.set(f, gather(stringValues(table.getChild(f)!), rows));
  return columns;
}

function concat(a: ColumnValues, b: ColumnValues): ColumnValues {
  if (a instanceof Float64Array && b instanceof Float64Array) {
    const out = new Float64Array(a.length + b.length);
    out.set(a);
    out.set(b, a.length);
    return out;
  }
  return [...(a as Array<string | null>), ...(b as Array<string | null>)];
}

/** Stratified folds: each side's rows shuffled (seeded) and dealt out in turn, so every fold has both sides. */
export function stratifiedFolds(labels: Int32Array, folds: number, seed: number): Int8Array {
  const fold = new Int8Array(labels.length);
  const random = mulberry32(seed);
  for (const side of [0, 1]) {
    const rows: number[] = [];
    labels.forEach((l, i) => {
      if (l === side) rows.push(i);
    });
    const order = shuffled(Float64Array.from(rows), random) as Float64Array;
    order.forEach((row, k) => {
      fold[row] = k % folds;
    });
  }
  return fold;
}

async function aucOf(session: ChampionScorer['session'], table: Table, features: ModelConfig['features'], labels: Int32Array, name: string): Promise<number> {
  const scored = await scoreRows({ session, table, rows: { start: 0, end: table.numRows }, features, task: 'binary', modelName: name });
  return rocAucScore(labels, scored.probabilities!, scored.numClasses ?? 2);
}

/** Mean absolute change of the champion's output per row: P(class 1), half the L1 change of the class probabilities, or the prediction over its std. */
function outputChange(task: ModelConfig['task'], before: { probabilities?: ArrayLike<number>; numClasses?: number; predictions?: ArrayLike<number> }, after: typeof before): number {
  if (task === 'regression') {
    const p = before.predictions!;
    const q = after.predictions!;
    let mean = 0;
    for (let i = 0; i < p.length; i++) mean += p[i]! / p.length;
    let variance = 0;
    let change = 0;
    for (let i = 0; i < p.length; i++) {
      variance += (p[i]! - mean) ** 2 / p.length;
      change += Math.abs(q[i]! - p[i]!) / p.length;
    }
    return variance > 0 ? change / Math.sqrt(variance) : 0;
  }
  const width = before.numClasses ?? 2;
  const p = before.probabilities!;
  const q = after.probabilities!;
  const n = p.length / width;
  let change = 0;
  for (let i = 0; i < n; i++) {
    if (width === 2) change += Math.abs(q[i * 2 + 1]! - p[i * 2 + 1]!);
    else for (let c = 0; c < width; c++) change += Math.abs(q[i * width + c]! - p[i * width + c]!) / 2;
  }
  return n > 0 ? change / n : 0;
}

/** The champion's sensitivity to each feature: its mean output change when the feature is shuffled on reference rows. */
export async function championSensitivity(
  champion: ChampionScorer,
  reference: Table,
  features: ModelConfig['features'],
  options: Pick<DomainClassifierOptions, 'sensitivityRows' | 'permutations' | 'seed'>,
): Promise<Map<string, number>> {
  const rows = samplePositions(reference.numRows, options.sensitivityRows, options.seed + 7);
  const columns = featureColumns(reference, features, rows);
  const score = (table: Table) =>
    scoreRows({ session: champion.session, table, rows: { start: 0, end: table.numRows }, features, task: champion.task, modelName: champion.name });
  const base = await score(tableOf(columns));
  const random = mulberry32(options.seed + 11);
  const out = new Map<string, number>();
  for (const [name, values] of columns) {
    let total = 0;
    for (let r = 0; r < options.permutations; r++) total += outputChange(champion.task, base, await score(tableOf(columns, { name, values: shuffled(values, random) })));
    out.set(name, total / options.permutations);
  }
  return out;
}

/** Ranks features by the share of the domain classifier's signal, weighted by the champion's sensitivity when known. */
export function explainDrift(importance: Map<string, number>, sensitivity: Map<string, number> | null): ExplainedFeature[] {
  const positive = [...importance.values()].reduce((s, v) => s + Math.max(0, v), 0);
  const rows = [...importance].map(([feature, domainImportance]) => {
    const share = positive > 0 ? Math.max(0, domainImportance) / positive : 0;
    const championSensitivity = sensitivity?.get(feature) ?? null;
    return { feature, domainImportance, share, championSensitivity, weighted: championSensitivity === null ? share : share * championSensitivity };
  });
  const total = rows.reduce((s, r) => s + r.weighted, 0);
  return rows
    .map(({ weighted, ...r }) => ({ ...r, impact: total > 0 ? weighted / total : 0 }))
    .sort((a, b) => b.impact - a.impact || b.share - a.share || a.feature.localeCompare(b.feature));
}

/** Opens a fold job's model.onnx as the export stage opens a candidate's: a private copy, checked in a child first. */
async function openJobModel(outputDir: string, cfg: ModelConfig, features: ModelConfig['features'], name: string) {
  const checkDir = await mkdtemp(path.join(os.tmpdir(), 'relearn-domain-check-'));
  try {
    const limits = cfg.export;
    const copy = await copyModelForCheck({ srcPath: path.join(outputDir, 'model.onnx'), destDir: checkDir, maxSizeBytes: limits.maxSizeBytes, modelName: name });
    await checkModelIsolated({
      modelPath: copy.path,
      modelName: name,
      maxSizeBytes: limits.maxSizeBytes,
      memoryLimitBytes: limits.memoryLimitBytes,
      timeoutMs: limits.checkTimeoutMs,
      expectedInputs: features,
      task: 'binary',
    });
    return await openSession(await readFile(copy.path));
  } finally {
    await rm(checkDir, { recursive: true, force: true });
  }
}

/**
 * Trains the domain classifier fold by fold through the launcher, scores each held-out fold on ONNX, and explains
 * the signal. `jobKey` names the check (model, window, time): a retried check re-attaches to its fold jobs.
 */
export async function domainClassifierDrift(
  deps: DomainClassifierDeps,
  input: {
    jobKey: string;
    modelConfig: ModelConfig;
    reference: Table;
    current: Table;
    options: DomainClassifierOptions;
    champion?: ChampionScorer;
  },
): Promise<MultivariateDrift> {
  const { modelConfig: cfg, reference, current, options } = input;
  const features = cfg.features;
  const refRows = samplePositions(reference.numRows, options.maxRows, options.seed);
  const curRows = samplePositions(current.numRows, options.maxRows, options.seed + 1);
  const refColumns = featureColumns(reference, features, refRows);
  const curColumns = featureColumns(current, features, curRows);
  const columns = new Map<string, ColumnValues>();
  for (const [name, values] of refColumns) columns.set(name, concat(values, curColumns.get(name)!));
  const labels = new Int32Array(refRows.length + curRows.length).fill(1, refRows.length);
  const fold = stratifiedFolds(labels, options.folds, options.seed);
  const domainTable = new Table({ ...Object.fromEntries([...columns].map(([n, v]) => [n, vectorOf(v)])), [DOMAIN_LABEL]: makeVector(labels) });
  const snapshot = await deps.store.putBytes('drift', 'domain.arrow', tableToIPC(domainTable, 'file'));
  const split = await deps.store.putBytes('drift', 'domain-split.arrow', splitToIpc(fold));
  const snapshotPath = await deps.store.verifiedPath(snapshot);
  const splitPath = await deps.store.verifiedPath(split);

  const jobIds: string[] = [];
  const foldAucs: number[] = [];
  const importance = new Map<string, number>([...columns.keys()].map((f) => [f, 0]));
  const random = mulberry32(options.seed + 3);
  for (let k = 0; k < options.folds; k++) {
    const job = await deps.runJob({
      jobKey: `${input.jobKey}-domain-fold${k}`,
      spec: {
        role: `domain-fold-${k}`,
        task: 'binary',
        snapshotPath,
        splitPath,
        trainFolds: Array.from({ length: options.folds }, (_, i) => i).filter((i) => i !== k),
        features,
        label: DOMAIN_LABEL,
        estimator: options.estimator,
        params: options.params,
        seed: options.seed,
        probeRows: [],
      },
    });
    jobIds.push(job.jobId);
    const session = await openJobModel(job.outputDir, cfg, features, `domain classifier fold ${k}`);
    const held: number[] = [];
    fold.forEach((f, i) => {
      if (f === k) held.push(i);
    });
    const heldColumns = new Map([...columns].map(([n, v]) => [n, gather(v, held)]));
    const heldLabels = Int32Array.from(held, (i) => labels[i]!);
    const name = `domain classifier fold ${k}`;
    const auc = await aucOf(session, tableOf(heldColumns), features, heldLabels, name);
    foldAucs.push(auc);
    for (const [feature, values] of heldColumns) {
      let lost = 0;
      for (let r = 0; r < options.permutations; r++) lost += auc - (await aucOf(session, tableOf(heldColumns, { name: feature, values: shuffled(values, random) }), features, heldLabels, name));
      importance.set(feature, importance.get(feature)! + lost / options.permutations / options.folds);
    }
  }
  const auc = foldAucs.reduce((s, a) => s + a, 0) / foldAucs.length;
  const sensitivity = input.champion ? await championSensitivity(input.champion, reference, features, options) : null;
  return {
    method: 'domain-classifier',
    auc,
    foldAucs,
    maxAuc: options.maxAuc,
    drifted: auc > options.maxAuc,
    referenceRows: refRows.length,
    currentRows: curRows.length,
    folds: options.folds,
    estimator: options.estimator,
    jobIds,
    explained: explainDrift(importance, sensitivity),
    sensitivity:
      input.champion === undefined
        ? 'none (no champion outputs): ranked by share alone'
        : input.champion.task === 'regression'
          ? "mean |change| of the champion's prediction, over its std, when the feature is shuffled on the reference"
          : input.champion.task === 'binary'
            ? "mean |change| of the champion's P(class 1) when the feature is shuffled on the reference"
            : "mean total-variation change of the champion's class probabilities when the feature is shuffled on the reference",
  };
}
