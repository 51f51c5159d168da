// The shared test services' folder and the lock that keeps test files starting together from starting a service
// twice. Kept apart from pipeline-env.ts so that a helper of a service that has nothing to do with Temporal (the
// PostgreSQL, S3 and Ray ones) does not load the worker and its SDK just to take a lock.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { RELEARN_ROOT } from '../../src/paths';
import { processAlive } from '../../src/processes';
import { waitFor } from './wait';

/** State folder of the shared test services (removed by nothing: the dev server is reused by the next test run). */
export const TEST_SERVER_STATE = path.join(RELEARN_ROOT, '.relearn-test');

function readLock(lockFile: string): string {
  try {
    return readFileSync(lockFile, 'utf8');
  } catch {
    return '';
  }
}

/**
 * Runs `fn` holding the lock file `lockFile` (under .relearn-test/), so test files that start together never start a
 * shared service twice (for the dev server: two servers on one database; a fixed port used to make the second start
 * fail, free ports would let it succeed).
 */
export async function withFileLock<T>(lockFile: string, fn: () => Promise<T>, timeoutMs = 240_000): Promise<T> {
  mkdirSync(path.dirname(lockFile), { recursive: true });
  await waitFor(
    `the lock ${path.relative(RELEARN_ROOT, lockFile)}`,
    () => {
      try {
        writeFileSync(lockFile, String(process.pid), { flag: 'wx' });
        return true;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        // A holder that died left its lock behind (an empty file is one being written just now).
        const holder = Number.parseInt(readLock(lockFile), 10);
        if (holder > 0 && !processAlive(holder)) rmSync(lockFile, { force: true });
        return undefined;
      }
    },
    timeoutMs,
    50,
  );
  try {
    return await fn();
  } finally {
    rmSync(lockFile, { force: true });
  }
}
