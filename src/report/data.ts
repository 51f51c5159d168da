// What a run report shows, gathered from what the run stored: the registry (the version's metrics, gate and lineage,
// the live-traffic evaluations, every version of the model, the alias audit log) and the artifact store (the holdout
// curves written at evaluation time, the drift report that started the run). Nothing is scored or recomputed here, so
// a report made later shows what the decisions saw; without a Temporal server it still works.
import { LOWER_IS_BETTER, type GateResult, type MetricSummary } from '../contracts';
import { ConfigError } from '../errors';
import type { EvaluationCurves } from '../evaluate/curves';
import { type AuditEntry, CHAMPION_ALIAS, type EvaluationRecord, type RegistryStore, type VersionRecord } from '../registry';
import { type ArtifactStore, parseStoreUri } from '../store';

/** Builds the Temporal Web UI's address of a run, when the UI is known. */
export type RunLink = (workflowId: string, runId: string) => string | undefined;

/** One live-traffic window (or approval) recorded for a version, read defensively from its stored evidence. */
export interface WindowRow {
  id: number;
  phase: string;
  version: number;
  /** What the run did: promote, reject, keep, rollback (as recorded). */
  decision: string;
  /** The window's statistical answer when recorded: pass, fail, inconclusive, or the comparison's verdict. */
  outcome: string | null;
  decidedBy: string | null;
  reason: string;
  at: string;
  workflowId: string;
  runId: string;
  baselineVersion: number | null;
  /** The interval the decision was read from, positive = the contender better; null when none was measured. */
  interval: { what: string; estimate: number | null; low: number; high: number; threshold: number | null; harmThreshold: number | null; rows: number | null } | null;
}

/** One version on the primary-metric chart. */
export interface VersionPoint {
  version: number;
  createdAt: string;
  runId: string;
  workflowId: string;
  /** The primary metric's CV mean, and its 95% interval over the folds. */
  value: number | null;
  ciLow: number | null;
  ciHigh: number | null;
  holdout: number | null;
  verdict: string | null;
  /** promoted, rolled back (promoted, then the champion moved back), or never champion. */
  outcome: 'promoted' | 'rolled-back' | 'rejected';
}

/** One feature's drift verdict in the report that started a drift-triggered run. */
export interface DriftFeatureRow {
  feature: string;
  method: string;
  statistic: number | null;
  threshold: number | null;
  drifted: boolean | null;
}

/** Everything a run report draws and lists. */
export interface RunReportData {
  generatedAt: string;
  model: string;
  version: number;
  workflowId: string;
  runId: string;
  createdAt: string;
  trigger: string | null;
  estimator: string | null;
  parentVersion: number | null;
  decision: 'promoted' | 'rolled-back' | 'rejected';
  primaryMetric: string;
  lowerIsBetter: boolean;
  gate: GateResult | null;
  cv: Record<string, MetricSummary>;
  perFold: Array<Record<string, number>>;
  holdout: { rows: number | null; candidate: Record<string, number>; champion: Record<string, number> | null };
  curves: EvaluationCurves | null;
  windows: WindowRow[];
  versions: VersionPoint[];
  /** Every move of every alias of the model, oldest first (refused compare-and-set attempts included). */
  aliasHistory: AuditEntry[];
  drift: { uri: string; datasetDrift: boolean | null; share: number | null; features: DriftFeatureRow[] } | null;
  /** The run in the Temporal Web UI, when its address is known. */
  webUiRun: string | null;
  /** What the report could not show, and why. */
  notes: string[];
}

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function num(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

function str(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}

/**
 * Finds the version a report is about: `v<N>` or N, a run id or a unique prefix of one among the registered versions,
 * or nothing for the newest version.
 */
export async function findReportVersion(registry: RegistryStore, model: string, ref?: string): Promise<VersionRecord> {
  const versions = await registry.listVersions(model);
  if (versions.length === 0) throw new ConfigError(`${model} has no registered versions yet: a report is made for a run that registered one`);
  if (ref === undefined) return versions.at(-1)!;
  const asVersion = /^v?(\d{1,9})$/.exec(ref);
  if (asVersion) {
    const found = versions.find((v) => v.version === Number(asVersion[1]));
    if (!found) throw new ConfigError(`${model} has no version ${asVersion[1]} (registered: ${versions.map((v) => `v${v.version}`).join(', ')})`);
    return found;
  }
  const matches = versions.filter((v) => v.runId.startsWith(ref));
  if (matches.length === 1) return matches[0]!;
  if (matches.length > 1) throw new ConfigError(`run '${ref}' is ambiguous: ${matches.map((m) => `${m.runId.slice(0, 12)} (v${m.version})`).join(', ')}`);
  throw new ConfigError(`no run of ${model} that registered a version has the id '${ref}' (expected v<N> or a run id)`);
}

/** Whether each version became champion and stayed, was rolled back, or never was champion. */
export function versionOutcomes(audit: readonly AuditEntry[]): Map<number, VersionPoint['outcome']> {
  const out = new Map<number, VersionPoint['outcome']>();
  for (const e of audit) {
    if (e.alias !== CHAMPION_ALIAS || e.toVersion === null) continue;
    if (e.action === 'promote' || e.action === 'move') out.set(e.toVersion, out.get(e.toVersion) ?? 'promoted');
    if (e.action === 'rollback' && e.fromVersion !== null) out.set(e.fromVersion, 'rolled-back');
  }
  return out;
}

/** The primary metric of every version of the model, oldest first. */
export async function versionSeries(registry: RegistryStore, model: string, primaryMetric: string): Promise<VersionPoint[]> {
  const outcomes = versionOutcomes(await registry.auditLog(model));
  return (await registry.listVersions(model)).map((v) => {
    const metrics = v.metrics as Json;
    const cv = isObject(metrics.cv) ? metrics.cv[primaryMetric] : undefined;
    const holdout = isObject(metrics.holdout) && isObject(metrics.holdout.candidate) ? metrics.holdout.candidate[primaryMetric] : undefined;
    return {
      version: v.version,
      createdAt: v.createdAt,
      runId: v.runId,
      workflowId: v.workflowId,
      value: isObject(cv) ? num(cv.mean) : null,
      ciLow: isObject(cv) ? num(cv.ciLow) : null,
      ciHigh: isObject(cv) ? num(cv.ciHigh) : null,
      holdout: num(holdout),
      verdict: str((v.gate as Json).verdict),
      outcome: outcomes.get(v.version) ?? 'rejected',
    };
  });
}

/**
 * A live-traffic evaluation as a report row. The evidence's shape has changed over time (a bootstrap comparison,
 * later a decision with pass/fail/inconclusive bounds), so every field is looked for, none is required.
 */
export function windowRow(e: EvaluationRecord): WindowRow {
  const ev = e.evidence as Json;
  const decisionLike = [ev.decision, ev.windowDecision, ev.window, ev].find((d): d is Json => isObject(d) && ('lower' in d || 'outcome' in d));
  const comparison = isObject(ev.comparison) ? ev.comparison : isObject(decisionLike?.primary) ? decisionLike.primary : null;
  let interval: WindowRow['interval'] = null;
  if (decisionLike && num(decisionLike.lower) !== null && num(decisionLike.upper) !== null) {
    const sequential = isObject(decisionLike.sequential) ? decisionLike.sequential : null;
    interval = {
      what: sequential ? `mean ${str(sequential.loss) ?? 'loss'} difference (baseline − contender)` : `${str(comparison?.metric) ?? 'metric'} difference`,
      estimate: num(sequential?.diff) ?? num(comparison?.diff),
      low: num(decisionLike.lower)!,
      high: num(decisionLike.upper)!,
      threshold: num(decisionLike.passAbove),
      harmThreshold: num(decisionLike.failBelow),
      rows: num(decisionLike.rows),
    };
  } else if (comparison && num(comparison.ciLow) !== null && num(comparison.ciHigh) !== null) {
    const margin = num(comparison.margin);
    interval = {
      what: `${str(comparison.metric) ?? 'metric'} difference (contender − baseline, better = positive)`,
      estimate: num(comparison.diff),
      low: num(comparison.ciLow)!,
      high: num(comparison.ciHigh)!,
      threshold: margin === null ? null : -margin,
      harmThreshold: null,
      rows: num(comparison.rows),
    };
  }
  return {
    id: e.id,
    phase: e.phase,
    version: e.version,
    decision: e.decision,
    outcome: str(decisionLike?.outcome) ?? str(ev.outcome) ?? str(comparison?.verdict),
    decidedBy: str(ev.decidedBy) ?? str(decisionLike?.decidedBy),
    reason: e.reason,
    at: e.at,
    workflowId: e.workflowId,
    runId: e.runId,
    baselineVersion: num(ev.baselineVersion),
    interval,
  };
}

/** The drift report a drift-triggered run names in its reason ("… report store://drift/<sha>/report.json"). */
export async function driftOfRun(store: ArtifactStore, reason: string | null): Promise<RunReportData['drift'] | string> {
  const uri = reason === null ? undefined : /store:\/\/drift\/[0-9a-f]{64}\/report\.json/.exec(reason)?.[0];
  if (uri === undefined) return 'the run was started by drift, but its lineage names no drift report';
  const sha256 = parseStoreUri(uri).sha256;
  let report: Json;
  try {
    report = JSON.parse((await store.readVerified({ uri, sha256 })).toString('utf8')) as Json;
  } catch (err) {
    return `the drift report ${uri} cannot be read: ${err instanceof Error ? err.message : String(err)}`;
  }
  const features = Array.isArray(report.features) ? report.features.filter(isObject) : [];
  return {
    uri,
    datasetDrift: typeof report.datasetDrift === 'boolean' ? report.datasetDrift : null,
    share: num(report.share),
    features: features.map((f) => ({
      feature: str(f.feature) ?? '?',
      method: str(f.method) ?? '?',
      statistic: num(f.statistic),
      threshold: num(f.effectiveThreshold) ?? num(f.threshold),
      drifted: typeof f.drifted === 'boolean' ? f.drifted : null,
    })),
  };
}

/** Gathers a run report's data for one registered version of `model` (the registry's model name). */
export async function loadRunReport(opts: {
  registry: RegistryStore;
  store: ArtifactStore;
  model: string;
  version: VersionRecord;
  runLink?: RunLink;
  now?: Date;
}): Promise<RunReportData> {
  const { registry, store, model, version: v } = opts;
  const notes: string[] = [];
  const metrics = v.metrics as Json;
  const lineage = v.lineage as Json;
  const gate = isObject(v.gate) && typeof v.gate.verdict === 'string' ? (v.gate as unknown as GateResult) : null;
  const primaryMetric = gate?.primaryMetric ?? Object.keys(isObject(metrics.cv) ? metrics.cv : {})[0] ?? 'metric';
  const holdout = isObject(metrics.holdout) ? metrics.holdout : {};

  let curves: EvaluationCurves | null = null;
  const curvesRef = isObject(holdout.curves) ? holdout.curves : null;
  if (curvesRef && typeof curvesRef.uri === 'string' && typeof curvesRef.sha256 === 'string') {
    try {
      curves = JSON.parse((await store.readVerified({ uri: curvesRef.uri, sha256: curvesRef.sha256 })).toString('utf8')) as EvaluationCurves;
    } catch (err) {
      notes.push(`the holdout curves ${curvesRef.uri} cannot be read: ${err instanceof Error ? err.message : String(err)}`);
    }
  } else {
    notes.push('no holdout curves were stored with this version (it was evaluated before curves were kept)');
  }

  const audit = await registry.auditLog(model);
  const ownMoves = audit.filter((a) => a.runId === v.runId && a.alias === CHAMPION_ALIAS);
  const decision = ownMoves.some((a) => a.action === 'rollback') ? 'rolled-back' : ownMoves.some((a) => a.action === 'promote' && a.toVersion === v.version) ? 'promoted' : 'rejected';
  const trigger = str(lineage.trigger);
  let drift: RunReportData['drift'] = null;
  // A drop of the estimated performance is found by the same drift check, whose report the reason names.
  if (trigger === 'drift' || trigger === 'estimated-performance') {
    const found = await driftOfRun(store, str(lineage.reason));
    if (typeof found === 'string') notes.push(found);
    else drift = found;
  }
  return {
    generatedAt: (opts.now ?? new Date()).toISOString(),
    model,
    version: v.version,
    workflowId: v.workflowId,
    runId: v.runId,
    createdAt: v.createdAt,
    trigger,
    estimator: str(lineage.estimator),
    parentVersion: num(lineage.parentVersion),
    decision,
    primaryMetric,
    lowerIsBetter: LOWER_IS_BETTER.has(primaryMetric),
    gate,
    cv: (isObject(metrics.cv) ? metrics.cv : {}) as Record<string, MetricSummary>,
    perFold: (Array.isArray(metrics.perFold) ? metrics.perFold : []) as Array<Record<string, number>>,
    holdout: {
      rows: num(holdout.rows),
      candidate: (isObject(holdout.candidate) ? holdout.candidate : {}) as Record<string, number>,
      champion: isObject(holdout.champion) ? (holdout.champion as Record<string, number>) : null,
    },
    curves,
    // The run's own windows: the shadow window of its candidate and the guard window after its promotion.
    windows: (await registry.listEvaluations(model)).filter((e) => e.runId === v.runId).map(windowRow),
    versions: await versionSeries(registry, model, primaryMetric),
    aliasHistory: audit,
    drift,
    webUiRun: opts.runLink?.(v.workflowId, v.runId) ?? null,
    notes,
  };
}
