// Relearn side of the data-pull benchmark, in its own process: pullSnapshot (the pullData activity's work: DuckDB
// scan with the window pushed down → contract checks → time order → Arrow IPC file bytes + statistics), then the
// bytes written to a file. Reports the timed runs (wall and process CPU time, DuckDB's threads included) and the
// process's peak RSS.
//
//   npx tsx bench/data-pull-child.ts <parquet> <from> <to> <out.arrow> <repetitions>
import { writeFileSync } from 'node:fs';
import { pullSnapshot } from '../src/data/snapshot';
import { peakRssMB } from './peak-rss';

const [file, from, to, out, repsArg] = process.argv.slice(2);
const reps = Number(repsArg);

/** Milliseconds spent in each stage of the last pull (from onProgress transitions). */
let stageMs: Record<string, number> = {};

function cpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

async function pullOnce(): Promise<{ ms: number; cpuMs: number; rows: number }> {
  const t0 = performance.now();
  const c0 = cpuMs();
  stageMs = {};
  let stage = 'open';
  let since = t0;
  const result = await pullSnapshot({
    onProgress: (p) => {
      if (p.stage === stage) return;
      const now = performance.now();
      stageMs[stage] = (stageMs[stage] ?? 0) + now - since;
      stage = p.stage;
      since = now;
    },
    source: { format: 'parquet', path: file!, timeColumn: 'date', window: { from: from!, to: to! } },
    contract: {
      minRows: 1,
      columns: {
        date: { type: 'timestamp' },
        delay: { type: 'int' },
        distance: { type: 'int' },
        origin: { type: 'string' },
        destination: { type: 'string' },
      },
    },
    requiredColumns: ['delay', 'distance', 'origin', 'destination'],
  });
  const w0 = performance.now();
  writeFileSync(out!, result.bytes);
  stageMs['file write'] = performance.now() - w0;
  return { ms: performance.now() - t0, cpuMs: cpuMs() - c0, rows: result.table.numRows };
}

const cold = await pullOnce();
const runsMs: number[] = [];
const cpuRunsMs: number[] = [];
let rows = cold.rows;
for (let i = 0; i < reps; i++) {
  const r = await pullOnce();
  runsMs.push(r.ms);
  cpuRunsMs.push(r.cpuMs);
  rows = r.rows;
}
process.stdout.write(`${JSON.stringify({ rows, coldMs: cold.ms, runsMs, cpuRunsMs, lastRunStagesMs: Object.fromEntries(Object.entries(stageMs).map(([k, v]) => [k, Math.round(v)])), peakRssMB: peakRssMB() })}\n`);
