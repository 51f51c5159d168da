import path from 'node:path';
import { z } from 'zod';
import { parseS3Url, storeObjectSchema } from './store';

// Where `relearn serve` writes the prediction log and where windows and the drift monitor read it: a folder under the
// state folder (default `predictions`, one machine), an S3 prefix every replica shares, or `store` (the `store:`
// bucket's endpoint and options, under `<store prefix>/predictions`). Credentials come from the AWS chain, never here.

/** The value meaning "the artifact store's bucket, under its prefix's `predictions/`". */
export const PREDICTION_LOG_IN_STORE = 'store';

const logObjectSchema = z
  .object({
    url: z.string().min(1).default('predictions'),
    endpoint: storeObjectSchema.shape.endpoint,
    region: storeObjectSchema.shape.region,
    forcePathStyle: storeObjectSchema.shape.forcePathStyle,
  })
  .strict()
  .superRefine((s, ctx) => {
    if (s.url.startsWith('s3:')) {
      if (/^s3:\/\/[^/]*@/.test(s.url)) {
        ctx.addIssue({ code: 'custom', path: ['url'], message: 'must not carry credentials; readers and writers take them from AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or an AWS profile' });
      } else if (parseS3Url(s.url) === undefined) {
        ctx.addIssue({ code: 'custom', path: ['url'], message: 'expected s3://<bucket>/<prefix> with a bucket name of 3-63 lowercase letters, digits, dots and dashes' });
      }
      return;
    }
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(s.url)) ctx.addIssue({ code: 'custom', path: ['url'], message: "expected a local folder, s3://<bucket>/<prefix> or 'store'" });
    for (const key of ['endpoint', 'region', 'forcePathStyle'] as const) {
      if (s[key] !== undefined) ctx.addIssue({ code: 'custom', path: [key], message: `applies only to an s3:// prediction log (url is ${s.url})` });
    }
  });

/** `predictionLog:` in temporal.yaml: a folder, an `s3://` URL, `store`, or the long form with the S3 options. */
export const predictionLogSchema = z.preprocess((v) => (typeof v === 'string' ? { url: v } : v), logObjectSchema).prefault({});

/** The parsed `predictionLog:` block. */
export type PredictionLogConfig = z.infer<typeof logObjectSchema>;

/** A shared log's prefix and how to reach it (the shape src/prediction-log opens), or a local folder's path. */
export type ResolvedPredictionLog = string | { url: string; endpoint?: string; region?: string; forcePathStyle?: boolean };

/**
 * Where the log is for a loaded config: the folder (resolved under stateDir), or the S3 prefix with its options.
 * `store` takes the `store:` block's bucket and options and fails with the field's name when the store is a folder.
 */
export function resolvePredictionLog(config: { predictionLog: PredictionLogConfig; store: z.infer<typeof storeObjectSchema> }, stateDir: string): ResolvedPredictionLog {
  const log = config.predictionLog;
  const from = log.url === PREDICTION_LOG_IN_STORE ? config.store : log;
  let url = log.url;
  if (log.url === PREDICTION_LOG_IN_STORE) {
    const s3 = parseS3Url(config.store.url);
    if (s3 === undefined) throw new RangeError(`predictionLog: 'store' needs an s3:// store, but store.url is the folder ${config.store.url}`);
    url = `s3://${s3.bucket}/${s3.prefix === '' ? '' : `${s3.prefix}/`}predictions`;
  }
  if (!url.startsWith('s3://')) return path.resolve(stateDir, url);
  return {
    url,
    ...(from.endpoint !== undefined ? { endpoint: from.endpoint } : {}),
    ...(from.region !== undefined ? { region: from.region } : {}),
    ...(from.forcePathStyle !== undefined ? { forcePathStyle: from.forcePathStyle } : {}),
  };
}
