// Words for the reasons a metric is undefined on a set of rows. The reasons are for people (reports, gate rules);
// code that needs to know whether a metric is defined checks for its key, never parses the text.
import type { UndefinedMetrics } from '../contracts/metrics';

export type { UndefinedMetrics };

/** How reasons name a set of rows and its classes. */
export interface ReasonContext {
  /** The set as a reason names it: 'the holdout', 'fold 2'. Default: 'the set'. */
  set?: string;
  /** Class labels in class-index order (the model's classes); default: the indices. */
  classNames?: ReadonlyArray<string | number | boolean>;
}

/** "the 146 rows of the holdout", "the only row of fold 2". */
export function rowsPhrase(count: number, context: ReasonContext): string {
  const set = context.set ?? 'the set';
  return count === 1 ? `the only row of ${set}` : `the ${count} rows of ${set}`;
}

/** "class 'snow'", or the index when the classes have no names. */
export function className(index: number, context: ReasonContext): string {
  return `class '${String(context.classNames?.[index] ?? index)}'`;
}

/** "class 'snow' never occurs", "classes 'fog' and 'snow' never occur", "classes 'a', 'b' and 'c' never occur". */
export function missingClassesPhrase(indices: readonly number[], context: ReasonContext): string {
  const names = indices.map((c) => `'${String(context.classNames?.[c] ?? c)}'`);
  if (names.length === 1) return `class ${names[0]} never occurs`;
  return `classes ${names.slice(0, -1).join(', ')} and ${names.at(-1)} never occur`;
}
