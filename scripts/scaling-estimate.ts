// Sizing figures for docs/scaling.md: how much one Temporal namespace, the object store and the registry carry for a
// fleet of models (default 200 models, a drift check every hour, a retrain every day). Per-run numbers are measured,
// not assumed: events and bytes (protobuf, as the server stores them) from the recorded histories of real runs in
// test/histories, store bytes and registry rows per retrain from a real state folder (the orchestration benchmark's,
// bench/.cache/orchestration, after `npm run bench -- --only orchestration`), and the pipelines/s one worker sustained
// from bench/results/orchestration.json. The fleet's figures are those numbers multiplied out.
//   npx tsx scripts/scaling-estimate.ts [-- --models 200 --checks-per-day 24 --retrains-per-day 1 --state <dir> --json]
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import proto, { type temporal } from '@temporalio/proto';
import { RELEARN_ROOT } from '../src/paths';

const HISTORIES = path.join(RELEARN_ROOT, 'test', 'histories');
const HistoryEvent = proto.temporal.api.history.v1.HistoryEvent;
const EventType = proto.temporal.api.enums.v1.EventType;
/** Temporal's default limits on one workflow run's history (the server warns at 10,240 events / 10 MiB). */
const HISTORY_EVENT_LIMIT = 51_200;
const HISTORY_BYTES_LIMIT = 50 * 1024 * 1024;

interface HistorySize {
  name: string;
  events: number;
  bytes: number;
}

function usage(message: string): never {
  console.error(`scaling-estimate: ${message} (usage: npx tsx scripts/scaling-estimate.ts [--models N] [--checks-per-day N] [--retrains-per-day N] [--state DIR] [--json])`);
  process.exit(2);
}

function loadEvents(name: string): temporal.api.history.v1.IHistoryEvent[] {
  const file = path.join(HISTORIES, name);
  if (!existsSync(file)) usage(`recorded history ${path.relative(RELEARN_ROOT, file)} not found (scripts/record-histories.ts makes it)`);
  return historyFromJSON(JSON.parse(readFileSync(file, 'utf8'))).events ?? [];
}

const bytesOf = (events: temporal.api.history.v1.IHistoryEvent[]) => events.reduce((s, e) => s + HistoryEvent.encode(e).finish().length, 0);

function sizeOf(name: string): HistorySize {
  const events = loadEvents(name);
  return { name, events: events.length, bytes: bytesOf(events) };
}

/** One steady-state drift check of a monitor run (timer → check activity → the workflow task after it), and the rest of that run (start, first workflow task, search attributes, end). */
function checkCycle(): { cycle: HistorySize; fixed: HistorySize } {
  const name = 'driftMonitor/after-continue-as-new-cooldown.json';
  const events = loadEvents(name);
  const from = events.findIndex((e) => e.eventType === EventType.EVENT_TYPE_TIMER_STARTED);
  const done = events.findIndex((e) => e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED);
  const to = events.findIndex((e, i) => i > done && e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED);
  if (from < 0 || done < 0 || to < 0) usage(`${name} does not hold a timer, a check and the workflow task after it`);
  const cycle = events.slice(from, to + 1);
  const rest = [...events.slice(0, from), ...events.slice(to + 1)];
  return {
    cycle: { name: 'one drift check (timer → check → workflow task)', events: cycle.length, bytes: bytesOf(cycle) },
    fixed: { name: 'a monitor run besides its checks', events: rest.length, bytes: bytesOf(rest) },
  };
}

function folderBytes(dir: string): number {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) total += statSync(path.join(entry.parentPath, entry.name)).size;
  }
  return total;
}

interface StoreMeasure {
  state: string;
  versions: number;
  /** Rows per registered version, per table. */
  rowsPerVersion: Record<string, number>;
  /** Mean bytes of one object, per kind (snapshots, splits, models, ...): a new retrain on new data writes one of each. */
  objectBytes: Record<string, number>;
}

function measureState(state: string): StoreMeasure {
  const db = path.join(state, 'registry.db');
  const store = path.join(state, 'store');
  if (!existsSync(db) || !existsSync(store)) {
    usage(`${state} holds no registry.db and store/ (run \`npm run bench -- --only orchestration\` first, or give --state)`);
  }
  const sqlite = new Database(db, { readonly: true, fileMustExist: true });
  try {
    const tables = (sqlite.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'").all() as Array<{ name: string }>).map((t) => t.name);
    const count = (t: string) => (sqlite.prepare(`SELECT count(*) AS n FROM "${t}"`).get() as { n: number }).n;
    const versions = count('versions');
    if (versions === 0) usage(`${db} holds no version`);
    const rowsPerVersion = Object.fromEntries(tables.filter((t) => t !== 'schema_migrations').map((t) => [t, count(t) / versions]));
    const objectBytes: Record<string, number> = {};
    for (const kind of readdirSync(store)) {
      const files = readdirSync(path.join(store, kind), { recursive: true }).map(String).filter((f) => statSync(path.join(store, kind, f)).isFile());
      if (files.length > 0) objectBytes[kind] = Math.round(folderBytes(path.join(store, kind)) / files.length);
    }
    return { state: path.relative(RELEARN_ROOT, state), versions, rowsPerVersion, objectBytes };
  } finally {
    sqlite.close();
  }
}

/** Pipelines per second one worker sustained with 50 runs at once in the latest orchestration benchmark. */
function workerThroughput(): { pipelinesPerS: number; runs: number; wallMs: number; load: unknown } | undefined {
  const file = path.join(RELEARN_ROOT, 'bench', 'results', 'orchestration.json');
  if (!existsSync(file)) return undefined;
  const r = JSON.parse(readFileSync(file, 'utf8')) as { relearn?: { phases?: Record<string, { phaseWallMs: number; runs: number; failed: number }> }; loadAverage?: unknown };
  const phases = Object.entries(r.relearn?.phases ?? {}).filter(([k, p]) => k.startsWith('concurrent-') && p.failed === 0);
  const biggest = phases.sort((a, b) => b[1].runs - a[1].runs)[0];
  if (!biggest) return undefined;
  const { phaseWallMs: wallMs, runs } = biggest[1];
  return { pipelinesPerS: runs / (wallMs / 1000), runs, wallMs, load: r.loadAverage };
}

const fmt = (v: number, d = 0) => v.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });

function main(): void {
  let values;
  try {
    ({ values } = parseArgs({
      args: process.argv.slice(2).filter((a) => a !== '--'),
      options: {
        models: { type: 'string', default: '200' },
        'checks-per-day': { type: 'string', default: '24' },
        'retrains-per-day': { type: 'string', default: '1' },
        'checks-per-run': { type: 'string', default: '50' },
        state: { type: 'string', default: path.join(RELEARN_ROOT, 'bench', '.cache', 'orchestration') },
        json: { type: 'boolean', default: false },
      },
    }));
  } catch (err) {
    usage((err as Error).message);
  }
  const num = (key: 'models' | 'checks-per-day' | 'retrains-per-day' | 'checks-per-run') => {
    const v = Number(values[key]);
    if (!Number.isFinite(v) || v <= 0) usage(`--${key}: expected a positive number, got ${JSON.stringify(values[key])}`);
    return v;
  };
  const models = num('models');
  const checksPerDay = num('checks-per-day');
  const retrainsPerDay = num('retrains-per-day');
  const checksPerRun = num('checks-per-run');

  // Measured per-run sizes.
  const retrain = sizeOf('retrain/first-promoted.json');
  const retrainVsChampion = sizeOf('retrain/vs-champion.json');
  const retrainShadow = sizeOf('retrain/shadow-and-guard-windows.json');
  const scheduled = sizeOf('scheduledRetrain/started-and-awaited.json');
  const monitorOneCheck = sizeOf('driftMonitor/undrifted-window.json');
  const { cycle, fixed: monitorFixed } = checkCycle();
  const state = measureState(path.resolve(values.state!));
  const throughput = workerThroughput();

  // A monitor run: its start and end plus checksPerRun check cycles, then continue-as-new.
  const monitorRun = { events: monitorFixed.events + checksPerRun * cycle.events, bytes: monitorFixed.bytes + checksPerRun * cycle.bytes };
  // Per day, fleet-wide. A retrain a day is started by the schedule's workflow (scheduledRetrain), which starts the run.
  const retrainRuns = models * retrainsPerDay;
  const checks = models * checksPerDay;
  const monitorRuns = checks / checksPerRun;
  const starts = retrainRuns * 2 + monitorRuns;
  const events = retrainRuns * (retrainVsChampion.events + scheduled.events) + checks * cycle.events + monitorRuns * monitorFixed.events;
  const historyBytes = retrainRuns * (retrainVsChampion.bytes + scheduled.bytes) + checks * cycle.bytes + monitorRuns * monitorFixed.bytes;
  const perRetrainStore = Object.values(state.objectBytes).reduce((a, b) => a + b, 0);
  const rowsPerRetrain = Object.values(state.rowsPerVersion).reduce((a, b) => a + b, 0);
  const activitiesPerRetrain = loadEvents('retrain/vs-champion.json').filter((e) => e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED).length;
  const activityTasks = checks + retrainRuns * activitiesPerRetrain;

  const out = {
    fleet: { models, checksPerDay, retrainsPerDay, checksPerRun },
    measured: {
      histories: { retrain, retrainVsChampion, retrainShadow, scheduled, monitorOneCheck, checkCycle: cycle, monitorFixed },
      state,
      ...(throughput ? { oneWorker: throughput } : {}),
    },
    perDay: {
      workflowStarts: starts,
      events,
      historyBytes,
      activityTasks,
      storeBytes: retrainRuns * perRetrainStore,
      registryRows: retrainRuns * rowsPerRetrain,
      driftReports: checks,
    },
    rates: {
      startsPerS: starts / 86_400,
      eventsPerS: events / 86_400,
      // Every model's daily retrain at the same minute (one cron for all): the burst a worker fleet must absorb.
      burstRetrains: retrainRuns / retrainsPerDay,
      burstDrainS: throughput ? retrainRuns / retrainsPerDay / throughput.pipelinesPerS : null,
    },
    monitorRun,
    limits: { eventsPerRun: HISTORY_EVENT_LIMIT, bytesPerRun: HISTORY_BYTES_LIMIT },
  };
  if (values.json) {
    console.log(JSON.stringify(out, null, 2));
    return;
  }
  const kb = (b: number) => `${fmt(b / 1024, 1)} KiB`;
  const mb = (b: number) => `${fmt(b / 2 ** 20, 1)} MiB`;
  const lines = [
    `Fleet: ${fmt(models)} models, ${fmt(checksPerDay)} drift checks/day each (${fmt(checksPerRun)} per monitor run), ${fmt(retrainsPerDay)} retrain(s)/day each.`,
    '',
    'Measured per run (recorded histories of real runs; protobuf bytes as the server stores them):',
    ...[retrain, retrainVsChampion, retrainShadow, scheduled, monitorOneCheck, cycle, monitorFixed].map((h) => `  ${h.name.padEnd(50)} ${String(h.events).padStart(4)} events  ${kb(h.bytes).padStart(10)}`),
    `  ${`monitor run of ${checksPerRun} checks, then continue-as-new`.padEnd(50)} ${String(monitorRun.events).padStart(4)} events  ${kb(monitorRun.bytes).padStart(10)}  (limits ${fmt(HISTORY_EVENT_LIMIT)} events, ${mb(HISTORY_BYTES_LIMIT)})`,
    '',
    `Measured per retrain (state folder ${state.state}, ${state.versions} versions of a 2,000-row pipeline):`,
    `  store objects: ${Object.entries(state.objectBytes).map(([k, v]) => `${k} ${kb(v)}`).join(', ')} = ${kb(perRetrainStore)}`,
    `  registry rows: ${Object.entries(state.rowsPerVersion).map(([k, v]) => `${k} ${fmt(v, 2)}`).join(', ')} = ${fmt(rowsPerRetrain, 2)}`,
    ...(throughput ? [`  one worker (2 cores shared, load ${JSON.stringify(throughput.load)}): ${throughput.runs} pipelines at once in ${fmt(throughput.wallMs / 1000, 1)} s = ${fmt(throughput.pipelinesPerS, 2)} pipelines/s`] : []),
    '',
    'Per day, one namespace:',
    `  workflow starts   ${fmt(starts).padStart(10)}   (${fmt(out.rates.startsPerS, 3)}/s on average)`,
    `  history events    ${fmt(events).padStart(10)}   (${fmt(out.rates.eventsPerS, 2)}/s on average)`,
    `  history bytes     ${mb(historyBytes).padStart(10)}   (kept for the namespace's retention period)`,
    `  activity tasks    ${fmt(activityTasks).padStart(10)}`,
    `  store bytes       ${mb(out.perDay.storeBytes).padStart(10)}   (grows with the training window: the snapshot is the data)`,
    `  registry rows     ${fmt(out.perDay.registryRows).padStart(10)}`,
    `  burst: ${fmt(out.rates.burstRetrains)} retrains at the same minute${out.rates.burstDrainS !== null ? `, drained by one such worker in ~${fmt(out.rates.burstDrainS)} s of orchestration (jobs' own time not counted)` : ''}`,
  ];
  console.log(lines.join('\n'));
}

main();
