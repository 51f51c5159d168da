import path from 'node:path';
import type { LauncherConfig } from '../config/schema';
import type { JobLauncher, LaunchRecord } from './launcher';
import { LocalLauncher } from './local';
import { RayLauncher } from './ray';

/**
 * The launchers of one worker, one per place its models' jobs run (`trainer.launcher`): the local one always, a Ray
 * launcher per dashboard address. All share the worker's jobs folder, where each run's spec and outputs live.
 */
export class Launchers {
  readonly local: LocalLauncher;
  private readonly rayByAddress = new Map<string, RayLauncher>();

  constructor(
    readonly jobsDir: string,
    configs: readonly LauncherConfig[] = [],
  ) {
    this.local = new LocalLauncher(jobsDir);
    for (const config of configs) this.for(config);
  }

  /** The launcher a model's `trainer.launcher` names. */
  for(config: LauncherConfig | undefined): JobLauncher {
    if (config === undefined || config === 'local') return this.local;
    let ray = this.rayByAddress.get(config.ray.address);
    if (!ray) {
      ray = new RayLauncher({ address: config.ray.address, jobsDir: this.jobsDir });
      this.rayByAddress.set(config.ray.address, ray);
    }
    return ray;
  }

  /** Every launcher the worker's config names, the local one first: what the reaper watches. */
  all(): JobLauncher[] {
    return [this.local, ...this.rayByAddress.values()];
  }

  /** Every launch made by any of them, oldest first within each launcher. */
  async launches(jobId?: string): Promise<LaunchRecord[]> {
    const lists = await Promise.all(this.all().map((launcher) => launcher.launches(jobId)));
    return lists.flat();
  }
}

/** The launchers for a worker's config: its jobs folder under the state folder, one per launcher its models name. */
export function openLaunchers(stateDir: string, models: Iterable<{ trainer: { launcher: LauncherConfig } }>): Launchers {
  return new Launchers(
    path.join(stateDir, 'jobs'),
    [...models].map((m) => m.trainer.launcher),
  );
}
