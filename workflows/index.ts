// The workflow bundle's entry: every function exported here is a workflow type. Queries, signals and updates are
// defined in src/contracts, where clients import them too.
export { retrain } from './retrain';
export { scheduledRetrain } from './triggers';
export { driftMonitor } from './monitor';
export { searchTrial, searchTrials } from './search';
