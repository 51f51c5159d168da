// The local launcher and the job-output readers on real processes and files, without Temporal: what a job's
// environment holds, and how much of what it writes is read.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { ModelRejectedError } from '../../src/errors';
import { probeMaxBytes, readJsonFile, STATUS_MAX_BYTES, jobStatusSchema } from '../../src/jobs/contract';
import { jobEnvironment } from '../../src/jobs/job-env';
import { type JobHandle, type JobState, LocalLauncher, tail } from '../../src/jobs/local';
import { copyModelForCheck } from '../../src/onnx';
import { RELEARN_ROOT, VENV_PYTHON } from '../../src/paths';
import { envDuringSuite } from '../helpers/env';

const LEAKY = path.join(RELEARN_ROOT, 'test/fixtures/trainers/leaky.py');
const WORKER_SECRETS = { TEMPORAL_API_KEY: 'tmprl-test-api-key-0123456789', AWS_SECRET_ACCESS_KEY: 'aws-test-secret-abcdefghij', RELEARN_SERVE_TOKEN: 'serve-token-test-98765' };

async function finish(launcher: LocalLauncher, handle: JobHandle): Promise<JobState> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const state = launcher.poll(handle);
    if (state.kind === 'succeeded' || state.kind === 'failed') return state;
    if (Date.now() > deadline) throw new Error(`job ${handle.jobId} did not finish in 60 s`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('a job gets an allow-list environment, not the worker\'s', () => {
  envDuringSuite(WORKER_SECRETS);

  test('a real job that prints its environment shows none of the worker\'s credentials, and its own variables', async () => {
    const launcher = new LocalLauncher(mkdtempSync(path.join(os.tmpdir(), 'relearn-jobenv-')));
    const script = 'import json, os, sys; json.dump(dict(os.environ), open(os.path.join(json.load(open(sys.argv[1]))["outputDir"], "env.json"), "w")); sys.exit(3)';
    const handle = launcher.launchOrAttach({
      jobId: 'env-probe',
      command: [VENV_PYTHON, '-c', script, '{spec}'],
      cwd: RELEARN_ROOT,
      spec: {} as never,
      env: { FEATURE_STORE_URL: 'http://features.internal' },
      passEnv: ['RELEARN_SERVE_TOKEN'],
    });
    const state = await finish(launcher, handle);
    assert.equal(state.kind, 'failed', 'no status.json: a failed run, but the env was written first');
    const env = JSON.parse(readFileSync(path.join(handle.outputDir, 'env.json'), 'utf8')) as Record<string, string>;
    assert.equal(env.TEMPORAL_API_KEY, undefined);
    assert.equal(env.AWS_SECRET_ACCESS_KEY, undefined);
    assert.equal(env.FEATURE_STORE_URL, 'http://features.internal');
    assert.equal(env.RELEARN_SERVE_TOKEN, WORKER_SECRETS.RELEARN_SERVE_TOKEN, 'passEnv passes a named worker variable');
    assert.equal(env.OMP_NUM_THREADS, '1');
    assert.equal(env.HOME, path.join(handle.runDir, 'home'));
    const leaked = Object.values(env).filter((v) => v === WORKER_SECRETS.TEMPORAL_API_KEY || v === WORKER_SECRETS.AWS_SECRET_ACCESS_KEY);
    assert.deepEqual(leaked, []);
    const names = Object.keys(env).filter((n) => !n.startsWith('RELEARN_') && !n.startsWith('LC_'));
    for (const name of names) {
      assert.ok(
        ['PATH', 'LANG', 'LANGUAGE', 'TZ', 'TMPDIR', 'VIRTUAL_ENV', 'PYTHONHOME', 'PYTHONPATH', 'HOME', 'FEATURE_STORE_URL', 'OMP_NUM_THREADS', 'OPENBLAS_NUM_THREADS', 'MKL_NUM_THREADS', 'NUMEXPR_NUM_THREADS', 'PWD', 'SHLVL', '_'].includes(name),
        `unexpected variable in the job's environment: ${name}`,
      );
    }
  });

  test('threads and the job\'s own variables: trainer.env wins over the defaults', () => {
    const env = jobEnvironment({ workerEnv: { PATH: '/bin', AWS_ACCESS_KEY_ID: 'AKIA…', LC_ALL: 'C.UTF-8' }, home: '/h', threads: 2, env: { OMP_NUM_THREADS: '3' } });
    assert.deepEqual(env, { PATH: '/bin', LC_ALL: 'C.UTF-8', HOME: '/h', OMP_NUM_THREADS: '3', OPENBLAS_NUM_THREADS: '2', MKL_NUM_THREADS: '2', NUMEXPR_NUM_THREADS: '2' });
  });

  test('a failing job\'s stderr reaches its failure message scrubbed, and only its last 4 KiB are read', async () => {
    const launcher = new LocalLauncher(mkdtempSync(path.join(os.tmpdir(), 'relearn-jobenv-')));
    const spec = { role: 'fold-0', task: 'binary', estimator: 'x' } as never;
    const handle = launcher.launchOrAttach({ jobId: 'leaky', command: [VENV_PYTHON, LEAKY, 'stderr-secret', '{spec}'], cwd: RELEARN_ROOT, spec });
    const state = await finish(launcher, handle);
    assert.equal(state.kind, 'failed');
    const message = (state as Extract<JobState, { kind: 'failed' }>).message;
    assert.match(message, /exited with code 1; last stderr lines:\n[\s\S]*fatal: feature store refused the connection/);
    for (const secret of ['AKIAIOSFODNN7EXAMPLE', 'wJalrXUtnFEMI', 'eyJhbGciOiJIUzI1NiJ9', 'hunter2-db-pass']) assert.ok(!message.includes(secret), `${secret} in: ${message}`);
  });
});

describe('job output files are read with caps', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'relearn-caps-'));

  test('stderr tail: the last lines of the last 4 KiB, from the end of a large file', () => {
    const file = path.join(dir, 'stderr.log');
    writeFileSync(file, `${'early line that must not be read\n'.repeat(200_000)}the last line\n`);
    const text = tail(file);
    assert.ok(text.endsWith('the last line'));
    assert.ok(Buffer.byteLength(text) <= 4096);
    assert.equal(text.split('\n').length, 15);
  });

  test('status.json over 1 MiB is refused before it is parsed, naming the cap', () => {
    const file = path.join(dir, 'status.json');
    writeFileSync(file, JSON.stringify({ status: 'succeeded', padding: 'x'.repeat(STATUS_MAX_BYTES) }));
    const parsed = readJsonFile(file, jobStatusSchema, STATUS_MAX_BYTES);
    assert.equal(parsed.ok, false);
    assert.match((parsed as { error: string }).error, /^\d+ bytes, over the cap of 1048576 bytes$/);
  });

  test('probe.json cap follows the probe rows: a real binary probe of 10,000 rows fits, 3 MiB does not', () => {
    const rows = Array.from({ length: 10_000 }, (_, i) => 1_000_000 + i);
    const full = JSON.stringify({ rows, probabilities: rows.map(() => [0.12345678901234567, 0.8765432109876543]) }, null, 2);
    assert.ok(Buffer.byteLength(full) < probeMaxBytes(2), `${Buffer.byteLength(full)} < ${probeMaxBytes(2)}`);
    assert.ok(3 * 1024 * 1024 > probeMaxBytes(2));
  });

  test('an oversize model is refused before a byte is copied; a symlinked one is refused', async () => {
    const src = path.join(dir, 'model.onnx');
    writeFileSync(src, Buffer.alloc(4096, 1));
    const dest = mkdtempSync(path.join(os.tmpdir(), 'relearn-check-'));
    await assert.rejects(copyModelForCheck({ srcPath: src, destDir: dest, maxSizeBytes: 1024, modelName: 'model.onnx of fold-0' }), (err: unknown) => {
      assert.ok(err instanceof ModelRejectedError);
      assert.match(err.message, /model\.onnx of fold-0: 4 KB exceeds the cap of 1 KB/);
      return true;
    });
    assert.deepEqual(readdirSync(dest), []);
    const copy = await copyModelForCheck({ srcPath: src, destDir: dest, maxSizeBytes: 8192, modelName: 'm' });
    assert.equal(copy.sizeBytes, 4096);
    assert.deepEqual(readFileSync(copy.path), Buffer.alloc(4096, 1));
    const link = path.join(dir, 'linked', 'model.onnx');
    mkdirSync(path.dirname(link));
    symlinkSync(src, link);
    await assert.rejects(
      copyModelForCheck({ srcPath: link, destDir: mkdtempSync(path.join(os.tmpdir(), 'relearn-check-')), maxSizeBytes: 8192, modelName: 'model.onnx of fold-0' }),
      /model\.onnx of fold-0: is a symbolic link .*; a model must be a regular file/,
    );
  });
});
