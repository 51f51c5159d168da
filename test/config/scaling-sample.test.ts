// The sample temporal.yaml of docs/scaling.md ("On Kubernetes") loads with the project's config loader, and means what
// the doc says it means: Temporal Cloud with an API key, an S3 store, the registry on PostgreSQL, training on Ray.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { loadConfig } from '../../src/config';
import { RELEARN_ROOT } from '../../src/paths';

const DOC = path.join(RELEARN_ROOT, 'docs', 'scaling.md');

/** The YAML block between the doc's scaling-sample markers. */
function documentedSample(): string {
  const doc = readFileSync(DOC, 'utf8');
  const block = /<!-- scaling-sample:start -->\s*```yaml\n([\s\S]*?)```\s*<!-- scaling-sample:end -->/.exec(doc);
  assert.ok(block, 'docs/scaling.md holds a ```yaml block between <!-- scaling-sample:start --> and <!-- scaling-sample:end -->');
  return block[1]!;
}

describe('docs/scaling.md sample temporal.yaml', () => {
  it('loads with the config loader and names Temporal Cloud, S3, PostgreSQL and Ray', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'relearn-scaling-sample-'));
    try {
      const file = path.join(dir, 'temporal.yaml');
      writeFileSync(file, documentedSample());
      const { config } = loadConfig(file);
      assert.equal(config.temporal.address, 'relearn-prod.a1b2c.tmprl.cloud:7233');
      assert.equal(config.temporal.apiKeyEnv, 'TEMPORAL_API_KEY');
      assert.deepEqual(config.store, { url: 's3://ml-artifacts/relearn', region: 'eu-west-1' });
      assert.match(JSON.stringify(config.registry), /postgres:\/\/relearn@relearn-db-rw\.databases:5432\/relearn/);
      const flights = config.models.flights!;
      assert.deepEqual(flights.trainer.launcher, { ray: { address: 'http://relearn-ray-head-svc.ray:8265' } });
      assert.equal(flights.trainer.maxParallel, 4);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
