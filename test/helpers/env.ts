// Environment variables a suite sets for the worker process it runs in, put back as they were afterwards.
import { after, before } from 'node:test';

/** Call inside a `describe`: sets `vars` in process.env before its tests and restores the previous values after them. */
export function envDuringSuite(vars: Record<string, string>): void {
  const saved: Record<string, string | undefined> = {};
  before(() => {
    for (const [k, v] of Object.entries(vars)) {
      saved[k] = process.env[k];
      process.env[k] = v;
    }
  });
  after(() => {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  });
}
