// Training jobs on a Ray cluster, through the Jobs REST API of its dashboard (POST /api/jobs/, GET /api/jobs/<id>,
// POST /api/jobs/<id>/stop, GET /api/jobs/<id>/logs). Run 1 of a job is submitted under the job id itself, a later run
// (after a retryable failure) under `<jobId>--run-<n>`: the submission ids are derived, never stored, so any worker
// finds a job's runs on the cluster, and Ray's refusal of a second submission with the same id is an attach.
import { createWriteStream, existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { z } from 'zod';
import { JobContractError } from '../errors';
import { createS3Client } from '../store';
import { type JobSpec } from './contract';
import {
  type ActiveJob,
  finishedState,
  type JobHandle,
  type JobLauncher,
  type JobOwner,
  jobOwnerSchema,
  type JobState,
  type LaunchOptions,
  type LaunchRecord,
  runFolders,
  safeJobId,
} from './launcher';
import { scrubJobText } from './scrub-secrets';

/** Ray's record of one submission (the fields Relearn reads; Ray sends more). */
const rayJobSchema = z
  .object({
    submission_id: z.string(),
    status: z.enum(['PENDING', 'RUNNING', 'STOPPED', 'SUCCEEDED', 'FAILED']),
    message: z.string().nullish(),
    start_time: z.number().nullish(),
    end_time: z.number().nullish(),
    driver_exit_code: z.number().int().nullish(),
    metadata: z.record(z.string(), z.string()).nullish(),
  })
  .loose();
type RayJob = z.infer<typeof rayJobSchema>;

/** Metadata keys Relearn sets on each submission: which job and run it is, and the Temporal run it belongs to. */
const META = {
  jobId: 'relearn.jobId',
  run: 'relearn.run',
  namespace: 'relearn.namespace',
  workflowId: 'relearn.workflowId',
  runId: 'relearn.runId',
  /** Set when the job writes its outputs to the S3 store (a job that may run on another machine). */
  outputUri: 'relearn.outputUri',
  storeEndpoint: 'relearn.storeEndpoint',
  storeRegion: 'relearn.storeRegion',
  storeForcePathStyle: 'relearn.storeForcePathStyle',
};

/** Lines of a Ray job's log quoted in a failure message. */
const LOG_TAIL_LINES = 15;
/** How long one request to the dashboard may take before it counts as unreachable. */
const REQUEST_TIMEOUT_MS = 30_000;

/** The submission id of run `run` of a job: the job id itself for the first run. */
export function submissionIdOf(jobId: string, run: number): string {
  return run === 1 ? jobId : `${jobId}--run-${run}`;
}

/**
 * One HTTP request with node:http. Not fetch: Ray's dashboard refuses POSTs that carry the Sec-Fetch-* headers fetch
 * adds ("method not allowed for browser traffic").
 */
function httpRequest(url: string, method: 'GET' | 'POST', body: unknown, timeoutMs: number): Promise<{ status: number; text: string }> {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  const target = new URL(url);
  const send = target.protocol === 'https:' ? https.request : http.request;
  return new Promise((resolve, reject) => {
    const req = send(
      target,
      { method, headers: payload === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) }, timeout: timeoutMs },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(Object.assign(new Error(`no answer in ${timeoutMs} ms`), { code: 'ETIMEDOUT' })));
    req.on('error', reject);
    req.end(payload);
  });
}

/** A command word with `{spec}` replaced by `spec` (already shell syntax), the rest quoted. */
function withSpec(spec: string): (word: string) => string {
  return (word) => (word.includes('{spec}') ? word.split('{spec}').map((piece) => (piece === '' ? '' : shellQuote(piece))).join(spec) : shellQuote(word));
}

/** One word of a POSIX shell command, quoted. */
function shellQuote(word: string): string {
  return /^[A-Za-z0-9_./:=@%+-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}

/** The address without credentials, for messages and records. */
function displayAddress(address: string): string {
  const url = new URL(address);
  url.username = '';
  url.password = '';
  return url.toString().replace(/\/$/, '');
}

/** Options of a Ray launcher. */
export interface RayLauncherOptions {
  /** The dashboard's address, e.g. `http://head:8265`. */
  address: string;
  /** The worker's jobs folder: each run's spec and outputs live in it, reached by path from the Ray job. */
  jobsDir: string;
  requestTimeoutMs?: number;
}

/**
 * Submits training jobs to a Ray cluster. The job's spec and output folder are paths in the worker's jobs folder, so
 * the Ray node that runs the job must see that folder at the same path (one machine, or a shared mount); the job's
 * command runs there as the worker would run it, with the same allow-listed environment except the variables named
 * in `trainer.passEnv`, which are never sent to the cluster (Ray keeps a job's environment in its job list).
 */
export class RayLauncher implements JobLauncher {
  readonly address: string;
  readonly description: string;
  private readonly base: string;
  private readonly jobsDir: string;
  private readonly requestTimeoutMs: number;

  constructor(opts: RayLauncherOptions) {
    this.base = opts.address.replace(/\/+$/, '');
    this.address = displayAddress(opts.address);
    this.description = `ray ${this.address}`;
    this.jobsDir = opts.jobsDir;
    this.requestTimeoutMs = opts.requestTimeoutMs ?? REQUEST_TIMEOUT_MS;
  }

  /** One request to the dashboard; an unreachable dashboard is a retryable error naming its URL. */
  private async request(method: 'GET' | 'POST', route: string, body?: unknown): Promise<{ status: number; text: string }> {
    try {
      return await httpRequest(`${this.base}${route}`, method, body, this.requestTimeoutMs);
    } catch (err) {
      const why = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
      throw new Error(`Ray dashboard ${this.address} is unreachable (${method} ${route}: ${why}); is the Ray head running and trainer.launcher.ray.address right?`);
    }
  }

  private async getJob(submissionId: string): Promise<RayJob | undefined> {
    const route = `/api/jobs/${encodeURIComponent(submissionId)}`;
    const { status, text } = await this.request('GET', route);
    if (status === 404) return undefined;
    if (status !== 200) throw new Error(`Ray dashboard ${this.address}: GET ${route} answered ${status}: ${scrubJobText(text, 500)}`);
    return this.parseJob(route, text);
  }

  private parseJob(route: string, text: string): RayJob {
    const parsed = rayJobSchema.safeParse(JSON.parse(text));
    if (!parsed.success) throw new Error(`Ray dashboard ${this.address}: GET ${route} answered a job record Relearn cannot read: ${parsed.error.issues[0]?.message}`);
    return parsed.data;
  }

  private async listJobs(): Promise<RayJob[]> {
    const { status, text } = await this.request('GET', '/api/jobs/');
    if (status !== 200) throw new Error(`Ray dashboard ${this.address}: GET /api/jobs/ answered ${status}: ${scrubJobText(text, 500)}`);
    const parsed = z.array(z.unknown()).parse(JSON.parse(text));
    return parsed.flatMap((raw) => {
      const job = rayJobSchema.safeParse(raw);
      return job.success ? [job.data] : [];
    });
  }

  private handle(jobId: string, run: number, attached: boolean): JobHandle {
    return { jobId, run, ...runFolders(this.jobsDir, jobId, run), attached, submissionId: submissionIdOf(jobId, run) };
  }

  /** The newest run of a job the cluster knows, with its record. */
  private async latest(jobId: string): Promise<{ handle: JobHandle; job: RayJob } | undefined> {
    let found: { handle: JobHandle; job: RayJob } | undefined;
    for (let run = 1; ; run++) {
      const job = await this.getJob(submissionIdOf(jobId, run));
      if (!job) return found;
      found = { handle: this.handle(jobId, run, true), job };
    }
  }

  async launchOrAttach(opts: LaunchOptions): Promise<JobHandle> {
    const jobId = safeJobId(opts.jobId);
    const last = await this.latest(jobId);
    // Only a failed or stopped run is launched again; a finished one is attached to and read by poll.
    if (last && last.job.status !== 'FAILED' && last.job.status !== 'STOPPED') return last.handle;
    const handle = this.handle(jobId, (last?.handle.run ?? 0) + 1, false);
    mkdirSync(handle.outputDir, { recursive: true });
    const spec: JobSpec = { ...opts.spec, jobId, outputDir: handle.outputDir };
    const specPath = path.join(handle.runDir, 'spec.json');
    const threads = String(opts.threads ?? 1);
    const threadVars = { OMP_NUM_THREADS: threads, OPENBLAS_NUM_THREADS: threads, MKL_NUM_THREADS: threads, NUMEXPR_NUM_THREADS: threads };
    const metadata: Record<string, string> = {
      [META.jobId]: jobId,
      [META.run]: String(handle.run),
      ...(opts.owner ? { [META.namespace]: opts.owner.namespace, [META.workflowId]: opts.owner.workflowId, [META.runId]: opts.owner.runId } : {}),
    };
    let entrypoint: string;
    let envVars: Record<string, string>;
    const store = opts.spec.store;
    if (store !== undefined) {
      // The store is S3: the job may run on a machine without the worker's disk. Its spec travels with the submission
      // (no local paths: inputs by store URI, outputs to an S3 prefix the worker downloads from), its command runs
      // where the node starts it, with the node's HOME and credentials.
      const outputUri = `${store.url.replace(/\/+$/, '')}/jobs/${jobId}/run-${handle.run}`;
      const { snapshotPath: _snapshotPath, splitPath: _splitPath, outputDir: _outputDir, ...portable } = { ...spec, outputUri };
      writeFileSync(specPath, `${JSON.stringify({ ...spec, outputUri }, null, 2)}\n`);
      entrypoint = `d=$(mktemp -d) && printf '%s' "$RELEARN_JOB_SPEC" > "$d/spec.json" && exec ${opts.command.map(withSpec('"$d/spec.json"')).join(' ')}`;
      envVars = { ...threadVars, ...opts.env, RELEARN_JOB_SPEC: JSON.stringify(portable) };
      Object.assign(metadata, {
        [META.outputUri]: outputUri,
        ...(store.endpoint !== undefined ? { [META.storeEndpoint]: store.endpoint } : {}),
        ...(store.region !== undefined ? { [META.storeRegion]: store.region } : {}),
        ...(store.forcePathStyle !== undefined ? { [META.storeForcePathStyle]: String(store.forcePathStyle) } : {}),
      });
    } else {
      const home = path.join(handle.runDir, 'home');
      mkdirSync(home, { recursive: true });
      writeFileSync(specPath, `${JSON.stringify(spec, null, 2)}\n`);
      entrypoint = `cd ${shellQuote(opts.cwd)} && exec ${opts.command.map(withSpec(shellQuote(specPath))).join(' ')}`;
      envVars = { HOME: home, ...threadVars, ...opts.env };
    }
    const body = { submission_id: handle.submissionId, entrypoint, runtime_env: { env_vars: envVars }, metadata };
    const { status, text } = await this.request('POST', '/api/jobs/', body);
    if (status === 200) return handle;
    // Another attempt (or a worker that died right after submitting) got there first: attach to its submission.
    if (/already exists/i.test(text)) return { ...handle, attached: true };
    throw new Error(`Ray dashboard ${this.address} refused job ${handle.submissionId} (HTTP ${status}): ${scrubJobText(text, 1000)}`);
  }

  async poll(handle: JobHandle): Promise<JobState> {
    const submissionId = handle.submissionId ?? submissionIdOf(handle.jobId, handle.run);
    const job = await this.getJob(submissionId);
    // Submitted but not yet known (the dashboard answers a submission before its record is readable everywhere).
    if (!job) return { kind: 'starting' };
    const outputUri = job.metadata?.[META.outputUri];
    if (outputUri !== undefined && (job.status === 'SUCCEEDED' || (job.status === 'FAILED' && job.driver_exit_code != null))) {
      await this.fetchOutputs(job, outputUri, handle.outputDir);
    }
    const state = this.stateOf(handle, job);
    if (state.kind === 'failed' && job.status === 'FAILED' && job.driver_exit_code == null) {
      return { ...state, message: `${state.message}\n${await this.logTail(submissionId)}`.trimEnd() };
    }
    return state;
  }

  private stateOf(handle: JobHandle, job: RayJob): JobState {
    const where = `training job ${handle.jobId} run ${handle.run} (Ray submission ${job.submission_id} on ${this.address})`;
    switch (job.status) {
      case 'PENDING':
        return { kind: 'starting' };
      case 'RUNNING':
        return { kind: 'running', elapsedMs: job.start_time ? Math.max(0, Date.now() - job.start_time) : 0 };
      case 'SUCCEEDED':
        return finishedState(handle, 0, () => this.messageTail(job));
      case 'STOPPED':
        return { kind: 'failed', exitCode: null, badParams: false, message: `${where} was stopped: ${scrubJobText(job.message ?? '', 500)}` };
      case 'FAILED':
        if (job.driver_exit_code != null) return finishedState(handle, job.driver_exit_code, () => this.messageTail(job));
        return { kind: 'failed', exitCode: null, badParams: false, message: `${where} failed before its command ran: ${scrubJobText(job.message ?? '', 1000)}` };
    }
  }

  /** The end of the log Ray quotes in a finished job's message (its last 20,000 characters), scrubbed. */
  private messageTail(job: RayJob): string {
    return scrubJobText((job.message ?? '').trimEnd().split('\n').slice(-LOG_TAIL_LINES).join('\n'));
  }

  private async logTail(submissionId: string): Promise<string> {
    const text = await this.logsOf(submissionId).catch(() => '');
    return scrubJobText(text.trimEnd().split('\n').slice(-LOG_TAIL_LINES).join('\n'));
  }

  private async logsOf(submissionId: string): Promise<string> {
    const route = `/api/jobs/${encodeURIComponent(submissionId)}/logs`;
    const { status, text } = await this.request('GET', route);
    if (status !== 200) throw new Error(`Ray dashboard ${this.address}: GET ${route} answered ${status}`);
    return z.object({ logs: z.string() }).parse(JSON.parse(text)).logs;
  }

  /**
   * Copies the outputs a job uploaded to `outputUri` into the run's output folder, where the job contract and the
   * export read them. The job uploads status.json last, so its presence locally means the copy is whole.
   */
  private async fetchOutputs(job: RayJob, outputUri: string, outputDir: string): Promise<void> {
    if (existsSync(path.join(outputDir, 'status.json'))) return;
    const location = /^s3:\/\/([^/]+)\/?(.*)$/.exec(outputUri);
    if (!location) throw new JobContractError(`Ray submission ${job.submission_id}: metadata ${META.outputUri} is not an s3:// URL: ${outputUri}`);
    const [, bucket, rawPrefix] = location as unknown as [string, string, string];
    const prefix = rawPrefix.replace(/\/+$/, '');
    const meta = job.metadata ?? {};
    const client = createS3Client({
      ...(meta[META.storeEndpoint] !== undefined ? { endpoint: meta[META.storeEndpoint] } : {}),
      ...(meta[META.storeRegion] !== undefined ? { region: meta[META.storeRegion] } : {}),
      forcePathStyle: meta[META.storeForcePathStyle] === 'true',
    });
    try {
      const listed = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: `${prefix}/`, MaxKeys: 100 }));
      const names = (listed.Contents ?? []).map((o) => (o.Key ?? '').slice(prefix.length + 1)).filter((n) => n !== '');
      mkdirSync(outputDir, { recursive: true });
      // Plain file names only: a key that would land outside the output folder is not an output.
      const files = names.filter((n) => /^[A-Za-z0-9_][A-Za-z0-9._-]*$/.test(n));
      for (const name of [...files.filter((n) => n !== 'status.json'), ...files.filter((n) => n === 'status.json')]) {
        const got = await client.send(new GetObjectCommand({ Bucket: bucket, Key: `${prefix}/${name}` }));
        const part = path.join(outputDir, `.${name}.part`);
        await pipeline(got.Body as NodeJS.ReadableStream, createWriteStream(part, { flags: 'w' }));
        renameSync(part, path.join(outputDir, name));
      }
    } catch (err) {
      if (err instanceof JobContractError) throw err;
      throw new Error(`training job outputs at ${outputUri} could not be read (Ray submission ${job.submission_id}): ${(err as Error).message}`);
    } finally {
      client.destroy();
    }
  }

  async cancel(handle: JobHandle, reason: string): Promise<void> {
    mkdirSync(handle.runDir, { recursive: true });
    writeFileSync(path.join(handle.runDir, 'killed'), `${reason}\n`);
    const route = `/api/jobs/${encodeURIComponent(handle.submissionId ?? submissionIdOf(handle.jobId, handle.run))}/stop`;
    const { status, text } = await this.request('POST', route);
    // 404: nothing was ever submitted under that id, so there is nothing to stop.
    if (status !== 200 && status !== 404) throw new Error(`Ray dashboard ${this.address}: POST ${route} answered ${status}: ${scrubJobText(text, 500)}`);
  }

  logs(handle: JobHandle): Promise<string> {
    return this.logsOf(handle.submissionId ?? submissionIdOf(handle.jobId, handle.run));
  }

  async cleanUp(handle: JobHandle): Promise<void> {
    // Ray's record of the submission stays: it is what keeps the submission id taken.
    if ((await this.poll(handle)).kind === 'running') return;
    rmSync(path.join(handle.runDir, 'home'), { recursive: true, force: true });
  }

  /** Relearn's submissions, from Ray's own job list, oldest first. */
  async launches(jobId?: string): Promise<LaunchRecord[]> {
    return (await this.listJobs())
      .filter((job) => job.metadata?.[META.jobId] !== undefined && (jobId === undefined || job.metadata[META.jobId] === jobId))
      .sort((a, b) => (a.start_time ?? 0) - (b.start_time ?? 0))
      .map((job) => ({
        jobId: job.metadata![META.jobId]!,
        run: Number(job.metadata![META.run] ?? 1),
        at: new Date(job.start_time ?? 0).toISOString(),
      }));
  }

  async activeJobs(): Promise<ActiveJob[]> {
    const active: ActiveJob[] = [];
    for (const job of await this.listJobs()) {
      if (job.status !== 'PENDING' && job.status !== 'RUNNING') continue;
      const meta = job.metadata ?? {};
      const owner = jobOwnerSchema.safeParse({ namespace: meta[META.namespace], workflowId: meta[META.workflowId], runId: meta[META.runId] });
      const jobId = meta[META.jobId];
      if (!owner.success || jobId === undefined) continue;
      active.push({ handle: this.handle(jobId, Number(meta[META.run] ?? 1), true), owner: owner.data satisfies JobOwner });
    }
    return active;
  }
}
