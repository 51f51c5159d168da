// One real pipeline run with the registry on PostgreSQL: the worker reads `registry: { postgres, passwordFile }` from
// temporal.yaml, registers and promotes in the database, and leaves no SQLite file behind. Real dev server, trainer,
// onnxruntime and PostgreSQL.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse, stringify } from 'yaml';
import { type LoadedConfig, loadConfig } from '../../src/config';
import { CHAMPION_ALIAS, openRegistry } from '../../src/registry';
import { type PipelineOutcome, runPipeline, smallFlightsModel, testConfig, uniqueModelName } from '../helpers/pipeline-env';
import { createTestDatabase } from '../helpers/postgres';

describe('a pipeline run with the registry on PostgreSQL', { timeout: 600_000 }, () => {
  const model = uniqueModelName('pg-flights');
  let url: string;
  let loaded: LoadedConfig;
  let run: PipelineOutcome;
  const shellPassword = process.env.PGPASSWORD;

  before(async () => {
    // The worker must find the password in the file temporal.yaml names, not in the shell's environment.
    delete process.env.PGPASSWORD;
    const db = await createTestDatabase('pipeline');
    url = db.url;
    const base = await testConfig({ [model]: smallFlightsModel() }, { prefix: 'pg' });
    const configDir = path.dirname(base.configPath);
    writeFileSync(path.join(configDir, 'registry-password'), readFileSync(db.passwordFile));
    const doc = parse(readFileSync(base.configPath, 'utf8')) as Record<string, unknown>;
    writeFileSync(base.configPath, stringify({ ...doc, registry: { postgres: url, passwordFile: 'registry-password' } }));
    loaded = loadConfig(base.configPath);
    run = await runPipeline(loaded, model);
  });
  after(() => {
    if (shellPassword !== undefined) process.env.PGPASSWORD = shellPassword;
  });

  it('promotes the first model to champion v1', () => {
    assert.equal(run.failure, undefined, run.failure);
    assert.equal(run.result?.decision, 'promoted');
    assert.equal(run.result?.version, 1);
    assert.equal(run.result?.championAfter, 1);
  });

  it('the version, the champion and the audit row are in PostgreSQL, and no SQLite registry was made', async () => {
    const registry = openRegistry(loaded);
    try {
      assert.equal(registry.location, url);
      const v1 = (await registry.getVersion(model, 1))!;
      assert.equal(v1.workflowId, run.workflowId);
      assert.equal(v1.runId, run.runId);
      assert.equal(v1.artifactSha256, run.result?.candidate.artifact.sha256);
      assert.equal((await registry.getAlias(model, CHAMPION_ALIAS))?.version, 1);
      const audit = await registry.auditLog(model);
      assert.deepEqual(
        audit.map((e) => [e.action, e.alias, e.fromVersion, e.toVersion, e.runId]),
        [['promote', CHAMPION_ALIAS, null, 1, run.runId]],
      );
      assert.deepEqual((await registry.listModels()).map((m) => m.model), [model]);
    } finally {
      await registry.close();
    }
    assert.equal(existsSync(path.join(loaded.stateDir, 'registry.db')), false, 'nothing written to a SQLite file');
  });
});
