// A version's lineage, from the registry and its audit log: data snapshot → training jobs → ONNX artifact →
// evaluations → gate → promotions and rollbacks.
import path from 'node:path';
import { ConfigError } from '../errors';
import type { AliasRecord, AuditEntry, RegistryStore } from '../registry';
import type { GateResult, MetricSummary, UndefinedMetricsOfEvaluation } from '../contracts';

/** One training job behind a version. */
export interface LineageJob {
  role: string;
  jobId: string;
  run: number;
  model: { uri: string; sha256: string } | null;
  /** The job's folder (spec, logs, outputs) under the state folder. */
  dir: string;
}

/** Everything `relearn lineage` prints. */
export interface VersionLineage {
  model: string;
  version: number;
  createdAt: string;
  workflowId: string;
  runId: string;
  trigger: string | null;
  configDigest: string | null;
  parentVersion: number | null;
  estimator: string | null;
  snapshot: { uri: string; sha256: string; rows: number | null; window: unknown; stats: string | null };
  split: string | null;
  jobs: LineageJob[];
  artifact: { uri: string; sha256: string; sizeBytes: number };
  evaluation: {
    cv: Record<string, MetricSummary>;
    perFold: Array<Record<string, number>>;
    holdout: { rows?: number; candidate?: Record<string, number>; champion?: Record<string, number> };
    /** Why metrics are undefined, for versions registered since reasons are recorded. */
    undefined?: UndefinedMetricsOfEvaluation;
  };
  gate: GateResult | null;
  aliases: AliasRecord[];
  /** Alias moves to or from this version, oldest first. */
  events: AuditEntry[];
}

type Json = Record<string, unknown>;

/** Reads a version's lineage from the registry; `jobsDir` is where the local launcher keeps job folders. */
export async function versionLineage(registry: RegistryStore, model: string, version: number, jobsDir: string): Promise<VersionLineage> {
  const v = await registry.getVersion(model, version);
  if (!v) {
    const known = (await registry.listVersions(model)).map((x) => `v${x.version}`);
    throw new ConfigError(`${model} has no version ${version}${known.length ? ` (registered: ${known.join(', ')})` : ' (nothing registered yet)'}`);
  }
  const lineage = v.lineage as Json;
  const metrics = v.metrics as Json;
  const stats = lineage.stats as { uri?: string } | undefined;
  const jobs = (lineage.jobs as Array<{ role: string; jobId: string; run: number; model?: { uri: string; sha256: string } }> | undefined) ?? [];
  return {
    model,
    version,
    createdAt: v.createdAt,
    workflowId: v.workflowId,
    runId: v.runId,
    trigger: (lineage.trigger as string | undefined) ?? null,
    configDigest: (lineage.configDigest as string | undefined) ?? null,
    parentVersion: (lineage.parentVersion as number | null | undefined) ?? null,
    estimator: (lineage.estimator as string | undefined) ?? null,
    snapshot: {
      uri: v.snapshotUri,
      sha256: v.snapshotSha256,
      rows: (lineage.snapshotRows as number | undefined) ?? null,
      window: lineage.snapshotWindow ?? null,
      stats: stats?.uri ?? null,
    },
    split: ((lineage.split as { uri?: string } | undefined)?.uri as string | undefined) ?? null,
    jobs: jobs.map((j) => ({
      role: j.role,
      jobId: j.jobId,
      run: j.run,
      model: j.model ? { uri: j.model.uri, sha256: j.model.sha256 } : null,
      dir: path.join(jobsDir, j.jobId, 'runs', String(j.run)),
    })),
    artifact: { uri: v.artifactUri, sha256: v.artifactSha256, sizeBytes: v.sizeBytes },
    evaluation: {
      cv: (metrics.cv as Record<string, MetricSummary> | undefined) ?? {},
      perFold: (metrics.perFold as Array<Record<string, number>> | undefined) ?? [],
      holdout: (metrics.holdout as VersionLineage['evaluation']['holdout'] | undefined) ?? {},
      ...(metrics.undefined ? { undefined: metrics.undefined as UndefinedMetricsOfEvaluation } : {}),
    },
    gate: (v.gate as unknown as GateResult | undefined) ?? null,
    aliases: (await registry.listAliases(model)).filter((a) => a.version === version),
    events: (await registry.auditLog(model))
      .filter((a) => a.toVersion === version || a.fromVersion === version)
      .sort((a, b) => a.id - b.id),
  };
}
