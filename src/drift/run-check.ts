// One drift check of a model end to end: the champion's training snapshot as reference, a recent window of the
// configured source as current, the statistics, and the report (JSON + HTML) in the artifact store.
import path from 'node:path';
import { tableFromIPC, type Table } from 'apache-arrow';
import type { ModelConfig } from '../config/schema';
import { pullSnapshot } from '../data';
import { DataContractError } from '../errors';
import { CHAMPION_ALIAS, type Registry } from '../registry';
import type { ArtifactStore } from '../store';
import type { DriftCheckSummary } from '../../workflows/monitor';
import { checkDrift, type DriftReport } from './check';
import { renderDriftHtml } from './report-html';

/** What a check needs: the store (snapshots, reports), the registry (champion), the config's folder. */
export interface DriftCheckDeps {
  store: ArtifactStore;
  registry: Registry;
  baseDir: string;
}

/** Runs one check; `skipped` explains a check without a verdict (no champion, empty window). */
export async function runDriftCheck(
  deps: DriftCheckDeps,
  input: { model: string; modelConfig: ModelConfig; window: { from: string; to: string }; checkedAt: string; onProgress?: (p: unknown) => void },
): Promise<{ summary: DriftCheckSummary; report?: DriftReport }> {
  const { model, modelConfig: cfg, window, checkedAt } = input;
  const drift = cfg.drift;
  const base: DriftCheckSummary = { checkedAt, window };
  if (!drift) return { summary: { ...base, skipped: `model ${model} has no drift block` } };
  const alias = deps.registry.getAlias(model, CHAMPION_ALIAS);
  if (!alias) return { summary: { ...base, skipped: 'no champion yet: nothing to compare against' } };
  const champion = deps.registry.getVersion(model, alias.version);
  if (!champion) throw new Error(`registry: champion of ${model} points at missing v${alias.version}`);
  const reference = tableFromIPC(await deps.store.readVerified({ uri: champion.snapshotUri, sha256: champion.snapshotSha256 })) as Table;

  // The recent window goes through the same reader and derived columns as training data; value rules of the
  // contract are dropped because the point is to measure how the data changed, not to refuse it.
  const columns = Object.fromEntries(
    Object.entries(cfg.contract.columns).map(([name, c]) => [name, { type: c.type, nullable: true }]),
  );
  const features = [...cfg.features.numeric, ...cfg.features.categorical];
  let current: Table;
  try {
    const pulled = await pullSnapshot({
      source: {
        ...cfg.source,
        // Another file is read by its own extension.
        ...(drift.path ? { path: path.resolve(deps.baseDir, drift.path), format: undefined } : {}),
        window,
        sample: { maxRows: drift.maxRows, seed: 1 },
      },
      contract: { minRows: 1, columns },
      requiredColumns: [cfg.source.timeColumn, ...features],
      onProgress: input.onProgress,
    });
    current = pulled.table;
  } catch (err) {
    if (err instanceof DataContractError) return { summary: { ...base, championVersion: champion.version, skipped: err.message } };
    throw err;
  }
  const report = checkDrift(reference, current, {
    numeric: cfg.features.numeric,
    categorical: cfg.features.categorical,
    features: drift.features,
    correction: drift.correction,
    minSampleSize: drift.minSampleSize,
    driftShare: drift.driftShare,
    psiBins: drift.psiBins,
    jsBins: drift.jsBins,
  });
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
      report: { json: json.uri, html: html.uri },
    },
    report,
  };
}
