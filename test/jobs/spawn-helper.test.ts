import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { DetachedSpawner } from '../../src/jobs/spawn-helper';

let workDir: string;
before(async () => {
  workDir = await mkdtemp(path.join(tmpdir(), 'relearn-spawn-helper-'));
});
after(async () => {
  await rm(workDir, { recursive: true, force: true });
});

/** Waits (without sleeping a fixed time) until `file` exists, then returns its text. */
async function waitForFile(file: string, deadlineMs = 15_000): Promise<string> {
  const deadline = Date.now() + deadlineMs;
  while (!existsSync(file)) {
    if (Date.now() > deadline) throw new Error(`${file} did not appear within ${deadlineMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  // Written with a rename, so it is complete once it exists.
  return readFileSync(file, 'utf8');
}

/** A shell command that writes, atomically, its pid, parent pid, session id, folder and $JOB_VALUE to `file`. */
function reporter(file: string): string[] {
  return ['-c', `echo "$$ $PPID $(cut -d' ' -f6 /proc/$$/stat) $(pwd) $JOB_VALUE" > "${file}.tmp" && mv "${file}.tmp" "${file}"`];
}

describe('DetachedSpawner', () => {
  test('starts a process in a session of its own, as a child of the helper, with exactly the environment and folder given', async () => {
    const spawner = new DetachedSpawner();
    try {
      const file = path.join(workDir, 'first');
      spawner.spawnDetached({ command: 'sh', args: reporter(file), cwd: workDir, env: { PATH: process.env.PATH ?? '/usr/bin:/bin', JOB_VALUE: 'v1' } });
      const [pid, ppid, sid, cwd, value] = (await waitForFile(file)).trim().split(' ');
      assert.equal(sid, pid, 'detached: its own session');
      assert.equal(Number(ppid), spawner.helperPid, 'started by the helper, not by this process');
      assert.notEqual(Number(ppid), process.pid);
      assert.equal(cwd, workDir);
      assert.equal(value, 'v1');
    } finally {
      spawner.close();
    }
  });

  test('a helper that died is replaced at the next launch', async () => {
    const spawner = new DetachedSpawner();
    try {
      spawner.spawnDetached({ command: 'sh', args: reporter(path.join(workDir, 'before-kill')), env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } });
      await waitForFile(path.join(workDir, 'before-kill'));
      const firstHelper = spawner.helperPid!;
      process.kill(firstHelper, 'SIGKILL');
      const deadline = Date.now() + 10_000;
      while (spawner.helperPid !== undefined && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
      const file = path.join(workDir, 'after-kill');
      spawner.spawnDetached({ command: 'sh', args: reporter(file), env: { PATH: process.env.PATH ?? '/usr/bin:/bin', JOB_VALUE: 'v2' } });
      const [, ppid, , , value] = (await waitForFile(file)).trim().split(' ');
      assert.equal(value, 'v2');
      assert.notEqual(Number(ppid), firstHelper);
    } finally {
      spawner.close();
    }
  });

  test('what was handed over before the helper is closed is still started', async () => {
    const spawner = new DetachedSpawner();
    const files = [1, 2, 3].map((i) => path.join(workDir, `closing-${i}`));
    for (const file of files) spawner.spawnDetached({ command: 'sh', args: reporter(file), env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } });
    spawner.close();
    for (const file of files) assert.ok((await waitForFile(file)).length > 0);
  });
});
