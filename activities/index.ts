import { createDataActivities } from './data';
import { createDriftActivities } from './drift';
import type { ActivityDeps } from './deps';
import { createEvaluationActivities } from './evaluate';
import { createExportActivities } from './export';
import { createRegistryActivities } from './registry';
import { createRolloutActivities } from './rollout';
import { keepAlive } from './keep-alive';
import { createTrainingActivities } from './train';

export type { ActivityDeps } from './deps';

/** Every activity of the retrain workflow, built from the worker's dependencies. */
export function createActivities(deps: ActivityDeps) {
  const data = createDataActivities(deps);
  const exporting = createExportActivities(deps);
  const evaluation = createEvaluationActivities(deps);
  const rollout = createRolloutActivities(deps);
  return {
    // The training activity heartbeats the job's state itself; these heartbeat while they work.
    pullData: keepAlive(data.pullData),
    splitData: keepAlive(data.splitData),
    ...createTrainingActivities(deps),
    exportOnnx: keepAlive(exporting.exportOnnx),
    crossValidate: keepAlive(evaluation.crossValidate),
    ...createRegistryActivities(deps),
    ...createDriftActivities(deps),
    ...rollout,
    // Reading a busy prediction log and bootstrapping take a while; heartbeats say the worker is alive meanwhile.
    measureLiveWindow: keepAlive(rollout.measureLiveWindow),
  };
}
