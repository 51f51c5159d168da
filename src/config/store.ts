import { z } from 'zod';

// The artifact store is a local folder (the default, under the state folder) or an S3-compatible bucket. Credentials
// are never part of it: the worker reads them from the standard AWS chain (env vars, profile), so no config file,
// workflow input or result ever holds one.

const S3_URL = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:\/(.*))?$/;

/** Smallest part S3 accepts in a multipart upload (all but the last part). */
export const MIN_PART_SIZE_BYTES = 5 * 1024 * 1024;

/** A bucket and the key prefix every artifact goes under (no leading or trailing slash). */
export interface S3Location {
  bucket: string;
  prefix: string;
}

/** Splits `s3://bucket/prefix` into its bucket and prefix, or returns undefined when `url` is not one. */
export function parseS3Url(url: string): S3Location | undefined {
  const m = S3_URL.exec(url);
  if (!m) return undefined;
  return { bucket: m[1]!, prefix: (m[2] ?? '').replace(/^\/+|\/+$/g, '') };
}

const endpointSchema = z
  .url({ protocol: /^https?$/, error: 'expected an http:// or https:// URL such as http://127.0.0.1:7070' })
  .refine((u) => !/^[a-z]+:\/\/[^/]*@/i.test(u), {
    error: 'must not carry credentials; the worker reads them from AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or an AWS profile',
  });

/** `store:` in temporal.yaml, in its long form. */
export const storeObjectSchema = z
  .object({
    /** A folder (relative to stateDir) or `s3://bucket/prefix`. */
    url: z.string().min(1).default('store'),
    /** S3 only: the endpoint of an S3-compatible server (default: AWS for the region). */
    endpoint: endpointSchema.optional(),
    /** S3 only: the bucket's region (default us-east-1; most S3-compatible servers ignore it). */
    region: z.string().min(1).optional(),
    /** S3 only: `http://host/bucket/key` instead of `http://bucket.host/key` (most S3-compatible servers want it). */
    forcePathStyle: z.boolean().optional(),
    /** S3 only: files larger than this go up in parts of this size (multipart upload). */
    partSizeBytes: z.number().int().min(MIN_PART_SIZE_BYTES).optional(),
  })
  .strict()
  .superRefine((s, ctx) => {
    if (s.url.startsWith('s3:')) {
      if (/^s3:\/\/[^/]*@/.test(s.url)) {
        ctx.addIssue({ code: 'custom', path: ['url'], message: 'must not carry credentials; the worker reads them from AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or an AWS profile' });
      } else if (parseS3Url(s.url) === undefined) {
        ctx.addIssue({ code: 'custom', path: ['url'], message: 'expected s3://<bucket>/<prefix> with a bucket name of 3-63 lowercase letters, digits, dots and dashes' });
      }
      return;
    }
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(s.url)) {
      ctx.addIssue({ code: 'custom', path: ['url'], message: 'expected a local folder or s3://<bucket>/<prefix>' });
    }
    for (const key of ['endpoint', 'region', 'forcePathStyle', 'partSizeBytes'] as const) {
      if (s[key] !== undefined) ctx.addIssue({ code: 'custom', path: [key], message: `applies only to an s3:// store (url is the folder ${s.url})` });
    }
  });

/** `store:` in temporal.yaml: a folder or an `s3://` URL, or the long form with the S3 options. */
export const storeSchema = z.preprocess((v) => (typeof v === 'string' ? { url: v } : v), storeObjectSchema).prefault({});

/** The parsed `store:` block. */
export type StoreConfig = z.infer<typeof storeObjectSchema>;
