// `npm run bench:history [-- --backfill]`: rewrites the generated parts of docs/benchmarks.md (the latest results of
// each benchmark and the history table of headline ratios across commits) from bench/results/. --backfill first adds
// to bench/results/history.jsonl the results files committed before each result recorded its commit.
import path from 'node:path';
import { backfillHistory, writeBenchDocs } from '../bench/history';
import { ROOT } from '../bench/lib';

const args = process.argv.slice(2);
const unknown = args.filter((a) => a !== '--backfill');
if (unknown.length > 0) {
  console.error(`bench:history: unknown argument '${unknown[0]}' (usage: npm run bench:history [-- --backfill])`);
  process.exitCode = 2;
} else {
  try {
    if (args.includes('--backfill')) console.log(`added ${backfillHistory()} earlier results from git to bench/results/history.jsonl`);
    console.log(`rewrote the generated parts of ${path.relative(ROOT, writeBenchDocs())}`);
  } catch (err) {
    console.error(`bench:history: ${(err as Error).message}`);
    process.exitCode = 1;
  }
}
