// The run report as one HTML file that opens without a network: vega, vega-lite and vega-embed (their npm packages'
// minified browser builds) are inlined, and every chart carries its data. Rendered to SVG, so the marks are elements
// a reader can inspect and a test can count.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { html, raw } from 'hono/html';
import type { HtmlEscapedString } from 'hono/utils/html';
import type { AuditEntry } from '../registry';
import type { RunReportData } from './data';
import { type ReportChart, reportCharts } from './specs';

const require = createRequire(import.meta.url);

/** The browser builds the page inlines, in load order (vega-lite and vega-embed need vega first). */
const CHART_LIBRARIES = [
  ['vega', 'vega.min.js'],
  ['vega-lite', 'vega-lite.min.js'],
  ['vega-embed', 'vega-embed.min.js'],
] as const;

let libraries: { code: string; versions: Record<string, string> } | undefined;

/** The three libraries' code (read once per process) and their versions. */
export function chartLibraries(): { code: string; versions: Record<string, string> } {
  if (libraries) return libraries;
  const versions: Record<string, string> = {};
  const parts: string[] = [];
  for (const [pkg, file] of CHART_LIBRARIES) {
    // The packages export only their module entry; the browser build sits beside it in build/.
    const dir = path.dirname(require.resolve(pkg));
    const code = readFileSync(path.join(dir, file), 'utf8')
      // A source-map comment would make a browser's developer tools look for a file that is not there.
      .replace(/\n\/\/# sourceMappingURL=\S+\s*$/, '\n')
      // Inside a <script>, "</script" would end it early.
      .replaceAll('</script', '<\\/script');
    // package.json is not exported either; it sits one folder up from build/.
    versions[pkg] = (JSON.parse(readFileSync(path.join(dir, '..', 'package.json'), 'utf8')) as { version: string }).version;
    parts.push(`/* ${pkg} ${versions[pkg]} */\n${code}`);
  }
  libraries = { code: parts.join('\n;\n'), versions };
  return libraries;
}

/** JSON that is safe inside a <script> element. */
function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

function fmt(value: number | null | undefined, digits = 4): string {
  return value === null || value === undefined || !Number.isFinite(value) ? '—' : value.toFixed(digits);
}

function versionLabel(v: number | null): string {
  return v === null ? '(none)' : `v${v}`;
}

/** The alias audit log as a list, oldest first: when, which alias, from → to, what kind of move, why, by which run. */
export function aliasTimeline(entries: readonly AuditEntry[], runLink?: (workflowId: string, runId: string) => string | undefined): HtmlEscapedString | Promise<HtmlEscapedString> {
  if (entries.length === 0) return html`<p class="muted">No alias has been moved yet.</p>`;
  return html`<ol class="timeline">
    ${entries.map((e) => {
      const link = runLink?.(e.workflowId, e.runId);
      return html`<li class="event ev-${e.action}" data-action="${e.action}" data-alias="${e.alias}" data-from="${e.fromVersion ?? ''}" data-to="${e.toVersion ?? ''}">
        <time datetime="${e.at}">${e.at.replace('T', ' ').slice(0, 19)} UTC</time>
        <span class="alias">${e.alias}</span> <span class="move">${versionLabel(e.fromVersion)} → ${versionLabel(e.toVersion)}</span>
        <span class="action">${e.action}</span>
        <div class="reason">${e.reason}</div>
        <div class="by muted">by run ${link ? html`<a href="${link}">${e.runId}</a>` : e.runId}</div>
      </li>`;
    })}
  </ol>`;
}

/** Styles shared by the report and the registry page. */
export const PAGE_CSS = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;color:#222;background:#fafafa}
header{background:#20232a;color:#fff;padding:14px 24px}header a{color:#9cf}
header h1{margin:0;font-size:20px}main{padding:8px 24px 40px;max-width:1400px}
h2{font-size:16px;margin:26px 0 8px;border-bottom:1px solid #ddd;padding-bottom:4px}
table{border-collapse:collapse;background:#fff}th,td{border:1px solid #ddd;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f0f0f0}td.num{text-align:right;font-variant-numeric:tabular-nums}
.muted{color:#777}.pass,.PASS,.promoted,.promote,.keep{color:#1a7f37}.fail,.REJECT,.rejected,.reject,.rollback,.rolled-back{color:#c62828}
.charts{display:flex;flex-wrap:wrap;gap:18px}.chart{background:#fff;border:1px solid #ddd;padding:10px;min-width:300px}
.chart h3{margin:0 0 2px;font-size:14px}.chart p{margin:0 0 8px;font-size:12px;max-width:520px}
ol.timeline{list-style:none;padding-left:0;border-left:3px solid #ccc;margin-left:8px}
ol.timeline li{position:relative;margin:0 0 12px 0;padding-left:16px}
ol.timeline li::before{content:"";position:absolute;left:-8px;top:5px;width:11px;height:11px;border-radius:50%;background:#888}
ol.timeline li.ev-promote::before{background:#2ca02c}ol.timeline li.ev-rollback::before{background:#d62728}
ol.timeline li[class*="-rejected"]::before{background:#fff;border:2px solid #999}
.timeline time{font-family:ui-monospace,monospace;font-size:12px;color:#555;margin-right:8px}
.alias{font-weight:600}.ev-promote .action{color:#1a7f37}.ev-rollback .action{color:#c62828}.action{margin-left:8px;font-size:12px;text-transform:uppercase;letter-spacing:.04em}
.reason{font-size:13px}code{font-size:12px}
`;

function metricsTable(data: RunReportData): HtmlEscapedString | Promise<HtmlEscapedString> {
  const names = Object.keys(data.cv);
  return html`<table class="metrics">
    <tr><th>metric</th><th>CV mean ± std</th><th>95% interval</th><th>candidate on holdout</th>${data.holdout.champion ? html`<th>champion v${data.parentVersion ?? '?'} on holdout</th>` : ''}</tr>
    ${names.map((m) => {
      const s = data.cv[m]!;
      return html`<tr${m === data.primaryMetric ? raw(' class="primary"') : ''}><td>${m}${m === data.primaryMetric ? ' (primary)' : ''}</td>
        <td class="num">${fmt(s.mean)} ± ${fmt(s.std)}</td><td class="num">${fmt(s.ciLow)} … ${fmt(s.ciHigh)}</td>
        <td class="num">${fmt(data.holdout.candidate[m])}</td>${data.holdout.champion ? html`<td class="num">${fmt(data.holdout.champion[m])}</td>` : ''}</tr>`;
    })}
  </table>`;
}

function chartBlock(c: ReportChart): HtmlEscapedString | Promise<HtmlEscapedString> {
  return html`<section class="chart" id="chart-${c.id}" data-chart="${c.id}"><h3>${c.title}</h3><p class="muted">${c.caption}</p><div class="vis"></div></section>`;
}

/** The whole report page. */
export async function renderReportHtml(data: RunReportData): Promise<string> {
  const charts = reportCharts(data);
  const libs = chartLibraries();
  const title = `${data.model} v${data.version} — ${data.decision}`;
  const embed = `
(function () {
  var charts = ${scriptJson(charts.map((c) => ({ id: c.id, spec: c.spec })))};
  var done = 0;
  charts.forEach(function (c) {
    var box = document.getElementById('chart-' + c.id);
    vegaEmbed(box.querySelector('.vis'), c.spec, { actions: false, renderer: 'svg' })
      .then(function () { box.setAttribute('data-rendered', 'true'); })
      .catch(function (err) { box.setAttribute('data-rendered', 'error'); box.querySelector('.vis').textContent = 'chart failed: ' + err; })
      .then(function () { done += 1; if (done === charts.length) document.body.setAttribute('data-charts-done', String(done)); });
  });
  if (charts.length === 0) document.body.setAttribute('data-charts-done', '0');
})();`;
  const page = html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title><style>${raw(PAGE_CSS)}</style></head>
<body data-model="${data.model}" data-version="${data.version}" data-run-id="${data.runId}">
<header><h1>${data.model} v${data.version} — <span class="${data.decision}">${data.decision}</span></h1>
<div>run <code>${data.workflowId}</code> / <code>${data.runId}</code>${data.webUiRun ? html` · <a id="web-ui-run" href="${data.webUiRun}">open in the Temporal Web UI</a>` : ''}</div></header>
<main>
<p>Registered ${data.createdAt.replace('T', ' ').slice(0, 19)} UTC · trigger <b>${data.trigger ?? '?'}</b> · estimator ${data.estimator ?? '?'} ·
compared with ${data.parentVersion === null ? 'no champion (first version)' : `champion v${data.parentVersion}`} · primary metric <b>${data.primaryMetric}</b> (${data.lowerIsBetter ? 'lower' : 'higher'} is better)</p>
<h2>Gate: <span class="${data.gate?.verdict ?? ''}">${data.gate?.verdict ?? 'not recorded'}</span></h2>
${data.gate ? html`<ul class="gate">${data.gate.rules.map((r) => html`<li class="${r.passed ? 'pass' : 'fail'}">${r.passed ? '✓' : '✗'} ${r.reason}</li>`)}</ul>` : ''}
<h2>Metrics</h2>
${metricsTable(data)}
<h2>Charts</h2>
<div class="charts">${charts.map(chartBlock)}</div>
${data.windows.length > 0
    ? html`<h2>Live-traffic decisions</h2><table class="windows"><tr><th>when</th><th>phase</th><th>version</th><th>decision</th><th>outcome</th><th>decided by</th><th>reason</th></tr>
  ${data.windows.map((w) => html`<tr><td>${w.at.replace('T', ' ').slice(0, 19)}</td><td>${w.phase}</td><td>v${w.version}${w.baselineVersion !== null ? ` vs v${w.baselineVersion}` : ''}</td><td class="${w.decision}">${w.decision}</td><td class="${w.outcome ?? ''}">${w.outcome ?? '—'}</td><td>${w.decidedBy ?? '—'}</td><td>${w.reason}</td></tr>`)}</table>`
    : ''}
<h2>Alias history of ${data.model}</h2>
${aliasTimeline(data.aliasHistory)}
${data.notes.length > 0 ? html`<h2>Not shown</h2><ul class="notes">${data.notes.map((n) => html`<li>${n}</li>`)}</ul>` : ''}
<p class="muted">Generated ${data.generatedAt} by relearn report from the run's stored evaluation; charts by vega ${libs.versions.vega}, vega-lite ${libs.versions['vega-lite']}, vega-embed ${libs.versions['vega-embed']} (inlined: the page needs no network).</p>
</main>
<script>${raw(libs.code)}</script>
<script>${raw(embed)}</script>
</body></html>`;
  return String(await page);
}
