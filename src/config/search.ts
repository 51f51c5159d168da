import { z } from 'zod';
import { METRIC_NAMES, metricNamesFor } from '../metrics';
import { ESTIMATOR_PARAMS } from './estimator-params';

const choiceValue = z.union([z.string(), z.number(), z.boolean(), z.null()]);

/** A parameter's values listed one by one: `C: [0.1, 1, 10]`. */
const choicesSchema = z.array(choiceValue).min(1, 'list at least one value');

/** A numeric range: `C: { type: float, min: 0.01, max: 100, scale: log }`. */
const rangeSchema = z
  .object({
    type: z.enum(['int', 'float']),
    min: z.number(),
    max: z.number(),
    scale: z.enum(['linear', 'log']).default('linear'),
    /** How many points a grid takes from the range (random and halving sample it instead). */
    steps: z.number().int().min(2).max(100).default(5),
  })
  .strict()
  .refine((r) => r.min < r.max, { message: 'min must be below max', path: ['max'] })
  .refine((r) => r.scale !== 'log' || r.min > 0, { message: 'a log scale needs min > 0', path: ['min'] });

export type ParamRange = z.infer<typeof rangeSchema>;
export type ParamSpace = z.infer<typeof choicesSchema> | ParamRange;

/**
 * One parameter's space: a list of values, or a range. Parsed by shape so a mistake is reported inside the shape the
 * user meant (a union would only say "Invalid input").
 */
const paramSpaceSchema = z.unknown().transform((value, ctx): ParamSpace => {
  const schema = Array.isArray(value) ? choicesSchema : rangeSchema;
  if (!Array.isArray(value) && (value === null || typeof value !== 'object')) {
    ctx.addIssue({ code: 'custom', message: 'expected a list of values or a range { type: int|float, min, max, scale?, steps? }' });
    return z.NEVER;
  }
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  for (const issue of parsed.error.issues) ctx.addIssue({ ...issue, path: issue.path } as Parameters<typeof ctx.addIssue>[0]);
  return z.NEVER;
});

/** A model's hyperparameter search: the space, how to walk it, and how many trials to run. */
export const searchSchema = z
  .object({
    /** grid: every point once; random: `budget` seeded draws; halving: `budget` draws on a share of the rows, the best 1/eta go on to more rows. */
    strategy: z.enum(['grid', 'random', 'halving']).default('random'),
    space: z.record(z.string(), paramSpaceSchema).refine((s) => Object.keys(s).length > 0, 'name at least one parameter'),
    /** Most trials one run trains (a grid larger than this is a config error; halving starts this many). */
    budget: z.number().int().min(1).max(500).default(10),
    /** Trials training at once (each trains its folds `trainer.maxParallel` at a time). */
    maxParallel: z.number().int().min(1).max(16).default(2),
    /** The metric trials are ranked by: the gate's primary metric unless named. */
    metric: z.enum(METRIC_NAMES).optional(),
    /** Seed of random and halving draws: the same seed proposes the same points. */
    seed: z.number().int().min(0).default(1),
    /** Folds each trial trains and scores (the first N of split.folds; default all): fewer is faster and noisier. */
    folds: z.number().int().min(2).max(20).optional(),
    halving: z
      .object({
        /** Each rung keeps the best 1/eta of its trials and gives them eta times the rows. */
        eta: z.number().int().min(2).max(10).default(3),
        /** Share of the training rows in the first rung. */
        minRowShare: z.number().gt(0).lt(1).default(1 / 3),
      })
      .strict()
      .prefault({}),
  })
  .strict();

export type SearchConfig = z.infer<typeof searchSchema>;

/** The default trainer's script: only its estimators' parameters are known here; another trainer checks its own. */
const SKLEARN_TRAINER = 'trainers/sklearn/train.py';

/** Number of points a grid over `space` has. */
export function gridSize(space: Record<string, ParamSpace>): number {
  let n = 1;
  for (const p of Object.values(space)) n *= Array.isArray(p) ? p.length : p.steps;
  return n;
}

/**
 * Checks a model's search block against the rest of the model: every parameter exists for the estimator, the metric
 * applies to the task, the folds exist, a grid fits the budget. Issues carry their path under the model.
 */
export function checkSearch(
  m: { task: 'binary' | 'multiclass' | 'regression'; search?: SearchConfig; split: { folds: number }; trainer: { estimator: string; command: string[] } },
  ctx: z.core.$RefinementCtx,
): void {
  const search = m.search;
  if (!search) return;
  const known = ESTIMATOR_PARAMS[m.trainer.estimator];
  const kind = m.task === 'regression' ? 'regressor' : 'classifier';
  const valid = m.trainer.command.some((part) => part.endsWith(SKLEARN_TRAINER)) ? known?.[kind] : undefined;
  for (const name of Object.keys(search.space)) {
    if (name === 'random_state') {
      ctx.addIssue({ code: 'custom', path: ['search', 'space', name], message: "not searchable: the trainer's seed sets random_state" });
    } else if (valid && !valid.includes(name)) {
      ctx.addIssue({
        code: 'custom',
        path: ['search', 'space', name],
        message: `unknown parameter '${name}' for estimator '${m.trainer.estimator}' (${kind}); valid parameters: ${valid.filter((p) => p !== 'random_state').join(', ')}`,
      });
    }
  }
  if (search.metric && !metricNamesFor(m.task).includes(search.metric)) {
    ctx.addIssue({ code: 'custom', path: ['search', 'metric'], message: `metric '${search.metric}' does not apply to a ${m.task} model (use one of ${metricNamesFor(m.task).join(', ')})` });
  }
  if (search.folds !== undefined && search.folds > m.split.folds) {
    ctx.addIssue({ code: 'custom', path: ['search', 'folds'], message: `a trial cannot use more folds (${search.folds}) than split.folds (${m.split.folds})` });
  }
  if (search.strategy === 'grid') {
    const size = gridSize(search.space);
    if (size > search.budget) {
      ctx.addIssue({ code: 'custom', path: ['search', 'budget'], message: `the grid has ${size} points but the budget is ${search.budget} trials (raise budget, or use strategy random or halving)` });
    }
  }
}
