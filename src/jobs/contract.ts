import { closeSync, constants as fsConstants, fstatSync, openSync, readSync } from 'node:fs';
import { z } from 'zod';

/** The job spec a launcher writes to `spec.json` for the training job to read. */
export const jobSpecSchema = z.object({
  jobId: z.string().min(1),
  role: z.string().min(1),
  task: z.enum(['binary', 'multiclass', 'regression']),
  snapshotPath: z.string().min(1),
  splitPath: z.string().min(1),
  trainFolds: z.array(z.number().int().min(0)).min(1),
  features: z.object({ numeric: z.array(z.string()), categorical: z.array(z.string()) }),
  label: z.string().min(1),
  estimator: z.string().min(1),
  params: z.record(z.string(), z.unknown()),
  seed: z.number().int(),
  probeRows: z.array(z.number().int().min(0)),
  outputDir: z.string().min(1),
  /** Fit on this share of the training rows (seeded subsample); early rungs of a search use less than 1. */
  rowShare: z.number().gt(0).max(1).optional(),
  /** An S3 store (no credentials): a job on another machine reads `snapshot`/`split` from it by URI (store_io.py). */
  store: z
    .object({ url: z.string(), endpoint: z.string().optional(), region: z.string().optional(), forcePathStyle: z.boolean().optional() })
    .optional(),
  snapshot: z.object({ uri: z.string(), sha256: z.string() }).optional(),
  split: z.object({ uri: z.string(), sha256: z.string() }).optional(),
  /** `s3://bucket/prefix` the job uploads its output files to, status.json last. */
  outputUri: z.string().optional(),
});

export type JobSpec = z.infer<typeof jobSpecSchema>;

/** `status.json`, the last file a job writes; parsed at the boundary, never trusted for decisions. */
export const jobStatusSchema = z.discriminatedUnion('status', [
  z
    .object({
      status: z.literal('succeeded'),
      role: z.string(),
      task: z.enum(['binary', 'multiclass', 'regression']),
      estimator: z.string(),
      params: z.record(z.string(), z.unknown()).default({}),
      classes: z.array(z.union([z.string(), z.number(), z.boolean()])).optional(),
      trainRows: z.number().int().nonnegative(),
      durationMs: z.number().nonnegative().optional(),
      selfReportedMetrics: z.record(z.string(), z.number()).default({}),
      versions: z.record(z.string(), z.string()).default({}),
    })
    .loose(),
  z.object({ status: z.literal('failed'), error: z.string(), exitCode: z.number().int().optional() }).loose(),
]);

export type JobStatus = z.infer<typeof jobStatusSchema>;

/** `probe.json`: the native model's outputs on the probe rows, for the ONNX parity check. */
export const probeSchema = z.union([
  z.object({ rows: z.array(z.number().int()), probabilities: z.array(z.array(z.number())) }),
  z.object({ rows: z.array(z.number().int()), predictions: z.array(z.number()) }),
]);

export type ProbeOutputs = z.infer<typeof probeSchema>;

/** The most probe rows a job is asked for (the config's `trainer.probeRows` stops there too). */
export const MAX_PROBE_ROWS = 10_000;

/** Cap on `status.json`: a status is a few hundred bytes; params and self-reported metrics stay far below this. */
export const STATUS_MAX_BYTES = 1024 * 1024;

/**
 * Cap on `probe.json` for `classes` output columns (1 for regression): up to MAX_PROBE_ROWS rows of pretty-printed
 * numbers (about 30 bytes each, 48 allowed), plus the row ids, plus slack. Binary: about 1.9 MB.
 */
export function probeMaxBytes(classes: number): number {
  const columns = Math.min(Math.max(1, classes), 1000);
  return 64 * 1024 + MAX_PROBE_ROWS * 48 * (columns + 2);
}

/** Exit code meaning "bad params": never retried. */
export const EXIT_BAD_PARAMS = 2;

/**
 * Reads a job output file against its schema; a file over `maxBytes`, not a regular file, not JSON or not the right
 * shape is an error string. The size is checked on the open file before a byte is read, and the read stops at the cap
 * (a job still writing cannot grow it past the check).
 */
export function readJsonFile<T extends z.ZodType>(
  file: string,
  schema: T,
  maxBytes: number,
): { ok: true; data: z.infer<T> } | { ok: false; error: string } {
  const text = readCappedText(file, maxBytes);
  if (!text.ok) return text;
  let raw: unknown;
  try {
    raw = JSON.parse(text.text);
  } catch (err) {
    return { ok: false, error: `not JSON (${(err as Error).message.split('\n')[0]})` };
  }
  const parsed = schema.safeParse(raw);
  return parsed.success ? { ok: true, data: parsed.data } : { ok: false, error: describeIssues(parsed.error.issues) };
}

/** `field: message` per issue; for a union, the issues of the branch that came closest (zod says only "Invalid input"). */
function describeIssues(issues: readonly z.core.$ZodIssue[], prefix: readonly PropertyKey[] = []): string {
  return issues
    .map((issue) => {
      const where = [...prefix, ...issue.path];
      if (issue.code === 'invalid_union' && issue.errors.length > 0) {
        const closest = [...issue.errors].sort((a, b) => a.length - b.length)[0]!;
        return describeIssues(closest, where);
      }
      return `${where.length > 0 ? where.map(String).join('.') : '(top level)'}: ${issue.message}`;
    })
    .join('; ');
}

/** A job output file as text, refused when it is not a regular file (no symlinks) or larger than `maxBytes`. */
export function readCappedText(file: string, maxBytes: number): { ok: true; text: string } | { ok: false; error: string } {
  let fd: number;
  try {
    fd = openSync(file, fsConstants.O_RDONLY | (fsConstants.O_NOFOLLOW ?? 0));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return { ok: false, error: code === 'ELOOP' ? 'is a symbolic link, expected a regular file' : `cannot be read (${code ?? String(err)})` };
  }
  try {
    const info = fstatSync(fd);
    if (!info.isFile()) return { ok: false, error: 'is not a regular file' };
    if (info.size > maxBytes) return { ok: false, error: `${info.size} bytes, over the cap of ${maxBytes} bytes` };
    // One byte more than the size: a file still growing (a job's straggling child) is caught, not read on.
    const buffer = Buffer.alloc(info.size + 1);
    let length = 0;
    for (;;) {
      const n = readSync(fd, buffer, length, buffer.length - length, null);
      if (n === 0) break;
      length += n;
      if (length > info.size) return { ok: false, error: `grew while being read (it was ${info.size} bytes)` };
    }
    return { ok: true, text: buffer.toString('utf8', 0, length) };
  } finally {
    closeSync(fd);
  }
}
