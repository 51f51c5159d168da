// Which folds of a split each model of a run trains on. The retrain workflow and the search trials ask the same
// question, so the answer lives here, where workflow code may import it.

/** How the fold models of a split train. */
export interface FoldPlan {
  /** Number of fold models (`split.folds`). */
  folds: number;
  /**
   * Forward chaining (a time split): the split file marks its earliest block `folds` (one past the last fold), and
   * fold k trains on that block and folds 0..k-1, every row of which is earlier than fold k's. Otherwise fold k trains
   * on every other fold.
   */
  forwardChaining: boolean;
}

/**
 * The split's fold values a model trains on: `k` for fold model k (scored on the rows of fold k), `'final'` for the
 * final model, which always trains on every row before the holdout.
 */
export function trainFoldsOf(plan: FoldPlan, model: number | 'final'): number[] {
  const all = Array.from({ length: plan.folds }, (_, k) => k);
  if (!plan.forwardChaining) return model === 'final' ? all : all.filter((k) => k !== model);
  // The earliest block first: the list reads in time order.
  return [plan.folds, ...(model === 'final' ? all : all.slice(0, model))];
}
