// What a hyperparameter search reports: per trial and in summary, kept in the run's result, the registry and the CLI.
import type { SearchConfig } from '../config/search';

/** A parameter value a space can hold. */
export type ParamValue = string | number | boolean | null;

/** One parameter set and the digest that names its trials. */
export interface ProposedTrial {
  /** 16 hex digits of a digest of the canonical parameter set. */
  id: string;
  params: Record<string, ParamValue>;
}

/** What one trial did, as kept in the run's result and the registry. */
export interface TrialRecord {
  id: string;
  params: Record<string, ParamValue>;
  /** completed: scored at the last rung; stopped: halving dropped it at an earlier rung; failed: a job or its scoring failed. */
  status: 'completed' | 'stopped' | 'failed';
  /** The last rung the trial was scored at (0-based; always 0 for grid and random). */
  rung: number;
  /** Share of the training rows at that rung. */
  rowShare: number;
  /** The selection metric over the trial's folds at its last rung. */
  metric?: { mean: number; std: number };
  /** Training rows its fold jobs fitted on, over all its rungs. */
  rowsSeen: number;
  /** Fold jobs it ran, over all its rungs. */
  jobs: number;
  error?: string;
}

/** The search's outcome: every trial, best first, and the parameter set the final model trains with. */
export interface SearchSummary {
  strategy: SearchConfig['strategy'];
  metric: string;
  direction: 'higher' | 'lower';
  /** Folds each trial trained and scored. */
  folds: number;
  /** Row share of each rung (one rung of 1 for grid and random). */
  rungs: number[];
  /** Parameter sets drawn, and how many of those repeated an earlier one (trained once). */
  proposed: number;
  duplicates: number;
  best: { id: string; params: Record<string, ParamValue>; metric: { mean: number; std: number } };
  trials: TrialRecord[];
}

/** What one trial workflow reports back. */
export interface TrialOutcome {
  metrics: Record<string, { mean: number; std: number }>;
  rowsSeen: number;
  jobs: number;
}

