// Tests wait for what they expect to see, never for a fixed time: on a loaded machine a fixed sleep is either too short
// (the test flakes) or too long (the suite crawls).
import { setTimeout as sleep } from 'node:timers/promises';

/** Polls `probe` every `everyMs` until it returns a value other than undefined; fails naming `what` after `timeoutMs`. */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 120_000, everyMs = 20): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}
