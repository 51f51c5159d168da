// Faults 1 and 10: the worker process is SIGKILLed in every stage of one run, or SIGTERMed mid-run; a new worker
// process finishes the run without launching any training job twice.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import type { LoadedConfig } from '../../src/config';
import { LocalLauncher } from '../../src/jobs/local';
import { connectClient } from '../../src/temporal/connection';
import { runPipeline, uniqueModelName } from '../helpers/pipeline-env';
import {
  activityAttempts,
  artifactsLost,
  duplicateLaunches,
  faultConfig,
  faultModel,
  launchesPerJob,
  outcomeOf,
  recordFault,
  slowTrainer,
  startRun,
  waitFor,
  whenActivityStarted,
  withRegistry,
  WorkerProcess,
} from './harness';

/** Job ids whose latest run is alive (has a pid, no exit code yet). */
function runningJobs(loaded: LoadedConfig): string[] {
  const jobsDir = path.join(loaded.stateDir, 'jobs');
  if (!existsSync(jobsDir)) return [];
  return readdirSync(jobsDir).filter((jobId) => {
    const runs = path.join(jobsDir, jobId, 'runs');
    if (!existsSync(runs)) return false;
    const last = readdirSync(runs).map(Number).sort((a, b) => a - b).at(-1);
    const dir = path.join(runs, String(last));
    return existsSync(path.join(dir, 'pid')) && !existsSync(path.join(dir, 'exit_code'));
  });
}

function pidAlive(loaded: LoadedConfig, jobId: string): boolean {
  const runs = path.join(loaded.stateDir, 'jobs', jobId, 'runs');
  const last = readdirSync(runs).map(Number).sort((a, b) => a - b).at(-1);
  const pid = Number(readFileSync(path.join(runs, String(last), 'pid'), 'utf8'));
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('fault: the worker process dies', { timeout: 900_000 }, () => {
  it('SIGKILL in pull, training, export, evaluation and promotion: a new worker completes the run with the undisturbed decision, each job launched once', async () => {
    const t0 = Date.now();
    const model = uniqueModelName('kill');
    const reference = uniqueModelName('undisturbed');
    const cfg = faultModel({}, { command: slowTrainer(6) });
    const loaded = await faultConfig({ [model]: cfg, [reference]: cfg });
    const { client, close } = await connectClient(loaded);
    const workers: WorkerProcess[] = [await WorkerProcess.start(loaded)];
    const current = () => workers.at(-1)!;
    const killed: string[] = [];
    const kill = async (stage: string) => {
      await current().signal('SIGKILL');
      killed.push(stage);
    };
    const restart = async () => {
      workers.push(await WorkerProcess.start(loaded));
    };
    const killAndRestart = async (stage: string) => {
      await kill(stage);
      await restart();
    };
    try {
      const { started, handle } = await startRun(client, loaded, model);

      await whenActivityStarted(handle, 'pullData');
      await killAndRestart('pull');

      await whenActivityStarted(handle, 'runTrainingJob');
      const atKill = await waitFor('a running training job', () => {
        const jobs = runningJobs(loaded);
        return jobs.length > 0 ? jobs : undefined;
      });
      await kill('training');
      // The jobs outlive the worker: they were started detached, in their own process groups. Checked before the new
      // worker starts: on a busy machine its start-up can outlast a short job.
      const survivors = atKill.filter((jobId) => pidAlive(loaded, jobId));
      assert.ok(survivors.length > 0, 'a training job still runs after its worker was killed');
      await restart();

      await whenActivityStarted(handle, 'exportOnnx');
      await killAndRestart('export');

      await whenActivityStarted(handle, 'crossValidate');
      await killAndRestart('evaluation');

      // Promotion takes milliseconds, so the registry's write lock is taken (by this process) the moment the version is
      // registered: the worker's promote transaction then waits for it, and is killed while it waits.
      const db = new Database(path.join(loaded.stateDir, 'registry.db'));
      try {
        await waitFor(
          'the version to be registered',
          () => (db.prepare('SELECT 1 FROM versions WHERE model = ? AND run_id = ?').get(model, started.runId) ? true : undefined),
          180_000,
          2,
        );
        db.exec('BEGIN IMMEDIATE');
        const promotions = db.prepare("SELECT COUNT(*) AS n FROM audit_log WHERE model = ? AND action = 'promote'").get(model) as { n: number };
        assert.equal(promotions.n, 0, 'the lock was taken before the promotion was written');
        await whenActivityStarted(handle, 'promoteVersion', 30_000);
        await current().signal('SIGKILL');
        killed.push('promotion');
        db.exec('ROLLBACK');
      } finally {
        db.close();
      }
      // Registered, not promoted: the killed transaction left nothing behind.
      await withRegistry(loaded, async (r) => {
        assert.equal(await r.getAlias(model, 'champion'), null);
        assert.equal((await r.listVersions(model)).length, 1);
      });
      workers.push(await WorkerProcess.start(loaded));

      const out = await outcomeOf(handle);
      assert.equal(out.failure, undefined, out.failure);
      const result = out.result!;
      assert.equal(result.decision, 'promoted');
      assert.equal(result.version, 1);

      // Each kill landed inside the activity it targeted: that activity needed a second attempt.
      const attempts = await activityAttempts(handle);
      for (const type of ['pullData', 'runTrainingJob', 'exportOnnx', 'crossValidate', 'promoteVersion']) {
        assert.ok(
          attempts.some((a) => a.type === type && a.outcome === 'completed' && a.attempt >= 2),
          `${type} was retried after the kill: ${JSON.stringify(attempts.filter((a) => a.type === type))}`,
        );
      }

      // Every training job was launched exactly once; the ones running at the kill were re-attached.
      const runLaunches = [...launchesPerJob(loaded)].filter(([jobId]) => jobId.includes(started.runId));
      assert.equal(runLaunches.length, 3, 'fold-0, fold-1, final');
      for (const [jobId, n] of runLaunches) assert.equal(n, 1, `${jobId} launched ${n} times`);
      // The run each job's model came from is the one launch the ledger holds (a run folder whose launcher was killed
      // before the job started has no ledger line and is not counted as a launch).
      const ledger = new LocalLauncher(path.join(loaded.stateDir, 'jobs')).launches();
      for (const job of result.jobs) assert.deepEqual(ledger.filter((l) => l.jobId === job.jobId).map((l) => l.run), [job.run]);
      const later = workers.slice(2).map((w) => w.output).join('\n');
      const entries = later.split(/\n(?=\d{4}-\d\d-\d\dT)/);
      for (const jobId of survivors) {
        assert.ok(
          entries.some((e) => e.includes('attached to training job') && e.includes(`jobId: '${jobId}'`)),
          `${jobId} was re-attached by a later worker`,
        );
      }

      await withRegistry(loaded, async (r) => {
        assert.equal((await r.getAlias(model, 'champion'))?.version, 1);
        const audit = await r.auditLog(model);
        assert.deepEqual(audit.map((a) => [a.action, a.toVersion]), [['promote', 1]]);
      });
      const lost = await artifactsLost(loaded, model);
      assert.equal(lost, 0);

      // The same pipeline without faults, on an in-process worker: same decision, same bytes.
      await current().stop();
      const undisturbed = await runPipeline(loaded, reference);
      assert.equal(undisturbed.failure, undefined, undisturbed.failure);
      assert.equal(undisturbed.result!.decision, result.decision);
      assert.equal(undisturbed.result!.snapshot.artifact.sha256, result.snapshot.artifact.sha256);
      assert.equal(undisturbed.result!.candidate.artifact.sha256, result.candidate.artifact.sha256, 'identical ONNX bytes');
      assert.deepEqual(undisturbed.result!.evaluation.summary, result.evaluation.summary);

      recordFault({
        fault: 1,
        name: 'worker SIGKILL in each stage (pull, training, export, evaluation, promotion)',
        injected: killed.length,
        runs: 1,
        runsAsExpected: 1,
        duplicateLaunches: duplicateLaunches(loaded),
        artifactsLost: lost,
        seconds: Math.round((Date.now() - t0) / 1000),
        notes: `${survivors.length} running job(s) re-attached; decision and ONNX bytes equal to an undisturbed run`,
      });
    } finally {
      for (const w of workers) await w.stop();
      await close();
    }
  });

  it('SIGTERM: the worker stops taking tasks, lets running activities finish or leaves their jobs running, and exits within its grace period', async () => {
    const t0 = Date.now();
    const graceMs = 4000;
    const model = uniqueModelName('sigterm');
    const loaded = await faultConfig({ [model]: faultModel({}, { command: slowTrainer(6) }) });
    const { client, close } = await connectClient(loaded);
    const first = await WorkerProcess.start(loaded, { graceMs });
    let second: WorkerProcess | undefined;
    try {
      const { started, handle } = await startRun(client, loaded, model);
      // Both lanes' jobs (maxParallel 2) are running; the final job can only start after one of them finishes.
      const launchCount = () => [...launchesPerJob(loaded).values()].reduce((a, b) => a + b, 0);
      // A wrapper writes its pid, then its ledger line: wait for both of both jobs.
      const jobs = await waitFor('two running training jobs', () => {
        const running = runningJobs(loaded);
        return running.length >= 2 && launchCount() >= 2 ? running : undefined;
      });
      const launchesBefore = launchCount();
      const sentAt = Date.now();
      await first.signal('SIGTERM');
      const exit = await first.exited;
      const exitMs = exit.at - sentAt;
      assert.equal(exit.code, 0, first.output);
      assert.ok(exitMs <= graceMs + 4000, `exited ${exitMs} ms after SIGTERM (grace ${graceMs} ms)`);
      assert.match(first.output, /worker stopped/);
      // The shutdown took nothing new and killed no job: the running ones go on for the next worker.
      const launchesAfter = launchCount();
      assert.equal(launchesAfter, launchesBefore, 'no job launched during shutdown');
      const stillRunning = jobs.filter((jobId) => pidAlive(loaded, jobId));
      assert.ok(stillRunning.length > 0, 'the running jobs were left running');

      second = await WorkerProcess.start(loaded);
      const out = await outcomeOf(handle);
      assert.equal(out.failure, undefined, out.failure);
      assert.equal(out.result!.decision, 'promoted');
      const runLaunches = [...launchesPerJob(loaded)].filter(([jobId]) => jobId.includes(started.runId));
      assert.equal(runLaunches.length, 3);
      for (const [jobId, n] of runLaunches) assert.equal(n, 1, `${jobId} launched ${n} times`);
      assert.match(second.output, /attached to training job/);
      const lost = await artifactsLost(loaded, model);
      assert.equal(lost, 0);
      recordFault({
        fault: 10,
        name: 'worker SIGTERM mid-training (graceful shutdown)',
        injected: 1,
        runs: 1,
        runsAsExpected: 1,
        duplicateLaunches: duplicateLaunches(loaded),
        artifactsLost: lost,
        seconds: Math.round((Date.now() - t0) / 1000),
        notes: `worker exited ${exitMs} ms after SIGTERM (grace ${graceMs} ms); ${stillRunning.length} job(s) kept running and were re-attached`,
      });
    } finally {
      await first.stop();
      await second?.stop();
      await close();
    }
  });
});
