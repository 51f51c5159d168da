import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { parse, stringify } from 'yaml';
import { type LoadedConfig, loadConfig } from '../../src/config';
import type { RetrainResult } from '../../src/contracts';
import { S3ArtifactStore, S3_CACHE_DIR, openArtifactStore } from '../../src/store';
import { runPipeline, smallFlightsModel, testConfig, uniqueModelName } from '../helpers/pipeline-env';
import { type S3Server, freshBucket, rootClient, s3Env, testS3Server } from '../helpers/s3';

/** A test temporal.yaml with `store:` pointing at a bucket of the shared test S3 server. */
async function s3Config(model: string, server: S3Server, bucket: string): Promise<LoadedConfig> {
  const plain = await testConfig({ [model]: smallFlightsModel() }, { prefix: 's3-store' });
  const doc = parse(readFileSync(plain.configPath, 'utf8')) as Record<string, unknown>;
  doc.store = { url: `s3://${bucket}/relearn`, endpoint: server.endpoint, forcePathStyle: true };
  writeFileSync(plain.configPath, stringify(doc));
  return loadConfig(plain.configPath);
}

describe('a pipeline run with the artifact store on S3', { timeout: 300_000 }, () => {
  const model = uniqueModelName('s3-flights');
  let server: S3Server;
  let bucket: string;
  let loaded: LoadedConfig;
  let result: RetrainResult | undefined;
  let failure: string | undefined;

  // The worker finds its keys where any AWS tool would: the standard variables of its environment.
  const saved: Record<string, string | undefined> = {};
  after(() => {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  });

  before(async () => {
    server = await testS3Server();
    for (const [k, v] of Object.entries(s3Env(server))) {
      saved[k] = process.env[k];
      process.env[k] = v;
    }
    bucket = await freshBucket(server, 'pipeline');
    loaded = await s3Config(model, server, bucket);
    ({ result, failure } = await runPipeline(loaded, model));
  });

  it('promotes v1, and the model it registered is read back from the bucket with its digest checked', async () => {
    assert.equal(failure, undefined, failure);
    assert.equal(result?.decision, 'promoted');
    assert.equal(result?.version, 1);
    const store = openArtifactStore(loaded);
    assert.ok(store instanceof S3ArtifactStore);
    const artifact = result!.candidate.artifact;
    const bytes = await store.readVerified(artifact);
    assert.equal(bytes.byteLength, artifact.sizeBytes);
    assert.equal(store.locate(artifact.uri), `s3://${bucket}/relearn/models/${artifact.sha256.slice(0, 2)}/${artifact.sha256}/model.onnx`);
  });

  it('every artifact of the run is in the bucket, and nothing in a local store folder', async () => {
    const listed = await rootClient(server).send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'relearn/' }));
    const keys = (listed.Contents ?? []).map((o) => o.Key!);
    const kinds = new Set(keys.map((k) => k.split('/')[1]));
    for (const kind of ['snapshots', 'stats', 'splits', 'models', 'report']) assert.ok(kinds.has(kind), `${kind} in ${[...kinds].join(', ')}`);
    const r = result!;
    const store = openArtifactStore(loaded) as S3ArtifactStore;
    for (const ref of [r.snapshot.artifact, r.candidate.artifact, r.report!]) assert.ok(keys.includes(store.keyOf(ref.uri)), `${ref.uri} in the bucket`);
    assert.equal(existsSync(path.join(loaded.stateDir, 'store')), false, 'no local store folder');
    // The training jobs read checked copies of the snapshot and split from the worker's download cache.
    assert.ok(existsSync(path.join(loaded.stateDir, S3_CACHE_DIR, 'snapshots')));
    assert.match(r.report!.path, new RegExp(`^s3://${bucket}/relearn/report/`));
  });
});
