// Renders docs/reliability.md from the fault ledger the fault suite (test/faults/) appends to: one table for the latest
// `npm test` and one for the latest `npm run soak`, each row a fault of issue 4 with what the suite injected and saw.
//   npm run reliability-report [-- <results.jsonl>] [--out <file>]
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { RELEARN_ROOT } from '../src/paths';

const recordSchema = z.object({
  suite: z.string(),
  at: z.string(),
  fault: z.number().int(),
  name: z.string(),
  injected: z.number().int(),
  runs: z.number().int(),
  runsAsExpected: z.number().int(),
  duplicateLaunches: z.number().int(),
  artifactsLost: z.number().int(),
  seconds: z.number(),
  notes: z.string().optional(),
});
type FaultLine = z.infer<typeof recordSchema>;

/** How each fault is injected and what "as expected" means for it. */
const HOW: Record<number, string> = {
  1: 'SIGKILL to the worker process while pullData, runTrainingJob, exportOnnx, crossValidate and promoteVersion each run (one run, five kills); a new worker process each time. Expected: completes with the same decision and ONNX bytes as an undisturbed run.',
  2: 'The run\'s own dev server is stopped (SIGTERM) while jobs train and started again on the same SQLite file. Expected: completes.',
  3: 'The job exits 1 on every attempt (fold-0) while fold-1 runs. Expected: retried with backoff up to maxAttempts, the run fails with the job\'s stderr, fold-1 cancelled and killed, nothing registered.',
  4: 'The job (and a child of it) hangs. Expected: killed with its process group at trainer.timeoutMs, retried, the run fails, no process left.',
  5: 'The job exits 0 with a hostile model.onnx: truncated, random bytes, external data by absolute path, by `..`, through a symlink, over the size cap, a ConstantOfShape memory bomb. Expected: ModelRejected with the reason, worker alive, nothing registered.',
  6: 'The champion\'s stored ONNX is changed on disk after registration. Expected: the next run fails with ArtifactIntegrityError (not retried), nothing promoted.',
  7: 'Two `relearn run` processes for one model at once. Expected: one run, both get its id.',
  8: 'Two pipelines of different configurations feed one registry model; both read "no champion" before either writes. Expected: one promotes, the other records the lost compare-and-set.',
  9: 'SIGKILL to the worker while its register and its promote transactions wait for the registry\'s write lock; plus a registry writer process SIGKILLed at random moments. Expected: never half-written, the retried activities finish the run.',
  10: 'SIGTERM to the worker while two jobs train (--grace-ms 4000). Expected: no new task taken, the worker exits within the grace period, the jobs keep running and are re-attached by the next worker.',
};

function parseArgs(argv: string[]): { input: string; out: string } {
  let input = process.env.RELEARN_FAULT_RESULTS ?? path.join(RELEARN_ROOT, '.relearn-test', 'fault-results.jsonl');
  let out = path.join(RELEARN_ROOT, 'docs', 'reliability.md');
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--out') out = path.resolve(argv[++i] ?? out);
    else input = path.resolve(argv[i]!);
  }
  return { input, out };
}

function readLedger(file: string): FaultLine[] {
  if (!existsSync(file)) {
    console.error(`error no fault results at ${file}; run the fault suite first (npm test -- test/faults, or npm run soak)`);
    process.exit(2);
  }
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l, i) => {
      const parsed = recordSchema.safeParse(JSON.parse(l));
      if (!parsed.success) throw new Error(`${file}:${i + 1}: ${z.prettifyError(parsed.error)}`);
      return parsed.data;
    });
}

/** The records of the latest suite whose name starts with `prefix`. */
function latestSuite(lines: FaultLine[], prefix: string): FaultLine[] {
  const mine = lines.filter((l) => l.suite.startsWith(prefix));
  const last = mine.at(-1)?.suite;
  return last === undefined ? [] : mine.filter((l) => l.suite === last);
}

function table(lines: FaultLine[]): string {
  const byFault = new Map<number, FaultLine[]>();
  for (const l of lines) byFault.set(l.fault, [...(byFault.get(l.fault) ?? []), l]);
  const rows = [...byFault.entries()].sort(([a], [b]) => a - b);
  const sum = (ls: FaultLine[], k: 'injected' | 'runs' | 'runsAsExpected' | 'duplicateLaunches' | 'artifactsLost' | 'seconds') =>
    ls.reduce((s, l) => s + l[k], 0);
  const out = [
    '| # | fault | times injected | runs | runs completed as expected | duplicate launches | artifacts lost | rounds | seconds | last note |',
    '| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
  ];
  for (const [fault, ls] of rows) {
    out.push(
      `| ${fault} | ${ls.at(-1)!.name} | ${sum(ls, 'injected')} | ${sum(ls, 'runs')} | ${sum(ls, 'runsAsExpected')} | ${sum(ls, 'duplicateLaunches')} | ${sum(ls, 'artifactsLost')} | ${ls.length} | ${Math.round(sum(ls, 'seconds'))} | ${(ls.at(-1)!.notes ?? '').replaceAll('|', '\\|')} |`,
    );
  }
  const all = rows.flatMap(([, ls]) => ls);
  out.push(
    `| | **total** | **${sum(all, 'injected')}** | **${sum(all, 'runs')}** | **${sum(all, 'runsAsExpected')}** | **${sum(all, 'duplicateLaunches')}** | **${sum(all, 'artifactsLost')}** | | **${Math.round(sum(all, 'seconds'))}** | |`,
  );
  const missing = Object.keys(HOW).map(Number).filter((f) => !byFault.has(f));
  if (missing.length > 0) out.push('', `Not in this suite run (failed or not run): faults ${missing.join(', ')}.`);
  return out.join('\n');
}

function section(title: string, lines: FaultLine[], command: string): string {
  if (lines.length === 0) return `## ${title}\n\nNo results yet: run \`${command}\`.\n`;
  const first = lines[0]!.at;
  const last = lines.at(-1)!.at;
  return `## ${title}\n\nSuite \`${lines[0]!.suite}\`, ${first.slice(0, 19).replace('T', ' ')} → ${last.slice(11, 19)} UTC.\n\n${table(lines)}\n`;
}

const { input, out } = parseArgs(process.argv.slice(2));
const ledger = readLedger(input);
const doc = `# Reliability under faults

Produced by \`npm run reliability-report\` from the fault ledger \`${path.relative(RELEARN_ROOT, input)}\`, which the fault
suite (\`test/faults/\`) appends to; do not edit by hand. Machine: ${os.cpus().length} cores, Node.js ${process.version},
${os.platform()}.

Every case runs the real pipeline — a Temporal dev server, a \`relearn worker\` in its own process, Python training
jobs — and injects its fault from outside with real signals. *Duplicate launches* counts training-job runs launched
after an earlier run of the same job had succeeded (read from the launch ledger \`jobs/launches.jsonl\` that each job's
wrapper appends to); relaunching a crashed or killed run is a retry, not a duplicate. *Artifacts lost* counts registered
versions whose model or snapshot no longer reads back with its recorded SHA-256 (the file tampered with on purpose in
fault 6 excepted). *Runs completed as expected* counts runs that ended as the case requires (completed, or failed
cleanly with nothing promoted).

${section('Last `npm test`', latestSuite(ledger, 'npm-test-'), 'npm test')}
${section('Last soak (`npm run soak`)', latestSuite(ledger, 'soak-'), 'npm run soak')}
## How each fault is injected

| # | injection and expected outcome |
| ---: | --- |
${Object.entries(HOW)
  .map(([n, how]) => `| ${n} | ${how} |`)
  .join('\n')}

## Limits of what this shows

- A promotion takes milliseconds, so faults 1 and 9 place the kill by holding SQLite's write lock from the test
  process: the worker's register or promote transaction waits for it and is killed while waiting. A kill between the
  statements of a transaction is what the writer storm of fault 9 covers, by chance and many times.
- A dead worker is noticed when its heartbeats stop; the suite sets heartbeat timeouts of 5 s (\`heartbeatTimeoutMs\`,
  \`trainer.heartbeatTimeoutMs\`). With the defaults (2 min, 20 s) recovery waits that long.
- Only \`model.onnx\` is copied into the store, so external-data files never travel with a model: the symlinked weights
  of fault 5 are refused as missing, and so would be a legitimate model with external data.
- Jobs are killed when a run is cancelled or another job fails for good. A run that is *terminated* (a hard stop that
  runs no workflow code) leaves its running jobs to finish on their own.
- SIGTERM: the SDK gives running activities the whole grace period, then cancels them; the process exits a few hundred
  milliseconds after the grace period ends (see the note of fault 10).
`;
mkdirSync(path.dirname(out), { recursive: true });
writeFileSync(out, doc);
console.log(`wrote ${path.relative(process.cwd(), out)} from ${ledger.length} records`);
