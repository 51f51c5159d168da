// The search stage as the retrain workflow runs it: one child workflow, so the run's own history grows by a handful
// of events however many trials there are. searchTrials is named by its type only: no import cycle with retrain.ts.
import { ParentClosePolicy, executeChild, workflowInfo } from '@temporalio/workflow';
import type { ModelConfig } from '../src/config/schema';
import type { searchTrials } from './search';
import { searchWorkflowId, type ArtifactRef, type SearchSummary, type SplitInfo, type StageProgress } from '../src/contracts';

/** Runs the model's search as the child `retrain/<model>/<run id>/search` and returns its trials and best params. */
export async function searchStage(opts: {
  model: string;
  cfg: ModelConfig;
  digests: { configDigest: string; modelDigest?: string };
  snapshot: ArtifactRef;
  split: SplitInfo;
  primaryMetric: string;
  enter: (stage: string, detail: string, progress?: StageProgress) => void;
}): Promise<SearchSummary> {
  const search = opts.cfg.search!;
  const info = workflowInfo();
  // From the model and the run id, not workflowInfo().workflowId: a replay runs under another workflow id, and child
  // workflow ids must come out the same.
  const key = searchWorkflowId(opts.model, info.runId);
  opts.enter('search', `${search.strategy} search: up to ${search.budget} trials, ${search.maxParallel} at a time`);
  return executeChild<typeof searchTrials>('searchTrials', {
    workflowId: key,
    args: [
      {
        model: opts.model,
        modelConfig: opts.cfg,
        ...opts.digests,
        snapshot: opts.snapshot,
        split: opts.split.artifact,
        probeRows: opts.split.probeRows,
        forwardChaining: opts.split.firstBlockRows !== undefined,
        primaryMetric: opts.primaryMetric,
        key,
      },
    ],
    // A run that ends (cancelled, terminated, failed) asks its search to stop; the search's trials kill their jobs.
    parentClosePolicy: ParentClosePolicy.REQUEST_CANCEL,
    staticSummary: `${search.strategy} search for ${opts.model}: up to ${search.budget} trials`,
  });
}
