// Shared by the bad-input pipeline cases: a run that must fail, and the registry check that nothing was promoted.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { LoadedConfig } from '../../src/config';
import { openSqliteRegistry } from '../../src/registry';
import { type PipelineOutcome, runPipeline, smallFlightsModel, testConfig, uniqueModelName } from '../helpers/pipeline-env';

/** Nothing registered, nothing promoted. */
export async function assertNothingPromoted(loaded: LoadedConfig, model: string): Promise<void> {
  const dbPath = path.join(loaded.stateDir, 'registry.db');
  if (!existsSync(dbPath)) return;
  const registry = openSqliteRegistry(dbPath);
  try {
    assert.equal(await registry.getAlias(model, 'champion'), null);
    assert.deepEqual(await registry.listVersions(model), []);
  } finally {
    await registry.close();
  }
}

/** Runs the small flights pipeline with `overrides` and asserts it failed with nothing registered or promoted. */
export async function failingRun(
  overrides: Record<string, unknown>,
  base = smallFlightsModel(),
  prepare?: (loaded: LoadedConfig) => void,
): Promise<PipelineOutcome> {
  const model = uniqueModelName('bad');
  const loaded = await testConfig({ [model]: { ...base, ...overrides } });
  prepare?.(loaded);
  const outcome = await runPipeline(loaded, model);
  assert.equal(outcome.result, undefined, 'the run must not succeed');
  assert.ok(outcome.failure, 'the run must fail');
  await assertNothingPromoted(loaded, model);
  return outcome;
}

/** Launches per job id. */
export function launchesPerJob(outcome: PipelineOutcome): Map<string, number> {
  const perJob = new Map<string, number>();
  for (const l of outcome.launches) perJob.set(l.jobId, (perJob.get(l.jobId) ?? 0) + 1);
  return perJob;
}
