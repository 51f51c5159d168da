/** Run reports: one self-contained HTML page per registered version, drawn from what its run stored. */
import type { RegistryStore } from '../registry';
import type { ArtifactRef, ArtifactStore } from '../store';
import { type RunLink, findReportVersion, loadRunReport } from './data';
import { renderReportHtml } from './html';

export { aliasTimeline, chartLibraries, PAGE_CSS, renderReportHtml } from './html';
export { driftOfRun, findReportVersion, loadRunReport, versionOutcomes, versionSeries, windowRow } from './data';
export type { DriftFeatureRow, RunLink, RunReportData, VersionPoint, WindowRow } from './data';
export { reportCharts } from './specs';
export type { ReportChart, VegaLiteSpec } from './specs';

/** A written report: where it is in the store, its file, and how long it took to build. */
export interface WrittenReport {
  artifact: ArtifactRef;
  path: string;
  model: string;
  version: number;
  runId: string;
  buildMs: number;
}

/**
 * Builds the report of one registered version of `model` (the registry's name; `ref` as findReportVersion takes it)
 * and stores it in the artifact store as `report/<model>-v<N>.html` (content-addressed: the same page, the same file).
 */
export async function writeRunReport(opts: { registry: RegistryStore; store: ArtifactStore; model: string; ref?: string; runLink?: RunLink }): Promise<WrittenReport> {
  const started = performance.now();
  const version = await findReportVersion(opts.registry, opts.model, opts.ref);
  const data = await loadRunReport({ ...opts, version });
  const page = await renderReportHtml(data);
  const artifact = await opts.store.putBytes('report', `${opts.model}-v${version.version}.html`, new TextEncoder().encode(page));
  return { artifact, path: opts.store.locate(artifact.uri), model: opts.model, version: version.version, runId: version.runId, buildMs: performance.now() - started };
}
