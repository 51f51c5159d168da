import type { Connection } from '@temporalio/client';
import proto from '@temporalio/proto';
import { RELEARN_SEARCH_ATTRIBUTES } from '../contracts';

const { temporal } = proto;

const INDEXED_TYPE: Record<string, proto.temporal.api.enums.v1.IndexedValueType> = {
  KEYWORD: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
  INT: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_INT,
  DOUBLE: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_DOUBLE,
  TEXT: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_TEXT,
  BOOL: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_BOOL,
  DATETIME: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_DATETIME,
};

/** Registers Relearn's search attributes in the namespace; returns the names it added (none when all exist). */
export async function ensureSearchAttributes(connection: Connection, namespace: string): Promise<string[]> {
  const existing = await connection.operatorService.listSearchAttributes({ namespace });
  const known = new Set(Object.keys(existing.customAttributes ?? {}));
  const missing = RELEARN_SEARCH_ATTRIBUTES.filter((key) => !known.has(key.name));
  if (missing.length === 0) return [];
  const searchAttributes: Record<string, proto.temporal.api.enums.v1.IndexedValueType> = {};
  for (const key of missing) {
    const type = INDEXED_TYPE[key.type.toUpperCase()];
    if (type === undefined) throw new Error(`search attribute ${key.name}: unsupported type ${key.type}`);
    searchAttributes[key.name] = type;
  }
  try {
    await connection.operatorService.addSearchAttributes({ namespace, searchAttributes });
  } catch (err) {
    // A concurrent registration by another process is fine; anything else is a real refusal.
    if (!/already exists/i.test(String((err as Error).message))) {
      throw new Error(`namespace '${namespace}' refused Relearn's search attributes: ${(err as Error).message}`);
    }
  }
  return missing.map((k) => k.name);
}
