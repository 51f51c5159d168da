// The prediction log on a shared S3 prefix (a real S3-compatible server, Versity's gateway): two replicas write their
// own segments, windows read both, list once and fetch only the segments whose time span they need, feedback posted to
// one replica joins predictions of the other, and a second look at a window fetches no sealed segment again.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { configSchema, resolvePredictionLog } from '../../src/config';
import {
  type PredictionLogEntry,
  PredictionLogWriter,
  S3SegmentStore,
  newServerRequestId,
  readPredictionLog,
  segmentCacheStats,
  serializeInputs,
  serializeLabels,
  serializeOutputs,
} from '../../src/prediction-log';
import { readRecentPredictions } from '../../src/drift/prediction-log-source';
import { collectShadowEvidence } from '../../src/shadow/evidence';
import { createS3Client } from '../../src/store';
import { type S3Server, freshBucket, rootClient, s3Env, testS3Server } from '../helpers/s3';

let server: S3Server;
let bucket: string;
const saved: Record<string, string | undefined> = {};

before(async () => {
  server = await testS3Server();
  bucket = await freshBucket(server, 'relearn-log');
  // Writers and readers take their credentials from the AWS chain, as on a replica or worker.
  for (const [k, v] of Object.entries(s3Env(server))) {
    saved[k] = process.env[k];
    process.env[k] = v;
  }
});
after(() => {
  for (const [k, v] of Object.entries(saved)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
});

/** The shared log's config as temporal.yaml gives it (no credentials). */
function shared(prefix: string) {
  return { url: `s3://${bucket}/${prefix}`, endpoint: server.endpoint, forcePathStyle: true };
}

/** A reader whose S3 client counts every request by command name. */
function countingReader(prefix: string): { store: S3SegmentStore; counts: Map<string, number> } {
  const counts = new Map<string, number>();
  const client: S3Client = createS3Client({ endpoint: server.endpoint, forcePathStyle: true });
  client.middlewareStack.add(
    (next, context) => async (args) => {
      counts.set(context.commandName!, (counts.get(context.commandName!) ?? 0) + 1);
      return next(args);
    },
    { step: 'initialize', name: 'countRequests' },
  );
  return { store: new S3SegmentStore({ ...shared(prefix), client }), counts };
}

const gets = (counts: Map<string, number>) => counts.get('GetObjectCommand') ?? 0;
const lists = (counts: Map<string, number>) => counts.get('ListObjectsV2Command') ?? 0;

function prediction(id: string, at: Date, version: number, role: 'champion' | 'shadow', p: number): PredictionLogEntry {
  return {
    kind: 'prediction', requestId: id, at, model: 'm', version, role, rows: 1, inputsSha256: 'a'.repeat(64), inputs: null,
    outputs: serializeOutputs({ predictions: [p >= 0.5 ? 1 : 0], probabilities: [[1 - p, p]] }), labels: null, latencyMs: 2,
  };
}

function feedback(id: string, at: Date, label: number): PredictionLogEntry {
  return { kind: 'feedback', requestId: id, at, model: 'm', version: null, role: null, rows: 1, inputsSha256: null, inputs: null, outputs: null, labels: serializeLabels([label]), latencyMs: null };
}

/** Writes `entries` as one segment of `writer`. */
async function segment(writer: PredictionLogWriter, entries: PredictionLogEntry[]): Promise<void> {
  for (const e of entries) writer.append(e);
  await writer.flush();
}

const at = (iso: string) => new Date(iso);

describe('prediction log on a shared S3 prefix', () => {
  test('two replicas write their own segments under one prefix; a window lists once, fetches only the segments it needs, joins feedback across replicas, and a second look fetches nothing sealed again', async () => {
    const prefix = 'logs';
    const a = new PredictionLogWriter({ dir: shared(prefix), replica: 'replica-a', flushIntervalMs: 3_600_000 });
    const b = new PredictionLogWriter({ dir: shared(prefix), replica: 'replica-b', flushIntervalMs: 3_600_000 });
    const ids = Array.from({ length: 6 }, () => newServerRequestId());
    // Outside the window: the day before, and the window's day before it opens.
    await segment(a, [prediction(newServerRequestId(), at('2026-03-01T10:00:00Z'), 2, 'champion', 0.9)]);
    await segment(b, [prediction(newServerRequestId(), at('2026-03-02T08:00:00Z'), 2, 'champion', 0.9)]);
    // In the window [12:00, 14:00): replica A answered v2 and mirrored v1 ...
    await segment(a, ids.slice(0, 3).flatMap((id, i) => [prediction(id, at(`2026-03-02T12:0${i}:00Z`), 2, 'champion', 0.8), prediction(id, at(`2026-03-02T12:0${i}:00.500Z`), 1, 'shadow', 0.3)]));
    // ... replica B too ...
    await segment(b, ids.slice(3).flatMap((id, i) => [prediction(id, at(`2026-03-02T12:1${i}:00Z`), 2, 'champion', 0.2), prediction(id, at(`2026-03-02T12:1${i}:00.500Z`), 1, 'shadow', 0.6)]));
    // ... and the labels of A's requests were posted to B (and of B's to A).
    await segment(b, ids.slice(0, 3).map((id, i) => feedback(id, at(`2026-03-02T13:0${i}:00Z`), 1)));
    await segment(a, ids.slice(3).map((id, i) => feedback(id, at(`2026-03-02T13:1${i}:00Z`), 0)));
    // After the window, and the next day.
    await segment(a, [prediction(newServerRequestId(), at('2026-03-02T15:00:00Z'), 2, 'champion', 0.9)]);
    await segment(b, [prediction(newServerRequestId(), at('2026-03-03T09:00:00Z'), 2, 'champion', 0.9)]);

    const listed = await rootClient(server).send(new ListObjectsV2Command({ Bucket: bucket, Prefix: `${prefix}/` }));
    const keys = (listed.Contents ?? []).map((o) => o.Key!).sort();
    assert.equal(keys.length, 8);
    assert.ok(keys.every((k) => /^logs\/m\/2026-03-0[123]\/\d{9}-\d{9}-replica-[ab]-\d{6}\.arrow$/.test(k)), keys.join('\n'));
    assert.ok(keys.includes('logs/m/2026-03-02/120000000-120200500-replica-a-000002.arrow'), keys.join('\n'));
    assert.equal(keys.filter((k) => k.includes('replica-a')).length, 4);

    const { store, counts } = countingReader(prefix);
    const window = { logDir: store, model: 'm', championVersion: 2, shadowVersion: 1, since: at('2026-03-02T12:00:00Z'), until: at('2026-03-02T14:00:00Z') };
    const first = await collectShadowEvidence(window);
    assert.deepEqual(first.counts, { championRequests: 6, shadowRequests: 6, pairedRequests: 6, labeledRequests: 6, rows: 6, unusableFeedback: 0, foreignIds: 0 });
    assert.deepEqual(first.labels, [1, 1, 1, 0, 0, 0]);
    assert.deepEqual(first.champion.positive, [0.8, 0.8, 0.8, 0.2, 0.2, 0.2]);
    // One listing from the window's first day; 4 of the 8 segments fetched (the two of each replica in the window).
    assert.equal(lists(counts), 1);
    assert.equal(gets(counts), 4);

    // A second look: listed again, nothing sealed fetched again.
    counts.clear();
    const again = await collectShadowEvidence(window);
    assert.deepEqual(again.counts, first.counts);
    assert.equal(lists(counts), 1);
    assert.equal(gets(counts), 0);

    // A new segment in the window (B's late answer, labelled through A): only it is fetched.
    const late = newServerRequestId();
    await segment(b, [prediction(late, at('2026-03-02T13:30:00Z'), 2, 'champion', 0.7), prediction(late, at('2026-03-02T13:30:00.200Z'), 1, 'shadow', 0.4)]);
    await segment(a, [feedback(late, at('2026-03-02T13:40:00Z'), 1)]);
    counts.clear();
    const third = await collectShadowEvidence(window);
    assert.equal(third.counts.labeledRequests, 7);
    assert.equal(gets(counts), 2);
    await a.close();
    await b.close();

    // The drift source's reader (every record of the days asked) sees both replicas' segments of those days.
    const days = await readPredictionLog({ dir: shared(prefix), model: 'm', fromDay: '2026-03-02', toDay: '2026-03-02' });
    assert.equal(days.filter((e) => e.kind === 'prediction').length, 1 + 12 + 1 + 2);
  });

  test("the drift monitor's prediction-log source reads both replicas' champion requests of a window, with labels posted to the other replica", async () => {
    const prefix = 'drift';
    const a = new PredictionLogWriter({ dir: shared(prefix), replica: 'a', flushIntervalMs: 3_600_000 });
    const b = new PredictionLogWriter({ dir: shared(prefix), replica: 'b', flushIntervalMs: 3_600_000 });
    const logged = (writer: PredictionLogWriter, x: number, when: string) => {
      const id = newServerRequestId();
      writer.append({ ...prediction(id, at(when), 3, 'champion', x / 10), inputs: serializeInputs({ features: ['x'], rows: [[x]] }) });
      return id;
    };
    const fromA = [1, 2, 3].map((x) => logged(a, x, `2026-03-05T10:0${x}:00Z`));
    const fromB = [4, 5].map((x) => logged(b, x, `2026-03-05T10:0${x}:00Z`));
    logged(a, 9, '2026-03-05T12:00:00Z');
    await a.flush();
    await b.flush();
    for (const id of fromA) b.append(feedback(id, at('2026-03-05T11:00:00Z'), 1));
    for (const id of fromB) a.append(feedback(id, at('2026-03-05T11:00:00Z'), 0));
    await a.close();
    await b.close();
    const recent = await readRecentPredictions({
      dir: shared(prefix), model: 'm', window: { from: '2026-03-05T10:00:00Z', to: '2026-03-05T11:00:00Z' },
      features: { numeric: ['x'], categorical: [] }, task: 'binary', maxRows: 100,
    });
    assert.equal(recent.requests, 5);
    assert.deepEqual(Array.from(recent.table.getChild('x')!.toArray() as Float64Array).sort(), [1, 2, 3, 4, 5]);
    assert.deepEqual(recent.labels.map(String).sort(), ['0', '0', '1', '1', '1']);
  });

  test('retention on a shared log deletes every replica\'s segments of days past it', async () => {
    const prefix = 'retained';
    const now = new Date('2026-03-10T12:00:00Z');
    const old = new PredictionLogWriter({ dir: shared(prefix), replica: 'old', flushIntervalMs: 3_600_000 });
    await segment(old, [prediction(newServerRequestId(), at('2026-03-01T10:00:00Z'), 1, 'champion', 0.5)]);
    await old.close();
    const writer = new PredictionLogWriter({ dir: shared(prefix), replica: 'new', retentionDays: 3, retentionCheckMs: 0, now: () => now, flushIntervalMs: 3_600_000 });
    await segment(writer, [prediction(newServerRequestId(), at('2026-03-10T11:00:00Z'), 1, 'champion', 0.5)]);
    await writer.close();
    const listed = await rootClient(server).send(new ListObjectsV2Command({ Bucket: bucket, Prefix: `${prefix}/` }));
    assert.deepEqual((listed.Contents ?? []).map((o) => o.Key!.split('/')[2]), ['2026-03-10']);
  });
});

describe('prediction log on a local folder', () => {
  test('a second look at a window reads no sealed file again; a new file is read', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'relearn-log-cache-'));
    const writer = new PredictionLogWriter({ dir, flushIntervalMs: 3_600_000 });
    const id = newServerRequestId();
    await segment(writer, [prediction(id, at('2026-03-02T12:00:00Z'), 2, 'champion', 0.8), prediction(id, at('2026-03-02T12:00:00.100Z'), 1, 'shadow', 0.3)]);
    await segment(writer, [feedback(id, at('2026-03-02T12:30:00Z'), 1)]);
    const window = { logDir: dir, model: 'm', championVersion: 2, shadowVersion: 1, since: at('2026-03-02T12:00:00Z'), until: at('2026-03-02T14:00:00Z') };
    const reads = segmentCacheStats.reads;
    assert.equal((await collectShadowEvidence(window)).counts.labeledRequests, 1);
    assert.equal(segmentCacheStats.reads - reads, 2);
    assert.equal((await collectShadowEvidence(window)).counts.labeledRequests, 1);
    assert.equal(segmentCacheStats.reads - reads, 2);
    const next = newServerRequestId();
    await segment(writer, [prediction(next, at('2026-03-02T13:00:00Z'), 2, 'champion', 0.8), prediction(next, at('2026-03-02T13:00:00.100Z'), 1, 'shadow', 0.3), feedback(next, at('2026-03-02T13:10:00Z'), 0)]);
    await writer.close();
    assert.equal((await collectShadowEvidence(window)).counts.labeledRequests, 2);
    assert.equal(segmentCacheStats.reads - reads, 3);
  });
});

describe('predictionLog: in temporal.yaml', () => {
  const base = { models: {} };
  test('a folder under stateDir by default; an s3:// prefix with its options; store reuses the S3 store', () => {
    const folder = configSchema.parse(base);
    assert.equal(resolvePredictionLog(folder, '/state'), path.resolve('/state', 'predictions'));
    const s3 = configSchema.parse({ ...base, predictionLog: { url: 's3://logs-bucket/serving', endpoint: 'http://127.0.0.1:7070', forcePathStyle: true } });
    assert.deepEqual(resolvePredictionLog(s3, '/state'), { url: 's3://logs-bucket/serving', endpoint: 'http://127.0.0.1:7070', forcePathStyle: true });
    const inStore = configSchema.parse({ ...base, store: { url: 's3://art/relearn', endpoint: 'http://127.0.0.1:7070', region: 'eu-west-1' }, predictionLog: 'store' });
    assert.deepEqual(resolvePredictionLog(inStore, '/state'), { url: 's3://art/relearn/predictions', endpoint: 'http://127.0.0.1:7070', region: 'eu-west-1' });
  });

  test('credentials in the URL, store on a folder, and S3 options on a folder are refused with the field', () => {
    const issues = (v: unknown) => {
      const r = configSchema.safeParse({ ...base, predictionLog: v });
      assert.equal(r.success, false);
      return r.error!.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('\n');
    };
    assert.match(issues('s3://key:secret@bucket/p'), /predictionLog\.url: must not carry credentials/);
    assert.match(issues('store'), /predictionLog: 'store' puts the log in the store's S3 bucket, but store is the folder store/);
    assert.match(issues({ url: 'logs', endpoint: 'http://127.0.0.1:7070' }), /predictionLog\.endpoint: applies only to an s3:\/\/ prediction log/);
    assert.match(issues('http://example.com/logs'), /predictionLog\.url: expected a local folder/);
  });
});
