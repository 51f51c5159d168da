import { readFileSync } from 'node:fs';
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

/** Exit code meaning "bad params": never retried. */
export const EXIT_BAD_PARAMS = 2;

/** Reads a job output file against its schema; a file that is not JSON or not the right shape is an error string. */
export function readJsonFile<T extends z.ZodType>(file: string, schema: T): { ok: true; data: z.infer<T> } | { ok: false; error: string } {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
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
