// Load on `relearn serve`'s stack over a real loopback port: the binary fixture classifier
// (test/fixtures/onnx/classifier-binary.onnx) registered as champion in a temp registry, C concurrent clients
// sending one-row JSON predict requests for a fixed time, with micro-batching on (2 ms window) and off
// (0: only requests of the same tick share a run). Reports requests/s, latency percentiles and the mean rows per
// onnxruntime run, and checks the event loop stayed responsive (its p99 delay while under load).
//
//   npx tsx bench/serve-load.ts [seconds=5] [clients=16]
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { startServer } from '../src/serve';
import { jsonRows, serveFixture } from '../test/serve/helpers';

const here = path.dirname(fileURLToPath(import.meta.url));
const seconds = Number(process.argv[2] ?? 5);
const clients = Number(process.argv[3] ?? 16);
const TOKEN = 'bench-token-0123456789abcdef';

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

async function run(batchWindowMs: number) {
  const fixture = serveFixture();
  await fixture.promote('bench', await fixture.register('bench', 'classifier-binary.onnx', [0, 1]));
  const server = await startServer({
    registry: fixture.registry,
    store: fixture.store,
    port: 0,
    token: TOKEN,
    batchWindowMs,
    processMetrics: false,
    predictionLogDir: fixture.predictionsDir,
  });
  const rows = jsonRows(0, 200).map((r) => JSON.stringify({ rows: [r] }));
  const latencies: number[] = [];
  let errors = 0;
  const loop = monitorEventLoopDelay({ resolution: 5 });
  // Warm-up: every worker opens its session.
  await Promise.all(Array.from({ length: 8 }, () => fetch(`${server.url}/models/bench/predict`, { method: 'POST', headers: { Authorization: `Bearer ${TOKEN}` }, body: rows[0] })));
  loop.enable();
  const deadline = performance.now() + seconds * 1000;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: clients }, async (_, c) => {
      for (let i = c; performance.now() < deadline; i += clients) {
        const t0 = performance.now();
        const res = await fetch(`${server.url}/models/bench/predict`, {
          method: 'POST',
          headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' },
          body: rows[i % rows.length],
        });
        await res.arrayBuffer();
        if (res.status !== 200) errors += 1;
        latencies.push(performance.now() - t0);
      }
    }),
  );
  const elapsedS = (performance.now() - started) / 1000;
  loop.disable();
  const metrics = await (await fetch(`${server.url}/metrics`, { headers: { Authorization: `Bearer ${TOKEN}` } })).text();
  const sum = Number(/^relearn_serve_batch_rows_sum\{model="bench"\} (\S+)$/m.exec(metrics)?.[1]);
  const count = Number(/^relearn_serve_batch_rows_count\{model="bench"\} (\S+)$/m.exec(metrics)?.[1]);
  await server.close();
  fixture.registry.close();
  latencies.sort((a, b) => a - b);
  return {
    batchWindowMs,
    clients,
    seconds,
    requests: latencies.length,
    errors,
    requestsPerSecond: Math.round(latencies.length / elapsedS),
    latencyMs: { p50: +percentile(latencies, 50).toFixed(2), p90: +percentile(latencies, 90).toFixed(2), p99: +percentile(latencies, 99).toFixed(2) },
    meanRowsPerRun: +(sum / count).toFixed(2),
    eventLoopDelayP99Ms: +(loop.percentile(99) / 1e6).toFixed(2),
  };
}

const results = [];
for (const window of [2, 0]) {
  const r = await run(window);
  console.log(JSON.stringify(r));
  results.push(r);
}
mkdirSync(path.join(here, 'results'), { recursive: true });
writeFileSync(
  path.join(here, 'results', 'serve-load.json'),
  `${JSON.stringify({ machine: { cpus: os.cpus().length, node: process.version, loadAverage: os.loadavg() }, results }, null, 2)}\n`,
);
