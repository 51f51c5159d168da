// trainer.launcher in temporal.yaml: local by default, a Ray dashboard by URL; a wrong value is a ConfigError that
// names the key and says what was expected.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { parseConfig } from '../../src/config';
import { Launchers } from '../../src/jobs/launchers';
import { LocalLauncher } from '../../src/jobs/local';
import { RayLauncher } from '../../src/jobs/ray';
import { configError, MINIMAL_CONFIG } from '../helpers/config';

const withLauncher = (value: string) => MINIMAL_CONFIG.replace('label: y', `label: y\n    trainer: { launcher: ${value} }`);

describe('trainer.launcher', () => {
  test('defaults to local; a Ray address selects the Ray launcher, one per address', () => {
    assert.equal(parseConfig(MINIMAL_CONFIG, 'temporal.yaml').models.m1!.trainer.launcher, 'local');
    const ray = parseConfig(withLauncher('{ ray: { address: "http://ray-head:8265" } }'), 'temporal.yaml').models.m1!.trainer.launcher;
    assert.deepEqual(ray, { ray: { address: 'http://ray-head:8265' } });
    const launchers = new Launchers(mkdtempSync(path.join(os.tmpdir(), 'relearn-launchers-')), [ray]);
    assert.ok(launchers.for('local') instanceof LocalLauncher);
    const chosen = launchers.for(ray);
    assert.ok(chosen instanceof RayLauncher);
    assert.equal(chosen.description, 'ray http://ray-head:8265');
    assert.equal(launchers.for({ ray: { address: 'http://ray-head:8265' } }), chosen);
    assert.deepEqual(launchers.all().map((l) => l.description), ['local', 'ray http://ray-head:8265']);
  });

  test('an address with a password is refused: the trainer block is kept in run inputs', () => {
    const msg = configError(withLauncher('{ ray: { address: "http://admin:hunter2@ray-head:8265" } }'));
    assert.match(msg, /models\.m1\.trainer\.launcher\.ray\.address/);
    assert.match(msg, /no user or password in the URL/);
  });

  test('an address that is not an http(s) URL, and an unknown launcher, name the key and what was expected', () => {
    const notUrl = configError(withLauncher('{ ray: { address: "ray-head:8265" } }'));
    assert.match(notUrl, /models\.m1\.trainer\.launcher\.ray\.address/);
    assert.match(notUrl, /an http:\/\/ or https:\/\/ URL of the Ray dashboard/);
    const unknown = configError(withLauncher('kubernetes'));
    assert.match(unknown, /models\.m1\.trainer\.launcher/);
    assert.match(unknown, /expected 'local' or \{ ray: \{ address: 'http:\/\/host:8265' \} \}/);
  });
});
