// A model file put in the artifact store and registered as a passed version, as the retrain workflow would leave it,
// for serving tests and benchmarks that need a served version without running the pipeline.
import type { RegistryStore, VersionRecord } from '../../src/registry';
import type { ArtifactStore } from '../../src/store';

/** Stores `file` (an ONNX model) and registers it as a new version of `model` with a passing gate; the artifact doubles as the snapshot. */
export async function registerModelFile(
  store: ArtifactStore,
  registry: RegistryStore,
  input: { model: string; file: string; classes?: Array<string | number | boolean>; runId: string },
): Promise<VersionRecord> {
  const artifact = await store.putFile('models', 'model.onnx', input.file);
  return await registry.registerVersion({
    model: input.model,
    artifactUri: artifact.uri,
    artifactSha256: artifact.sha256,
    sizeBytes: artifact.sizeBytes,
    snapshotUri: artifact.uri,
    snapshotSha256: artifact.sha256,
    params: {},
    metrics: {},
    gate: { verdict: 'PASS' },
    lineage: input.classes === undefined ? {} : { classes: input.classes },
    workflowId: `retrain/${input.model}`,
    runId: input.runId,
  });
}
