/** Tests a feature can be checked with (kept apart from the statistics so the config schema stays light). */
export const DRIFT_METHODS = ['ks', 'chisquare', 'ztest', 'wasserstein', 'jensenshannon', 'psi'] as const;
export type DriftMethod = (typeof DRIFT_METHODS)[number];

/** How a feature's verdict is reached (see methodFor in check.ts). */
export const DRIFT_DECISIONS = ['effect-size', 'size-based', 'p-value'] as const;
export type DriftDecision = (typeof DRIFT_DECISIONS)[number];

/** Effect sizes a numeric feature can be judged by in `effect-size` mode. */
export const NUMERIC_EFFECTS = ['wasserstein', 'psi', 'jensenshannon'] as const;
export type NumericEffect = (typeof NUMERIC_EFFECTS)[number];
/** Effect sizes a categorical (or low-cardinality) feature can be judged by in `effect-size` mode. */
export const CATEGORICAL_EFFECTS = ['jensenshannon', 'psi'] as const;
export type CategoricalEffect = (typeof CATEGORICAL_EFFECTS)[number];
