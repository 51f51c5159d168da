// From a data file to a promoted model in two commands, as a new user types them: `relearn init` in a folder holding
// seattle-weather.csv, then the command it prints, on the real dev server with the real trainer. And the mistakes
// such a user makes, each one line on stderr with exit code 2.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { loadConfig } from '../../src/config';
import { RELEARN_ROOT } from '../../src/paths';
import { openRegistry } from '../../src/registry';
import { testServerAddress, uniqueModelName } from '../helpers/pipeline-env';

const CLI = path.join(RELEARN_ROOT, 'src/cli/main.ts');
const TSX = import.meta.resolve('tsx');
const weatherCsv = fileURLToPath(new URL('../../node_modules/vega-datasets/data/seattle-weather.csv', import.meta.url));

/** Runs `relearn <args>` in `cwd` as a user would (no RELEARN_CONFIG: temporal.yaml of that folder). */
function relearn(cwd: string, args: string[], timeoutMs = 60_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' };
  delete env.RELEARN_CONFIG;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', TSX, CLI, ...args], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGTERM'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('relearn init, then the command it prints', { timeout: 900_000 }, () => {
  let dir: string;
  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'relearn-init-e2e-'));
    copyFileSync(weatherCsv, path.join(dir, 'seattle-weather.csv'));
    // What a user with the shared server would have: its address and a task queue of their own.
    const temporal = { address: await testServerAddress(), namespace: 'default', taskQueue: `init-${path.basename(dir)}` };
    writeFileSync(path.join(dir, 'temporal.yaml'), `# the team's server\n${stringify({ temporal, stateDir: 'state' })}`);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('seattle-weather.csv: init proposes a multiclass model of weather, and run --wait promotes v1', async () => {
    const model = uniqueModelName('weather');
    const init = await relearn(dir, ['init', model, '--data', 'seattle-weather.csv']);
    assert.equal(init.code, 0, init.stderr);
    assert.equal(init.stderr, '');
    assert.match(init.stdout, /^read seattle-weather\.csv \(csv\): 1,461 rows, 6 columns$/m);
    assert.match(init.stdout, /^ {2}label {6}weather — the last column; pass --label to pick another$/m);
    assert.match(init.stdout, /^ {2}task {7}multiclass — 'weather' holds text with 5 distinct values: 'drizzle', 'fog', 'rain', 'snow', 'sun'$/m);
    assert.match(init.stdout, /^ {2}time {7}date — the only date\/time column$/m);
    assert.match(init.stdout, /^ {2}features {3}numeric: precipitation, temp_max, temp_min, wind$/m);
    assert.match(init.stdout, new RegExp(`^wrote models\\.${model} to temporal\\.yaml$`, 'm'));
    const next = /^next: (.*)$/m.exec(init.stdout)?.[1];
    assert.equal(next, `npx relearn run ${model} --wait`);
    assert.match(readFileSync(path.join(dir, 'temporal.yaml'), 'utf8'), /^# the team's server\n/);

    const run = await relearn(dir, next!.split(' ').slice(2), 600_000);
    assert.equal(run.code, 0, `${run.stdout}\n${run.stderr}`);
    assert.match(run.stdout, /decision +PROMOTED: registered v1; champion \(none\) → v1/);
    assert.match(run.stdout, /snapshot +1,461 rows, 2012-01-01T00:00:00\.000Z → 2015-12-31T00:00:00\.000Z/);
    const loaded = loadConfig(path.join(dir, 'temporal.yaml'));
    const registry = openRegistry(loaded);
    try {
      assert.equal((await registry.getAlias(model, 'champion'))?.version, 1);
    } finally {
      await registry.close();
    }
  });

  it('a data file that does not exist: one line naming it, exit 2, nothing written', async () => {
    const before = readFileSync(path.join(dir, 'temporal.yaml'), 'utf8');
    const r = await relearn(dir, ['init', 'rain', '--data', 'weather.csv']);
    assert.equal(r.code, 2);
    assert.equal(r.stderr, 'error weather.csv: file not found\n');
    assert.equal(readFileSync(path.join(dir, 'temporal.yaml'), 'utf8'), before);
  });

  it('an unknown --label: one line naming the flag, the column and the columns there are, exit 2', async () => {
    const r = await relearn(dir, ['init', 'rain', '--data', 'seattle-weather.csv', '--label', 'rain']);
    assert.equal(r.code, 2);
    assert.equal(r.stderr, "error --label: no column 'rain' in seattle-weather.csv (columns: date, precipitation, temp_max, temp_min, wind, weather)\n");
  });

  it('no --data, and an unknown --task: commander’s usage error, exit 2', async () => {
    const missing = await relearn(dir, ['init', 'rain']);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /required option '--data <file>' not specified/);
    const task = await relearn(dir, ['init', 'rain', '--data', 'seattle-weather.csv', '--task', 'ranking']);
    assert.equal(task.code, 2);
    assert.match(task.stderr, /option '--task <task>' argument 'ranking' is invalid\. Allowed choices are binary, multiclass, regression/);
  });
});
