// Finding and describing retrain runs: visibility queries on Relearn's search attributes, then the run's history,
// its `status` query while it runs, and what the registry kept of it.
import { type Client, WorkflowNotFoundError } from '@temporalio/client';
import { ConfigError } from '../errors';
import type { AuditEntry, RegistryStore, VersionRecord } from '../registry';
import { readRunHistory, type RunHistory } from './history';
import { retrainWorkflowId, type Decision, type RetrainResult, type RetrainStatus, type Trigger } from '../contracts';

/** Filters of `relearn runs`, all on search attributes or built-in visibility fields. */
export interface RunFilters {
  model?: string;
  decision?: Decision;
  trigger?: Trigger;
  /** ISO date-time; runs started at or after it. */
  since?: string;
}

/** Values the decision and trigger filters accept. */
export const DECISIONS: readonly Decision[] = ['promoted', 'rejected', 'rolled-back', 'failed'];
export const TRIGGERS: readonly Trigger[] = ['schedule', 'drift', 'estimated-performance', 'manual', 'api'];

function quote(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/** The visibility query for the filters (newest first is the server's order). */
export function runsQuery(filters: RunFilters): string {
  const parts = ["WorkflowType = 'retrain'"];
  if (filters.model) parts.push(`RelearnModel = ${quote(filters.model)}`);
  if (filters.decision) parts.push(`RelearnDecision = ${quote(filters.decision)}`);
  if (filters.trigger) parts.push(`RelearnTrigger = ${quote(filters.trigger)}`);
  if (filters.since) parts.push(`StartTime >= ${quote(filters.since)}`);
  return parts.join(' AND ');
}

/**
 * Parses `--since`: a date or date-time (`2001-03-01`, `2026-05-01T10:00:00Z`) or an age (`30m`, `12h`, `7d`, `2w`)
 * counted back from `now`. Returns an ISO date-time.
 */
export function parseSince(value: string, now: Date = new Date()): string {
  const age = /^(\d+(?:\.\d+)?)\s*(m|h|d|w)$/.exec(value.trim());
  if (age) {
    const unitMs = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000 }[age[2] as 'm' | 'h' | 'd' | 'w'];
    return new Date(now.getTime() - Number(age[1]) * unitMs).toISOString();
  }
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw new ConfigError(`--since: '${value}' is neither a date (2001-03-01) nor an age (30m, 12h, 7d, 2w)`);
  return new Date(ms).toISOString();
}

/** One line of `relearn runs`. */
export interface RunListing {
  workflowId: string;
  runId: string;
  status: string;
  startTime: string;
  closeTime: string | null;
  model: string | null;
  trigger: string | null;
  stage: string | null;
  decision: string | null;
  version: number | null;
  primaryMetric: number | null;
}

/** Runs matching the filters, newest first. */
export async function listRuns(client: Client, filters: RunFilters, limit: number): Promise<RunListing[]> {
  const runs: RunListing[] = [];
  for await (const wf of client.workflow.list({ query: runsQuery(filters), pageSize: Math.min(limit, 1000) })) {
    const sa = wf.typedSearchAttributes;
    runs.push({
      workflowId: wf.workflowId,
      runId: wf.runId,
      status: wf.status.name,
      startTime: wf.startTime.toISOString(),
      closeTime: wf.closeTime?.toISOString() ?? null,
      model: sa.get({ name: 'RelearnModel', type: 'KEYWORD' }) ?? null,
      trigger: sa.get({ name: 'RelearnTrigger', type: 'KEYWORD' }) ?? null,
      stage: sa.get({ name: 'RelearnStage', type: 'KEYWORD' }) ?? null,
      decision: sa.get({ name: 'RelearnDecision', type: 'KEYWORD' }) ?? null,
      version: sa.get({ name: 'RelearnVersion', type: 'INT' }) ?? null,
      primaryMetric: sa.get({ name: 'RelearnPrimaryMetric', type: 'DOUBLE' }) ?? null,
    });
    if (runs.length >= limit) break;
  }
  return runs;
}

/**
 * Resolves `relearn show`'s run argument: nothing = the newest run of the model, `v<N>` = the run that produced
 * version N, anything else = a run id or a unique prefix of one.
 */
export async function resolveRun(
  client: Client,
  registry: RegistryStore,
  model: string,
  ref?: string,
  registryModel: string = model,
): Promise<{ workflowId: string; runId: string }> {
  const workflowId = retrainWorkflowId(model);
  if (ref === undefined) {
    const [newest] = await listRuns(client, { model }, 1);
    if (!newest) throw new ConfigError(`no runs of ${model} yet`);
    return { workflowId, runId: newest.runId };
  }
  const version = /^v?(\d+)$/.exec(ref);
  if (version && ref.length < 10) {
    const record = await registry.getVersion(registryModel, Number(version[1]));
    if (!record) throw new ConfigError(`${model} has no version ${version[1]}`);
    return { workflowId: record.workflowId, runId: record.runId };
  }
  const matches = (await listRuns(client, { model }, 1000)).filter((r) => r.runId.startsWith(ref));
  if (matches.length === 1) return { workflowId, runId: matches[0]!.runId };
  if (matches.length > 1) throw new ConfigError(`run '${ref}' is ambiguous: ${matches.map((m) => m.runId.slice(0, 12)).join(', ')}`);
  throw new ConfigError(`no run of ${model} has the id '${ref}'`);
}

/** Everything `relearn show` prints about one run. */
export interface RunReport {
  model: string;
  workflowId: string;
  runId: string;
  status: string;
  startTime: string;
  closeTime: string | null;
  durationMs: number | null;
  trigger: string | null;
  stage: string | null;
  decision: string | null;
  version: number | null;
  memo: Record<string, unknown>;
  history: RunHistory;
  /** The `status` query's answer while the run is going. */
  live?: RetrainStatus;
  result?: RetrainResult;
  /** The version the run registered, with its stored metrics and gate. */
  registered?: VersionRecord;
  /** Alias moves this run made (promotions, rollbacks). */
  audit: AuditEntry[];
}

/** Collects a run's report from Temporal (description, history, status query) and the registry. */
export async function inspectRun(
  client: Client,
  registry: RegistryStore,
  model: string,
  run: { workflowId: string; runId: string },
  registryModel: string = model,
): Promise<RunReport> {
  const handle = client.workflow.getHandle(run.workflowId, run.runId);
  let description;
  try {
    description = await handle.describe();
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) throw new ConfigError(`run ${run.runId} of ${model} is not on the server (its retention may have passed)`);
    throw err;
  }
  const history = readRunHistory(await handle.fetchHistory());
  const sa = description.typedSearchAttributes;
  let live: RetrainStatus | undefined;
  if (description.status.name === 'RUNNING') {
    live = await handle.query<RetrainStatus>('status').catch(() => undefined);
  }
  const registered = await registry.getVersionByRun(registryModel, run.workflowId, run.runId) ?? undefined;
  const start = description.startTime.getTime();
  const close = description.closeTime?.getTime();
  return {
    model,
    workflowId: run.workflowId,
    runId: run.runId,
    status: description.status.name,
    startTime: description.startTime.toISOString(),
    closeTime: description.closeTime?.toISOString() ?? null,
    durationMs: close === undefined ? Date.now() - start : close - start,
    trigger: sa.get({ name: 'RelearnTrigger', type: 'KEYWORD' }) ?? null,
    stage: sa.get({ name: 'RelearnStage', type: 'KEYWORD' }) ?? null,
    decision: sa.get({ name: 'RelearnDecision', type: 'KEYWORD' }) ?? null,
    version: sa.get({ name: 'RelearnVersion', type: 'INT' }) ?? null,
    memo: description.memo ?? {},
    history,
    live,
    result: history.result as RetrainResult | undefined,
    registered,
    audit: (await registry.auditLog(registryModel)).filter((a) => a.runId === run.runId),
  };
}
