import { Context } from '@temporalio/activity';

/**
 * Wraps an activity so it heartbeats at a third of its heartbeat timeout while it runs. The heartbeat timeout is how a
 * worker killed mid-activity is noticed (its heartbeats stop), so it can be short; steps that make no progress reports
 * of their own (a DuckDB scan, an isolated model check) must not be mistaken for a dead worker meanwhile.
 */
export function keepAlive<A extends unknown[], R>(fn: (...args: A) => Promise<R>): (...args: A) => Promise<R> {
  return async (...args: A) => {
    const ctx = Context.current();
    const timeoutMs = ctx.info.heartbeatTimeoutMs;
    if (!timeoutMs) return fn(...args);
    const timer = setInterval(() => ctx.heartbeat(), Math.max(300, Math.floor(timeoutMs / 3)));
    try {
      return await fn(...args);
    } finally {
      clearInterval(timer);
    }
  };
}
