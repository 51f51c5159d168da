import { Int32 } from 'apache-arrow';
import type { DataType, Table } from 'apache-arrow';
import { ConfigError, DataContractError } from '../errors';
import { columnFamily, numericValues, stringValues, typeName, validityFlags } from './columns';
import type { ColumnFamily } from './columns';
import type { SourceColumn } from './read-source';
import type { ColumnContract, ContractType, DataContract, DeriveSpec } from './types';

const ACCEPTED: Record<ContractType, readonly ColumnFamily[]> = {
  int: ['int'],
  // Widening an int to a float loses nothing, and a CSV column of whole numbers is read as int.
  float: ['int', 'float'],
  number: ['int', 'float'],
  string: ['string'],
  timestamp: ['timestamp'],
  bool: ['bool'],
};

/** Whether an Arrow type satisfies a contract type. */
export function typeSatisfies(contractType: ContractType, type: DataType): boolean {
  return ACCEPTED[contractType].includes(columnFamily(type));
}

const TIME_OPS = new Set(['hour', 'dayOfWeek', 'month', 'dayOfMonth']);

/**
 * Checks names and types before any row is read: contract columns, the model's required
 * columns, the time column and the inputs of derived columns. Contract and required columns
 * that are produced by `derive` are checked after derivation instead.
 */
export function checkSchema(options: {
  file: string;
  columns: readonly SourceColumn[];
  contract: DataContract;
  requiredColumns: readonly string[];
  timeColumn: string;
  derive: readonly DeriveSpec[];
}): void {
  const { file, columns, contract, requiredColumns, timeColumn, derive } = options;
  const byName = new Map(columns.map((c) => [c.name, c]));
  const derived = new Set(derive.map((d) => d.name));
  const describe = (c: SourceColumn) => (c.type ? typeName(c.type) : c.sourceType);

  for (const [name, expected] of Object.entries(contract.columns)) {
    if (derived.has(name)) continue;
    const column = byName.get(name);
    if (!column) throw new DataContractError(`${file}: column '${name}' is missing (required by contract)`);
    if (!column.type || !typeSatisfies(expected.type, column.type)) {
      throw new DataContractError(`${file}: column '${name}' has type ${describe(column)}, contract expects ${expected.type}`);
    }
  }
  for (const name of requiredColumns) {
    if (!derived.has(name) && !byName.has(name)) {
      throw new DataContractError(`${file}: column '${name}' is missing (required by the model)`);
    }
  }
  const time = byName.get(timeColumn);
  if (!time) throw new DataContractError(`${file}: column '${timeColumn}' is missing (required as the time column)`);
  if (!time.type || columnFamily(time.type) !== 'timestamp') {
    throw new DataContractError(`${file}: column '${timeColumn}' has type ${describe(time)}, the time column must be a timestamp or date`);
  }
  const available = new Map(byName);
  derive.forEach((spec, i) => {
    if (available.has(spec.name)) {
      throw new ConfigError(`source.derive[${i}].name: '${spec.name}' already exists in ${file}; pick another name`);
    }
    // A derived column may use one derived before it (all are Int32).
    const input = available.get(spec.from);
    if (!input) throw new DataContractError(`${file}: column '${spec.from}' is missing (required by derived column '${spec.name}')`);
    const family = input.type ? columnFamily(input.type) : 'unsupported';
    if (TIME_OPS.has(spec.op)) {
      if (family !== 'timestamp') {
        throw new DataContractError(`${file}: column '${spec.from}' has type ${describe(input)}, derived column '${spec.name}' (${spec.op}) expects a timestamp`);
      }
    } else {
      if (family !== 'int' && family !== 'float' && family !== 'bool') {
        throw new DataContractError(`${file}: column '${spec.from}' has type ${describe(input)}, derived column '${spec.name}' (${spec.op}) expects a number`);
      }
      if (typeof spec.value !== 'number' || !Number.isFinite(spec.value)) {
        throw new ConfigError(`source.derive[${i}].value: ${spec.op} needs a finite number to compare '${spec.from}' with`);
      }
    }
    available.set(spec.name, { name: spec.name, type: new Int32(), sourceType: 'Int32' });
  });
}

/** Counts nulls (and NaN in float columns, which models see as missing too). */
export function countMissing(table: Table, name: string): number {
  const vector = table.getChild(name)!;
  const family = columnFamily(vector.type);
  if (family === 'float') {
    const values = numericValues(vector);
    let missing = 0;
    for (let i = 0; i < values.length; i++) if (Number.isNaN(values[i]!)) missing++;
    return missing;
  }
  // Arrow counts each chunk's nulls already.
  let missing = 0;
  for (const data of vector.data) missing += data.nullCount;
  return missing;
}

/** Rejects nulls in non-nullable contract columns, naming the column and the count. */
export function checkNulls(table: Table, contract: DataContract, file: string, where: string, only?: ReadonlySet<string>): void {
  for (const [name, expected] of Object.entries(contract.columns)) {
    if (expected.nullable || (only && !only.has(name))) continue;
    const missing = countMissing(table, name);
    if (missing > 0) {
      throw new DataContractError(
        `${file}: column '${name}' has ${missing} null value${missing === 1 ? '' : 's'} ${where}; contract says it is not nullable (set nullable: true to allow)`,
      );
    }
  }
}

function formatExample(value: number | string): string {
  return typeof value === 'string' ? `'${value}'` : String(value);
}

function checkColumnValues(table: Table, name: string, expected: ColumnContract, file: string, where: string): void {
  const vector = table.getChild(name)!;
  const family = columnFamily(vector.type);
  const numeric = family === 'int' || family === 'float';
  if ((expected.min !== undefined || expected.max !== undefined) && numeric) {
    const min = expected.min ?? Number.NEGATIVE_INFINITY;
    const max = expected.max ?? Number.POSITIVE_INFINITY;
    const values = numericValues(vector);
    let violations = 0;
    let example = 0;
    for (let i = 0; i < values.length; i++) {
      const v = values[i]!;
      if (v < min || v > max) {
        if (violations === 0) example = v;
        violations++;
      }
    }
    if (violations > 0) {
      throw new DataContractError(
        `${file}: column '${name}' has ${violations} value${violations === 1 ? '' : 's'} outside [${expected.min ?? '-∞'}, ${expected.max ?? '+∞'}] ${where} (e.g. ${formatExample(example)})`,
      );
    }
  }
  if (expected.allowed) {
    const allowed = new Set(expected.allowed);
    const values: (string | null)[] =
      family === 'string'
        ? stringValues(vector)
        : Array.from(numericValues(vector), (v) => (Number.isNaN(v) ? null : family === 'bool' ? String(v === 1) : String(v)));
    let violations = 0;
    let example = '';
    for (const value of values) {
      if (value !== null && !allowed.has(value)) {
        if (violations === 0) example = value;
        violations++;
      }
    }
    if (violations > 0) {
      throw new DataContractError(
        `${file}: column '${name}' has ${violations} value${violations === 1 ? '' : 's'} not in the allowed list ${where} (e.g. ${formatExample(example)}; allowed: ${expected.allowed.slice(0, 10).join(', ')}${expected.allowed.length > 10 ? ', …' : ''})`,
      );
    }
  }
}

/** Rejects values outside [min, max] or not in `allowed`, naming the column, the count and an example. */
export function checkValues(table: Table, contract: DataContract, file: string, where: string, only?: ReadonlySet<string>): void {
  for (const [name, expected] of Object.entries(contract.columns)) {
    if (only && !only.has(name)) continue;
    checkColumnValues(table, name, expected, file, where);
  }
}

/**
 * Rejects ±Infinity in the model's float columns (features and label) and NaN unless the contract lets the column be
 * missing: a trainer would either crash on them or quietly learn from garbage, and ONNX scoring would disagree.
 */
export function checkFinite(table: Table, columns: readonly string[], contract: DataContract, file: string, where: string): void {
  for (const name of columns) {
    const vector = table.getChild(name);
    if (!vector || columnFamily(vector.type) !== 'float') continue;
    const values = numericValues(vector);
    const flags = validityFlags(vector);
    let nan = 0;
    let infinite = 0;
    let example = 0;
    for (let i = 0; i < values.length; i++) {
      const v = values[i]!;
      if (Number.isNaN(v)) {
        // A null slot reads as NaN too; nulls are the nullable check's business.
        if (flags[i]) nan++;
      } else if (!Number.isFinite(v)) {
        if (infinite === 0) example = v;
        infinite++;
      }
    }
    if (infinite > 0) {
      throw new DataContractError(
        `${file}: column '${name}' has ${infinite} infinite value${infinite === 1 ? '' : 's'} ${where} (e.g. ${example}); features and the label must be finite numbers`,
      );
    }
    if (nan > 0 && !contract.columns[name]?.nullable) {
      throw new DataContractError(
        `${file}: column '${name}' has ${nan} NaN value${nan === 1 ? '' : 's'} ${where}; features and the label must be numbers (set contract.columns.${name}.nullable: true to allow missing values)`,
      );
    }
  }
}

/** Checks types of contract columns that `derive` produced (all derived columns are Int32). */
export function checkDerivedTypes(table: Table, contract: DataContract, file: string, derivedNames: ReadonlySet<string>): void {
  for (const [name, expected] of Object.entries(contract.columns)) {
    if (!derivedNames.has(name)) continue;
    const type = table.getChild(name)!.type;
    if (!typeSatisfies(expected.type, type)) {
      throw new DataContractError(`${file}: derived column '${name}' has type ${typeName(type)}, contract expects ${expected.type}`);
    }
  }
}
