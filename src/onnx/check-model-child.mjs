// A sealed check process of checkModelIsolated (src/onnx/check-pool.ts), under the memory limit its parent set.
// It reads requests on stdin, one JSON object a line ({"modelPath":…,"config":{latencyRuns, sampleRow}}), and for
// each opens that one untrusted ONNX file, runs it on one row, and reports on stdout, one JSON object a line:
//   {"event":"loaded","loadMs":…,"inputs":[…],"outputs":[…]}
//   {"event":"ran","firstRunMs":…,"medianMs":…,"runs":…}
//   {"event":"error","stage":"load"|"run","message":"…"}
//   {"event":"done"}                       (the check is over; the next request may come)
// One check at a time; the parent ends the process after any error, so a reused process has only seen models
// that passed. It exits when its stdin closes (the worker ended or died).
// Plain JavaScript on purpose: it must start the same from a fresh clone, without tsx, whatever the
// parent runs under. Lines are written as soon as known, so a crash later still leaves what came before.
import { createInterface } from 'node:readline';
import ort from 'onnxruntime-node';

function report(event) {
  // stdout to a pipe is synchronous on POSIX, so each line is out before the next step can crash.
  process.stdout.write(`${JSON.stringify(event)}\n`);
}

function describe(metadata) {
  return metadata.map((m) => (m.isTensor ? { name: m.name, isTensor: true, type: m.type, shape: m.shape } : { name: m.name, isTensor: false }));
}

/** One row per input, using the sample row when given: numeric 0, categorical "" otherwise. */
function oneRowFeeds(session, config) {
  const sample = config.sampleRow ?? {};
  const feeds = {};
  for (const m of session.inputMetadata) {
    if (!m.isTensor) return { skipped: `input '${m.name}' is not a tensor` };
    const rank = m.shape.length;
    const dims = rank === 0 ? [] : [1, ...m.shape.slice(1).map((d) => (typeof d === 'number' && d > 0 ? d : 1))];
    const size = dims.reduce((a, b) => a * b, 1);
    const value = sample[m.name];
    switch (m.type) {
      case 'float32':
      case 'float64':
        feeds[m.name] = new ort.Tensor(m.type, (m.type === 'float32' ? Float32Array : Float64Array).from({ length: size }, () => (typeof value === 'number' ? value : 0)), dims);
        break;
      case 'int64':
        feeds[m.name] = new ort.Tensor('int64', BigInt64Array.from({ length: size }, () => BigInt(typeof value === 'number' ? Math.trunc(value) : 0)), dims);
        break;
      case 'int32':
        feeds[m.name] = new ort.Tensor('int32', Int32Array.from({ length: size }, () => (typeof value === 'number' ? value : 0)), dims);
        break;
      case 'string':
        feeds[m.name] = new ort.Tensor('string', Array.from({ length: size }, () => (typeof value === 'string' ? value : '')), dims);
        break;
      default:
        return { skipped: `input '${m.name}' has type ${m.type}, which the latency probe does not feed` };
    }
  }
  return { feeds };
}

async function check(modelPath, config) {
  const latencyRuns = Number.isInteger(config.latencyRuns) && config.latencyRuns > 0 ? config.latencyRuns : 50;
  let session;
  const t0 = performance.now();
  try {
    session = await ort.InferenceSession.create(modelPath, {
      // One thread: a single-row latency is what one request costs, and fewer threads keep the probe small.
      intraOpNumThreads: 1,
      interOpNumThreads: 1,
      logSeverityLevel: 3,
    });
  } catch (err) {
    report({ event: 'error', stage: 'load', message: err instanceof Error ? err.message : String(err) });
    return;
  }
  report({ event: 'loaded', loadMs: performance.now() - t0, inputs: describe(session.inputMetadata), outputs: describe(session.outputMetadata) });
  try {
    await timeOneRow(session, latencyRuns, config);
  } finally {
    await session.release();
  }
}

/** The first run on one row, then `latencyRuns` timed runs; reports their median. */
async function timeOneRow(session, latencyRuns, config) {
  const prepared = oneRowFeeds(session, config);
  if (prepared.skipped !== undefined) {
    report({ event: 'error', stage: 'run', message: prepared.skipped });
    return;
  }
  try {
    const first = performance.now();
    await session.run(prepared.feeds);
    const firstRunMs = performance.now() - first;
    const timings = [];
    for (let i = 0; i < latencyRuns; i++) {
      const start = performance.now();
      await session.run(prepared.feeds);
      timings.push(performance.now() - start);
    }
    timings.sort((a, b) => a - b);
    const mid = timings.length >> 1;
    const medianMs = timings.length % 2 === 1 ? timings[mid] : (timings[mid - 1] + timings[mid]) / 2;
    report({ event: 'ran', firstRunMs, medianMs, runs: latencyRuns });
  } catch (err) {
    report({ event: 'error', stage: 'run', message: err instanceof Error ? err.message : String(err) });
  }
}

// The worker ended or died: so does this process. (A check blocked inside onnxruntime, such as an endless Loop,
// sees this only when the run returns; the worker's timeout kills it, but a SIGKILLed worker leaves it running.)
process.stdin.on('close', () => process.exit(0));

for await (const line of createInterface({ input: process.stdin, crlfDelay: Infinity })) {
  if (line.trim() === '') continue;
  const request = JSON.parse(line);
  await check(request.modelPath, request.config ?? {});
  report({ event: 'done' });
}
