import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type AwaitJobOptions, type JobHeartbeat, awaitJob, expandCommand } from '../../src/jobs/await-job';
import type { JobHandle, JobState, LaunchOptions } from '../../src/jobs/local';
import { JobParamsError } from '../../src/errors';

const STATUS: Extract<JobState, { kind: 'succeeded' }>['status'] = {
  status: 'succeeded',
  role: 'fold-0',
  task: 'binary',
  estimator: 'logistic_regression',
  params: {},
  trainRows: 120,
  classes: [0, 1],
  durationMs: 5,
  selfReportedMetrics: {},
  versions: {},
};

const LAUNCH: LaunchOptions = { jobId: 'retrain_m_fold-0', command: ['true'], cwd: '.', spec: {} as LaunchOptions['spec'] };

/** A launcher that answers polls from a script, one state per poll, and records what was asked of it. */
function scriptedLauncher(states: JobState[]) {
  const calls = { launches: 0, polls: 0, kills: [] as string[] };
  const handle = (run: number): JobHandle => ({ jobId: LAUNCH.jobId, run, runDir: `runs/${run}`, outputDir: `runs/${run}/out`, attached: false });
  return {
    calls,
    launcher: {
      launchOrAttach: () => handle(++calls.launches),
      poll: (): JobState => {
        const state = states[calls.polls++];
        if (state === undefined) throw new Error('polled past the end of the script');
        return state;
      },
      cancel: (_: JobHandle, reason: string) => void calls.kills.push(reason),
    },
  };
}

function options(launcher: AwaitJobOptions['launcher'], overrides: Partial<AwaitJobOptions> = {}) {
  const beats: JobHeartbeat[] = [];
  const sleeps: number[] = [];
  const opts: AwaitJobOptions = {
    launcher,
    launch: LAUNCH,
    timeoutMs: 60_000,
    pollMs: 100,
    onHeartbeat: (beat) => beats.push(beat),
    sleep: async (ms) => void sleeps.push(ms),
    killOnInterrupt: () => false,
    ...overrides,
  };
  return { opts, beats, sleeps };
}

describe('awaitJob', () => {
  test('polls until the job succeeds, heartbeating its state, the pause doubling from 25 ms up to pollMs', async () => {
    const { launcher, calls } = scriptedLauncher([
      { kind: 'starting' },
      ...[1, 2, 3, 4, 5].map((i): JobState => ({ kind: 'running', pid: 42, elapsedMs: i * 10 })),
      { kind: 'succeeded', status: STATUS },
    ]);
    const launched: JobHandle[] = [];
    const { opts, beats, sleeps } = options(launcher, { onLaunched: (h) => launched.push(h) });
    const done = await awaitJob(opts);
    assert.deepEqual(done.status, STATUS);
    assert.equal(done.handle.run, 1);
    assert.equal(calls.launches, 1);
    assert.equal(launched.length, 1);
    assert.deepEqual(beats[0], { jobId: LAUNCH.jobId, run: 1, state: 'starting' });
    assert.deepEqual(beats[1], { jobId: LAUNCH.jobId, run: 1, state: 'running', pid: 42, elapsedMs: 10 });
    assert.equal(beats.length, 6);
    assert.deepEqual(sleeps, [25, 50, 100, 100, 100, 100]);
    assert.deepEqual(calls.kills, []);
  });

  test('a job past its deadline is killed and the wait fails with a retryable error', async () => {
    const { launcher, calls } = scriptedLauncher([{ kind: 'running', pid: 42, elapsedMs: 61_000 }]);
    const { opts } = options(launcher);
    await assert.rejects(awaitJob(opts), (err: unknown) => !(err instanceof JobParamsError) && /exceeded its deadline of 60000 ms and was killed/.test((err as Error).message));
    assert.deepEqual(calls.kills, ['exceeded the job deadline of 60000 ms']);
  });

  test('a run that never started is launched again, and the new run is awaited', async () => {
    const { launcher, calls } = scriptedLauncher([
      { kind: 'failed', exitCode: null, message: 'never started', badParams: false, neverStarted: true },
      { kind: 'succeeded', status: STATUS },
    ]);
    const done = await awaitJob(options(launcher).opts);
    assert.equal(calls.launches, 2);
    assert.equal(done.handle.run, 2);
  });

  test('bad params fail for good; any other failure is retryable', async () => {
    const bad = scriptedLauncher([{ kind: 'failed', exitCode: 2, message: 'bad C', badParams: true }]);
    await assert.rejects(awaitJob(options(bad.launcher).opts), JobParamsError);
    const crashed = scriptedLauncher([{ kind: 'failed', exitCode: 1, message: 'segfault', badParams: false }]);
    await assert.rejects(awaitJob(options(crashed.launcher).opts), (err: unknown) => !(err instanceof JobParamsError) && (err as Error).message === 'segfault');
  });

  test('an interrupted wait kills the job only when the caller says so, and rethrows either way', async () => {
    for (const kill of [true, false]) {
      const { launcher, calls } = scriptedLauncher([{ kind: 'running', pid: 42, elapsedMs: 10 }]);
      const interrupted = new Error('cancelled');
      const seen: unknown[] = [];
      const { opts } = options(launcher, {
        sleep: async () => {
          throw interrupted;
        },
        killOnInterrupt: (err) => {
          seen.push(err);
          return kill;
        },
      });
      await assert.rejects(awaitJob(opts), (err: unknown) => err === interrupted);
      assert.deepEqual(seen, [interrupted]);
      assert.deepEqual(calls.kills, kill ? ['run cancelled'] : []);
    }
  });
});

describe('expandCommand', () => {
  test("fills in the worker's {python} and {relearn}, leaves {spec} and unknown names as written", () => {
    assert.deepEqual(expandCommand(['{python}', '-m', 'trainer', '{spec}', '{relearn}/x', '{other}'], { python: '/venv/bin/python', relearn: '/opt/relearn' }), [
      '/venv/bin/python',
      '-m',
      'trainer',
      '{spec}',
      '/opt/relearn/x',
      '{other}',
    ]);
    assert.deepEqual(expandCommand(['{python}'], {}), ['{python}']);
  });
});
