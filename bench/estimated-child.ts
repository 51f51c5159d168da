// Relearn's side of bench/estimated: CBPE fit on the cached holdout scores, then every window's estimates, timed.
//   npx tsx bench/estimated-child.ts <scores.json> <weeks> <repetitions>
import { readFileSync } from 'node:fs';
import { estimateCbpe, fitCbpe } from '../src/drift/estimated';

interface Scores {
  calibration: { y: number[]; p: number[] };
  weeks: Array<{ p: number[] }>;
}

const [file, weeksArg, repsArg] = process.argv.slice(2);
const scores = JSON.parse(readFileSync(file!, 'utf8')) as Scores;
const asRows = (p: number[]) => Float64Array.from(p.flatMap((v) => [1 - v, v]));
// Inputs as the drift check has them (probability matrices), built outside the timing, as the peer's data frames are.
const calibration = { yTrue: Int32Array.from(scores.calibration.y), probabilities: asRows(scores.calibration.p), numClasses: 2 };
const windows = scores.weeks.slice(0, Number(weeksArg)).map((w) => asRows(w.p));

function once(): number[] {
  const model = fitCbpe(calibration);
  return windows.map((w) => estimateCbpe(model, w).roc_auc.value);
}

const rocAuc = once();
const runsMs: number[] = [];
for (let r = 0; r < Number(repsArg); r++) {
  const t = performance.now();
  once();
  runsMs.push(performance.now() - t);
}
console.log(JSON.stringify({ runsMs, rocAuc }));
