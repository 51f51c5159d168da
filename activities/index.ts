import { createDataActivities } from './data';
import { createDriftActivities } from './drift';
import type { ActivityDeps } from './deps';
import { createEvaluationActivities } from './evaluate';
import { createExportActivities } from './export';
import { createRegistryActivities } from './registry';
import { createTrainingActivities } from './train';

export type { ActivityDeps } from './deps';

/** Every activity of the retrain workflow, built from the worker's dependencies. */
export function createActivities(deps: ActivityDeps) {
  return {
    ...createDataActivities(deps),
    ...createTrainingActivities(deps),
    ...createExportActivities(deps),
    ...createEvaluationActivities(deps),
    ...createRegistryActivities(deps),
    ...createDriftActivities(deps),
  };
}
