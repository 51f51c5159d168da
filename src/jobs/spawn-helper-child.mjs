// The spawn helper of the local launcher (src/jobs/spawn-helper.ts): a small process that starts detached jobs for the
// worker. Forking copies the parent's page tables, so a spawn from a worker of a few hundred MB blocks its event loop
// for tens of ms (more under load); from this process it costs a few. Reads one JSON request a line on stdin
// ({"command","args","cwd","env"}), starts it detached with stdio ignored, and answers {"pid"} or {"error"} on stdout.
// Every request already written is served even after the worker is gone; then it exits, its stdin closed.
// Plain JavaScript on purpose: it must start the same from a fresh clone, without tsx.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

for await (const line of createInterface({ input: process.stdin, crlfDelay: Infinity })) {
  if (line.trim() === '') continue;
  try {
    const request = JSON.parse(line);
    const child = spawn(request.command, request.args, { cwd: request.cwd, env: request.env, detached: true, stdio: 'ignore' });
    child.on('error', () => {
      // A spawn failure surfaces as a run without pid; the launcher's poll reports it.
    });
    child.unref();
    process.stdout.write(`${JSON.stringify({ pid: child.pid ?? null })}\n`);
  } catch (err) {
    process.stdout.write(`${JSON.stringify({ error: err instanceof Error ? err.message : String(err) })}\n`);
  }
}
