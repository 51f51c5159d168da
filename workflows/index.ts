export { retrain, statusQuery } from './retrain';
export { scheduledRetrain } from './triggers';
export { checkNowSignal, driftMonitor, monitorStatusQuery } from './monitor';
export { searchTrial, searchTrials } from './search';
