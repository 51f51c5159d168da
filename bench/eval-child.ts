// Relearn side of the evaluation benchmark, in its own process: the scoring path the evaluate activity uses
// (snapshot → scoreRows: Arrow columns → tensors → onnxruntime-node, batch by batch). A second pass that only
// builds the tensors measures the share of time spent converting Arrow to tensors.
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

async function scoreOnce(): Promise<number> {
  const t0 = performance.now();
  await scoreRows({ session, table, rows, features, task: 'binary', batchSize });
  return performance.now() - t0;
}

function convertOnce(): number {
  const t0 = performance.now();
  for (let from = 0; from < table.numRows; from += batchSize) {
    const feeds = tensorsFromTable(table, sliceSelection(rows, from, Math.min(table.numRows, from + batchSize)), features, inputNames);
    for (const t of Object.values(feeds)) t.dispose();
  }
  return performance.now() - t0;
}

await scoreOnce(); // warm-up
convertOnce();
const runsMs: number[] = [];
const convertMs: number[] = [];
for (let i = 0; i < reps; i++) {
  runsMs.push(await scoreOnce());
  convertMs.push(convertOnce());
}
await releaseSessions();
process.stdout.write(`${JSON.stringify({ rows: table.numRows, runsMs, convertMs })}\n`);
