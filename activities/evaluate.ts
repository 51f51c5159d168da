import { Context } from '@temporalio/activity';
import type { ModelConfig } from '../src/config/schema';
import { failFast } from '../src/errors';
import { crossValidate } from '../src/evaluate';
import { foldsFromTable } from '../src/split';
import { type ActivityDeps, readTable } from './deps';
import type { ArtifactRef, Evaluation } from '../src/contracts';

type Classes = Array<string | number | boolean> | undefined;

/** Evaluation activities: every number a decision uses is computed by onnxruntime on the stored ONNX bytes. */
export function createEvaluationActivities(deps: ActivityDeps) {
  return {
    /** Scores each fold model on its held-out fold, then the candidate (and champion) on the holdout. */
    async crossValidate(input: {
      task: ModelConfig['task'];
      snapshot: ArtifactRef;
      split: ArtifactRef;
      label: string;
      features: ModelConfig['features'];
      folds: Array<{ fold: number; artifact: ArtifactRef; classes?: Classes }>;
      /** The model for the holdout; a search trial has none and scores its folds only. */
      candidate?: ArtifactRef;
      classes: Classes;
      champion?: { artifact: ArtifactRef; classes: Classes };
    }): Promise<Evaluation> {
      return failFast(async () => {
        const ctx = Context.current();
        const table = await readTable(deps, input.snapshot);
        const fold = foldsFromTable(await readTable(deps, input.split));
        return crossValidate({
          table,
          fold,
          folds: input.folds,
          candidate: input.candidate,
          champion: input.champion,
          task: input.task,
          features: input.features,
          label: input.label,
          classes: input.classes,
          readModel: (ref) => deps.store.readVerified(ref),
          onProgress: (progress) => ctx.heartbeat(progress),
          // Content-addressed: a retried evaluation stores the same bytes under the same URI.
          storeCurves: (curves) => deps.store.putJson('curves', 'holdout-curves.json', curves),
        });
      });
    },
  };
}
