// The PostgreSQL registry when things go wrong: wrong or missing credentials, a server nobody answers on, a database
// that does not exist, and registry: blocks that must be refused before anything connects. Real server, real pg.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import pg from 'pg';
import { parseConfig } from '../../src/config';
import { RegistryCredentialsError, toActivityFailure } from '../../src/errors';
import { PostgresRegistryDb, Registry, RegistryUnavailableError, openRegistry, postgresConnectionFields } from '../../src/registry';
import type { RegisterVersionInput } from '../../src/registry';
import { MINIMAL_CONFIG, configError } from '../helpers/config';
import { freePort } from '../helpers/free-port';
import { createTestDatabase } from '../helpers/postgres';
import { waitFor } from '../helpers/wait';

let url: string;
let passwordFile: string;
let port: number;
let dir: string;

// PGPASSWORD of the developer's shell must not stand in for the file these tests name.
const shellPassword = process.env.PGPASSWORD;

before(async () => {
  delete process.env.PGPASSWORD;
  ({ url, passwordFile } = await createTestDatabase('errors'));
  port = Number(new URL(url).port);
  dir = mkdtempSync(path.join(tmpdir(), 'relearn-pg-errors-'));
});
after(() => {
  rmSync(dir, { recursive: true, force: true });
  if (shellPassword !== undefined) process.env.PGPASSWORD = shellPassword;
});

function wrongPasswordFile(): string {
  const file = path.join(dir, 'wrong-password');
  writeFileSync(file, 'not-the-password\n');
  return file;
}

function versionInput(runId: string): RegisterVersionInput {
  const sha = (c: string) => c.repeat(64);
  return {
    model: 'flights', artifactUri: `store://models/${sha('a')}/model.onnx`, artifactSha256: sha('a'), sizeBytes: 10,
    snapshotUri: `store://snapshots/${sha('b')}/snapshot.arrow`, snapshotSha256: sha('b'), params: {}, metrics: {}, gate: {}, lineage: {},
    workflowId: 'w', runId,
  };
}

/** The failure an activity would report for `err`: non-retryable ApplicationFailure, or the error itself (retried). */
function asActivityFailure(err: unknown): unknown {
  try {
    toActivityFailure(err);
  } catch (converted) {
    return converted;
  }
  return undefined;
}

describe('credentials', () => {
  test('a wrong password is a non-retryable RegistryCredentialsError naming the URL without a password', async () => {
    const registry = new Registry(new PostgresRegistryDb({ url, passwordFile: wrongPasswordFile() }));
    try {
      const err = await registry.ready().then(
        () => assert.fail('connected with a wrong password'),
        (e: unknown) => e,
      );
      assert.ok(err instanceof RegistryCredentialsError, String(err));
      assert.ok(err.message.startsWith(`registry ${url}: the server refused the credentials`), err.message);
      assert.match(err.message, /password authentication failed for user "relearn"/);
      assert.match(err.message, /the password comes from the file .*wrong-password, never from the URL/);
      assert.doesNotMatch(err.message, /not-the-password/);
      const failure = asActivityFailure(err);
      assert.ok(failure instanceof ApplicationFailure);
      assert.equal(failure.nonRetryable, true);
      assert.equal(failure.type, 'RegistryCredentialsError');
      // Every call says the same: nothing is half-done.
      await assert.rejects(() => registry.listModels(), RegistryCredentialsError);
    } finally {
      await registry.close();
    }
  });

  test('no password at all (no PGPASSWORD, no file) is the same clear error', async () => {
    const registry = new Registry(new PostgresRegistryDb({ url }));
    try {
      await assert.rejects(() => registry.ready(), {
        name: 'RegistryCredentialsError',
        message: new RegExp(`^registry ${url.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: the server refused the credentials \\(password authentication failed for user "relearn"\\); no password was given: PGPASSWORD is empty or unset`),
      });
    } finally {
      await registry.close();
    }
  });

  test('the right password from the file connects; the location shown has no password', async () => {
    const registry = new Registry(new PostgresRegistryDb({ url, passwordFile }));
    try {
      await registry.ready();
      assert.deepEqual(await registry.listModels(), []);
      assert.equal(registry.location, url);
    } finally {
      await registry.close();
    }
  });
});

describe('unreachable and missing databases', () => {
  test('a server nobody answers on: a retryable RegistryUnavailableError naming the URL and what failed', async () => {
    const nobody = await freePort();
    const deadUrl = `postgres://relearn@127.0.0.1:${nobody}/registry`;
    const registry = new Registry(new PostgresRegistryDb({ url: deadUrl, passwordFile, attempts: 2, connectTimeoutMs: 2000 }));
    try {
      const err = await registry.ready().then(
        () => assert.fail(`connected to ${deadUrl}`),
        (e: unknown) => e,
      );
      assert.ok(err instanceof RegistryUnavailableError, String(err));
      assert.equal(err.message, `registry ${deadUrl}: cannot apply migrations after 2 attempts: connect ECONNREFUSED 127.0.0.1:${nobody}`);
      // A plain error: the activity is retried with backoff.
      assert.equal(asActivityFailure(err), err);
    } finally {
      await registry.close();
    }
  });

  test('a database that does not exist is a ConfigError naming it', async () => {
    const missing = `postgres://relearn@127.0.0.1:${port}/no_such_registry`;
    const registry = new Registry(new PostgresRegistryDb({ url: missing, passwordFile }));
    try {
      await assert.rejects(() => registry.ready(), {
        name: 'ConfigError',
        message: `registry ${missing}: database "no_such_registry" does not exist (create it, or fix registry.postgres in temporal.yaml)`,
      });
    } finally {
      await registry.close();
    }
  });
});

describe('faults inside a transaction', () => {
  test('a connection killed in the middle of a promotion: nothing half-done, the retry lands once', async () => {
    const { url: own } = await createTestDatabase('killed');
    const registry = new Registry(new PostgresRegistryDb({ url: own, passwordFile }));
    const holder = new pg.Client({ ...postgresConnectionFields(own), password: readFileSync(passwordFile, 'utf8').trim() });
    try {
      for (const run of ['run-1', 'run-2']) await registry.registerVersion(versionInput(run));
      await registry.promote({ model: 'flights', version: 1, expectedChampion: null, reason: 'first', workflowId: 'w', runId: 'run-1' });
      // Another writer of the model holds its lock, so the promotion waits inside its transaction; then its server
      // process is killed (as a failover or an admin would), and the lock is let go.
      await holder.connect();
      await holder.query('BEGIN');
      await holder.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', ['relearn.registry/flights']);
      const promotion = registry.promote({ model: 'flights', version: 2, expectedChampion: 1, reason: 'better', workflowId: 'w', runId: 'run-2' });
      const waiting = await waitFor('the promotion waiting for the model lock', async () => {
        const { rows } = await holder.query<{ pid: number }>(
          "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()",
        );
        return rows[0]?.pid;
      }, 20_000, 50);
      const { rows: champion } = await holder.query<{ version: number }>("SELECT version FROM aliases WHERE model = 'flights' AND alias = 'champion'");
      assert.deepEqual(champion, [{ version: 1 }]);
      await holder.query('SELECT pg_terminate_backend($1)', [waiting]);
      await holder.query('COMMIT');
      assert.deepEqual(await promotion, { promoted: true, champion: 2, reason: 'champion moved from v1 to v2' });
      assert.deepEqual(
        (await registry.auditLog('flights')).map((e) => `${e.action} ${e.alias} ${String(e.fromVersion)}->${String(e.toVersion)}`),
        ['promote champion null->1', 'promote champion 1->2', 'promote previous null->1'],
      );
      assert.equal((await registry.getAlias('flights', 'previous'))?.version, 1);
    } finally {
      await holder.end().catch(() => undefined);
      await registry.close();
    }
  });
});

describe('registry: in temporal.yaml', () => {
  test('a password in the URL, both backends, a stray passwordFile or another scheme are refused with their path', () => {
    assert.match(
      configError(`${MINIMAL_CONFIG}registry: { postgres: 'postgres://relearn:secret@db:5432/relearn' }\n`),
      /registry\.postgres: must not carry a password; the worker reads it from PGPASSWORD or registry\.passwordFile/,
    );
    assert.match(configError(`${MINIMAL_CONFIG}registry: { sqlite: r.db, postgres: 'postgres://u@db/r' }\n`), /registry\.postgres: give either sqlite or postgres, not both/);
    assert.match(configError(`${MINIMAL_CONFIG}registry: { sqlite: r.db, passwordFile: pw }\n`), /registry\.passwordFile: applies only to a postgres registry/);
    assert.match(configError(`${MINIMAL_CONFIG}registry: { postgres: 'mysql://u@db/r' }\n`), /registry\.postgres: expected a postgres:\/\/ URL, got mysql:\/\//);
    assert.match(configError(`${MINIMAL_CONFIG}registry: { postgres: 'postgres://u@db' }\n`), /registry\.postgres: expected postgres:\/\/<user>@<host>:<port>\/<database>/);
    assert.deepEqual(parseConfig(MINIMAL_CONFIG, 'temporal.yaml').registry, {});
  });

  test('openRegistry reads the postgres block and the password file next to temporal.yaml', async () => {
    const configDir = mkdtempSync(path.join(dir, 'config-'));
    writeFileSync(path.join(configDir, 'pg-password'), readFileSync(passwordFile));
    const config = parseConfig(`${MINIMAL_CONFIG}registry: { postgres: '${url}', passwordFile: pg-password }\n`, 'temporal.yaml');
    const registry = openRegistry({ config, stateDir: path.join(configDir, 'state'), baseDir: configDir });
    try {
      await registry.ready();
      assert.equal(registry.location, url);
      assert.deepEqual(await registry.listModels(), []);
    } finally {
      await registry.close();
    }
  });
});
