// Hyperparameter search inside a retraining run (docs/search.md). `searchTrials` is a child of the run; each trial is
// a child of it (`searchTrial`), so the search's history grows by a few events per trial and a trial's jobs, exports
// and scoring live in the trial's own history.
import {
  ActivityCancellationType,
  ApplicationFailure,
  CancellationScope,
  ParentClosePolicy,
  executeChild,
  isCancellation,
  proxyActivities,
  setCurrentDetails,
} from '@temporalio/workflow';
import type * as activities from '../activities';
import type { ModelConfig } from '../src/config/schema';
import { boundedAll } from './retrain';
import { planRungs, proposeTrials, rankByMetric } from './search-plan';
import {
  FailureType,
  metricDirection,
  trainFoldsOf,
  type ArtifactRef,
  type ExportedModel,
  type ParamValue,
  type SearchSummary,
  type TrainedJob,
  type TrialOutcome,
  type TrialRecord,
} from '../src/contracts';

type Activities = ReturnType<typeof activities.createActivities>;

/** Input of `searchTrials`: the model's config (with its search block) and the run's data. */
export interface SearchTrialsInput {
  model: string;
  modelConfig: ModelConfig;
  /** The run's digests, passed to every activity for the worker to check (absent in searches recorded before). */
  configDigest?: string;
  modelDigest?: string;
  snapshot: ArtifactRef;
  split: ArtifactRef;
  probeRows: number[];
  /** A forward-chained time split: each fold trains on the earlier blocks only (absent in runs recorded before). */
  forwardChaining?: boolean;
  /** The metric to select on when the search block names none (the gate's primary metric). */
  primaryMetric: string;
  /** `retrain/<model>/<run id>/search`: trial workflow ids and job keys extend it. */
  key: string;
}

/** Input of one trial: K fold jobs with these params on this share of the rows, scored on their held-out folds. */
export interface SearchTrialInput {
  model: string;
  modelConfig: ModelConfig;
  /** The run's digests, passed to every activity for the worker to check (absent in searches recorded before). */
  configDigest?: string;
  modelDigest?: string;
  snapshot: ArtifactRef;
  split: ArtifactRef;
  probeRows: number[];
  /** A forward-chained time split: each fold trains on the earlier blocks only (absent in runs recorded before). */
  forwardChaining?: boolean;
  params: Record<string, ParamValue>;
  /** Folds the trial trains and scores: 0..folds-1 of the split. */
  folds: number;
  rowShare: number;
  /** `<search key>/trial-<param digest>[-r<rung>]`: the trial's workflow id, and its jobs' keys extend it. */
  key: string;
}

/** One trial: its fold jobs (launched once each under keys derived from the trial's workflow id), exported and scored. */
export async function searchTrial(input: SearchTrialInput): Promise<TrialOutcome> {
  const { modelConfig: cfg } = input;
  const heartbeatTimeoutMs = cfg.heartbeatTimeoutMs ?? 120_000;
  const training = proxyActivities<Activities>({
    startToCloseTimeout: cfg.trainer.timeoutMs + 5 * 60_000,
    heartbeatTimeout: cfg.trainer.heartbeatTimeoutMs ?? 20_000,
    // A cancelled trial kills its jobs before it reports cancelled, so a cancelled run leaves no job behind.
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
    retry: { maximumAttempts: cfg.trainer.maxAttempts, initialInterval: cfg.trainer.retryInitialIntervalMs, backoffCoefficient: 2, maximumInterval: '1 minute' },
  });
  const work = proxyActivities<Activities>({
    startToCloseTimeout: '30 minutes',
    heartbeatTimeout: heartbeatTimeoutMs,
    retry: { maximumAttempts: 3, initialInterval: '1 second', backoffCoefficient: 2 },
  });
  const trainer = { ...cfg.trainer, params: { ...cfg.trainer.params, ...input.params } };
  const digests = {
    ...(input.configDigest !== undefined ? { configDigest: input.configDigest } : {}),
    ...(input.modelDigest !== undefined ? { modelDigest: input.modelDigest } : {}),
  };
  const folds = Array.from({ length: input.folds }, (_, k) => k);
  const foldPlan = { folds: cfg.split.folds, forwardChaining: input.forwardChaining === true };
  const scope = new CancellationScope();
  const trained = await scope.run(() =>
    boundedAll(
      folds,
      cfg.trainer.maxParallel,
      async (k) => {
        const job: TrainedJob = await training.runTrainingJob.executeWithOptions({ summary: `trial fold ${k + 1}/${folds.length}` }, [
          {
            model: input.model,
            ...digests,
            // The trial's key holds the run and the parameter digest (and the rung): one key per job, stable across retries.
            jobKey: `${input.key}/fold-${k}`,
            role: `fold-${k}`,
            task: cfg.task,
            snapshot: input.snapshot,
            split: input.split,
            trainFolds: trainFoldsOf(foldPlan, k),
            features: cfg.features,
            label: cfg.label,
            trainer,
            probeRows: input.probeRows,
            rowShare: input.rowShare,
          },
        ]);
        const exported: ExportedModel = await work.exportOnnx.executeWithOptions({ summary: `export + check ONNX (fold ${k})` }, [
          { job, task: cfg.task, features: cfg.features, snapshot: input.snapshot, export: cfg.export, model: input.model, ...digests },
        ]);
        return { job, exported };
      },
      () => {
        scope.cancel();
        return true;
      },
    ),
  );
  const evaluated = await work.crossValidate.executeWithOptions({ summary: `score ${folds.length} folds` }, [
    {
      task: cfg.task,
      snapshot: input.snapshot,
      split: input.split,
      label: cfg.label,
      features: cfg.features,
      folds: trained.map((t, i) => ({ fold: folds[i]!, artifact: t.exported.artifact, classes: t.exported.classes })),
      classes: trained[0]?.exported.classes,
    },
  ]);
  return {
    metrics: Object.fromEntries(Object.entries(evaluated.summary).map(([name, s]) => [name, { mean: s.mean, std: s.std }])),
    rowsSeen: trained.reduce((sum, t) => sum + t.job.trainRows, 0),
    jobs: trained.length,
  };
}

function message(err: unknown): string {
  let current = err;
  // The root cause says what went wrong (the job's error), the wrappers only where.
  while (current instanceof Error && current.cause instanceof Error) current = current.cause;
  const text = current instanceof Error ? current.message : String(err);
  // The job id repeats the trial's key; the table has the trial already.
  return text.replace(/^training job \S+ /, 'job ');
}

/**
 * Proposes the trials, runs them `maxParallel` at a time (rung by rung for successive halving), and returns every
 * trial's outcome with the best parameter set. A failed trial is recorded and the search goes on; a search where
 * every trial failed fails.
 */
export async function searchTrials(input: SearchTrialsInput): Promise<SearchSummary> {
  const cfg = input.modelConfig;
  const search = cfg.search;
  if (!search) throw ApplicationFailure.nonRetryable(`model ${input.model} has no search block`, FailureType.Config);
  const metric = search.metric ?? input.primaryMetric;
  const direction = metricDirection(metric);
  const folds = search.folds ?? cfg.split.folds;
  const { trials: proposed, proposed: drawn, duplicates } = proposeTrials(search);
  const rungs = planRungs(search, proposed.length);
  const records = new Map<string, TrialRecord>(
    proposed.map((t) => [t.id, { id: t.id, params: t.params, status: 'completed', rung: 0, rowShare: rungs[0]!.rowShare, rowsSeen: 0, jobs: 0 }]),
  );
  let done = 0;
  const total = rungs.reduce((n, r) => n + r.trials, 0);
  const show = (what: string) => setCurrentDetails(`**search** ${input.model}: ${search.strategy}, ${proposed.length} trials on ${metric} — ${what} (${done}/${total} trial runs)`);

  let alive = proposed.map((t) => t.id);
  for (const [r, rung] of rungs.entries()) {
    const entering = alive.slice(0, rung.trials);
    for (const id of alive.slice(rung.trials)) records.get(id)!.status = 'stopped';
    show(`rung ${r + 1}/${rungs.length} on ${Math.round(rung.rowShare * 100)}% of the rows`);
    await boundedAll(entering, search.maxParallel, async (id) => {
      const record = records.get(id)!;
      record.rung = r;
      record.rowShare = rung.rowShare;
      try {
        // Derived from the run and the parameter digest: a replayed or resumed search finds the same trial.
        const key = `${input.key}/trial-${id}${rungs.length > 1 ? `-r${r}` : ''}`;
        const outcome = await executeChild(searchTrial, {
          workflowId: key,
          args: [
            {
              model: input.model,
              modelConfig: cfg,
              ...(input.configDigest !== undefined ? { configDigest: input.configDigest } : {}),
              ...(input.modelDigest !== undefined ? { modelDigest: input.modelDigest } : {}),
              snapshot: input.snapshot,
              split: input.split,
              probeRows: input.probeRows,
              ...(input.forwardChaining ? { forwardChaining: true } : {}),
              params: record.params,
              folds,
              rowShare: rung.rowShare,
              key,
            },
          ],
          // A search that ends for any reason asks its trials to stop, and their activities kill their jobs.
          parentClosePolicy: ParentClosePolicy.REQUEST_CANCEL,
          staticSummary: `trial ${id}: ${JSON.stringify(record.params)} on ${Math.round(rung.rowShare * 100)}% of the rows`,
        });
        record.rowsSeen += outcome.rowsSeen;
        record.jobs += outcome.jobs;
        const m = outcome.metrics[metric];
        record.metric = m ? { mean: m.mean, std: m.std } : undefined;
        // Recorded as the trial's failure just below (a failure thrown out of workflow code must never be a plain Error).
        if (!m) throw ApplicationFailure.nonRetryable(`crossValidate reported no metric '${metric}'`, FailureType.Config);
      } catch (err) {
        if (isCancellation(err)) throw err;
        record.status = 'failed';
        record.error = message(err);
      }
      done += 1;
      show(`rung ${r + 1}/${rungs.length}`);
      // Only a cancellation gets here (trial failures are recorded above): wait for every trial to finish cancelling,
      // so the search reports cancelled only once its trials' jobs are killed.
    }, () => true);
    alive = rankByMetric(entering.map((id) => records.get(id)!).filter((t) => t.status !== 'failed'), direction).map((t) => t.id);
  }

  const trials = rankByMetric([...records.values()], direction);
  // Completed trials first (scored on all the rows), then stopped ones by their last rung, failed last.
  const order = { completed: 0, stopped: 1, failed: 2 } as const;
  trials.sort((a, b) => order[a.status] - order[b.status] || b.rung - a.rung);
  const best = trials.find((t) => t.status === 'completed' && t.metric);
  if (!best) {
    const reasons = [...new Set(trials.map((t) => t.error).filter(Boolean))].slice(0, 3).join('; ');
    throw ApplicationFailure.nonRetryable(`every search trial failed: ${reasons}`, FailureType.SearchFailed);
  }
  show(`best ${best.id}: ${metric} ${best.metric!.mean.toFixed(4)}`);
  return {
    strategy: search.strategy,
    metric,
    direction,
    folds,
    rungs: rungs.map((r) => r.rowShare),
    proposed: drawn,
    duplicates,
    best: { id: best.id, params: best.params, metric: best.metric! },
    trials,
  };
}
