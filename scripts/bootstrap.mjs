#!/usr/bin/env node
// Entry of `npm run demo`, `npm test` and `npm run setup` on a fresh clone: installs the npm dependencies when they
// are missing or stale (plain Node, no dependencies of its own), then hands over to the TypeScript set-up, which
// installs the Python environment and the Temporal CLI, and finally runs the requested command. Every step is
// skipped when already done.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const target = process.argv[2] ?? 'setup';
const extra = process.argv.slice(3);
const stamp = path.join(root, 'node_modules', '.relearn-npm.sha256');
const lock = path.join(root, 'package-lock.json');
// onnxruntime-node's install script would try to download CUDA binaries; the CPU ones ship in the package.
const env = { ...process.env, ONNXRUNTIME_NODE_INSTALL: 'skip', ONNXRUNTIME_NODE_INSTALL_CUDA: 'skip' };

function run(cmd, args) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', env });
  if (r.error) throw r.error;
  return r.status ?? 1;
}

const testStateDir = path.join(root, '.relearn-test');

/**
 * The shared services of a test run (the dev server, and any other a test helper starts once per run), each recorded
 * as `.relearn-test/<service>.json` with its `pid`: record name → pid, for the records whose process is alive.
 */
function runningTestServices() {
  const alive = new Map();
  if (!existsSync(testStateDir)) return alive;
  for (const name of readdirSync(testStateDir).filter((f) => f.endsWith('.json'))) {
    try {
      const { pid } = JSON.parse(readFileSync(path.join(testStateDir, name), 'utf8'));
      if (!Number.isInteger(pid)) continue;
      process.kill(pid, 0);
      alive.set(name, pid);
    } catch {
      // Not a service record, or its process is gone.
    }
  }
  return alive;
}

/**
 * Stops the shared test services this run started, so `npm test` leaves nothing running. A service that was already
 * running when the run began belongs to whoever started it (another run, a developer) and is left alone.
 */
function stopTestServices(runningBefore) {
  for (const [name, pid] of runningTestServices()) {
    if (runningBefore.get(name) === pid) continue;
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      // Gone already.
    }
  }
}

const t0 = Date.now();
const lockDigest = createHash('sha256').update(readFileSync(lock)).digest('hex');
if (!existsSync(stamp) || readFileSync(stamp, 'utf8').trim() !== lockDigest) {
  console.log('▸ setup: installing npm dependencies (npm ci; compiles better-sqlite3, about 2 minutes the first time)');
  const status = run('npm', ['ci', '--no-audit', '--no-fund']);
  if (status !== 0) {
    console.error('✗ setup: npm ci failed (see above)');
    process.exit(status);
  }
  writeFileSync(stamp, `${lockDigest}\n`);
  console.log(`✓ setup: npm dependencies installed in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
} else {
  console.log('✓ setup: npm dependencies up to date');
}

const tsx = ['--import', 'tsx'];
// Only the tests need a browser and the Python test clients: `npm test` installs them, `npm run setup -- --browser`
// and `npm run setup -- --test-clients` too, the demo does not.
const browser = target === 'test' || (target === 'setup' && extra.includes('--browser'));
const testClients = target === 'test' || (target === 'setup' && extra.includes('--test-clients'));
const setupStatus = run(process.execPath, [
  ...tsx,
  'src/cli/main.ts',
  'setup',
  ...(browser ? ['--browser'] : []),
  ...(testClients ? ['--test-clients'] : []),
]);
if (setupStatus !== 0) process.exit(setupStatus);

if (target === 'demo') {
  process.exit(run(process.execPath, [...tsx, 'src/cli/main.ts', 'demo', ...extra]));
} else if (target === 'test') {
  const files = readdirSync(path.join(root, 'test'), { recursive: true })
    .map(String)
    .filter((f) => f.endsWith('.test.ts'))
    .map((f) => path.join('test', f))
    .sort();
  const selected = extra.length > 0 ? files.filter((f) => extra.some((e) => f.includes(e))) : files;
  // The whole suite starts with the static checks: tsx strips types without checking them, so without tsc a type
  // error would pass; ESLint holds the layering (eslint.config.js). A filtered run (`npm test -- <part>`) skips them.
  if (extra.length === 0) {
    for (const [name, bin, args] of [
      ['tsc --noEmit', 'node_modules/typescript/bin/tsc', ['--noEmit', '-p', '.']],
      ['eslint', 'node_modules/eslint/bin/eslint.js', ['.']],
    ]) {
      const t = Date.now();
      console.log(`▸ test: ${name}`);
      const status = run(process.execPath, [bin, ...args]);
      if (status !== 0) {
        console.error(`✗ test: ${name} failed (see above); fix it, or run a part of the suite with npm test -- <file>`);
        process.exit(status);
      }
      console.log(`✓ test: ${name} clean in ${((Date.now() - t) / 1000).toFixed(0)} s`);
    }
  }
  // Two files at a time: most suites wait on timers, heartbeats and other processes more than they compute. The
  // shared test dev server is started first, so two files never race to start it. RELEARN_TEST_CONCURRENCY=1
  // runs one file at a time.
  const concurrency = Number(process.env.RELEARN_TEST_CONCURRENCY ?? 2);
  const servicesBefore = runningTestServices();
  const serverStatus = run(process.execPath, [
    ...tsx,
    '--eval',
    "const { testServerAddress } = await import('./test/helpers/pipeline-env.ts'); console.log(`▸ test: dev server ${await testServerAddress()}`);",
  ]);
  if (serverStatus !== 0) process.exit(serverStatus);
  console.log(`▸ test: ${selected.length} test files, ${concurrency} at a time`);
  const status = run(process.execPath, [...tsx, '--test', `--test-concurrency=${concurrency}`, '--test-reporter=spec', ...selected]);
  stopTestServices(servicesBefore);
  console.log(`${status === 0 ? '✓' : '✗'} test: finished in ${((Date.now() - t0) / 1000).toFixed(0)} s (set-up included)`);
  process.exit(status);
}
