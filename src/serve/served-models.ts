import { featureInputNames } from '../onnx';
import { CHAMPION_ALIAS, type ModelSummary, type RegistryStore } from '../registry';
import type { ArtifactStore } from '../store';
import { type BatcherOptions, MicroBatcher, type PartOutcome } from './batcher';
import type { FeatureColumns } from './inputs';
import type { ServeMetrics } from './metrics';
import type { PoolModel, ScorePool } from './score-pool';
import { type ModelSignature, signatureFrom } from './signature';

/** One model version loaded in the scoring pool, with its own micro-batcher. */
export interface LoadedVersion {
  model: string;
  alias: string;
  version: number;
  sha256: string;
  signature: ModelSignature;
  loadedAt: Date;
  /** Session open and one-row run on the worker that checked it, milliseconds. */
  loadMs: number;
  /** Scores one request's rows through the micro-batcher. */
  score(columns: FeatureColumns): Promise<{ data: Float32Array; width: number }>;
}

interface Slot {
  current: VersionHandle;
}

class VersionHandle implements LoadedVersion {
  inflight = 0;
  retired = false;

  constructor(
    readonly model: string,
    readonly alias: string,
    readonly version: number,
    readonly sha256: string,
    readonly signature: ModelSignature,
    readonly loadMs: number,
    readonly poolModel: PoolModel,
    /** The model's batcher, shared by every version of it served (each version is a lane). */
    readonly batcher: MicroBatcher<VersionHandle>,
    readonly loadedAt = new Date(),
  ) {}

  score(columns: FeatureColumns): Promise<{ data: Float32Array; width: number }> {
    return this.batcher.score(columns, this);
  }
}

/** How the server follows the registry. */
export interface ServedModelsOptions {
  registry: RegistryStore;
  store: ArtifactStore;
  pool: ScorePool;
  metrics: ServeMetrics;
  batch: Omit<BatcherOptions, 'onBatch'>;
  /** Aliases to load per model; `champion` answers requests (a shadow alias can be added for mirroring). */
  aliases?: readonly string[];
  /** How often the registry's aliases are read. */
  pollMs?: number;
  log?: (line: string) => void;
}

const MAX_RETRY_DELAY_MS = 60_000;

/**
 * The model versions being served, kept in step with the registry: every `pollMs` the aliases are read, and when
 * one has moved, the new version is loaded (digest-checked read, session, one-row run on a worker) before it
 * replaces the old one. A request holds the version it started on until it ends, so a swap never fails or moves
 * a request in flight; the old version's sessions are released once its last request is done. A version that
 * fails to load is not served; the old one stays, and the load is retried with backoff.
 */
export class ServedModels {
  private readonly slots = new Map<string, Slot>();
  // One batcher per model: the champion's and the shadow's rows of a window go to a worker in one task.
  private readonly batchers = new Map<string, MicroBatcher<VersionHandle>>();
  private readonly failures = new Map<string, { attempts: number; retryAt: number; reason: string }>();
  private readonly aliases: readonly string[];
  private timer: NodeJS.Timeout | undefined;
  private syncing: Promise<void> | undefined;
  private synced = false;
  // The models the last pass saw: a request asks ready()/known() without a round trip to the registry (a remote
  // database); the answer is as fresh as the last pass.
  private models: ModelSummary[] = [];

  constructor(private readonly options: ServedModelsOptions) {
    this.aliases = options.aliases ?? [CHAMPION_ALIAS];
  }

  /** Loads every model's versions once, then follows the registry until close(). */
  async start(): Promise<void> {
    await this.sync();
    this.timer = setInterval(() => void this.sync(), this.options.pollMs ?? 1000);
    this.timer.unref();
  }

  /** Stops following the registry. */
  close(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One pass over the registry's aliases; a pass already running is awaited instead of started again. */
  sync(): Promise<void> {
    this.syncing ??= this.syncOnce().finally(() => {
      this.syncing = undefined;
      this.synced = true;
    });
    return this.syncing;
  }

  /** The version serving `alias` of `model` now, held until `release` is called; undefined when none is loaded. */
  acquire(model: string, alias: string = CHAMPION_ALIAS): LoadedVersion | undefined {
    const handle = this.slots.get(slotKey(model, alias))?.current;
    if (handle !== undefined) handle.inflight += 1;
    return handle;
  }

  /** Ends a request's hold on a version; a retired version's sessions are released after its last request. */
  release(loaded: LoadedVersion): void {
    const handle = loaded as VersionHandle;
    handle.inflight -= 1;
    if (handle.retired && handle.inflight === 0) this.options.pool.release(handle.poolModel.key);
  }

  /** The version serving `alias` of `model`, without holding it (for metadata). */
  peek(model: string, alias: string = CHAMPION_ALIAS): LoadedVersion | undefined {
    return this.slots.get(slotKey(model, alias))?.current;
  }

  /** Every loaded version, by model then alias. */
  list(): LoadedVersion[] {
    return [...this.slots.values()].map((s) => s.current).sort((a, b) => a.model.localeCompare(b.model) || a.alias.localeCompare(b.alias));
  }

  /** True once the first pass is done and every model with a champion has one loaded. */
  ready(): boolean {
    if (!this.synced) return false;
    return this.models.every((m) => m.aliases[CHAMPION_ALIAS] === undefined || this.slots.has(slotKey(m.model, CHAMPION_ALIAS)));
  }

  /** Why the last load of a model's alias target failed, if it did (for the 503 message). */
  loadFailure(model: string, alias: string = CHAMPION_ALIAS): string | undefined {
    for (const [key, failure] of this.failures) if (key.startsWith(`${slotKey(model, alias)}@`)) return failure.reason;
    return undefined;
  }

  /** True when the registry has `model` at all (so a missing version is 503 "not loaded", not 404). */
  known(model: string): boolean {
    return this.models.some((m) => m.model === model);
  }

  private async syncOnce(): Promise<void> {
    const models = await this.options.registry.listModels();
    this.models = models;
    const wanted = new Map<string, { model: string; alias: string; version: number }>();
    for (const m of models) {
      for (const alias of this.aliases) {
        const version = m.aliases[alias];
        if (version !== undefined) wanted.set(slotKey(m.model, alias), { model: m.model, alias, version });
      }
    }
    for (const [key, slot] of this.slots) {
      if (!wanted.has(key)) {
        this.slots.delete(key);
        this.retire(slot.current);
        this.options.metrics.modelVersion.remove({ model: slot.current.model, alias: slot.current.alias });
        this.log(`${slot.current.model}: ${slot.current.alias} alias removed; v${slot.current.version} no longer served`);
      }
    }
    const loads: Array<Promise<void>> = [];
    for (const [key, target] of wanted) {
      if (this.slots.get(key)?.current.version === target.version) continue;
      const failure = this.failures.get(`${key}@${target.version}`);
      if (failure !== undefined && Date.now() < failure.retryAt) continue;
      loads.push(this.swapIn(key, target));
    }
    await Promise.all(loads);
  }

  private async swapIn(key: string, target: { model: string; alias: string; version: number }): Promise<void> {
    const { model, alias, version } = target;
    const failureKey = `${key}@${version}`;
    try {
      const handle = await this.load(model, alias, version);
      const previous = this.slots.get(key)?.current;
      // The switch is one assignment: requests that acquired `previous` keep it; new ones get `handle`.
      this.slots.set(key, { current: handle });
      if (previous !== undefined) this.retire(previous);
      this.failures.delete(failureKey);
      for (const k of this.failures.keys()) if (k.startsWith(`${key}@`)) this.failures.delete(k);
      this.options.metrics.modelLoads.inc({ model, outcome: 'ok' });
      this.options.metrics.modelVersion.set({ model, alias }, version);
      this.log(
        `${model}: ${alias} ${previous ? `v${previous.version} → ` : ''}v${version} (sha256 ${handle.sha256.slice(0, 12)}, loaded and checked in ${handle.loadMs.toFixed(1)} ms)`,
      );
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      const attempts = (this.failures.get(failureKey)?.attempts ?? 0) + 1;
      const delay = Math.min(MAX_RETRY_DELAY_MS, 1000 * 2 ** (attempts - 1));
      this.failures.set(failureKey, { attempts, retryAt: Date.now() + delay, reason: message });
      this.options.metrics.modelLoads.inc({ model, outcome: 'failed' });
      const keeping = this.slots.get(key)?.current;
      this.log(
        `${model}: cannot serve ${alias} v${version}: ${message}; ${keeping ? `still serving v${keeping.version}` : 'nothing served'}; retry in ${Math.round(delay / 1000)} s`,
      );
    }
  }

  private async load(model: string, alias: string, version: number): Promise<VersionHandle> {
    const record = await this.options.registry.getVersion(model, version);
    if (record === null) throw new Error(`registry has no ${model} v${version}`);
    // The digest recorded at registration is checked on every load: a changed file is never served.
    const bytes = await this.options.store.readVerified({ uri: record.artifactUri, sha256: record.artifactSha256 });
    const shared = new SharedArrayBuffer(bytes.byteLength);
    new Uint8Array(shared).set(bytes);
    const poolModel: PoolModel = { key: `${model}/${alias}/v${version}/${record.artifactSha256.slice(0, 16)}`, bytes: shared };
    const t0 = performance.now();
    let signature: ModelSignature;
    try {
      const report = await this.options.pool.load(poolModel);
      const name = `${model} v${version}`;
      signature = signatureFrom(name, report, (record.lineage as { classes?: unknown }).classes, featureInputNames(bytes, name));
    } catch (err) {
      this.options.pool.release(poolModel.key);
      throw err;
    }
    const loadMs = performance.now() - t0;
    return new VersionHandle(model, alias, version, record.artifactSha256, signature, loadMs, poolModel, this.batcherFor(model));
  }

  private batcherFor(model: string): MicroBatcher<VersionHandle> {
    let batcher = this.batchers.get(model);
    if (batcher === undefined) {
      const { pool, metrics } = this.options;
      batcher = new MicroBatcher<VersionHandle>(
        async (parts) => {
          // The champion's part runs first on the worker. Both parts come back together, so a champion batch with
          // shadow rows riding waits for the shadow's run too: the price of one message instead of two.
          const order = parts.map((_, i) => i).sort((a, b) => Number(parts[b]!.lane.alias === CHAMPION_ALIAS) - Number(parts[a]!.lane.alias === CHAMPION_ALIAS));
          const outcomes = await pool.scoreParts(order.map((i) => ({ model: parts[i]!.lane.poolModel, signature: parts[i]!.lane.signature, columns: parts[i]!.columns })));
          const inPartOrder: PartOutcome[] = new Array(parts.length);
          order.forEach((i, k) => (inPartOrder[i] = outcomes[k]!));
          return inPartOrder;
        },
        { ...this.options.batch, onBatch: (rows) => metrics.batchRows.observe({ model }, rows) },
      );
      this.batchers.set(model, batcher);
    }
    return batcher;
  }

  private retire(handle: VersionHandle): void {
    handle.retired = true;
    handle.batcher.flush();
    if (handle.inflight === 0) this.options.pool.release(handle.poolModel.key);
  }

  private log(line: string): void {
    this.options.log?.(line);
  }
}

function slotKey(model: string, alias: string): string {
  return `${model}\u0000${alias}`;
}
