// `relearn init` writing temporal.yaml: the rest of the file kept as written (comments, other models), a new file
// with the Temporal defaults, no overwrite without --force, nothing written into a broken file or for data outside the
// data root, and the questions it asks at a terminal.
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { stripVTControlCharacters } from 'node:util';
import { after, beforeEach, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { type InitIo, type InitOptions, runInit } from '../../src/cli/init';
import { loadConfig } from '../../src/config';
import { ConfigError } from '../../src/errors';

const root = mkdtempSync(path.join(os.tmpdir(), 'relearn-init-write-'));
after(() => rmSync(root, { recursive: true, force: true }));
const weatherCsv = fileURLToPath(new URL('../../node_modules/vega-datasets/data/seattle-weather.csv', import.meta.url));

let dir = '';
let config = '';
let data = '';
beforeEach(() => {
  dir = mkdtempSync(path.join(root, 'case-'));
  config = path.join(dir, 'temporal.yaml');
  data = path.join(dir, 'seattle-weather.csv');
  copyFileSync(weatherCsv, data);
});

/**
 * Runs init with answers for its questions (none: not a terminal); returns what it printed, without colours (the
 * colour library turns them on under CI=… or FORCE_COLOR even when stdout is not a terminal).
 */
async function init(options: Partial<InitOptions> = {}, answers?: string[]): Promise<{ lines: string[]; result: Awaited<ReturnType<typeof runInit>> }> {
  const lines: string[] = [];
  const io: InitIo = { print: (l) => lines.push(stripVTControlCharacters(l)) };
  if (answers) {
    io.ask = async (question) => {
      lines.push(`? ${stripVTControlCharacters(question)}`);
      return answers.shift() ?? '';
    };
  }
  const result = await runInit({ model: 'weather', data, configPath: config, ...options }, io);
  return { lines, result };
}

const EXISTING = `# Our pipelines. Keep this comment.
temporal:
  address: temporal.internal:7233 # the team's server
  namespace: ml
stateDir: state

models:
  # The flights model, by hand.
  flights:
    task: binary
    source:
      path: flights.parquet
      timeColumn: date
    features:
      numeric: [ distance ]
    label: delayed
`;

describe('relearn init writes temporal.yaml', () => {
  it('adds the model after the others, keeping every byte of the file as it was', async () => {
    writeFileSync(config, EXISTING);
    const { lines, result } = await init();
    const text = readFileSync(config, 'utf8');
    assert.ok(text.startsWith(EXISTING), `the file so far is unchanged:\n${text}`);
    assert.deepEqual(parse(text).models.weather, result.block);
    const loaded = loadConfig(config);
    assert.equal(loaded.config.models.weather!.source.path, data);
    assert.equal(loaded.config.models.weather!.task, 'multiclass');
    assert.deepEqual(loaded.config.models.weather!.features.numeric, ['precipitation', 'temp_max', 'temp_min', 'wind']);
    assert.equal(loaded.config.temporal.namespace, 'ml');
    assert.ok(lines.includes('wrote models.weather to ' + path.relative(process.cwd(), config)), lines.join('\n'));
    assert.equal(lines.at(-1), 'next: npx relearn run weather --wait --config ' + path.relative(process.cwd(), config));
    assert.match(text, /path: seattle-weather\.csv\n/);
  });

  it('refuses a model of that name unless --force, which replaces it in place', async () => {
    writeFileSync(config, EXISTING);
    await assert.rejects(init({ model: 'flights' }), (err: Error) => {
      assert.ok(err instanceof ConfigError);
      assert.equal(err.message, 'temporal.yaml: models.flights already exists; pass --force to replace it, or pick another name');
      return true;
    });
    assert.equal(readFileSync(config, 'utf8'), EXISTING);
    const { result } = await init({ model: 'flights', force: true, label: 'temp_max' });
    assert.equal(result.replaced, true);
    const text = readFileSync(config, 'utf8');
    assert.ok(text.startsWith(EXISTING.slice(0, EXISTING.indexOf('  flights:'))), text);
    assert.match(text, /  # The flights model, by hand\.\n  flights:\n    task: regression\n/);
    assert.deepEqual(Object.keys(loadConfig(config).config.models), ['flights']);
  });

  it('creates a missing file with the Temporal defaults', async () => {
    const { lines, result } = await init({ label: 'weather' });
    assert.equal(result.created, true);
    const loaded = loadConfig(config);
    assert.equal(loaded.config.temporal.address, undefined);
    assert.equal(loaded.config.temporal.namespace, 'default');
    assert.equal(loaded.config.temporal.taskQueue, 'relearn');
    assert.deepEqual(Object.keys(loaded.config.models), ['weather']);
    assert.match(readFileSync(config, 'utf8'), /^# Relearn: the Temporal connection/);
    assert.match(lines.join('\n'), /wrote models\.weather to .*temporal\.yaml \(a new file with the Temporal defaults\)/);
  });

  it('adds a models section to a file that has none', async () => {
    writeFileSync(config, 'temporal:\n  taskQueue: mine\n');
    await init();
    const loaded = loadConfig(config);
    assert.equal(loaded.config.temporal.taskQueue, 'mine');
    assert.deepEqual(Object.keys(loaded.config.models), ['weather']);
  });

  it('writes nothing into a file that is already broken, and says where', async () => {
    const broken = 'temporal:\n  taskQueue: [unclosed\nmodels: {}\n';
    writeFileSync(config, broken);
    await assert.rejects(init(), /^ConfigError: temporal\.yaml:\d+:\d+: invalid YAML: /);
    assert.equal(readFileSync(config, 'utf8'), broken);
    const wrongKey = 'temporal:\n  taskQeue: mine\nmodels: {}\n';
    writeFileSync(config, wrongKey);
    await assert.rejects(init(), /^ConfigError: temporal\.yaml: temporal: unknown key 'taskQeue'$/);
    assert.equal(readFileSync(config, 'utf8'), wrongKey);
  });

  it('refuses data outside the data root, naming --data and the root, and writes nothing', async () => {
    const inner = path.join(dir, 'project');
    const innerConfig = path.join(inner, 'temporal.yaml');
    await assert.rejects(init({ configPath: innerConfig }), (err: Error) => {
      assert.ok(err instanceof ConfigError);
      assert.match(err.message, /^--data: '.*seattle-weather\.csv' is outside the data root '.*project'; move the data under it or set dataRoot in temporal\.yaml$/);
      return true;
    });
    assert.equal(existsSync(innerConfig), false);
  });

  it('a bad model name is refused before anything is read', async () => {
    await assert.rejects(init({ model: 'Weather Model' }), /^ConfigError: model name 'Weather Model': use lowercase letters, digits and dashes/);
    assert.equal(existsSync(config), false);
  });
});

describe('relearn init at a terminal', () => {
  it('asks for the label (Enter keeps the proposal), shows the assumptions, and asks before writing', async () => {
    const { lines, result } = await init({}, ['', '']);
    assert.equal(lines[0], '? label [weather]: ');
    assert.equal(lines.at(-3), '? write models.weather to temporal.yaml? [Y/n] ');
    assert.equal(result.written, true);
    assert.equal(loadConfig(config).config.models.weather!.label, 'weather');
  });

  it('another label is taken; a wrong one is explained and asked again', async () => {
    const { lines, result } = await init({}, ['temperature', 'temp_max', 'y']);
    assert.equal(lines[1], "error --label: no column 'temperature' in " + data + ' (columns: date, precipitation, temp_max, temp_min, wind, weather)');
    assert.equal(lines[2], '? label [weather]: ');
    assert.equal(result.proposal.task.value, 'regression');
    assert.deepEqual(result.proposal.features, { numeric: ['precipitation', 'temp_min', 'wind'], categorical: ['weather'] });
    assert.equal(loadConfig(config).config.models.weather!.trainer.estimator, 'ridge');
  });

  it('answering no writes nothing', async () => {
    const { lines, result } = await init({}, ['', 'n']);
    assert.equal(result.written, false);
    assert.equal(lines.at(-1), 'nothing written');
    assert.equal(existsSync(config), false);
  });
});
