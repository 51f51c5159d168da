import type { DriftReport, FeatureDrift } from './check';
import type { DriftCheckReport } from './run-check';
import { renderExplainedDriftHtml } from './report-explained';
import { renderEstimatedHtml } from './estimated-check';

const escape = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const fmt = (x: number | null | undefined) => (x === null || x === undefined ? '—' : Math.abs(x) < 1e-3 && x !== 0 ? x.toExponential(3) : x.toFixed(4));

/** Side-by-side bars of reference and current shares, as inline SVG (no scripts, no external assets). */
function histogramSvg(f: FeatureDrift): string {
  const h = f.histogram;
  if (!h || h.labels.length === 0) return '';
  const barW = 14;
  const gap = 6;
  const height = 140;
  const max = Math.max(...h.reference, ...h.current, 1e-12);
  const width = h.labels.length * (2 * barW + gap) + 20;
  const bars = h.labels
    .map((label, i) => {
      const x = 10 + i * (2 * barW + gap);
      const r = (h.reference[i]! / max) * height;
      const c = (h.current[i]! / max) * height;
      return `<g><title>${escape(label)}: reference ${(h.reference[i]! * 100).toFixed(1)}%, current ${(h.current[i]! * 100).toFixed(1)}%</title>`
        + `<rect x="${x}" y="${height - r + 10}" width="${barW}" height="${r}" fill="#4c78a8"/>`
        + `<rect x="${x + barW}" y="${height - c + 10}" width="${barW}" height="${c}" fill="#f58518"/></g>`;
    })
    .join('');
  return `<svg width="${width}" height="${height + 20}" role="img" aria-label="histogram of ${escape(f.feature)}">${bars}</svg>`;
}

/** A static page a person can open: the verdict, every feature's statistics, a histogram per drifting feature. */
export function renderDriftHtml(report: DriftReport & Partial<Pick<DriftCheckReport, 'prediction' | 'multivariate' | 'metric' | 'estimated' | 'retrain' | 'source'>>, meta: { model: string; window: { from: string; to: string }; championVersion: number; checkedAt: string }): string {
  const rows = report.features
    .map(
      (f) => `<tr class="${f.drifted ? 'drift' : ''}"><td>${escape(f.feature)}</td><td>${f.kind}</td><td>${f.method}</td><td>${fmt(f.statistic)}</td>`
        + `<td>${fmt(f.effectiveThreshold)}${f.alpha === undefined ? '' : ` and p &lt; ${fmt(f.alpha)}`}</td>`
        + `<td>${f.effectSize ? `${f.effectSize.method} ${fmt(f.effectSize.value)}` : '—'}</td><td>${f.pValue ? `${f.pValue.method} ${fmt(f.pValue.value)}` : '—'}</td><td>${f.drifted === null ? `no verdict (${escape(f.note ?? '')})` : f.drifted ? 'DRIFT' : 'ok'}</td>`
        + `<td>${(f.reference.missingShare * 100).toFixed(1)}%</td><td>${(f.current.missingShare * 100).toFixed(1)}%</td></tr>`,
    )
    .join('\n');
  const p = report.prediction;
  const predictionPart = p
    ? `<h2>Prediction drift</h2><p>The champion's ${escape(p.what)} on the recent window vs on its training snapshot: ${p.method} ${fmt(p.statistic)} (threshold ${fmt(p.effectiveThreshold)}) — `
      + `<strong>${p.drifted === null ? `no verdict (${escape(p.note ?? '')})` : p.drifted ? 'DRIFT' : 'ok'}</strong>${p.triggers ? '' : ' (reported only, does not trigger)'}.</p>${histogramSvg(p)}`
    : '';
  const m = report.metric;
  const metricPart = m
    ? `<h2>${escape(m.metric)} on labelled recent rows</h2><p>${m.labelled} rows with labels (from ${m.labelsFrom}): ${fmt(m.value)}; champion's holdout ${fmt(m.championHoldout)}; `
      + `drop ${fmt(m.drop)}${m.maxDrop === null ? ' (no maximum drop configured)' : ` (max ${m.maxDrop}) — <strong>${m.drifted ? 'DRIFT' : m.drifted === null ? 'no verdict' : 'ok'}</strong>`}${m.note ? ` (${escape(m.note)})` : ''}.</p>`
    : '';
  const plots = report.features
    .filter((f) => f.drifted)
    .map((f) => `<h3>${escape(f.feature)} <small>${f.method} ${fmt(f.statistic)}</small></h3>${histogramSvg(f)}`)
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Drift report: ${escape(meta.model)}</title>
<style>body{font:14px system-ui,sans-serif;margin:2em}table{border-collapse:collapse}td,th{padding:4px 10px;border-bottom:1px solid #ddd;text-align:left}
tr.drift td{background:#fde8e8}.legend span{display:inline-block;width:12px;height:12px;margin:0 4px 0 12px}</style></head>
<body><h1>Drift report: ${escape(meta.model)}</h1>
<p>Window ${escape(meta.window.from)} → ${escape(meta.window.to)} (${report.currentRows} rows) against the training snapshot of champion v${meta.championVersion} (${report.referenceRows} rows), checked ${escape(meta.checkedAt)}.</p>
${renderExplainedDriftHtml(report.multivariate)}
<p><strong>${report.datasetDrift ? 'Dataset drift' : 'No dataset drift'}</strong>: ${report.drifted} of ${report.checked} checked features drifted (share ${report.share.toFixed(3)}, threshold ${report.driftShare}); decided by ${report.decision}; p-value thresholds corrected by ${report.correction}.</p>
<table><thead><tr><th>feature</th><th>kind</th><th>method</th><th>statistic</th><th>threshold</th><th>effect size</th><th>p-value</th><th>verdict</th><th>missing (ref)</th><th>missing (cur)</th></tr></thead>
<tbody>
${rows}
</tbody></table>
${report.retrain === undefined ? '' : `<p>Source: ${escape(report.source ?? 'data')}. <strong>${report.retrain ? 'Retraining asked for' : 'No retraining needed'}</strong>.</p>`}
${renderEstimatedHtml(report.estimated)}
${predictionPart}
${metricPart}
<h2>Drifting features</h2><p class="legend"><span style="background:#4c78a8"></span>reference<span style="background:#f58518"></span>current</p>
${plots || '<p>none</p>'}
</body></html>
`;
}
