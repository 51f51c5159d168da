// The registry page: a small read-only web view of the model registry, rendered on the server with Hono's html
// templates (escaped by default, no build step), plus the same facts as JSON. Models; per model its versions with
// metrics, gate verdicts and live-traffic evaluations, and the alias history as a timeline; per version its lineage
// (snapshot → jobs → ONNX → evaluations → promotions) with links into the Temporal Web UI, and its run report.
// It only reads: the registry is opened by the caller, nothing here writes to it or to the store.
import { createHash, timingSafeEqual } from 'node:crypto';
import path from 'node:path';
import { Hono } from 'hono';
import { getCookie, setCookie } from 'hono/cookie';
import { html, raw } from 'hono/html';
import type { HtmlEscapedString } from 'hono/utils/html';
import { type VersionLineage, versionLineage } from '../inspect/lineage';
import { CHAMPION_ALIAS, type EvaluationRecord, type RegistryStore } from '../registry';
import { PAGE_CSS, type RunLink, aliasTimeline, findReportVersion, loadRunReport, renderReportHtml, versionSeries, windowRow } from '../report';
import type { ArtifactStore } from '../store';

/** What the registry page reads. */
export interface RegistryUiDeps {
  registry: RegistryStore;
  store: ArtifactStore;
  /** Where the local launcher keeps job folders (`<stateDir>/jobs`), shown in the lineage. */
  jobsDir: string;
  /** Bearer token the pages require (also accepted from the login cookie); null turns authentication off. */
  token: string | null;
  /** Builds the Temporal Web UI address of a run; absent when the Web UI is unknown. */
  runLink?: RunLink;
}

/** Name of the cookie a browser keeps the token in after the login form. */
export const TOKEN_COOKIE = 'relearn_token';

type Page = HtmlEscapedString | Promise<HtmlEscapedString>;

function digest(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}

function fmt(value: unknown, digits = 4): string {
  return typeof value === 'number' && Number.isFinite(value) ? value.toFixed(digits) : '—';
}

function when(iso: string): string {
  return `${iso.replace('T', ' ').slice(0, 19)} UTC`;
}

function layout(title: string, body: Page, crumbs: Array<[string, string]> = []): Page {
  return html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${title} · Relearn registry</title>
<style>${raw(PAGE_CSS)}nav a{color:#9cf;margin-right:6px}</style></head>
<body><header><nav><a href="/">Relearn registry</a>${crumbs.map(([href, label]) => html` › <a href="${href}">${label}</a>`)}</nav><h1>${title}</h1></header>
<main>${body}</main></body></html>`;
}

function modelHref(model: string): string {
  return `/models/${encodeURIComponent(model)}`;
}

function versionHref(model: string, version: number): string {
  return `${modelHref(model)}/versions/${version}`;
}

function runCell(deps: RegistryUiDeps, workflowId: string, runId: string): Page {
  const link = deps.runLink?.(workflowId, runId);
  return link ? html`<a class="web-ui" href="${link}" data-workflow-id="${workflowId}" data-run-id="${runId}">${runId.slice(0, 8)}…</a>` : html`<code>${runId.slice(0, 8)}…</code>`;
}

function evaluationsCell(evaluations: EvaluationRecord[]): Page {
  if (evaluations.length === 0) return html`<span class="muted">—</span>`;
  return html`${evaluations.map((e) => {
    const row = windowRow(e);
    return html`<div><b>${e.phase}</b>: <span class="${e.decision}">${e.decision}</span>${row.outcome ? html` (${row.outcome})` : ''}</div>`;
  })}`;
}

/** The registry page's app; tested with `app.request(...)`, served by `relearn ui`. */
export function createRegistryUiApp(deps: RegistryUiDeps): Hono {
  const app = new Hono();
  const expected = deps.token === null ? null : digest(deps.token);

  app.get('/healthz', (c) => c.text('ok'));

  // A browser cannot send a bearer header by itself: the login form trades the token for an HttpOnly cookie.
  app.get('/login', (c) => c.html(loginPage()));
  app.post('/login', async (c) => {
    const form = await c.req.parseBody();
    const token = typeof form.token === 'string' ? form.token.trim() : '';
    if (expected !== null && !timingSafeEqual(digest(token), expected)) return c.html(loginPage('That token is not the one this server was started with.'), 401);
    setCookie(c, TOKEN_COOKIE, token, { httpOnly: true, sameSite: 'Strict', path: '/' });
    return c.redirect('/', 303);
  });

  app.use('*', async (c, next) => {
    if (expected === null) return next();
    const bearer = /^Bearer\s+(\S+)\s*$/i.exec(c.req.header('authorization') ?? '')?.[1];
    const presented = bearer ?? getCookie(c, TOKEN_COOKIE);
    if (presented !== undefined && timingSafeEqual(digest(presented), expected)) return next();
    c.header('WWW-Authenticate', 'Bearer realm="relearn"');
    return c.req.path.startsWith('/api/') ? c.json({ error: 'missing or invalid bearer token', code: 'unauthorized' }, 401) : c.html(loginPage(), 401);
  });

  app.get('/', async (c) => c.html(await modelsPage(deps)));
  app.get('/api/models', async (c) => c.json(await deps.registry.listModels()));

  app.get('/models/:model', async (c) => {
    const model = c.req.param('model');
    if ((await deps.registry.listVersions(model)).length === 0) return c.html(layout('Not found', html`<p>No model ${model} in this registry.</p>`), 404);
    return c.html(await modelPage(deps, model));
  });
  app.get('/api/models/:model', async (c) => {
    const model = c.req.param('model');
    const versions = await deps.registry.listVersions(model);
    if (versions.length === 0) return c.json({ error: `no model ${model} in this registry`, code: 'not_found' }, 404);
    return c.json({ model, versions, aliases: await deps.registry.listAliases(model), aliasHistory: await deps.registry.auditLog(model), evaluations: await deps.registry.listEvaluations(model) });
  });

  app.get('/models/:model/versions/:version', async (c) => {
    const lineage = await lineageOf(deps, c.req.param('model'), c.req.param('version'));
    return lineage === null ? c.html(layout('Not found', html`<p>No such version.</p>`), 404) : c.html(await lineagePage(deps, lineage));
  });
  app.get('/api/models/:model/versions/:version', async (c) => {
    const lineage = await lineageOf(deps, c.req.param('model'), c.req.param('version'));
    return lineage === null ? c.json({ error: 'no such version', code: 'not_found' }, 404) : c.json(lineage);
  });

  // The run report, drawn when asked from what the run stored (the same page `relearn report` writes).
  app.get('/models/:model/versions/:version/report', async (c) => {
    const model = c.req.param('model');
    const version = c.req.param('version');
    if (!/^\d{1,9}$/.test(version) || (await deps.registry.getVersion(model, Number(version))) === null) return c.html(layout('Not found', html`<p>No such version.</p>`), 404);
    const data = await loadRunReport({ ...deps, model, version: await findReportVersion(deps.registry, model, version), ...(deps.runLink ? { runLink: deps.runLink } : {}) });
    return c.html(await renderReportHtml(data));
  });

  app.notFound((c) => c.html(layout('Not found', html`<p>Nothing at ${c.req.path}.</p>`), 404));
  return app;
}

async function lineageOf(deps: RegistryUiDeps, model: string, version: string): Promise<VersionLineage | null> {
  if (!/^\d{1,9}$/.test(version) || (await deps.registry.getVersion(model, Number(version))) === null) return null;
  return versionLineage(deps.registry, model, Number(version), deps.jobsDir);
}

function loginPage(problem?: string): Page {
  return layout(
    'Sign in',
    html`${problem ? html`<p class="fail">${problem}</p>` : ''}
<p>This registry page asks for the token <code>relearn ui</code> was started with (<code>RELEARN_SERVE_TOKEN</code> or <code>--token-file</code>).</p>
<form method="post" action="/login"><input type="password" name="token" size="40" autocomplete="current-password" autofocus> <button type="submit">Sign in</button></form>`,
  );
}

async function modelsPage(deps: RegistryUiDeps): Promise<Page> {
  const models = await deps.registry.listModels();
  const audits = new Map(await Promise.all(models.map(async (m) => [m.model, await deps.registry.auditLog(m.model)] as const)));
  return layout(
    'Models',
    models.length === 0
      ? html`<p class="muted">Nothing is registered yet: a run registers a version when it reaches the gate.</p>`
      : html`<table class="models"><tr><th>model</th><th>versions</th><th>champion</th><th>aliases</th><th>last alias move</th></tr>
${models.map((m) => {
  const last = (audits.get(m.model) ?? []).filter((e) => !e.action.endsWith('-rejected')).at(-1);
  return html`<tr><td><a class="model" href="${modelHref(m.model)}">${m.model}</a></td><td class="num">${m.versionCount}</td>
<td>${m.aliases[CHAMPION_ALIAS] !== undefined ? html`<a href="${versionHref(m.model, m.aliases[CHAMPION_ALIAS]!)}">v${m.aliases[CHAMPION_ALIAS]}</a>` : html`<span class="muted">none</span>`}</td>
<td>${Object.entries(m.aliases).map(([alias, v]) => `${alias} → v${v}`).join(', ')}</td>
<td>${last ? `${when(last.at)}: ${last.alias} ${last.action} v${last.fromVersion ?? '-'} → v${last.toVersion ?? '-'}` : '—'}</td></tr>`;
})}</table>`,
  );
}

async function modelPage(deps: RegistryUiDeps, model: string): Promise<Page> {
  const versions = await deps.registry.listVersions(model);
  const aliases = await deps.registry.listAliases(model);
  const evaluations = await deps.registry.listEvaluations(model);
  const gateOf = (v: (typeof versions)[number]) => v.gate as { verdict?: string; primaryMetric?: string; rules?: Array<{ passed: boolean; reason: string }> };
  const primary = gateOf(versions.at(-1)!).primaryMetric ?? 'roc_auc';
  const series = new Map((await versionSeries(deps.registry, model, primary)).map((p) => [p.version, p]));
  return layout(
    model,
    html`<p>Aliases now: ${aliases.length === 0 ? 'none' : aliases.map((a) => html`<b>${a.alias}</b> → <a href="${versionHref(model, a.version)}">v${a.version}</a> `)}</p>
<h2>Versions</h2>
<table class="versions"><tr><th>version</th><th>registered</th><th>${primary} (CV mean ± std)</th><th>holdout</th><th>gate</th><th>live-traffic evaluations</th><th>became champion?</th><th>run</th><th></th></tr>
${[...versions].reverse().map((v) => {
  const metrics = v.metrics as { cv?: Record<string, { mean?: number; std?: number }>; holdout?: { candidate?: Record<string, number> } };
  const gate = gateOf(v);
  const point = series.get(v.version);
  return html`<tr data-version="${v.version}"><td><a class="version" href="${versionHref(model, v.version)}">v${v.version}</a></td><td>${when(v.createdAt)}</td>
<td class="num">${fmt(metrics.cv?.[primary]?.mean)} ± ${fmt(metrics.cv?.[primary]?.std)}</td><td class="num">${fmt(metrics.holdout?.candidate?.[primary])}</td>
<td><span class="${gate.verdict ?? ''}">${gate.verdict ?? '?'}</span>${(gate.rules ?? []).filter((r) => !r.passed).map((r) => html`<div class="muted">${r.reason}</div>`)}</td>
<td>${evaluationsCell(evaluations.filter((e) => e.version === v.version))}</td>
<td class="${point?.outcome ?? ''}">${point?.outcome ?? '—'}</td><td>${runCell(deps, v.workflowId, v.runId)}</td>
<td><a class="report" href="${versionHref(model, v.version)}/report">report</a></td></tr>`;
})}</table>
<h2>Alias history</h2>
${aliasTimeline(await deps.registry.auditLog(model), deps.runLink)}`,
    [[modelHref(model), model]],
  );
}

async function lineagePage(deps: RegistryUiDeps, l: VersionLineage): Promise<Page> {
  const window = l.snapshot.window as { from?: string; to?: string } | null;
  const live = await deps.registry.listEvaluations(l.model, l.version);
  const link = deps.runLink?.(l.workflowId, l.runId);
  return layout(
    `${l.model} v${l.version}`,
    html`<p>Registered ${when(l.createdAt)} by run ${runCell(deps, l.workflowId, l.runId)} (<code>${l.workflowId}</code>) · trigger ${l.trigger ?? '?'} · parent ${l.parentVersion === null ? 'none (first version)' : html`<a href="${versionHref(l.model, l.parentVersion)}">v${l.parentVersion}</a>`}
 · <a class="report" href="${versionHref(l.model, l.version)}/report">run report</a>${link ? html` · <a class="web-ui" href="${link}" data-workflow-id="${l.workflowId}" data-run-id="${l.runId}">the run in the Temporal Web UI</a>` : ''}</p>
<ol class="lineage">
<li><h3>Data snapshot</h3><code>${l.snapshot.uri}</code><div class="muted">sha256 ${l.snapshot.sha256} · ${l.snapshot.rows ?? '?'} rows · window ${window?.from ?? '…'} → ${window?.to ?? '…'}</div>
${l.snapshot.stats ? html`<div>statistics <code>${l.snapshot.stats}</code></div>` : ''}${l.split ? html`<div>split <code>${l.split}</code></div>` : ''}</li>
<li><h3>Training jobs (${l.jobs.length}, ${l.estimator ?? '?'})</h3><table><tr><th>role</th><th>job</th><th>ONNX model</th><th>folder</th></tr>
${l.jobs.map((j) => html`<tr><td>${j.role}</td><td><code>${j.jobId}</code> run ${j.run}</td><td><code>${j.model?.uri ?? '?'}</code></td><td><code>${path.relative(deps.jobsDir, j.dir)}</code></td></tr>`)}</table></li>
<li><h3>ONNX artifact</h3><code>${l.artifact.uri}</code><div class="muted">sha256 ${l.artifact.sha256} · ${(l.artifact.sizeBytes / 1024).toFixed(1)} KiB</div></li>
<li><h3>Evaluations</h3><table><tr><th>metric</th><th>CV mean ± std</th><th>holdout</th><th>champion v${l.parentVersion ?? '?'} on holdout</th></tr>
${Object.entries(l.evaluation.cv).map(([name, s]) => html`<tr><td>${name}</td><td class="num">${fmt(s.mean)} ± ${fmt(s.std)}</td><td class="num">${fmt(l.evaluation.holdout.candidate?.[name])}</td><td class="num">${fmt(l.evaluation.holdout.champion?.[name])}</td></tr>`)}</table>
<p>Gate: <b class="${l.gate?.verdict ?? ''}">${l.gate?.verdict ?? '?'}</b></p><ul>${(l.gate?.rules ?? []).map((r) => html`<li class="${r.passed ? 'pass' : 'fail'}">${r.passed ? '✓' : '✗'} ${r.reason}</li>`)}</ul>
${live.length > 0 ? html`<table><tr><th>when</th><th>phase</th><th>decision</th><th>outcome</th><th>reason</th><th>run</th></tr>${live.map((e) => html`<tr><td>${when(e.at)}</td><td>${e.phase}</td><td class="${e.decision}">${e.decision}</td><td>${windowRow(e).outcome ?? '—'}</td><td>${e.reason}</td><td>${runCell(deps, e.workflowId, e.runId)}</td></tr>`)}</table>` : ''}</li>
<li><h3>Promotions and rollbacks</h3>${l.events.length === 0 ? html`<p class="muted">Never moved to or from an alias.</p>` : aliasTimeline(l.events, deps.runLink)}</li>
</ol>`,
    [[modelHref(l.model), l.model], [versionHref(l.model, l.version), `v${l.version}`]],
  );
}
