// A temp state folder with a real store and registry holding the ONNX fixtures of scripts/make-onnx-fixtures.py as
// registered versions, so serving tests need neither Temporal nor the trainer.
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openSqliteRegistry, type RegistryStore } from '../../src/registry';
import { type Serving, type ServingOptions, createServing } from '../../src/serve';
import { LocalArtifactStore } from '../../src/store';
import { FIXTURES, expected, table } from '../helpers/onnx-fixtures';
import { registerModelFile } from '../helpers/registered-model';

export { FIXTURES, expected, table };

/** The fixture rows as JSON objects keyed by feature name (nulls stay null), as a client sends them. */
export function jsonRows(from: number, to: number): Array<Record<string, number | string | null>> {
  const rows: Array<Record<string, number | string | null>> = [];
  for (let r = from; r < to; r++) {
    const row: Record<string, number | string | null> = {};
    for (const f of expected.numeric) {
      const v = table.getChild(f)!.get(r) as number | bigint | null;
      row[f] = v === null ? null : Number(v);
    }
    for (const f of expected.categorical) row[f] = (table.getChild(f)!.get(r) as string | null) ?? null;
    rows.push(row);
  }
  return rows;
}

/** A temp state folder: store, registry, prediction-log folder. */
export interface ServeFixture {
  stateDir: string;
  store: LocalArtifactStore;
  registry: RegistryStore;
  predictionsDir: string;
  /** Registers a fixture model file as a new version of `model`; returns its version number. */
  register(model: string, file: string, classes?: Array<string | number | boolean>): Promise<number>;
  /** Moves `champion` to `version` (compare-and-set from whatever it is now). */
  promote(model: string, version: number): Promise<void>;
  /** A serving stack over this registry and store: no auth, no process metrics, one scoring thread, unless `options` say otherwise. */
  serve(options?: Partial<ServingOptions>): Promise<Serving>;
}

let runCounter = 0;

/** Makes a fresh state folder with an empty registry. */
export function serveFixture(): ServeFixture {
  const stateDir = mkdtempSync(path.join(os.tmpdir(), 'relearn-serve-'));
  const store = new LocalArtifactStore(path.join(stateDir, 'store'));
  const registry = openSqliteRegistry(path.join(stateDir, 'registry.db'));
  return {
    stateDir,
    store,
    registry,
    predictionsDir: path.join(stateDir, 'predictions'),
    async register(model, file, classes) {
      runCounter += 1;
      const record = await registerModelFile(store, registry, { model, file: path.join(FIXTURES, file), classes, runId: `run-${process.pid}-${runCounter}` });
      return record.version;
    },
    async promote(model, version) {
      const current = (await registry.getAlias(model, 'champion'))?.version ?? null;
      runCounter += 1;
      const result = await registry.promote({ model, version, expectedChampion: current, reason: 'test', workflowId: 'test', runId: `promote-${runCounter}` });
      if (!result.promoted) throw new Error(`promote ${model} v${version}: ${result.reason}`);
    },
    serve(options) {
      return createServing({ registry, store, token: null, processMetrics: false, pool: { threads: 1 }, ...options });
    },
  };
}
