// Run as a separate process by registry-faults.test.ts, which SIGKILLs it at random moments: registers and promotes
// versions in a loop, resuming from what the registry holds, so a kill can land inside any transaction.
import { openSqliteRegistry } from '../../src/registry';

const [dbPath, model] = process.argv.slice(2);
if (dbPath === undefined || model === undefined) throw new Error('usage: registry-writer <dbPath> <model>');

const registry = openSqliteRegistry(dbPath, { busyTimeoutMs: 20_000 });
process.stdout.write('open\n');
const sha = (n: number) => n.toString(16).padStart(64, '0');
for (let i = 0; i < 1_000_000; i++) {
  const versions = await registry.listVersions(model);
  const latest = versions.at(-1);
  const champion = (await registry.getAlias(model, 'champion'))?.version ?? null;
  // Each "run" registers one version and promotes it; a run that was killed between the two is resumed by promoting.
  if (latest && champion !== latest.version) {
    await registry.promote({
      model,
      version: latest.version,
      expectedChampion: champion,
      reason: `writer promotes v${latest.version}`,
      workflowId: `retrain/${model}`,
      runId: latest.runId,
    });
    continue;
  }
  const n = (latest?.version ?? 0) + 1;
  await registry.registerVersion({
    model,
    artifactUri: `store://models/${sha(n).slice(0, 2)}/${sha(n)}/model.onnx`,
    artifactSha256: sha(n),
    sizeBytes: n,
    snapshotUri: `store://snapshots/${sha(n).slice(0, 2)}/${sha(n)}/snapshot.arrow`,
    snapshotSha256: sha(n),
    params: { n },
    metrics: { n },
    gate: { verdict: 'PASS' },
    lineage: { n },
    workflowId: `retrain/${model}`,
    runId: `run-${n}`,
  });
}
await registry.close();
