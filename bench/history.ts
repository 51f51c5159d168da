// The benchmarks' bookkeeping across commits: every result the runner writes is stamped with the commit it was
// measured at and the machine's load, and its headline ratios are appended to bench/results/history.jsonl; from those
// files the generated parts of docs/benchmarks.md are rewritten (the latest run's tables and the history table), so a
// regression shows as a row. `npm run bench:history` rewrites the docs alone; `-- --backfill` first rebuilds the
// history from the results files committed before the stamps existed.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { BENCH_TITLES, BENCHES, type Provenance, provenance, RESULTS_DIR, ROOT, type SummaryRow } from './lib';

const rowSchema = z.object({ case: z.string(), relearn: z.string(), peer: z.string(), ratio: z.string(), goal: z.string() }).loose();

/** What the history needs from a results file; everything else in it is kept as it is. */
const resultSchema = z
  .object({
    bench: z.string().optional(),
    mode: z.string().optional(),
    finishedAt: z.string().optional(),
    commit: z.string().optional(),
    dirty: z.boolean().optional(),
    loadAverage: z.array(z.number()).optional(),
    machine: z.object({ loadAverage1m: z.number().optional(), cores: z.number().optional() }).loose().optional(),
    summary: z.array(rowSchema).optional(),
  })
  .loose();

/** One line of history.jsonl: a benchmark run's headline ratios and where it was measured. */
const entrySchema = z.object({
  bench: z.string(),
  mode: z.string(),
  finishedAt: z.string(),
  /** The commit measured; for backfilled entries, the commit that recorded the results file (measured at or before it). */
  commit: z.string(),
  backfilled: z.boolean().default(false),
  dirty: z.boolean().default(false),
  loadAverage1m: z.number().nullable(),
  ratios: z.array(z.object({ case: z.string(), ratio: z.string(), goal: z.string() })),
});
type HistoryEntry = z.infer<typeof entrySchema>;

const historyFile = () => path.join(RESULTS_DIR, 'history.jsonl');

function readResult(file: string): z.infer<typeof resultSchema> {
  const parsed = resultSchema.safeParse(JSON.parse(readFileSync(file, 'utf8')));
  if (!parsed.success) throw new Error(`${path.relative(ROOT, file)}: not a benchmark results file:\n${z.prettifyError(parsed.error)}`);
  return parsed.data;
}

function entryOf(name: string, r: z.infer<typeof resultSchema>, commit: string, backfilled: boolean): HistoryEntry {
  return {
    bench: name,
    mode: r.mode ?? '?',
    finishedAt: r.finishedAt ?? '?',
    commit,
    backfilled,
    dirty: r.dirty ?? false,
    loadAverage1m: r.loadAverage?.[0] ?? r.machine?.loadAverage1m ?? null,
    ratios: (r.summary ?? []).filter((row) => row.ratio !== '').map((row) => ({ case: row.case, ratio: row.ratio, goal: row.goal })),
  };
}

/** Stamps bench/results/<name>.json with the commit and load, and appends its headline ratios to history.jsonl. */
export function recordResult(name: string, at: Provenance = provenance()): void {
  const file = path.join(RESULTS_DIR, `${name}.json`);
  if (!existsSync(file)) return;
  const raw = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  const stamped = { ...raw, commit: at.commit, dirty: at.dirty, loadAverage: at.loadAverage };
  writeFileSync(file, `${JSON.stringify(stamped, null, 2)}\n`);
  const entry = entryOf(name, readResult(file), at.commit, false);
  writeFileSync(historyFile(), `${JSON.stringify(entry)}\n`, { flag: 'a' });
}

function readHistory(): HistoryEntry[] {
  const file = historyFile();
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l, i) => {
      const parsed = entrySchema.safeParse(JSON.parse(l));
      if (!parsed.success) throw new Error(`${path.relative(ROOT, file)} line ${i + 1}: ${z.prettifyError(parsed.error)}`);
      return parsed.data;
    });
}

/** Rebuilds history.jsonl's older part from every committed version of the results files (before stamps existed). */
export function backfillHistory(): number {
  const git = (args: string[]) => spawnSync('git', args, { cwd: ROOT, encoding: 'utf8', maxBuffer: 64 * 2 ** 20 });
  const stamped = readHistory().filter((e) => !e.backfilled);
  const seen = new Set(stamped.map((e) => `${e.bench} ${e.finishedAt}`));
  const found: HistoryEntry[] = [];
  for (const name of BENCHES) {
    const rel = path.relative(ROOT, path.join(RESULTS_DIR, `${name}.json`));
    const log = git(['log', '--format=%H', '--', rel]);
    if (log.status !== 0) continue;
    for (const hash of log.stdout.trim().split('\n').filter(Boolean)) {
      const shown = git(['show', `${hash}:${rel}`]);
      if (shown.status !== 0) continue;
      let parsed;
      try {
        parsed = resultSchema.safeParse(JSON.parse(shown.stdout));
      } catch {
        continue;
      }
      if (!parsed.success) continue;
      const entry = entryOf(name, parsed.data, parsed.data.commit ?? hash, parsed.data.commit === undefined);
      if (seen.has(`${entry.bench} ${entry.finishedAt}`)) continue;
      seen.add(`${entry.bench} ${entry.finishedAt}`);
      found.push(entry);
    }
  }
  const all = [...found, ...stamped].sort((a, b) => a.finishedAt.localeCompare(b.finishedAt));
  writeFileSync(historyFile(), all.map((e) => `${JSON.stringify(e)}\n`).join(''));
  return found.length;
}

const cell = (s: string) => s.replaceAll('|', '\\|');

function markdownTable(rows: SummaryRow[] | z.infer<typeof rowSchema>[]): string {
  return [
    '| case | Relearn | peer | ratio | goal |',
    '|---|---|---|---|---|',
    ...rows.map((r) => `| ${cell(r.case)} | ${cell(r.relearn)} | ${cell(r.peer)} | ${cell(r.ratio)} | ${cell(r.goal)} |`),
  ].join('\n');
}

const shortCommit = (e: { commit?: string; dirty?: boolean }) =>
  e.commit === undefined || e.commit === 'unknown' ? '?' : `${e.commit.slice(0, 8)}${e.dirty ? '+' : ''}`;

/** The latest results of every benchmark as markdown: one table each, with mode, date, commit and load. */
export function latestResultsMarkdown(heading = '####'): string {
  const parts: string[] = [];
  for (const name of BENCHES) {
    const file = path.join(RESULTS_DIR, `${name}.json`);
    if (!existsSync(file)) continue;
    const r = readResult(file);
    const load = r.loadAverage ? r.loadAverage.join(' / ') : String(r.machine?.loadAverage1m ?? '?');
    const m = r.machine ?? {};
    parts.push(
      `${heading} ${BENCH_TITLES[name]}`,
      '',
      `Mode ${r.mode ?? '?'}, ${r.finishedAt ?? '?'}, commit ${shortCommit(r)}; ${String(m.cpuModel ?? '?')}, ${String(m.cores ?? '?')} cores, ` +
        `${String(m.memoryGB ?? '?')} GB, Node ${String(m.node ?? '?')}, Python ${String(m.python ?? '?')}; load average ${load}` +
        `${r.loadAverage ? ' (1 / 5 / 15 min, when written)' : ' (1 min)'}.`,
      '',
      r.summary ? markdownTable(r.summary) : `See \`bench/results/${name}.json\`.`,
      '',
    );
  }
  return parts.join('\n');
}

/** The history table: one row per benchmark run, newest first, with its headline ratios. */
export function historyMarkdown(): string {
  const entries = readHistory().reverse();
  if (entries.length === 0) return '_No history yet: `npm run bench` appends to bench/results/history.jsonl._\n';
  return [
    '| finished | bench | mode | commit | load 1m | headline ratios |',
    '|---|---|---|---|---|---|',
    ...entries.map(
      (e) =>
        `| ${e.finishedAt.slice(0, 16).replace('T', ' ')} | ${e.bench} | ${e.mode} | ${e.backfilled ? `≤ ${shortCommit(e)}` : shortCommit(e)} | ` +
        `${e.loadAverage1m ?? '?'} | ${cell(e.ratios.map((r) => `${r.case}: ${r.ratio}`).join('; ') || '—')} |`,
    ),
  ].join('\n');
}

/** Replaces the text between `<!-- generated:<name> -->` and `<!-- /generated:<name> -->` in a markdown file. */
function replaceGenerated(text: string, name: string, body: string, file: string): string {
  const open = `<!-- generated:${name} -->`;
  const close = `<!-- /generated:${name} -->`;
  const a = text.indexOf(open);
  const b = text.indexOf(close);
  if (a < 0 || b < a) throw new Error(`${file}: the markers ${open} … ${close} are missing`);
  return `${text.slice(0, a + open.length)}\n\n${body.trim()}\n\n${text.slice(b)}`;
}

/** Rewrites the generated parts of docs/benchmarks.md from bench/results/. */
export function writeBenchDocs(docs = path.join(ROOT, 'docs', 'benchmarks.md')): string {
  let text = readFileSync(docs, 'utf8');
  text = replaceGenerated(text, 'latest-results', latestResultsMarkdown(), path.relative(ROOT, docs));
  text = replaceGenerated(text, 'history', historyMarkdown(), path.relative(ROOT, docs));
  writeFileSync(docs, text);
  return docs;
}
