// The proposal `relearn init` makes from a data file's profile: label, task, time column, features (and the columns
// left out, with the reason), a data contract and an estimator. Pure: the profile in, the proposal out, so every rule
// can be tested on small made-up profiles. A flag the data contradicts is a ConfigError naming the flag.
import type { ColumnContract } from '../data';
import { ConfigError, DataContractError } from '../errors';
import type { ColumnProfile, DataProfile } from './profile';
import { MAX_LISTED_VALUES } from './profile';

export type Task = 'binary' | 'multiclass' | 'regression';

/** What the user asked for; anything left out is proposed. */
export interface ProposeOptions {
  label?: string | undefined;
  task?: Task | undefined;
  time?: string | undefined;
}

/** A proposed value, why it was chosen, and whether the user gave it. */
export interface Choice<T> {
  value: T;
  why: string;
  given: boolean;
}

/** Everything `relearn init` assumes about a model. */
export interface Proposal {
  label: Choice<string>;
  task: Choice<Task>;
  time: Choice<string>;
  features: { numeric: string[]; categorical: string[] };
  /** Columns that are neither label, time column nor feature, with the reason. */
  excluded: Array<{ name: string; why: string }>;
  contract: { minRows: number; columns: Record<string, ColumnContract> };
  estimator: string;
  /** A classification label's classes in the trainer's order (binary: the second is the positive class), else null. */
  classes: Array<string | number | boolean> | null;
  /** Things in the data a run will trip over. */
  warnings: string[];
}

/** A column at least this null is "almost all null" and left out. */
export const MAX_NULL_FRACTION = 0.9;
/** Whole-number labels with at most this many distinct values are read as classes. */
export const MAX_INTEGER_CLASSES = 10;
/** Text columns with more distinct values than this share of their rows are names or free text, not categories. */
export const MAX_CATEGORY_SHARE = 0.5;

/** Above this many rows a run is warned to be slow unless it reads a window or a sample. */
export const LARGE_FILE_ROWS = 500_000;

/** Names such as id, user_id, row-index, orderId, ID. */
function looksLikeIdName(name: string): boolean {
  return /(^|[^a-z])(id|key|uuid|guid|index|row)$|^(id|key|uuid|guid|index|row)([^a-z]|$)/i.test(name) || /[a-z](Id|ID|Key|Uuid)$/.test(name);
}

function plural(n: number, word: string): string {
  return `${n.toLocaleString('en-US')} ${word}${n === 1 ? '' : 's'}`;
}

function quoted(values: ReadonlyArray<string | number | boolean>, max = 8): string {
  const shown = values.slice(0, max).map((v) => (typeof v === 'string' ? `'${v}'` : String(v)));
  return values.length > max ? `${shown.join(', ')}, …` : shown.join(', ');
}

function familyPhrase(column: ColumnProfile): string {
  switch (column.family) {
    case 'string':
      return 'text';
    case 'bool':
      return 'boolean';
    case 'timestamp':
      return 'a date/time';
    case 'int':
      return 'whole numbers';
    default:
      return column.integral ? 'numbers (stored as floats)' : 'fractional numbers';
  }
}

/** Why a column cannot be a feature (or a default label), or null when it can. */
function unusableReason(column: ColumnProfile, rows: number): string | null {
  const nullShare = rows === 0 ? 1 : column.nulls / rows;
  if (nullShare >= MAX_NULL_FRACTION) {
    return column.nulls === rows ? 'every value is null' : `${Math.round(100 * nullShare)}% null (almost all null)`;
  }
  if (column.distinct <= 1) return `one value in every row (${quoted(column.values ?? [])}): nothing to learn from`;
  if (column.family === 'timestamp') {
    return 'a date/time other than the time column (source.derive can make hour, dayOfWeek, month or dayOfMonth features of it)';
  }
  const onePerRow = column.nulls === 0 && column.distinct === rows;
  if (onePerRow && column.family === 'string') return 'one distinct value per row (an identifier)';
  if (onePerRow && column.family === 'int' && (looksLikeIdName(column.name) || column.max! - column.min! + 1 === rows)) {
    return 'one distinct value per row (an identifier)';
  }
  if (column.family === 'string' && column.distinct > MAX_LISTED_VALUES && column.distinct > MAX_CATEGORY_SHARE * (rows - column.nulls)) {
    return `text with ${plural(column.distinct, 'distinct value')} in ${plural(rows - column.nulls, 'row')} (names or free text, too many to be categories)`;
  }
  return null;
}

function columnsList(profile: DataProfile): string {
  return profile.columns.map((c) => c.name).join(', ');
}

function findColumn(profile: DataProfile, name: string, flag: string): ColumnProfile {
  const column = profile.columns.find((c) => c.name === name);
  if (!column) throw new ConfigError(`${flag}: no column '${name}' in ${profile.file} (columns: ${columnsList(profile)})`);
  return column;
}

function chooseTime(profile: DataProfile, options: ProposeOptions): Choice<string> {
  if (options.time !== undefined) {
    const column = findColumn(profile, options.time, '--time');
    if (column.family !== 'timestamp') {
      throw new ConfigError(`--time: column '${column.name}' in ${profile.file} holds ${familyPhrase(column)} (${column.type}); the time column must be a date or timestamp`);
    }
    return { value: column.name, why: 'given with --time', given: true };
  }
  const candidates = profile.columns.filter((c) => c.family === 'timestamp' && c.name !== options.label);
  if (candidates.length === 0) {
    throw new DataContractError(
      `${profile.file}: no date or timestamp column (columns: ${columnsList(profile)}); a model needs one as its time column — runs keep the most recent rows as the holdout and select windows by it — so add one to the data`,
    );
  }
  const best = [...candidates].sort((a, b) => a.nulls - b.nulls)[0]!;
  const why =
    candidates.length === 1
      ? 'the only date/time column'
      : `the ${best.nulls === 0 ? 'first complete' : 'most complete'} of ${candidates.length} date/time columns (${candidates.map((c) => c.name).join(', ')}); pass --time to pick another`;
  return { value: best.name, why, given: false };
}

function chooseLabel(profile: DataProfile, options: ProposeOptions, time: string): Choice<string> {
  if (options.label !== undefined) {
    const column = findColumn(profile, options.label, '--label');
    if (column.name === time) throw new ConfigError(`--label: column '${column.name}' is the time column; pick another label or another time column with --time`);
    if (column.family === 'timestamp') {
      throw new ConfigError(`--label: column '${column.name}' in ${profile.file} is a date/time; a label must be a number, text or a boolean`);
    }
    return { value: column.name, why: 'given with --label', given: true };
  }
  const last = [...profile.columns]
    .reverse()
    // Text with more distinct values than a classifier takes is a feature at most, never a default label.
    .find((c) => c.name !== time && c.family !== 'timestamp' && !(c.family === 'string' && c.distinct > MAX_LISTED_VALUES) && unusableReason(c, profile.rows) === null);
  if (!last) throw new ConfigError(`--label: no column of ${profile.file} can be a label (columns: ${columnsList(profile)}); pass --label <column>`);
  const isLast = last === profile.columns[profile.columns.length - 1];
  return { value: last.name, why: `${isLast ? 'the last column' : 'the last column that can be a label'}; pass --label to pick another`, given: false };
}

function chooseTask(profile: DataProfile, label: ColumnProfile, given: Task | undefined): Choice<Task> {
  const described = `'${label.name}' holds ${familyPhrase(label)} with ${plural(label.distinct, 'distinct value')}`;
  if (label.distinct <= 1) {
    throw new ConfigError(`--label: column '${label.name}' in ${profile.file} has ${label.distinct === 0 ? 'no values' : `one value (${quoted(label.values ?? [])}) in every row`}; there is nothing to learn`);
  }
  if (given !== undefined) {
    if (given === 'regression' && label.family !== 'int' && label.family !== 'float') {
      throw new ConfigError(`--task regression: label '${label.name}' holds ${familyPhrase(label)}; a regression label must be numeric (use --task ${label.distinct === 2 ? 'binary' : 'multiclass'})`);
    }
    if (given !== 'regression' && label.family === 'float') {
      throw new ConfigError(
        `--task ${given}: label '${label.name}' holds ${familyPhrase(label)} (${label.type}); class labels must be whole numbers, text or booleans (use --task regression)`,
      );
    }
    if (given === 'binary' && label.distinct > 2) {
      throw new ConfigError(`--task binary: label '${label.name}' has ${label.distinct} classes${label.values ? ` (${quoted(label.values)})` : ''}; use --task multiclass`);
    }
    return { value: given, why: 'given with --task', given: true };
  }
  switch (label.family) {
    case 'bool':
      return { value: 'binary', why: `'${label.name}' is boolean`, given: false };
    case 'string':
      if (label.distinct === 2) return { value: 'binary', why: `${described}`, given: false };
      if (label.distinct <= MAX_LISTED_VALUES) return { value: 'multiclass', why: `${described}`, given: false };
      throw new ConfigError(
        `--label: column '${label.name}' in ${profile.file} is text with ${plural(label.distinct, 'distinct value')}, too many to be classes (at most ${MAX_LISTED_VALUES}); pick another label with --label, or pass --task multiclass`,
      );
    case 'int':
      if (label.distinct === 2) return { value: 'binary', why: described, given: false };
      if (label.distinct <= MAX_INTEGER_CLASSES) {
        return { value: 'multiclass', why: `${described}, read as classes (pass --task regression if they are amounts)`, given: false };
      }
      return { value: 'regression', why: `${described}, more than ${MAX_INTEGER_CLASSES} read as amounts`, given: false };
    default:
      return { value: 'regression', why: described, given: false };
  }
}

function featureContract(column: ColumnProfile): ColumnContract {
  const nullable = column.nulls > 0 ? { nullable: true } : {};
  if (column.family === 'string') return { type: 'string', ...nullable };
  if (column.family === 'bool') return { type: 'bool', ...nullable };
  return { type: 'number', ...nullable, ...(column.min !== null && column.min >= 0 ? { min: 0 } : {}) };
}

/** Proposes a model for `profile`; throws ConfigError when a flag does not fit the data. */
export function proposeModel(profile: DataProfile, options: ProposeOptions = {}): Proposal {
  if (profile.rows === 0) throw new DataContractError(`${profile.file}: no rows; a model needs data to learn from`);
  const time = chooseTime(profile, options);
  const label = chooseLabel(profile, options, time.value);
  const labelColumn = profile.columns.find((c) => c.name === label.value)!;
  const task = chooseTask(profile, labelColumn, options.task);

  const features = { numeric: [] as string[], categorical: [] as string[] };
  const excluded: Proposal['excluded'] = [];
  const contractColumns: Record<string, ColumnContract> = { [time.value]: { type: 'timestamp' } };
  for (const column of profile.columns) {
    if (column.name === time.value || column.name === label.value) continue;
    const why = unusableReason(column, profile.rows);
    if (why !== null) {
      excluded.push({ name: column.name, why });
      continue;
    }
    (column.family === 'string' ? features.categorical : features.numeric).push(column.name);
    contractColumns[column.name] = featureContract(column);
  }
  if (features.numeric.length + features.categorical.length === 0) {
    const reasons = excluded.map((e) => `${e.name}: ${e.why}`).join('; ');
    throw new ConfigError(`${profile.file}: no column can be a feature besides the label '${label.value}' and the time column '${time.value}'${reasons ? ` (${reasons})` : ''}`);
  }

  const classification = task.value !== 'regression';
  const classes = classification ? labelColumn.values : null;
  if (classification) {
    contractColumns[label.value] =
      labelColumn.family === 'string'
        ? { type: 'string', ...(classes ? { allowed: classes.map(String) } : {}) }
        : { type: labelColumn.family === 'bool' ? 'bool' : 'int' };
  } else {
    contractColumns[label.value] = { type: 'number', ...(labelColumn.min !== null && labelColumn.min >= 0 ? { min: 0 } : {}) };
  }

  const warnings: string[] = [];
  if (labelColumn.nulls > 0) {
    warnings.push(`label '${label.value}' has ${plural(labelColumn.nulls, 'null value')}; runs refuse them (every row needs its label), so drop those rows from the data`);
  }
  const timeColumn = profile.columns.find((c) => c.name === time.value)!;
  if (timeColumn.nulls > 0) {
    warnings.push(`time column '${time.value}' has ${plural(timeColumn.nulls, 'null value')}; runs refuse them, so drop those rows or fill them in`);
  }
  if (profile.rows > LARGE_FILE_ROWS) {
    warnings.push(`${plural(profile.rows, 'row')}: every run reads them all; source.window or source.sample.maxRows in temporal.yaml trains on part`);
  }
  if (profile.rows < 50) warnings.push(`only ${plural(profile.rows, 'row')}: 5 folds and a 20% holdout need more (at least about 50)`);

  return {
    label,
    task,
    time,
    features,
    excluded,
    contract: { minRows: profile.rows >= 200 ? 100 : Math.max(1, Math.floor(profile.rows / 2)), columns: contractColumns },
    estimator: classification ? 'logistic_regression' : 'ridge',
    classes,
    warnings,
  };
}

/** The model's block for temporal.yaml (only what differs from the defaults, and what a reader wants to see). */
export function modelBlock(proposal: Proposal, source: { path: string; format?: string | undefined }, description: string): Record<string, unknown> {
  const { numeric, categorical } = proposal.features;
  return {
    task: proposal.task.value,
    description,
    source: { ...(source.format ? { format: source.format } : {}), path: source.path, timeColumn: proposal.time.value },
    features: { ...(numeric.length ? { numeric } : {}), ...(categorical.length ? { categorical } : {}) },
    label: proposal.label.value,
    contract: proposal.contract,
    trainer: { estimator: proposal.estimator },
  };
}
