// The drift check's multivariate part: the `drift.multivariate` block turned into a domain-classifier run whose fold
// jobs are keyed by the model and the check's time (a retried check re-attaches to them), and its summary line.
import type { Table } from 'apache-arrow';
import type { ModelConfig } from '../config/schema';
import type { DriftCheckSummary } from '../contracts';
import { ConfigError } from '../errors';
import { domainClassifierDrift, type ChampionScorer, type MultivariateDrift, type RunTrainingJob } from './domain-classifier';
import type { ArtifactStore } from '../store';

/** Runs the configured domain classifier for one check; needs the worker's launcher. */
export async function multivariateDrift(
  deps: { store: ArtifactStore; runJob?: RunTrainingJob },
  input: {
    model: string;
    checkedAt: string;
    cfg: ModelConfig;
    reference: Table;
    current: Table;
    champion: ChampionScorer;
  },
): Promise<MultivariateDrift> {
  const block = input.cfg.drift!.multivariate!;
  if (!deps.runJob) throw new ConfigError(`models.${input.model}.drift.multivariate: this process has no job launcher to train the domain classifier with`);
  return domainClassifierDrift(
    { store: deps.store, runJob: deps.runJob },
    {
      jobKey: `drift-${input.model}-${input.checkedAt}`,
      modelConfig: input.cfg,
      reference: input.reference,
      current: input.current,
      options: { ...block, seed: input.cfg.trainer.seed },
      champion: input.champion,
    },
  );
}

/** The multivariate verdict as the monitor's summary keeps it: the AUC and the five features that explain it most. */
export function multivariateSummary(m: MultivariateDrift): NonNullable<DriftCheckSummary['multivariate']> {
  return {
    auc: m.auc,
    maxAuc: m.maxAuc,
    drifted: m.drifted,
    explained: m.explained.slice(0, 5).map((f) => ({ feature: f.feature, share: f.share, impact: f.impact })),
  };
}
