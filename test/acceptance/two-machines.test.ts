// The acceptance test "two machines on one": two workers, each its own process with its own folder (state folder, HOME
// and TMPDIR; nothing shared through the local disk), one Temporal dev server, one S3 store, one PostgreSQL registry and
// one Ray head (the shared test services). Each process runs in a mount namespace of its own (util-linux `unshare`;
// root): the whole disk read-only, and its machine's folder bound read-write at one path that is the same for every
// machine (as a deployment puts temporal.yaml at one path on every machine), so a write anywhere else fails, and the
// processes cannot see each other's files. Worker A starts polling, the run starts, and A is SIGKILLed while its Ray
// jobs train; worker B, started after, finishes the run by attaching to the jobs Ray already has. Ray's own job list
// shows every job submitted once; the candidate is promoted in PostgreSQL; a `relearn serve` replica started from a third
// folder serves it, with predictions equal to scoring the registered ONNX (read back from the bucket) with
// onnxruntime-node here. Each folder is listed after the run: everything a process wrote is in its state folder, HOME
// or TMPDIR, and no local store or registry is made. The replica writes its prediction log to the shared bucket
// (`predictionLog: store`); live traffic with its labels as feedback is replayed through it while a second run,
// started on machine B, promotes v2 and opens the model's guard window, which worker B decides from the replica's
// segments read back from the bucket: it keeps v2, and its evidence counts equal the rows the test counts in that log.
//
// Network: the processes reach the shared services over loopback, not from network namespaces of their own. The shared
// test services (dev server, S3 gateway, PostgreSQL, Ray head with its dashboard and GCS) bind 127.0.0.1, and other test
// files use them at once; binding them to a veth address would change them for every test file of the run. What the
// test shows instead is that nothing reaches another process through the disk: each one has only its own folder, and
// the shared state is in the services. See docs/scaling.md, "The two-machines test".
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { WorkflowFailedError } from '@temporalio/client';
import ort from 'onnxruntime-node';
import { stringify } from 'yaml';
import { type LoadedConfig, loadConfig, modelConfig, resolvePredictionLog } from '../../src/config';
import { startTrafficReplay } from '../../src/cli/live-traffic';
import { isServerRequestId, readPredictionLog } from '../../src/prediction-log';
import type { RetrainResult } from '../../src/contracts';
import { RELEARN_ROOT } from '../../src/paths';
import { processAlive } from '../../src/processes';
import { CHAMPION_ALIAS, openRegistry } from '../../src/registry';
import { S3ArtifactStore, openArtifactStore } from '../../src/store';
import { connectClient } from '../../src/temporal/connection';
import { startRetrain } from '../../src/temporal/runs';
import { freePort } from '../helpers/free-port';
import { smallFlightsModel, testServerAddress, uniqueModelName } from '../helpers/pipeline-env';
import { envDuringSuite } from '../helpers/env';
import { createTestDatabase } from '../helpers/postgres';
import { rayJobList, testRayHead } from '../helpers/ray';
import { freshBucket, rootClient, s3Env, testS3Server } from '../helpers/s3';
import { waitFor } from '../helpers/wait';

const BIN = path.join(RELEARN_ROOT, 'bin', 'relearn.mjs');

// The guard window of run 2: sequential (decides from 100 labeled rows once minDuration has passed), polled every second.
const GUARD = { minDuration: '2s', maxDuration: '60s', minLabeledRows: 1000, pollInterval: '1s', maxErrorRate: 0.05, maxP99LatencyMs: 5000 };

/** One "machine": a folder holding its temporal.yaml, the registry's password file, its state folder, HOME and TMPDIR. */
interface Machine {
  name: string;
  /** The machine's folder on this host. */
  dir: string;
  /** Where its processes see that folder (the same path on every machine). */
  at: string;
  env: NodeJS.ProcessEnv;
  output: string;
  child?: ChildProcess;
}

/** Every file under `dir`, relative to it. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name)))
    .sort();
}

// In a new mount namespace: every mount of the disk read-only, then the machine's folder read-write at $MACHINE_AT.
const SANDBOX = 'mount --bind / / && mount -o remount,bind,ro / && mount --bind "$MACHINE_DIR" "$MACHINE_AT" && mount -o remount,bind,rw "$MACHINE_AT" && cd "$MACHINE_AT" && exec "$@"';

/** Runs `command` as a process of the machine: its folder at the shared path, the rest of the disk read-only. */
function startSandboxed(machine: Machine, command: string[]): ChildProcess {
  return spawn('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', SANDBOX, 'sandbox', ...command], {
    env: { ...machine.env, MACHINE_DIR: machine.dir, MACHINE_AT: machine.at },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** Starts `relearn <args>` as a process of the machine (its temporal.yaml, HOME and TMPDIR; the machine's AWS keys). */
function startProcess(machine: Machine, args: string[]): ChildProcess {
  const child = startSandboxed(machine, [process.execPath, BIN, '--config', path.join(machine.at, 'temporal.yaml'), ...args]);
  child.stdout!.on('data', (d: Buffer) => (machine.output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (machine.output += d.toString()));
  machine.child = child;
  return child;
}

async function stopProcess(machine: Machine, signal: NodeJS.Signals): Promise<void> {
  const child = machine.child;
  if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill(signal);
  await exited;
}

// Mount namespaces need root (CAP_SYS_ADMIN); npm test runs as root on the test machines.
const notRoot = process.getuid?.() !== 0 ? 'needs root for the mount namespaces (unshare --mount)' : false;

describe('two machines on one: a worker killed mid-training, another finishes, a replica serves', { timeout: 420_000, skip: notRoot }, () => {
  const model = uniqueModelName('two-machines');
  let root: string;
  const machines: Record<'a' | 'b' | 'replica', Machine> = {} as Record<'a' | 'b' | 'replica', Machine>;
  let loadedB: LoadedConfig;
  let rayAddress: string;
  let bucket: string;
  let workflowId: string;
  let result: RetrainResult | undefined;
  let failure: string | undefined;
  let killedWhile: string[] = [];
  const identities = new Set<string>();
  const initialFiles: Record<string, string[]> = {};
  let workerAPid = 0;
  let workerBPid = 0;
  let replicaUrl: string | undefined;
  let s3Keys: { accessKeyId: string; secretAccessKey: string; endpoint: string; port: number };
  // The test reads the bucket with the AWS chain of its own environment, as any machine does.
  envDuringSuite({ AWS_ACCESS_KEY_ID: 'set-in-before', AWS_SECRET_ACCESS_KEY: 'set-in-before', AWS_REGION: 'us-east-1' });

  before(async () => {
    const [address, s3, head, db] = await Promise.all([testServerAddress(), testS3Server(), testRayHead(), createTestDatabase('two_machines')]);
    rayAddress = head.address;
    s3Keys = s3;
    Object.assign(process.env, s3Env(s3));
    bucket = await freshBucket(s3, 'two-machines');
    root = mkdtempSync(path.join(os.tmpdir(), 'relearn-two-machines-'));
    // The Ray node's own credentials for the bucket, a file of the node's: the submission names the file, never the keys.
    const nodeDir = path.join(root, 'ray-node');
    mkdirSync(nodeDir);
    const credentials = path.join(nodeDir, 'credentials.env');
    writeFileSync(credentials, Object.entries(s3Env(s3)).map(([k, v]) => `export ${k}='${v}'\n`).join(''), { mode: 0o600 });
    const base = smallFlightsModel();
    const modelConfig = {
      ...base,
      // Two folds: three Ray jobs, two of which are running when worker A is killed.
      split: { ...(base.split as object), folds: 2 },
      trainer: {
        ...(base.trainer as object),
        command: ['sh', '-c', `. ${credentials} && exec "$0" "$@"`, '{python}', '{relearn}/trainers/sklearn/train.py', '{spec}'],
        launcher: { ray: { address: head.address } },
        // A dead worker's training attempt is given up after this long without a heartbeat, then worker B retries it.
        heartbeatTimeoutMs: 5000,
        maxAttempts: 3,
      },
      // Run 2 promotes v2 and opens this guard window: worker B decides it from the replica's log in the bucket.
      rollout: { guard: GUARD },
    };
    const taskQueue = `two-machines-${path.basename(root)}`;
    const at = path.join(root, 'machine');
    mkdirSync(at);
    for (const name of ['a', 'b', 'replica'] as const) {
      const dir = path.join(root, name);
      for (const sub of ['home', 'tmp']) mkdirSync(path.join(dir, sub), { recursive: true });
      writeFileSync(path.join(dir, 'registry-password'), readFileSync(db.passwordFile), { mode: 0o600 });
      writeFileSync(
        path.join(dir, 'temporal.yaml'),
        stringify({
          temporal: { address, namespace: 'default', taskQueue },
          stateDir: 'state',
          dataRoot: '/',
          store: { url: `s3://${bucket}/relearn`, endpoint: s3.endpoint, forcePathStyle: true },
          predictionLog: 'store',
          registry: { postgres: db.url, passwordFile: 'registry-password' },
          models: name === 'replica' ? {} : { [model]: modelConfig },
        }),
      );
      const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, LANG: process.env.LANG, HOME: path.join(at, 'home'), TMPDIR: path.join(at, 'tmp'), ...s3Env(s3) };
      machines[name] = { name, dir, at, env, output: '' };
      initialFiles[name] = filesUnder(dir);
    }
    // The test reads the registry and the bucket with machine B's config, from outside its namespace.
    loadedB = loadConfig(path.join(machines.b.dir, 'temporal.yaml'));

    // Worker A polls; the run starts; A is SIGKILLed as soon as Ray lists its jobs running.
    const a = startProcess(machines.a, ['worker', '--max-activities', '4']);
    workerAPid = a.pid!;
    const { client, close } = await connectClient(loadedB);
    try {
      await waitFor(`worker A to poll (output: ${machines.a.output})`, () => {
        if (a.exitCode !== null) throw new Error(`worker A exited ${a.exitCode}:\n${machines.a.output}`);
        return machines.a.output.includes('worker polling') ? true : undefined;
      }, 90_000, 100);
      // The run is started on machine A too: the run carries the digest of A's model block, which B must share.
      const starter: Machine = { ...machines.a, output: '' };
      const code = await new Promise<number | null>((resolve) => startProcess(starter, ['run', model, '--json']).once('exit', resolve));
      assert.equal(code, 0, `relearn run: ${starter.output}`);
      const started = {
        workflowId: /"workflowId": "([^"]+)"/.exec(starter.output)?.[1] ?? assert.fail(`no workflowId in: ${starter.output}`),
        runId: /"runId": "([^"]+)"/.exec(starter.output)?.[1] ?? assert.fail(`no runId in: ${starter.output}`),
      };
      workflowId = started.workflowId;
      killedWhile = await waitFor(
        `a Ray job of ${workflowId} to run (worker A: ${machines.a.output})`,
        async () => {
          if (a.exitCode !== null) throw new Error(`worker A exited ${a.exitCode}:\n${machines.a.output}`);
          const mine = (await rayJobList(head.address)).filter((j) => j.metadata?.['relearn.workflowId'] === workflowId);
          return mine.some((j) => j.status === 'RUNNING') ? mine.map((j) => `${j.submission_id.split('_').at(-1)}:${j.status}`) : undefined;
        },
        150_000,
        100,
      );
      await stopProcess(machines.a, 'SIGKILL');

      // Worker B, on its own folder, finishes the run.
      const b = startProcess(machines.b, ['worker', '--max-activities', '4']);
      workerBPid = b.pid!;
      const handle = client.workflow.getHandle(started.workflowId, started.runId);
      const outcome = handle.result().then(
        (r) => ({ result: r as RetrainResult }),
        (err: unknown) => {
          if (err instanceof WorkflowFailedError) return { failure: `${err.message} ← ${err.cause?.message ?? ''}` };
          throw err;
        },
      );
      const exited = new Promise<never>((_, reject) => b.once('exit', (code) => reject(new Error(`worker B exited ${code}:\n${machines.b.output}`))));
      ({ result, failure } = (await Promise.race([outcome, exited])) as { result?: RetrainResult; failure?: string });
      for (const event of (await handle.fetchHistory()).events ?? []) {
        const attrs = event.activityTaskStartedEventAttributes;
        if (attrs?.identity) identities.add(attrs.identity);
      }
    } finally {
      await close();
    }
  });

  after(async () => {
    for (const m of Object.values(machines)) await stopProcess(m, 'SIGTERM');
    if (root !== undefined) rmSync(root, { recursive: true, force: true });
  });

  test('worker B finishes the run worker A started, and promotes v1', () => {
    assert.equal(failure, undefined, `${failure}\nworker B: ${machines.b.output}`);
    assert.equal(result?.decision, 'promoted');
    assert.equal(result?.version, 1);
    assert.ok(killedWhile.some((j) => j.endsWith(':RUNNING')), `A was killed while a Ray job ran: ${killedWhile.join(', ')}`);
    assert.equal(processAlive(workerAPid), false, 'worker A is gone');
    const ids = [...identities];
    assert.ok(ids.some((id) => id.startsWith(`${workerAPid}@`)), `worker A started activities: ${ids.join(', ')}`);
    assert.ok(ids.some((id) => id.startsWith(`${workerBPid}@`)), `worker B started activities: ${ids.join(', ')}`);
  });

  test("Ray's own job list: each of the run's jobs (2 folds + final) submitted exactly once, succeeded", async (t) => {
    const mine = (await rayJobList(rayAddress)).filter((j) => j.metadata?.['relearn.workflowId'] === workflowId);
    t.diagnostic(`Ray jobs of the run: ${mine.length} (${mine.map((j) => j.submission_id.split('_').at(-1)).join(', ')}); running when worker A was killed: ${killedWhile.join(', ')}`);
    assert.deepEqual(mine.map((j) => j.submission_id.split('_').at(-1)).sort(), ['final', 'fold-0', 'fold-1']);
    assert.ok(mine.every((j) => j.status === 'SUCCEEDED'), JSON.stringify(mine.map((j) => [j.submission_id, j.status])));
    assert.ok(mine.every((j) => j.submission_id === j.metadata?.['relearn.jobId'] && !j.submission_id.includes('--run-')), 'no job launched a second time');
  });

  test('the version, the champion and one promotion are in PostgreSQL; the artifacts in the bucket', async () => {
    const registry = openRegistry(loadedB);
    try {
      const v1 = (await registry.getVersion(model, 1))!;
      assert.equal(v1.workflowId, workflowId);
      assert.equal(v1.artifactSha256, result?.candidate.artifact.sha256);
      assert.equal((await registry.getAlias(model, CHAMPION_ALIAS))?.version, 1);
      const promotions = (await registry.auditLog(model)).filter((e) => e.action === 'promote');
      assert.deepEqual(promotions.map((e) => [e.alias, e.toVersion]), [[CHAMPION_ALIAS, 1]]);
    } finally {
      await registry.close();
    }
    const listed = await rootClient(s3Keys).send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'relearn/' }));
    const kinds = new Set((listed.Contents ?? []).map((o) => o.Key!.split('/')[1]));
    for (const kind of ['snapshots', 'splits', 'models', 'jobs']) assert.ok(kinds.has(kind), `${kind} in the bucket (${[...kinds].join(', ')})`);
  });

  test('a serve replica from a third folder serves the champion; its predictions equal the registered ONNX scored here', async () => {
    const port = await freePort();
    const replica = startProcess(machines.replica, ['serve', '--port', String(port), '--no-auth', '--threads', '1', '--poll-ms', '200']);
    replicaUrl = `http://127.0.0.1:${port}`;
    const url = replicaUrl;
    await waitFor(`the replica to serve ${model} (output: ${machines.replica.output})`, async () => {
      if (replica.exitCode !== null) throw new Error(`relearn serve exited ${replica.exitCode}:\n${machines.replica.output}`);
      const res = await fetch(`${url}/models/${model}`).catch(() => undefined);
      return res?.status === 200 ? true : undefined;
    }, 90_000, 100);
    const rows = [
      { distance: 300, hour: 7, origin: 'ORD' },
      { distance: 1500, hour: 18, origin: 'LAX' },
      { distance: 800, hour: 12, origin: 'DFW' },
      { distance: 2400, hour: 21, origin: 'no-such-airport' },
    ];
    const res = await fetch(`${url}/models/${model}/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ rows }) });
    const body = (await res.json()) as { version: number; probabilities?: number[][] };
    assert.equal(res.status, 200, JSON.stringify(body));
    assert.equal(body.version, 1);

    // The registered model, read from the bucket with its digest checked, scored with onnxruntime-node directly.
    const store = openArtifactStore(loadedB);
    assert.ok(store instanceof S3ArtifactStore);
    const bytes = await store.readVerified(result!.candidate.artifact);
    const session = await ort.InferenceSession.create(bytes);
    try {
      const feeds: Record<string, ort.Tensor> = {};
      for (const name of session.inputNames) {
        const values = rows.map((r) => r[name as keyof typeof r]);
        feeds[name] = typeof values[0] === 'string' ? new ort.Tensor('string', values as string[], [rows.length, 1]) : new ort.Tensor('float32', Float32Array.from(values as number[]), [rows.length, 1]);
      }
      const out = await session.run(feeds);
      const probName = session.outputNames.find((n) => n.includes('prob'))!;
      const expected = Array.from(out[probName]!.data as Float32Array);
      const served = body.probabilities!.flat();
      assert.equal(served.length, expected.length);
      for (let i = 0; i < expected.length; i++) assert.ok(Math.abs(served[i]! - expected[i]!) <= 1e-6, `probability ${i}: served ${served[i]}, ONNX ${expected[i]}`);
    } finally {
      await session.release();
    }
  });

  test("run 2's guard window is decided by worker B from the replica's prediction log in the shared bucket", async (t) => {
    assert.ok(replicaUrl !== undefined, 'the replica serves');
    // Live traffic with its labels sent as feedback at once, through the replica (a later week than training's).
    const traffic = await startTrafficReplay({
      model,
      modelConfig: modelConfig(loadedB, model),
      window: { from: '2001-02-08', to: '2001-02-15' },
      url: replicaUrl,
      token: null,
      sampleRows: 3000,
      rowsPerRequest: 20,
      intervalMs: 50,
    });
    let second: RetrainResult;
    try {
      const starter: Machine = { ...machines.b, output: '' };
      const code = await new Promise<number | null>((resolve) => startProcess(starter, ['run', model, '--json']).once('exit', resolve));
      assert.equal(code, 0, `relearn run: ${starter.output}`);
      const id = /"workflowId": "([^"]+)"/.exec(starter.output)?.[1] ?? assert.fail(`no workflowId in: ${starter.output}`);
      const runId = /"runId": "([^"]+)"/.exec(starter.output)?.[1] ?? assert.fail(`no runId in: ${starter.output}`);
      const { client, close } = await connectClient(loadedB);
      try {
        second = (await client.workflow.getHandle(id, runId).result()) as RetrainResult;
      } finally {
        await close();
      }
    } finally {
      const sent = await traffic.stop();
      t.diagnostic(`traffic: ${JSON.stringify(sent)}`);
    }
    assert.equal(second.decision, 'promoted');
    assert.equal(second.version, 2);
    const [guard] = second.rollout ?? [];
    assert.equal(guard?.phase, 'guard', JSON.stringify(second.rollout));
    assert.equal(guard?.decision, 'keep', guard?.reason);
    assert.equal(guard?.decidedBy, 'evidence', guard?.reason);
    const evidence = guard!.evidence!;
    assert.deepEqual([evidence.baselineVersion, evidence.contenderVersion], [1, 2]);

    // The rows the replica logged in the window, read back from the bucket here: v2's answers and v1's mirrored ones,
    // paired by request id, and the rows of those requests whose labels came before the window's end.
    const since = Date.parse(evidence.since);
    const until = Date.parse(evidence.until);
    const entries = await readPredictionLog({ dir: resolvePredictionLog(loadedB.config, loadedB.stateDir), model });
    const inWindow = entries.filter((e) => e.at.getTime() >= since && e.at.getTime() < until && isServerRequestId(e.requestId));
    const answered = new Map(inWindow.filter((e) => e.kind === 'prediction' && e.role === 'champion' && e.version === 2).map((e) => [e.requestId, e.rows]));
    const mirrored = new Set(inWindow.filter((e) => e.kind === 'prediction' && e.role === 'shadow' && e.version === 1).map((e) => e.requestId));
    const labeled = new Set(inWindow.filter((e) => e.kind === 'feedback').map((e) => e.requestId));
    const paired = [...answered.keys()].filter((id) => mirrored.has(id));
    const labeledRows = paired.filter((id) => labeled.has(id)).reduce((sum, id) => sum + answered.get(id)!, 0);
    t.diagnostic(`guard: ${guard!.reason}; log in the window: ${answered.size} answered by v2, ${mirrored.size} mirrored to v1, ${paired.length} paired, ${labeledRows} labeled rows`);
    assert.ok(labeledRows >= 100, `labeled rows in the window: ${labeledRows}`);
    // The guard read the bucket at its look; the replica writes its buffer every second, so records of the last moments
    // before the look can land after it, with times inside the window. What the guard counted is therefore what the
    // log holds now, or a little less — never more, and never rows the log does not have.
    assert.ok(evidence.labeledRows >= 100, `labeled rows the guard counted: ${evidence.labeledRows}`);
    assert.ok(evidence.pairedRequests <= paired.length, `guard paired ${evidence.pairedRequests}, the log holds ${paired.length}`);
    assert.ok(evidence.labeledRows <= labeledRows, `guard counted ${evidence.labeledRows} labeled rows, the log holds ${labeledRows}`);
    await stopProcess(machines.replica, 'SIGTERM');
  });

  test('a process of a machine can write in its folder and nowhere else', async () => {
    const probe: Machine = { ...machines.replica, output: '' };
    const outside = path.join(root, 'written-from-a-machine');
    await new Promise((resolve) => startSandboxed(probe, ['sh', '-c', `touch tmp/probe; touch ${outside}`]).once('exit', resolve));
    assert.ok(existsSync(path.join(machines.replica.dir, 'tmp', 'probe')), 'written in its own folder');
    assert.ok(!existsSync(outside), 'not written outside it');
    rmSync(path.join(machines.replica.dir, 'tmp', 'probe'));
  });

  test("each machine's folder holds its own work: no local store or registry, A's fold jobs, B's final job", () => {
    const listing = Object.fromEntries((['a', 'b', 'replica'] as const).map((n) => [n, filesUnder(machines[n].dir)]));
    for (const [name, files] of Object.entries(listing)) {
      assert.deepEqual(initialFiles[name], ['registry-password', 'temporal.yaml'], `${name} started with its config alone`);
      assert.ok(!files.some((f) => f.startsWith(`${path.join('state', 'store')}${path.sep}`)), `${name}: no local store folder`);
      assert.ok(!files.some((f) => f.endsWith('registry.db')), `${name}: no SQLite registry`);
    }
    // A trained (its run folders name the jobs it launched); B finished (the final job's outputs, copied back from the store).
    assert.ok(listing.a!.some((f) => f.includes('fold-')), `worker A's folder has its fold jobs: ${listing.a!.join(', ')}`);
    assert.ok(listing.b!.some((f) => f.includes('final')), `worker B's folder has the final job: ${listing.b!.join(', ')}`);
    assert.ok(!listing.replica!.some((f) => f.includes('jobs')), `the replica ran no job: ${listing.replica!.join(', ')}`);
  });

  // onnxruntime-node 1.30's Linux library embeds a telemetry SDK that keeps a session-id file: `.ses` (and an empty
  // `mat-debug-<pid>.log`) in TMPDIR, or `:memory:.ses` in the working folder when it falls back to an in-memory
  // cache. It is the library's, not Relearn's, and it holds no data of the run; the assertion names it and nothing else.
  test('every file a process wrote is under its state folder, HOME or TMPDIR (besides onnxruntime\'s telemetry session file)', () => {
    const onnxruntimeSessionFile = (f: string): boolean => path.basename(f) === ':memory:.ses' || path.basename(f) === '.ses';
    for (const name of ['a', 'b', 'replica'] as const) {
      const elsewhere = filesUnder(machines[name].dir).filter(
        (f) => !initialFiles[name]!.includes(f) && !['state', 'home', 'tmp'].includes(f.split(path.sep)[0]!) && !onnxruntimeSessionFile(f),
      );
      assert.deepEqual(elsewhere, [], `${name} wrote only under its state folder, HOME and TMPDIR`);
    }
  });
});
