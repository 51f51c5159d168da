// Run as a separate process by registry.test.ts: promotes one version against a stale expected champion, so several
// of these started together race on the same registry (a SQLite file or a PostgreSQL database). Each connects first,
// says `ready`, and promotes only when the test writes `go` to every racer, so the promotions really overlap.
import { createInterface } from 'node:readline';
import { PostgresRegistryDb, Registry, openSqliteRegistry } from '../../src/registry';

const [location, model, version, expectedChampion, runId] = process.argv.slice(2);
if (location === undefined || model === undefined || version === undefined || expectedChampion === undefined || runId === undefined) {
  throw new Error('usage: promote-racer <file or postgres URL> <model> <version> <expectedChampion> <runId> (password file in RELEARN_TEST_PGPASSFILE)');
}

const registry = location.startsWith('postgres://')
  ? new Registry(new PostgresRegistryDb({ url: location, passwordFile: process.env.RELEARN_TEST_PGPASSFILE }))
  : openSqliteRegistry(location, { busyTimeoutMs: 20_000 });
try {
  await registry.ready();
  // A connection of the pool is open once a read has run.
  await registry.getAlias(model, 'champion');
  process.stdout.write('ready\n');
  const lines = createInterface({ input: process.stdin });
  for await (const line of lines) if (line === 'go') break;
  lines.close();
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
