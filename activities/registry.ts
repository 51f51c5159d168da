import { failFast } from '../src/errors';
import { CHAMPION_ALIAS, type RegisterVersionInput } from '../src/registry';
import { writeRunReport } from '../src/report';
import type { ActivityDeps } from './deps';
import type { ArtifactRef, ChampionInfo, GateResult } from '../src/contracts';

function asJson(value: unknown): RegisterVersionInput['params'] {
  return JSON.parse(JSON.stringify(value)) as RegisterVersionInput['params'];
}

/** Registry activities: read the champion, register a version, promote it by compare-and-set. */
export function createRegistryActivities(deps: ActivityDeps) {
  return {
    /** The current champion, or null for a model's first run. */
    async getChampion(input: { model: string }): Promise<ChampionInfo | null> {
      return failFast(async () => {
        const alias = await deps.registry.getAlias(input.model, CHAMPION_ALIAS);
        if (!alias) return null;
        const record = await deps.registry.getVersion(input.model, alias.version);
        if (!record) throw new Error(`registry: champion of ${input.model} points at missing v${alias.version}`);
        const classes = (record.lineage as { classes?: Array<string | number | boolean> }).classes;
        return {
          version: record.version,
          artifact: { uri: record.artifactUri, sha256: record.artifactSha256, sizeBytes: record.sizeBytes },
          classes,
        };
      });
    },

    /**
     * Writes the run report of a registered version into the store (`report/<model>-v<N>.html`, content-addressed: a
     * retry writes the same file) and returns where it is; the run's result links to it.
     */
    async writeRunReport(input: { model: string; version: number }): Promise<{ uri: string; sha256: string; sizeBytes: number; path: string }> {
      return failFast(async () => {
        const written = await writeRunReport({ registry: deps.registry, store: deps.store, model: input.model, ref: `v${input.version}` });
        return { ...written.artifact, path: written.path };
      });
    },

    /** Registers the candidate as an immutable version; a retry returns the version the first attempt made. */
    async registerVersion(input: {
      model: string;
      workflowId: string;
      runId: string;
      artifact: ArtifactRef;
      snapshot: ArtifactRef;
      params: Record<string, unknown>;
      metrics: Record<string, unknown>;
      gate: GateResult;
      lineage: Record<string, unknown>;
    }): Promise<{ version: number }> {
      return failFast(async () => {
        // The digest is checked again here: a file changed since export is never registered.
        await deps.store.verifiedPath(input.artifact);
        const record = await deps.registry.registerVersion({
          model: input.model,
          artifactUri: input.artifact.uri,
          artifactSha256: input.artifact.sha256,
          sizeBytes: input.artifact.sizeBytes,
          snapshotUri: input.snapshot.uri,
          snapshotSha256: input.snapshot.sha256,
          // Round-trip through JSON: what is stored is exactly what a later read parses (NaN becomes null).
          params: asJson(input.params),
          metrics: asJson(input.metrics),
          gate: asJson(input.gate),
          lineage: asJson(input.lineage),
          workflowId: input.workflowId,
          runId: input.runId,
        });
        return { version: record.version };
      });
    },

    /** Moves `champion` (and `previous`) only if the champion is still the one the run compared against. */
    async promoteVersion(input: {
      model: string;
      version: number;
      expectedChampion: number | null;
      reason: string;
      workflowId: string;
      runId: string;
    }): Promise<{ promoted: boolean; champion: number | null; reason: string }> {
      return failFast(async () => await deps.registry.promote(input));
    },
  };
}
