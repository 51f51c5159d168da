// Run as a separate process by registry.test.ts: promotes one version against a stale expected
// champion, so several of these started together race on the same SQLite file.
import { openSqliteRegistry } from '../../src/registry';

const [dbPath, model, version, expectedChampion, runId] = process.argv.slice(2);
if (dbPath === undefined || model === undefined || version === undefined || expectedChampion === undefined || runId === undefined) {
  throw new Error('usage: promote-racer <dbPath> <model> <version> <expectedChampion> <runId>');
}

const registry = openSqliteRegistry(dbPath, { busyTimeoutMs: 20_000 });
try {
  const result = await registry.promote({
    model,
    version: Number(version),
    expectedChampion: Number(expectedChampion),
    reason: `racer for v${version}`,
    workflowId: `retrain/${model}`,
    runId,
  });
  process.stdout.write(`${JSON.stringify({ version: Number(version), ...result })}\n`);
} finally {
  await registry.close();
}
