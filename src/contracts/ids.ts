// Workflow ids are idempotency keys: a manual start, a Schedule and the drift monitor all derive the same id for a
// model, so a run already going absorbs a second trigger. Defined once here.

/** The workflow id of a model's retraining runs: one run per model at a time. */
export function retrainWorkflowId(model: string): string {
  return `retrain/${model}`;
}

/** The workflow id of a model's drift monitor. */
export function monitorWorkflowId(model: string): string {
  return `monitor/${model}`;
}

/** The workflow id of a run's hyperparameter search; trial workflow ids and job keys extend it. */
export function searchWorkflowId(model: string, runId: string): string {
  return `${retrainWorkflowId(model)}/${runId}/search`;
}
