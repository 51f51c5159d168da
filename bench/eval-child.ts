// Relearn side of the evaluation benchmark, in its own process: the scoring path the evaluate activity uses
// (snapshot → scoreRows: Arrow columns → tensors → onnxruntime-node, batch by batch). A second pass that only
// builds the tensors measures the share of time spent converting Arrow to tensors. Each pass also reports the
// process's CPU time, which a machine shared with other work inflates far less than wall time.
//
//   npx tsx bench/eval-child.ts <model.onnx> <data.arrow> <features json> <threads> <batch> <repetitions>
import { readFileSync } from 'node:fs';
import { openSession, releaseSessions, scoreRows, sessionInputNames, sliceSelection, tensorsFromTable } from '../src/onnx';
import type { FeatureSpec } from '../src/onnx';
import { readSnapshot } from '../src/data/snapshot';

const [model, data, featuresJson, threadsArg, batchArg, repsArg] = process.argv.slice(2);
const features = JSON.parse(featuresJson!) as FeatureSpec;
const threads = Number(threadsArg);
const batchSize = Number(batchArg);
const reps = Number(repsArg);

const session = await openSession(readFileSync(model!), { intraOpNumThreads: threads });
// Feature → ONNX input name, as the model records it (a model may rename inputs its features' names cannot be).
const inputNames = sessionInputNames(session);
const table = readSnapshot(data!);
const rows = { start: 0, end: table.numRows };

function cpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

async function scoreOnce(): Promise<{ ms: number; cpuMs: number }> {
  const t0 = performance.now();
  const c0 = cpuMs();
  await scoreRows({ session, table, rows, features, task: 'binary', batchSize });
  return { ms: performance.now() - t0, cpuMs: cpuMs() - c0 };
}

function convertOnce(): number {
  const t0 = performance.now();
  for (let from = 0; from < table.numRows; from += batchSize) {
    const feeds = tensorsFromTable(table, sliceSelection(rows, from, Math.min(table.numRows, from + batchSize)), features, inputNames);
    for (const t of Object.values(feeds)) t.dispose();
  }
  return performance.now() - t0;
}

// The warm-up is the first pass over this snapshot: it also dictionary-encodes the string columns (see tensors.ts).
const cold = await scoreOnce();
convertOnce();
const runsMs: number[] = [];
const cpuRunsMs: number[] = [];
const convertMs: number[] = [];
for (let i = 0; i < reps; i++) {
  const run = await scoreOnce();
  runsMs.push(run.ms);
  cpuRunsMs.push(run.cpuMs);
  convertMs.push(convertOnce());
}
await releaseSessions();
process.stdout.write(`${JSON.stringify({ rows: table.numRows, coldMs: cold.ms, runsMs, cpuRunsMs, convertMs })}\n`);
