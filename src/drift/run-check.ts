// One drift check of a model end to end: the champion's training snapshot as reference, a recent window (the
// configured source, or the serving prediction log) as current, the per-feature statistics, prediction drift, the
// primary metric where labels are known, and the report (JSON + HTML) in the artifact store.
import path from 'node:path';
import { tableFromIPC, type Table } from 'apache-arrow';
import { confineSourcePath } from '../config/data-root';
import type { ModelConfig } from '../config/schema';
import { pullSnapshot, sourceFormat } from '../data';
import { samplePositions } from '../data/sample';
import { DataContractError } from '../errors';
import { openSession, scoreRows } from '../onnx';
import { CHAMPION_ALIAS, type RegistryStore, type VersionRecord } from '../registry';
import type { ArtifactStore } from '../store';
import { checkDrift, type DriftReport, type FeatureDrift } from './check';
import {
  classIndices,
  type LabelledOutputs,
  metricOnRecent,
  type MetricOnRecent,
  predictionDrift,
  predictionOutputs,
  type PredictionOutputs,
} from './prediction';
import type { PredictionLogLocation } from '../prediction-log';
import { readRecentPredictions } from './prediction-log-source';
import { estimatePerformance, type EstimatedPerformance, type EstimatedSkipped } from './estimated-check';
import type { MultivariateDrift, RunTrainingJob } from './domain-classifier';
import { multivariateDrift, multivariateSummary } from './multivariate-check';
import { renderDriftHtml } from './report-html';
import { primaryMetricOf, type DriftCheckSummary } from '../contracts';

/**
 * What a check needs: the store (snapshots, reports), the registry (champion), the config's folder, the data root
 * every file it reads must lie in, the state folder (prediction log).
 */
export interface DriftCheckDeps {
  store: ArtifactStore;
  registry: RegistryStore;
  baseDir: string;
  dataRoot: string;
  stateDir?: string;
  /** The prediction log drift.source predictions reads (default `<stateDir>/predictions`): a folder or a shared S3 prefix. */
  predictionLogDir?: PredictionLogLocation;
  /** Runs a training job through the worker's launcher: drift.multivariate trains its domain classifier with it. */
  runJob?: RunTrainingJob;
}

/** A whole check: the feature report, prediction drift and the metric on labelled recent rows. */
export interface DriftCheckReport extends DriftReport {
  source: 'data' | 'predictions';
  /** The champion's outputs, recent vs on its training snapshot (absent when disabled). */
  prediction?: FeatureDrift & { what: PredictionOutputs['what']; triggers: boolean };
  /** The primary metric on the recent rows with labels (absent when none had labels). */
  metric?: MetricOnRecent;
  /** The domain classifier's verdict and the explained drift (with drift.multivariate). */
  multivariate?: MultivariateDrift;
  /** The primary (or configured) metric estimated without labels (CBPE), with `drift.estimated`. */
  estimated?: EstimatedPerformance | EstimatedSkipped;
  /** Whether the check asks for retraining: dataset drift, drifting predictions (if they trigger) or a metric drop. */
  retrain: boolean;
}

/** The recent window with the champion's outputs on it and the labels known for it. */
interface Recent {
  table: Table;
  outputs?: PredictionOutputs;
  /** The champion's class probabilities on the window (classifiers), for estimated performance. */
  probabilities?: { probabilities: ArrayLike<number>; numClasses: number };
  labelled?: { labelsFrom: 'feedback' | 'data'; outputs: LabelledOutputs };
}

function championHoldout(champion: VersionRecord, metric: string): number | null {
  const holdout = (champion.metrics as { holdout?: { candidate?: Record<string, unknown> } }).holdout?.candidate?.[metric];
  return typeof holdout === 'number' ? holdout : null;
}

/** Scores rows of a table with the champion and returns its raw outputs. */
async function scoreWithChampion(session: Awaited<ReturnType<typeof openSession>>, cfg: ModelConfig, table: Table, rows: Int32Array, name: string) {
  return scoreRows({ session, table, rows, features: cfg.features, task: cfg.task, modelName: name });
}

/** Labelled rows of `rows` among outputs, as the metric functions take them. */
function labelledFrom(
  task: ModelConfig['task'],
  labels: ReadonlyArray<unknown>,
  scored: { probabilities?: ArrayLike<number>; numClasses?: number; predictions?: ArrayLike<number> },
  classes: ReadonlyArray<string | number | boolean>,
): LabelledOutputs | undefined {
  const keep: number[] = [];
  labels.forEach((l, i) => {
    if (l !== null && l !== undefined && !(typeof l === 'number' && Number.isNaN(l))) keep.push(i);
  });
  if (keep.length === 0) return undefined;
  if (task === 'regression') {
    return { task, yTrue: Float64Array.from(keep, (i) => Number(labels[i])), predictions: Float64Array.from(keep, (i) => scored.predictions![i]!) };
  }
  const width = scored.numClasses ?? classes.length;
  const probabilities = new Float64Array(keep.length * width);
  keep.forEach((i, k) => {
    for (let c = 0; c < width; c++) probabilities[k * width + c] = scored.probabilities![i * width + c]!;
  });
  return { task, yTrue: classIndices(keep.map((i) => labels[i]), classes), probabilities, numClasses: width };
}

/** Runs one check; `skipped` explains a check without a verdict (no champion, empty window, no usable log). */
export async function runDriftCheck(
  deps: DriftCheckDeps,
  input: { model: string; modelConfig: ModelConfig; window: { from: string; to: string }; checkedAt: string; onProgress?: (p: unknown) => void },
): Promise<{ summary: DriftCheckSummary; report?: DriftCheckReport }> {
  const { model, modelConfig: cfg, window, checkedAt } = input;
  const drift = cfg.drift;
  const base: DriftCheckSummary = { checkedAt, window };
  if (!drift) return { summary: { ...base, skipped: `model ${model} has no drift block` } };
  // The file a check reads is confined to the data root as a pull's source is, before anything else is looked at.
  const recentPath =
    drift.source === 'predictions'
      ? undefined
      : confineSourcePath(
          `models.${model}.${drift.path ? 'drift.path' : 'source.path'}`,
          deps.dataRoot,
          drift.path ? path.resolve(deps.baseDir, drift.path) : cfg.source.path,
        );
  const registryModel = cfg.registryModel ?? model;
  const alias = await deps.registry.getAlias(registryModel, CHAMPION_ALIAS);
  if (!alias) return { summary: { ...base, skipped: 'no champion yet: nothing to compare against' } };
  const champion = await deps.registry.getVersion(registryModel, alias.version);
  if (!champion) throw new Error(`registry: champion of ${registryModel} points at missing v${alias.version}`);
  const reference = tableFromIPC(await deps.store.readVerified({ uri: champion.snapshotUri, sha256: champion.snapshotSha256 })) as Table;
  const classes = ((champion.lineage as { classes?: Array<string | number | boolean> }).classes ?? []) as Array<string | number | boolean>;
  const wantOutputs = drift.prediction.enabled || drift.metric.maxDrop !== undefined || drift.estimated !== undefined || drift.source === 'predictions';
  const session = wantOutputs ? await openSession(await deps.store.readVerified({ uri: champion.artifactUri, sha256: champion.artifactSha256 })) : undefined;
  const modelName = `${registryModel} v${champion.version}`;

  let recent: Recent;
  try {
    recent = recentPath === undefined ? await recentFromPredictionLog(deps, input, champion, classes) : await recentFromData(input, recentPath, session, classes);
  } catch (err) {
    if (err instanceof DataContractError) return { summary: { ...base, championVersion: champion.version, skipped: err.message } };
    throw err;
  }
  const features = checkDrift(reference, recent.table, {
    numeric: cfg.features.numeric,
    categorical: cfg.features.categorical,
    features: drift.features,
    correction: drift.correction,
    decision: drift.effectSize.mode,
    effects: { numeric: drift.effectSize.numeric, categorical: drift.effectSize.categorical },
    alpha: drift.effectSize.alpha,
    minSampleSize: drift.minSampleSize,
    driftShare: drift.driftShare,
    psiBins: drift.psiBins,
    jsBins: drift.jsBins,
  });

  let prediction: DriftCheckReport['prediction'];
  if (drift.prediction.enabled && session && recent.outputs) {
    // The reference outputs: the champion on (a seeded sample of) its own training snapshot.
    const rows = reference.numRows > drift.maxRows ? samplePositions(reference.numRows, drift.maxRows, 1) : Int32Array.from({ length: reference.numRows }, (_, i) => i);
    const refOutputs = predictionOutputs(cfg.task, await scoreWithChampion(session, cfg, reference, rows, modelName), classes);
    const { method, threshold } = drift.prediction;
    prediction = {
      ...predictionDrift(refOutputs, recent.outputs, {
        rule: { method, threshold },
        minSampleSize: drift.minSampleSize,
        psiBins: drift.psiBins,
        jsBins: drift.jsBins,
        decision: drift.effectSize.mode,
        effects: { numeric: drift.effectSize.numeric, categorical: drift.effectSize.categorical },
        alpha: drift.effectSize.alpha,
      }),
      triggers: drift.prediction.triggers,
    };
  }
  let metric: MetricOnRecent | undefined;
  if (recent.labelled) {
    const name = primaryMetricOf(cfg);
    metric = metricOnRecent({
      metric: name,
      labelsFrom: recent.labelled.labelsFrom,
      labelled: recent.labelled.outputs,
      championHoldout: championHoldout(champion, name),
      maxDrop: drift.metric.maxDrop,
      minSampleSize: drift.minSampleSize,
    });
  }
  const estimated =
    drift.estimated && session && cfg.task !== 'regression'
      ? await estimatePerformance({
          store: deps.store,
          champion,
          cfg,
          session,
          reference,
          classes,
          window: recent.probabilities,
          championHoldout: (name) => championHoldout(champion, name),
          labelled: recent.labelled,
          minSampleSize: drift.minSampleSize,
        })
      : undefined;
  const multivariate = drift.multivariate
    ? await multivariateDrift(deps, {
        model,
        checkedAt,
        cfg,
        reference,
        current: recent.table,
        champion: { session: session ?? (await openSession(await deps.store.readVerified({ uri: champion.artifactUri, sha256: champion.artifactSha256 }))), task: cfg.task, name: modelName },
      })
    : undefined;
  const multivariateRetrain = multivariate?.drifted === true && drift.multivariate?.triggers === true;
  const retrain = multivariateRetrain || features.datasetDrift || (prediction?.drifted === true && prediction.triggers) || metric?.drifted === true || estimated?.drifted === true;
  const report: DriftCheckReport = { ...features, source: drift.source, prediction, metric, multivariate, estimated, retrain };
  const meta = { model, window, championVersion: champion.version, checkedAt, reference: { uri: champion.snapshotUri, sha256: champion.snapshotSha256 } };
  const json = await deps.store.putJson('drift', 'report.json', { ...meta, ...report });
  const html = await deps.store.putBytes('drift', 'report.html', new TextEncoder().encode(renderDriftHtml(report, meta)));
  return {
    summary: {
      ...base,
      championVersion: champion.version,
      datasetDrift: report.datasetDrift,
      drifted: report.drifted,
      checked: report.checked,
      share: report.share,
      driftedFeatures: report.features.filter((f) => f.drifted).map((f) => f.feature),
      ...(prediction ? { predictionDrift: prediction.drifted } : {}),
      ...(metric ? { metric: { name: metric.metric, value: metric.value, championHoldout: metric.championHoldout, drop: metric.drop, drifted: metric.drifted } } : {}),
      ...(multivariate ? { multivariate: multivariateSummary(multivariate) } : {}),
      ...(estimated ? { estimated: estimatedSummary(estimated) } : {}),
      retrain,
      report: { json: json.uri, html: html.uri },
    },
    report,
  };
}

/**
 * The configured source's window (or `drift.path`) read from `realPath` (checked against the data root), scored by
 * the champion; labels from the label column if present.
 */
async function recentFromData(
  input: Parameters<typeof runDriftCheck>[1],
  realPath: string,
  session: Awaited<ReturnType<typeof openSession>> | undefined,
  classes: Array<string | number | boolean>,
): Promise<Recent> {
  const { modelConfig: cfg, window } = input;
  const drift = cfg.drift!;
  // The recent window goes through the same reader and derived columns as training data; value rules of the
  // contract are dropped because the point is to measure how the data changed, not to refuse it.
  const columns = Object.fromEntries(Object.entries(cfg.contract.columns).map(([name, c]) => [name, { type: c.type, nullable: true }]));
  // Another file is read by its own extension; the format comes from the name given, the bytes from the real path.
  const named = drift.path ? { ...cfg.source, path: drift.path, format: undefined } : cfg.source;
  const pulled = await pullSnapshot({
    source: {
      ...named,
      format: sourceFormat(named),
      path: realPath,
      window,
      sample: { maxRows: drift.maxRows, seed: 1 },
    },
    contract: { minRows: 1, columns },
    requiredColumns: [cfg.source.timeColumn, ...cfg.features.numeric, ...cfg.features.categorical],
    onProgress: input.onProgress,
  });
  const table = pulled.table;
  if (!session) return { table };
  const all = Int32Array.from({ length: table.numRows }, (_, i) => i);
  const scored = await scoreWithChampion(session, cfg, table, all, `${cfg.registryModel ?? input.model} champion`);
  const recent: Recent = { table, outputs: predictionOutputs(cfg.task, scored, classes) };
  if (scored.probabilities) recent.probabilities = { probabilities: scored.probabilities, numClasses: scored.numClasses ?? classes.length };
  const labelColumn = table.getChild(cfg.label);
  if (labelColumn) {
    const labels = Array.from({ length: table.numRows }, (_, i) => labelColumn.get(i) as unknown);
    const outputs = labelledFrom(cfg.task, labels, scored, classes);
    if (outputs) recent.labelled = { labelsFrom: 'data', outputs };
  }
  return recent;
}

/** The serving prediction log's champion requests of the window: inputs as columns, logged outputs, feedback labels. */
async function recentFromPredictionLog(
  deps: DriftCheckDeps,
  input: Parameters<typeof runDriftCheck>[1],
  champion: VersionRecord,
  classes: Array<string | number | boolean>,
): Promise<Recent> {
  const { modelConfig: cfg } = input;
  if (deps.predictionLogDir === undefined && !deps.stateDir) throw new Error('drift.source predictions: the state folder (and its prediction log) is unknown to this process');
  const log = await readRecentPredictions({
    dir: deps.predictionLogDir ?? path.join(deps.stateDir!, 'predictions'),
    model: cfg.registryModel ?? input.model,
    window: input.window,
    features: cfg.features,
    task: cfg.task,
    maxRows: cfg.drift!.maxRows,
  });
  const recent: Recent = { table: log.table };
  // Outputs and labels count only where the current champion produced them; inputs count whichever version served.
  const own: number[] = [];
  log.versions.forEach((v, i) => {
    if (v === champion.version) own.push(i);
  });
  if (own.length === 0) return recent;
  const width = log.width ?? 0;
  const scored =
    cfg.task === 'regression'
      ? { predictions: Float64Array.from(own, (i) => log.predictions![i]!) }
      : {
          probabilities: Float64Array.from({ length: own.length * width }, (_, k) => log.probabilities![own[Math.floor(k / width)]! * width + (k % width)]!),
          numClasses: width,
        };
  recent.outputs = predictionOutputs(cfg.task, scored, classes);
  if (scored.probabilities) recent.probabilities = { probabilities: scored.probabilities, numClasses: width };
  const outputs = labelledFrom(cfg.task, own.map((i) => log.labels[i]), scored, classes);
  if (outputs) recent.labelled = { labelsFrom: 'feedback', outputs };
  return recent;
}

/** The estimate as the monitor's summary keeps it (no per-metric detail). */
function estimatedSummary(e: EstimatedPerformance | EstimatedSkipped): NonNullable<DriftCheckSummary['estimated']> {
  if ('note' in e) return { name: e.metric, value: null, lower: null, upper: null, championHoldout: null, drop: null, drifted: null, note: e.note };
  return {
    name: e.metric,
    value: e.value,
    lower: e.lower,
    upper: e.upper,
    championHoldout: e.championHoldout,
    drop: e.drop,
    drifted: e.drifted,
    ...(e.realized ? { realized: e.realized.value } : {}),
  };
}
