import { ConfigError } from '../errors';

// Date.parse reads "2001-03-01T00:00" as local time; windows are UTC by contract, so ISO strings
// are parsed here: a date or date-time, optional fraction, optional Z or ±hh:mm offset.
const ISO_INSTANT =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?(Z|[+-]\d{2}:?\d{2})?$/;

/** Parses an ISO date or date-time to epoch milliseconds, reading it as UTC when it has no offset; NaN if malformed. */
export function parseUtcInstantMs(text: string): number {
  const m = ISO_INSTANT.exec(text.trim());
  if (!m) return Number.NaN;
  const [, y, mo, d, h = '0', mi = '0', s = '0', frac = '', offset] = m;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  if (month < 1 || month > 12 || day < 1 || day > 31 || Number(h) > 23 || Number(mi) > 59 || Number(s) > 59) return Number.NaN;
  let ms = Date.UTC(year, month - 1, day, Number(h), Number(mi), Number(s)) + Number(`0.${frac || '0'}`) * 1000;
  // Date.UTC rolls 2001-02-30 over into March; reject instead.
  if (new Date(Date.UTC(year, month - 1, day)).getUTCDate() !== day) return Number.NaN;
  if (offset && offset !== 'Z') {
    const sign = offset.startsWith('-') ? -1 : 1;
    const digits = offset.slice(1).replace(':', '');
    ms -= sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2))) * 60_000;
  }
  return ms;
}

/** The window of a source as epoch-millisecond bounds; a malformed bound is a ConfigError naming the field. */
export function windowBoundsMs(window: { from?: string; to?: string } | undefined): { fromMs: number; toMs: number } {
  const bound = (value: string | undefined, field: 'from' | 'to', open: number): number => {
    if (value === undefined) return open;
    const ms = parseUtcInstantMs(value);
    if (Number.isNaN(ms)) {
      throw new ConfigError(`source.window.${field}: '${value}' is not an ISO date or date-time (expected e.g. 2001-03-01 or 2001-03-01T00:00:00Z)`);
    }
    return ms;
  };
  const fromMs = bound(window?.from, 'from', Number.NEGATIVE_INFINITY);
  const toMs = bound(window?.to, 'to', Number.POSITIVE_INFINITY);
  if (fromMs >= toMs) {
    throw new ConfigError(`source.window: from (${window?.from}) must be before to (${window?.to})`);
  }
  return { fromMs, toMs };
}

/** Describes a window for messages, e.g. "[2001-03-01, 2001-04-01)". */
export function describeWindow(window: { from?: string; to?: string } | undefined): string {
  return `[${window?.from ?? '-∞'}, ${window?.to ?? '+∞'})`;
}

/** Formats epoch milliseconds as an ISO string in UTC (sub-millisecond parts are dropped). */
export function isoFromMs(ms: number): string {
  return new Date(Math.floor(ms)).toISOString();
}
