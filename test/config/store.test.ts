import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from 'node:test';
import { parseConfig } from '../../src/config';
import { LocalArtifactStore, S3ArtifactStore, jobStoreSpec, openArtifactStore } from '../../src/store';
import { MINIMAL_CONFIG, configError } from '../helpers/config';

const withStore = (block: string) => `${block}\n${MINIMAL_CONFIG}`;

describe('temporal.yaml store:', () => {
  it('defaults to the store folder in the state folder, as before', () => {
    const config = parseConfig(MINIMAL_CONFIG, 'temporal.yaml');
    assert.deepEqual(config.store, { url: 'store' });
    const store = openArtifactStore({ config, stateDir: '/srv/relearn' });
    assert.ok(store instanceof LocalArtifactStore);
    assert.equal(store.location, path.resolve('/srv/relearn/store'));
    assert.equal(jobStoreSpec(config.store), undefined);
  });

  it('takes an s3:// URL as a string or with its options, and opens an S3 store on that bucket and prefix', () => {
    assert.deepEqual(parseConfig(withStore('store: s3://ml-artifacts/relearn'), 'temporal.yaml').store, { url: 's3://ml-artifacts/relearn' });
    const config = parseConfig(
      withStore('store:\n  url: s3://ml-artifacts/team/relearn/\n  endpoint: http://127.0.0.1:7070\n  region: eu-west-1\n  forcePathStyle: true'),
      'temporal.yaml',
    );
    const store = openArtifactStore({ config, stateDir: '/srv/relearn' });
    assert.ok(store instanceof S3ArtifactStore);
    assert.equal(store.location, 's3://ml-artifacts/team/relearn');
    assert.equal(store.cacheDir, path.resolve('/srv/relearn/store-cache'));
    const digest = 'ab'.repeat(32);
    assert.equal(store.locate(`store://models/${digest}/model.onnx`), `s3://ml-artifacts/team/relearn/models/ab/${digest}/model.onnx`);
    assert.deepEqual(jobStoreSpec(config.store), { url: 's3://ml-artifacts/team/relearn/', endpoint: 'http://127.0.0.1:7070', region: 'eu-west-1', forcePathStyle: true });
  });

  it('refuses credentials in the URL or the endpoint, naming the field', () => {
    const inUrl = configError(withStore('store: s3://AKIA:secret@ml-artifacts/relearn'));
    assert.match(inUrl, /store\.url/);
    assert.match(inUrl, /must not carry credentials.*AWS_ACCESS_KEY_ID/);
    const inEndpoint = configError(withStore('store:\n  url: s3://ml-artifacts\n  endpoint: http://user:pw@s3.internal:7070'));
    assert.match(inEndpoint, /store\.endpoint/);
    assert.match(inEndpoint, /must not carry credentials/);
  });

  it('refuses a bad bucket, another scheme, S3 options on a folder and unknown keys', () => {
    assert.match(configError(withStore('store: s3://A_Bucket/x')), /store\.url.*expected s3:\/\/<bucket>\/<prefix>/s);
    assert.match(configError(withStore('store: gs://bucket/x')), /store\.url.*expected a local folder or s3:\/\/<bucket>\/<prefix>/s);
    assert.match(configError(withStore('store:\n  url: artifacts\n  forcePathStyle: true')), /store\.forcePathStyle.*applies only to an s3:\/\/ store/s);
    assert.match(configError(withStore('store:\n  url: s3://ml-artifacts\n  partSizeBytes: 1024')), /store\.partSizeBytes/);
    assert.match(configError(withStore('store:\n  url: s3://ml-artifacts\n  secretAccessKey: x')), /store.*secretAccessKey/s);
  });
});
