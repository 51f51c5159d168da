import {
  ActivityCancellationType,
  CancellationScope,
  log,
  patched,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  upsertMemo,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type * as activities from '../activities';
import { searchStage } from './search-stage';
import { ACCEPTS, beforePromotion, guardAfterPromotion, type ManualDecision, type RolloutContext } from './rollout';
import {
  RelearnDecision,
  RelearnModel,
  RelearnPrimaryMetric,
  RelearnStage,
  RelearnTrigger,
  RelearnVersion,
  approveUpdate,
  gateSummary,
  judge,
  rejectUpdate,
  primaryMetricOf,
  rollbackUpdate,
  statusQuery,
  trainFoldsOf,
  type ChampionInfo,
  type ExportedModel,
  type ManualDecisionInput,
  type RetrainInput,
  type RetrainResult,
  type RetrainStatus,
  type RolloutStep,
  type RunMemo,
  type StageProgress,
  type TrainedJob,
} from '../src/contracts';


type Activities = ReturnType<typeof activities.createActivities>;

/**
 * Runs `fn` over `items` with at most `limit` at once, keeping result order (deterministic). On the first failure,
 * `onFailure` may stop the rest (cancel their scope); the failure is rethrown once every lane has settled, so nothing
 * started here outlives the call.
 */
export async function boundedAll<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
  onFailure?: () => boolean,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  let stopped = false;
  const lane = async () => {
    while (next < items.length && !stopped) {
      const index = next++;
      results[index] = await fn(items[index] as T, index);
    }
  };
  const lanes = Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, lane);
  try {
    await Promise.all(lanes);
  } catch (err) {
    if (onFailure?.()) {
      stopped = true;
      await Promise.allSettled(lanes);
    }
    throw err;
  }
  return results;
}

/** One retraining run: pull → split → train (K folds + final) → export ONNX → cross-validate → gate → register → promote. */
export async function retrain(input: RetrainInput): Promise<RetrainResult> {
  const { model, modelConfig: cfg, trigger } = input;
  // The worker checks these against its own temporal.yaml before it runs or opens anything for this run.
  const digests = { configDigest: input.configDigest, ...(input.modelDigest !== undefined ? { modelDigest: input.modelDigest } : {}) };
  // Versions, aliases and the audit log live under this name; two pipelines may feed one registry model.
  const registryModel = cfg.registryModel ?? model;
  const info = workflowInfo();
  const primaryMetric = primaryMetricOf(cfg);
  const status: RetrainStatus = { model, trigger, stage: 'pull', detail: 'starting', jobs: { done: 0, total: cfg.split.folds + 1 } };
  setHandler(statusQuery, () => ({ ...status, accepts: [...(ACCEPTS[status.stage] ?? [])] }));
  // Manual decisions arrive as updates; the validator refuses one the current stage does not take, so a late or
  // misdirected `relearn approve` gets a clear answer and leaves no trace in the history.
  let manual: ManualDecision | undefined;
  // The stage whose manual decision the run has taken: a second one sent before the run leaves that stage (while it
  // measures or promotes) is refused rather than left pending for a later stage to take.
  let decidedStage: string | undefined;
  const manualHandler = (action: ManualDecision['action']) => ({
    validator: (_input: ManualDecisionInput) => {
      if (cfg.rollout === undefined) throw new Error(`${model} has no rollout block in temporal.yaml; its runs take no ${action}`);
      if (!(ACCEPTS[status.stage] ?? []).includes(action)) {
        const where = Object.entries(ACCEPTS).filter(([, acts]) => acts.includes(action)).map(([stage]) => stage).join(' or ');
        throw new Error(`the run of ${model} is in stage ${status.stage}; ${action} is taken in the ${where} stage`);
      }
      if (manual !== undefined) throw new Error(`the run of ${model} already has a decision pending: ${manual.action}`);
      if (decidedStage === status.stage) throw new Error(`the run of ${model} has already taken a decision in stage ${status.stage}`);
    },
  });
  const manualUpdate = (action: ManualDecision['action']) => (input: ManualDecisionInput): string => {
    manual = { action, ...(input?.by ? { by: input.by } : {}), ...(input?.reason ? { reason: input.reason } : {}) };
    return `${action} taken by the run of ${model} in stage ${status.stage}${status.version ? ` (v${status.version})` : ''}`;
  };
  setHandler(approveUpdate, manualUpdate('approve'), manualHandler('approve'));
  setHandler(rejectUpdate, manualUpdate('reject'), manualHandler('reject'));
  setHandler(rollbackUpdate, manualUpdate('rollback'), manualHandler('rollback'));
  // Runs recorded before the lineage memo existed replay without its upserts.
  const lineageMemo = patched('lineage-memo');
  const memo = (fields: RunMemo) => {
    if (lineageMemo) upsertMemo(fields as Record<string, unknown>);
  };
  status.links = {};
  // Current details are what the Web UI shows for a running run; they are no command, so they replay anywhere.
  const showDetails = (extra?: string) => {
    const progress = status.progress && status.progress.total > 1 ? ` (${status.progress.done}/${status.progress.total} ${status.progress.unit})` : '';
    status.summary = `${status.stage}: ${status.detail}${progress}`;
    setCurrentDetails(`**${model}** — ${status.summary}${extra ? `\n\n${extra}` : ''}`);
  };

  // A worker that dies mid-activity is noticed when its heartbeats stop; runs started before these were configurable
  // carry no value and keep the old timeouts.
  const heartbeatTimeoutMs = cfg.heartbeatTimeoutMs ?? 120_000;
  const data = proxyActivities<Activities>({
    startToCloseTimeout: '15 minutes',
    heartbeatTimeout: heartbeatTimeoutMs,
    retry: { maximumAttempts: 3, initialInterval: '1 second', backoffCoefficient: 2 },
  });
  const training = proxyActivities<Activities>({
    startToCloseTimeout: cfg.trainer.timeoutMs + 5 * 60_000,
    heartbeatTimeout: cfg.trainer.heartbeatTimeoutMs ?? 20_000,
    // A cancelled training activity kills its job; waiting for that keeps a failed run from leaving jobs behind.
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
    retry: {
      maximumAttempts: cfg.trainer.maxAttempts,
      initialInterval: cfg.trainer.retryInitialIntervalMs,
      backoffCoefficient: 2,
      maximumInterval: '1 minute',
    },
  });
  const evaluation = proxyActivities<Activities>({
    startToCloseTimeout: '30 minutes',
    heartbeatTimeout: heartbeatTimeoutMs,
    retry: { maximumAttempts: 3, initialInterval: '1 second', backoffCoefficient: 2 },
  });
  const registry = proxyActivities<Activities>({
    startToCloseTimeout: '1 minute',
    // Registry calls do not heartbeat and may wait up to 5 s for SQLite's write lock.
    heartbeatTimeout: Math.max(heartbeatTimeoutMs, 10_000),
    retry: { maximumAttempts: 10, initialInterval: '500 milliseconds', backoffCoefficient: 2, maximumInterval: '10 seconds' },
  });

  const enter = (stage: string, detail: string, progress: StageProgress = { done: 0, total: 1, unit: 'step' }) => {
    status.stage = stage;
    status.detail = detail;
    status.progress = progress;
    upsertSearchAttributes([{ key: RelearnStage, value: stage }]);
    showDetails();
  };
  upsertSearchAttributes([
    { key: RelearnModel, value: model },
    { key: RelearnTrigger, value: trigger },
  ]);

  try {
    enter('pull', 'pulling the data window');
    const source = { ...cfg.source, window: { ...cfg.source.window, ...input.window } };
    const snapshot = await data.pullData.executeWithOptions({ summary: `pull ${model} data` }, [
      {
        model,
        source,
        contract: cfg.contract,
        requiredColumns: [cfg.source.timeColumn, cfg.label, ...cfg.features.numeric, ...cfg.features.categorical],
        ...digests,
        modelConfig: cfg,
      },
    ]);
    status.snapshot = snapshot;
    status.links.snapshot = snapshot.artifact.uri;
    status.links.stats = snapshot.stats.uri;
    memo({ snapshotSha256: snapshot.artifact.sha256, snapshotUri: snapshot.artifact.uri, snapshotRows: snapshot.rows });

    enter('split', `split ${snapshot.rows} rows into ${cfg.split.folds} folds + holdout`);
    const split = await data.splitData.executeWithOptions({ summary: `split into ${cfg.split.folds} folds + holdout` }, [
      { snapshot: snapshot.artifact, split: cfg.split, task: cfg.task, label: cfg.label, probeRows: cfg.trainer.probeRows },
    ]);

    status.links.split = split.artifact.uri;
    // Hyperparameter search (docs/search.md): only runs of a model with a search block issue these commands.
    const searched = cfg.search ? await searchStage({ model, cfg, digests, snapshot: snapshot.artifact, split, primaryMetric, enter }) : undefined;
    const trainer = searched ? { ...cfg.trainer, params: { ...cfg.trainer.params, ...searched.best.params } } : cfg.trainer;
    enter('train', `training ${cfg.split.folds} fold models and the final model`, { done: 0, total: cfg.split.folds + 1, unit: 'models' });
    const roles = [...Array.from({ length: cfg.split.folds }, (_, k) => `fold-${k}`), 'final'];
    // A time split says it is forward-chained (its earliest block); one recorded before that has no such block, and
    // its run keeps training each fold on every other fold: the same jobs either way, only their folds differ.
    const foldPlan = { folds: cfg.split.folds, forwardChaining: split.firstBlockRows !== undefined };
    // When one job fails for good, the others are cancelled (their activities kill their jobs) before the run fails.
    const jobsScope = new CancellationScope();
    const cancelJobs = () => {
      // Runs recorded before this failed at once and left the other jobs to finish on their own.
      if (!patched('cancel-jobs-on-failure')) return false;
      jobsScope.cancel();
      return true;
    };
    const trained = await jobsScope.run(() => boundedAll(roles, cfg.trainer.maxParallel, async (role, index) => {
      const label = role === 'final' ? 'train final model' : `train fold ${index + 1}/${cfg.split.folds}`;
      const job: TrainedJob = await training.runTrainingJob.executeWithOptions({ summary: label }, [
        {
          model,
          ...digests,
          jobKey: `${info.workflowId}/${info.runId}/${role}`,
          role,
          task: cfg.task,
          snapshot: snapshot.artifact,
          split: split.artifact,
          trainFolds: trainFoldsOf(foldPlan, role === 'final' ? 'final' : index),
          features: cfg.features,
          label: cfg.label,
          trainer,
          probeRows: split.probeRows,
        },
      ]);
      const exported: ExportedModel = await data.exportOnnx.executeWithOptions({ summary: `export + check ONNX (${role})` }, [
        { job, task: cfg.task, features: cfg.features, snapshot: snapshot.artifact, export: cfg.export, model, ...digests },
      ]);
      status.jobs.done += 1;
      status.detail = `${status.jobs.done}/${status.jobs.total} models trained and exported`;
      status.progress = { done: status.jobs.done, total: status.jobs.total, unit: 'models' };
      status.links!.models = { ...status.links!.models, [role]: exported.artifact.uri };
      status.links!.jobDirs = { ...status.links!.jobDirs, [role]: job.outputDir };
      showDetails();
      return { job, exported };
    }, cancelJobs));
    const candidate = trained.at(-1)!.exported;
    const folds = trained.slice(0, cfg.split.folds).map((t, fold) => ({ fold, artifact: t.exported.artifact, classes: t.exported.classes }));

    enter('evaluate', 'scoring fold models and the candidate with onnxruntime');
    const champion: ChampionInfo | null = await registry.getChampion.executeWithOptions({ summary: `look up the champion of ${registryModel}` }, [
      { model: registryModel },
    ]);
    memo({ parentVersion: champion?.version ?? 'none' });
    const evaluated = await evaluation.crossValidate.executeWithOptions(
      { summary: `cross-validate ${cfg.split.folds} folds + holdout${champion ? ` vs champion v${champion.version}` : ''}` },
      [
        {
          task: cfg.task,
          snapshot: snapshot.artifact,
          split: split.artifact,
          label: cfg.label,
          features: cfg.features,
          folds,
          candidate: candidate.artifact,
          classes: candidate.classes,
          champion: champion ? { artifact: champion.artifact, classes: champion.classes } : undefined,
        },
      ],
    );

    enter('gate', 'judging the candidate');
    const gate = judge({ gate: cfg.gate, primaryMetric, evaluation: evaluated, championVersion: champion?.version ?? null });
    status.gate = gate;
    const verdictLine = gateSummary(gate);
    showDetails(verdictLine);
    const primaryValue = evaluated.summary[primaryMetric]?.mean;
    if (primaryValue !== undefined && Number.isFinite(primaryValue)) {
      upsertSearchAttributes([{ key: RelearnPrimaryMetric, value: primaryValue }]);
    }
    log.info('gate', { verdict: gate.verdict, reasons: gate.rules.map((r) => r.reason) });

    enter('register', 'registering the candidate version');
    const registered = await registry.registerVersion.executeWithOptions({ summary: verdictLine }, [
      {
        model: registryModel,
        workflowId: info.workflowId,
        runId: info.runId,
        artifact: candidate.artifact,
        snapshot: snapshot.artifact,
        params: trained.at(-1)!.job.params,
        // The reasons of undefined metrics travel with the numbers, so `relearn gate --what-if` and `show` can say why.
        metrics: {
          cv: evaluated.summary,
          perFold: evaluated.perFold,
          holdout: evaluated.holdout,
          ...(evaluated.undefined ? { undefined: evaluated.undefined } : {}),
          ...(searched ? { search: searched } : {}),
        },
        gate,
        lineage: {
          trigger,
          configDigest: input.configDigest,
          snapshotRows: snapshot.rows,
          snapshotWindow: snapshot.window,
          split: split.artifact,
          stats: snapshot.stats,
          jobs: trained.map((t) => ({ role: t.job.role, jobId: t.job.jobId, run: t.job.run, model: t.exported.artifact })),
          parentVersion: champion?.version ?? null,
          estimator: cfg.trainer.estimator,
          classes: candidate.classes,
          // What started an automatic run (the Schedule, or the drift report's URI): the report shows that drift.
          ...(input.reason !== undefined ? { reason: input.reason } : {}),
        },
      },
    ]);
    status.version = registered.version;
    status.links.version = `${model} v${registered.version}`;
    status.links.candidate = candidate.artifact.uri;
    upsertSearchAttributes([{ key: RelearnVersion, value: registered.version }]);

    let promotion = { promoted: false, reason: `gate REJECT: ${gate.rules.filter((r) => !r.passed).map((r) => r.reason).join('; ')}` };
    let championAfter = champion?.version ?? null;
    // With a rollout block, a candidate that passed the gate must also pass its live-traffic steps.
    const rolloutCtx: RolloutContext | undefined =
      cfg.rollout === undefined
        ? undefined
        : {
            registryModel,
            task: cfg.task,
            primaryMetric,
            classes: candidate.classes,
            rollout: cfg.rollout,
            candidateVersion: registered.version,
            championVersion: champion?.version ?? null,
            workflowId: info.workflowId,
            runId: info.runId,
            status,
            enter: (stage, detail) => enter(stage, detail),
            showDetails,
            takeManual: () => {
              const taken = manual;
              manual = undefined;
              if (taken !== undefined) decidedStage = status.stage;
              return taken;
            },
            peekManual: () => manual,
          };
    let rolloutSteps: RolloutStep[] | undefined;
    let mayPromote = gate.verdict === 'PASS';
    if (mayPromote && rolloutCtx !== undefined) {
      const pre = await beforePromotion(rolloutCtx);
      rolloutSteps = pre.steps;
      if (!pre.promote) {
        mayPromote = false;
        promotion = { promoted: false, reason: pre.reason };
      }
    }
    if (mayPromote) {
      enter('promote', `promoting v${registered.version} to champion`);
      const moved = await registry.promoteVersion.executeWithOptions({ summary: `promote v${registered.version} to champion` }, [
        {
          model: registryModel,
          version: registered.version,
          expectedChampion: champion?.version ?? null,
          reason: `gate PASS (${gate.rules.map((r) => r.reason).join('; ')})${rolloutSteps?.length ? `; ${rolloutSteps.map((r) => `${r.phase}: ${r.reason}`).join('; ')}` : ''}`,
          workflowId: info.workflowId,
          runId: info.runId,
        },
      ]);
      promotion = { promoted: moved.promoted, reason: moved.reason };
      championAfter = moved.champion;
    }
    let rolledBack = false;
    if (promotion.promoted && rolloutCtx !== undefined && cfg.rollout?.guard !== undefined && champion !== null) {
      const guarded = await guardAfterPromotion(rolloutCtx, champion.version);
      rolloutSteps = rolloutCtx.status.rollout;
      if (guarded.rolledBack) {
        rolledBack = true;
        championAfter = champion.version;
        promotion = { promoted: true, reason: `${promotion.reason}; rolled back: ${guarded.step.reason}` };
      }
    }
    const decision = rolledBack ? 'rolled-back' : promotion.promoted ? 'promoted' : 'rejected';
    status.decision = decision;
    enter('done', `${decision}: v${registered.version}`);
    showDetails(verdictLine);
    upsertSearchAttributes([{ key: RelearnDecision, value: decision }]);
    memo({ version: registered.version, decision, gate: verdictLine });
    // Runs recorded before the report existed replay without it.
    const report = patched('run-report')
      ? await registry.writeRunReport.executeWithOptions({ summary: `report of v${registered.version}` }, [{ model: registryModel, version: registered.version }])
      : undefined;
    return {
      model,
      decision,
      version: registered.version,
      championBefore: champion?.version ?? null,
      championAfter,
      snapshot,
      split,
      evaluation: evaluated,
      gate,
      candidate,
      jobs: trained.map((t) => t.job),
      promotion,
      ...(rolloutSteps !== undefined ? { rollout: rolloutSteps } : {}),
      ...(searched ? { search: searched } : {}),
      ...(report !== undefined ? { report } : {}),
    };
  } catch (err) {
    status.decision = 'failed';
    status.error = err instanceof Error ? (err.cause instanceof Error ? err.cause.message : err.message) : String(err);
    status.detail = `failed in ${status.stage}`;
    showDetails(status.error);
    upsertSearchAttributes([{ key: RelearnDecision, value: 'failed' }]);
    memo({ decision: 'failed' });
    throw err;
  }
}
