// Bad temporal.yaml files and bad CLI arguments. Config cases go through the real loader; CLI cases run
// `relearn` as a user would and check the exit code (2), the one-line message and that no stack trace is shown.
// None of them needs a Temporal server: every one of them is refused before a connection is made.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { loadConfig } from '../../src/config';
import { ConfigError } from '../../src/errors';
import { RELEARN_ROOT } from '../../src/paths';

const MODEL = `
models:
  m:
    task: binary
    source: { path: data/flights.csv, timeColumn: date }
    features: { numeric: [distance] }
    label: delayed
`;

/** Writes `text` as temporal.yaml in a fresh folder (with an empty data/ folder) and returns the file. */
function configFile(text: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'relearn-bad-config-'));
  mkdirSync(path.join(dir, 'data'));
  const file = path.join(dir, 'temporal.yaml');
  writeFileSync(file, text);
  return file;
}

/** Loads a config that must be refused and returns the ConfigError's message. */
function refused(text: string): string {
  try {
    loadConfig(configFile(text));
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${String(err)}`);
    return err.message;
  }
  assert.fail('the config must be refused');
}

/** Runs the CLI; returns exit code and stderr. */
function relearn(args: string[]): { status: number | null; stderr: string; stdout: string } {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
  delete env.RELEARN_CONFIG;
  delete env.RELEARN_DEBUG;
  const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(RELEARN_ROOT, 'src/cli/main.ts'), ...args], {
    encoding: 'utf8',
    cwd: RELEARN_ROOT,
    env,
    timeout: 60_000,
  });
  return { status: r.status, stderr: r.stderr, stdout: r.stdout };
}

function assertUsageError(r: { status: number | null; stderr: string }, pattern: RegExp): void {
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, pattern);
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  assert.doesNotMatch(r.stderr, /node:internal|\.ts:\d+:\d+/, 'no source positions');
}

describe('bad temporal.yaml: refused at load, naming the path in the file', () => {
  it('a typo in a top-level key: names the unknown key', () => {
    const msg = refused(`modles:\n  m: {}\n`);
    assert.match(msg, /temporal\.yaml: \(top level\): unknown key 'modles'/);
    assert.match(msg, /temporal\.yaml: models: /, 'and that models is missing');
  });

  it('a typo in a nested key (split.fold for split.folds): names the key and where it is', () => {
    const msg = refused(`${MODEL}    split: { fold: 3 }\n`);
    assert.match(msg, /temporal\.yaml: models\.m\.split: unknown key 'fold'/);
  });

  it('a wrong type (maxAttempts: "three"): names the path and the expected type', () => {
    const msg = refused(`${MODEL}    trainer: { maxAttempts: three }\n`);
    assert.match(msg, /temporal\.yaml: models\.m\.trainer\.maxAttempts: Invalid input: expected number, received string/);
  });

  it('a wrong type for a whole section (features as a list): names the section', () => {
    const msg = refused(MODEL.replace('features: { numeric: [distance] }', 'features: [distance]'));
    assert.match(msg, /temporal\.yaml: models\.m\.features: Invalid input: expected object, received array/);
  });

  it('a negative fold count: names split.folds and the minimum', () => {
    const msg = refused(`${MODEL}    split: { folds: -3 }\n`);
    assert.match(msg, /temporal\.yaml: models\.m\.split\.folds: Too small: expected number to be >=2/);
  });

  it('a holdout larger than the data (holdoutFraction 1.5): names split.holdoutFraction and the bound', () => {
    const msg = refused(`${MODEL}    split: { holdoutFraction: 1.5 }\n`);
    assert.match(msg, /temporal\.yaml: models\.m\.split\.holdoutFraction: Too big: expected number to be <0\.9/);
  });

  it('a source path outside the data root: names models.<m>.source.path and the root', () => {
    const msg = refused(MODEL.replace('data/flights.csv', '/etc/passwd'));
    assert.match(msg, /temporal\.yaml: models\.m\.source\.path: '\/etc\/passwd' is outside the data root '.*relearn-bad-config-[^']+'; move the data under it or set dataRoot/);
  });

  it('a relative path that climbs out with ..: refused after normalisation', () => {
    const msg = refused(MODEL.replace('data/flights.csv', 'data/../../elsewhere/flights.csv'));
    assert.match(msg, /models\.m\.source\.path: '.*elsewhere\/flights\.csv' is outside the data root/);
  });

  it('a symlink inside the data root that points outside it: refused after resolving the link', () => {
    const file = configFile(MODEL.replace('data/flights.csv', 'data/link/flights.csv'));
    const outside = mkdtempSync(path.join(os.tmpdir(), 'relearn-outside-'));
    symlinkSync(outside, path.join(path.dirname(file), 'data', 'link'));
    assert.throws(() => loadConfig(file), (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.match(err.message, /models\.m\.source\.path: '.*data\/link\/flights\.csv' \(it resolves to '.*relearn-outside-[^']+\/flights\.csv'\) is outside the data root/);
      return true;
    });
  });

  it('an explicit dataRoot admits what it contains and nothing else', () => {
    const outside = mkdtempSync(path.join(os.tmpdir(), 'relearn-data-root-'));
    const ok = loadConfig(configFile(`dataRoot: ${outside}\n${MODEL.replace('data/flights.csv', path.join(outside, 'f.csv'))}`));
    assert.equal(ok.dataRoot, outside);
    assert.match(refused(`dataRoot: ${outside}\n${MODEL}`), /models\.m\.source\.path: '.*data\/flights\.csv' is outside the data root/);
  });
});

describe('bad CLI arguments: exit code 2, one line naming the problem, no stack trace', () => {
  it('a verb with a missing argument (run without a model)', () => {
    assertUsageError(relearn(['run']), /error: missing required argument 'model'/);
  });

  it('an unknown verb', () => {
    assertUsageError(relearn(['retrian', 'flights-delay']), /error: unknown command 'retrian'/);
  });

  it('a flag value that is not a date (--from yesterday)', () => {
    assertUsageError(relearn(['run', 'flights-delay', '--from', 'yesterday']), /--from: 'yesterday' is not a date \(expected e\.g\. 2001-03-01\)/);
  });

  it('a flag value outside its choices (--trigger)', () => {
    assertUsageError(relearn(['run', 'flights-delay', '--trigger', 'cron']), /option '--trigger <kind>' argument 'cron' is invalid\. Allowed choices are manual, api, schedule, drift/);
  });

  it('--config naming a file that does not exist', () => {
    assertUsageError(relearn(['--config', 'no-such-dir/temporal.yaml', 'runs']), /no-such-dir\/temporal\.yaml: file not found/);
  });

  it('a config with an unknown key, through the CLI', () => {
    const file = configFile(`${MODEL}    lable: delayed\n`);
    assertUsageError(relearn(['--config', file, 'versions', 'm']), /temporal\.yaml: models\.m: unknown key 'lable'/);
  });

  it('a config whose source lies outside the data root, through the CLI', () => {
    const file = configFile(MODEL.replace('data/flights.csv', '/etc/hosts'));
    assertUsageError(relearn(['--config', file, 'run', 'm']), /temporal\.yaml: models\.m\.source\.path: '\/etc\/hosts' is outside the data root/);
  });
});
