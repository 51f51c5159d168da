// The fault suite in a loop: every round injects all of issue 4's faults again on real processes, into one ledger
// suite, then docs/reliability.md is rendered. Not part of `npm test`; each round takes about as long as the fault
// suite in `npm test`.
//   npm run soak [-- --rounds <n>]
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { RELEARN_ROOT } from '../src/paths';
import { runningDevServer, stopDevServer } from '../src/temporal/dev-server';
import { TEST_SERVER_STATE } from '../test/helpers/pipeline-env';

const roundsArg = process.argv.indexOf('--rounds');
const rounds = roundsArg >= 0 ? Number.parseInt(process.argv[roundsArg + 1] ?? '', 10) : 5;
if (!Number.isInteger(rounds) || rounds < 1 || rounds > 100) {
  console.error('error --rounds: expected a whole number from 1 to 100');
  process.exit(2);
}
const suite = `soak-${new Date().toISOString().replace(/[:.]/g, '-')}`;
const files = readdirSync(path.join(RELEARN_ROOT, 'test', 'faults'))
  .filter((f) => f.endsWith('.test.ts'))
  .sort()
  .map((f) => path.join('test', 'faults', f));

// The shared test server is stopped at the end only if this soak started it (another test run may be using it).
const serverWasUp = runningDevServer(TEST_SERVER_STATE) !== undefined;
let failedRounds = 0;
const t0 = Date.now();
for (let round = 1; round <= rounds; round++) {
  console.log(`▸ soak round ${round}/${rounds} (${files.length} fault files, suite ${suite})`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=1', '--test-reporter=dot', ...files], {
    cwd: RELEARN_ROOT,
    stdio: 'inherit',
    env: { ...process.env, RELEARN_FAULT_SUITE: suite },
  });
  if (r.status !== 0) failedRounds += 1;
  console.log(`${r.status === 0 ? '✓' : '✗'} round ${round} after ${((Date.now() - t0) / 1000).toFixed(0)} s`);
}
if (!serverWasUp) await stopDevServer(TEST_SERVER_STATE);
spawnSync(process.execPath, ['--import', 'tsx', path.join(RELEARN_ROOT, 'scripts', 'reliability-report.ts')], { cwd: RELEARN_ROOT, stdio: 'inherit' });
console.log(`soak: ${rounds - failedRounds} passed, ${failedRounds} failed`);
process.exit(failedRounds === 0 ? 0 : 1);
