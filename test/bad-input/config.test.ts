// Bad temporal.yaml files and bad CLI arguments. Config cases go through the real loader; CLI cases run
// `relearn` as a user would and check the exit code (2), the one-line message and that no stack trace is shown.
// None of them needs a Temporal server: every one of them is refused before a connection is made.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { before, describe, it } from 'node:test';
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

interface CliResult {
  status: number | null;
  stderr: string;
}

/** Runs the CLI as a user would; resolves with its exit code and stderr. */
function relearn(args: string[]): Promise<CliResult> {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
  delete env.RELEARN_CONFIG;
  delete env.RELEARN_DEBUG;
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', path.join(RELEARN_ROOT, 'src/cli/main.ts'), ...args],
      { cwd: RELEARN_ROOT, env, timeout: 120_000 },
      (err, _stdout, stderr) => {
        if (err && typeof err.code !== 'number') reject(err);
        else resolve({ status: err ? (err.code as number) : 0, stderr });
      },
    );
  });
}

function assertUsageError(r: CliResult, pattern: RegExp): void {
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
  // Each case is its own `relearn` process; they start together, since each spends seconds loading TypeScript.
  const cases = {
    missingArgument: () => relearn(['run']),
    unknownVerb: () => relearn(['retrian', 'flights-delay']),
    badDate: () => relearn(['run', 'flights-delay', '--from', 'yesterday']),
    badChoice: () => relearn(['run', 'flights-delay', '--trigger', 'cron']),
    missingConfig: () => relearn(['--config', 'no-such-dir/temporal.yaml', 'runs']),
    unknownKey: () => relearn(['--config', configFile(`${MODEL}    lable: delayed\n`), 'versions', 'm']),
    outsideDataRoot: () => relearn(['--config', configFile(MODEL.replace('data/flights.csv', '/etc/hosts')), 'run', 'm']),
  };
  let results: Record<keyof typeof cases, Promise<CliResult>>;
  before(() => {
    results = Object.fromEntries(Object.entries(cases).map(([k, start]) => [k, start()])) as typeof results;
  });

  it('a verb with a missing argument (run without a model)', async () => {
    assertUsageError(await results.missingArgument, /error: missing required argument 'model'/);
  });

  it('an unknown verb', async () => {
    assertUsageError(await results.unknownVerb, /error: unknown command 'retrian'/);
  });

  it('a flag value that is not a date (--from yesterday)', async () => {
    assertUsageError(await results.badDate, /--from: 'yesterday' is not a date \(expected e\.g\. 2001-03-01\)/);
  });

  it('a flag value outside its choices (--trigger)', async () => {
    assertUsageError(await results.badChoice, /option '--trigger <kind>' argument 'cron' is invalid\. Allowed choices are manual, api, schedule, drift/);
  });

  it('--config naming a file that does not exist', async () => {
    assertUsageError(await results.missingConfig, /no-such-dir\/temporal\.yaml: file not found/);
  });

  it('a config with an unknown key, through the CLI', async () => {
    assertUsageError(await results.unknownKey, /temporal\.yaml: models\.m: unknown key 'lable'/);
  });

  it('a config whose source lies outside the data root, through the CLI', async () => {
    assertUsageError(await results.outsideDataRoot, /temporal\.yaml: models\.m\.source\.path: '\/etc\/hosts' is outside the data root/);
  });
});
