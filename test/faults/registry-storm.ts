// A registry writer process SIGKILLed at random moments, the registry checked after every kill (fault 9's storm).
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { RELEARN_ROOT } from '../../src/paths';
import { openSqliteRegistry } from '../../src/registry';

/** SIGKILLs a registry writer process `kills` times at random moments; checks the registry after each kill. */
export async function killStorm(kills: number): Promise<{ kills: number; versions: number }> {
  const dir = path.join(os.tmpdir(), `relearn-storm-${process.pid}-${Date.now()}`);
  const dbPath = path.join(dir, 'registry.db');
  const model = 'storm';
  let seed = 12345;
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  for (let k = 0; k < kills; k++) {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(RELEARN_ROOT, 'test/faults/registry-writer.ts'), dbPath, model], {
      cwd: RELEARN_ROOT,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    // Wait until it has opened the registry, then kill it somewhere inside its loop of transactions. The pause is the
    // fault itself, not a wait for a condition: a seeded random 50–450 ms picks the moment of the kill.
    await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
    await sleep(50 + Math.floor(random() * 400));
    child.kill('SIGKILL');
    await new Promise((resolve) => child.on('exit', resolve));
    const check = spawnSync('sqlite3', [dbPath, 'PRAGMA integrity_check;'], { encoding: 'utf8' });
    if (check.status === 0) assert.equal(check.stdout.trim(), 'ok');
    const registry = openSqliteRegistry(dbPath);
    try {
      const versions = (await registry.listVersions(model)).map((v) => v.version);
      assert.deepEqual(versions, Array.from({ length: versions.length }, (_, i) => i + 1), 'versions are 1..n without gaps');
      const champion = (await registry.getAlias(model, 'champion'))?.version ?? null;
      const latest = versions.at(-1) ?? null;
      // Killed between a run's register and promote, or after both: never a half-written promotion.
      assert.ok(champion === latest || champion === (latest ?? 1) - 1 || (champion === null && (latest ?? 0) <= 1), `champion ${champion}, latest v${latest}`);
      const promotes = (await registry.auditLog(model)).filter((e) => e.action === 'promote' && e.alias === 'champion');
      assert.deepEqual(promotes.map((e) => e.toVersion), Array.from({ length: champion ?? 0 }, (_, i) => i + 1), 'one audit row per promotion');
      const previous = (await registry.getAlias(model, 'previous'))?.version ?? null;
      assert.equal(previous, champion !== null && champion > 1 ? champion - 1 : null);
    } finally {
      await registry.close();
    }
  }
  const registry = openSqliteRegistry(dbPath);
  const versions = (await registry.listVersions(model)).length;
  await registry.close();
  return { kills, versions };
}
