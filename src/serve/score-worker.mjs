// Worker thread of the serving pool (src/serve/score-pool.ts): holds onnxruntime sessions and runs them, so
// that ORT's blocking run() never stalls the HTTP event loop. Tasks:
//   { type: 'load',  key, bytes, release }               → { inputs, outputs, width, loadMs, runMs }
//   { type: 'score', release, parts: [{ key, bytes, output, n, numeric, categorical }, ...] }
//                                                        → [{ data, width } | { error }, ...] (one per part)
// A score task carries the batch of every served version of a model that has one (the champion's and the shadow's
// mirrored rows): one message and one wake-up for both. Parts run one after the other, in order; a part that fails
// gives its error (cloned back as an Error) without failing the others.
// `bytes` is a SharedArrayBuffer with the model's verified ONNX bytes (one copy shared by every worker); a worker
// opens a session the first time it sees a key. `release` lists keys of retired model versions to close.
// Plain JavaScript on purpose: `npx relearn` registers tsx on the main thread only, and worker threads do not
// inherit that; this file must start the same under any parent.
// A namespace import: under tsx's loader (inherited by worker threads in tests) the default import of this CommonJS
// package is undefined.
import * as ort from 'onnxruntime-node';
import { workerData } from 'node:worker_threads';

const settings = workerData ?? {};
const intraOpNumThreads = Number.isInteger(settings.intraOpNumThreads) ? settings.intraOpNumThreads : 1;
// A backstop for keys whose release notice this worker never saw: least recently used sessions are closed.
const maxSessions = Number.isInteger(settings.maxSessions) && settings.maxSessions > 0 ? settings.maxSessions : 16;

/** key → { session: Promise<InferenceSession>, inputs: {name, type}[] } */
const sessions = new Map();

function describe(metadata) {
  return metadata.map((m) => (m.isTensor ? { name: m.name, isTensor: true, type: m.type, shape: m.shape } : { name: m.name, isTensor: false }));
}

async function release(keys) {
  for (const key of keys ?? []) {
    const entry = sessions.get(key);
    if (entry === undefined) continue;
    sessions.delete(key);
    const session = await entry.catch(() => undefined);
    await session?.release().catch(() => undefined);
  }
}

function sessionFor(key, bytes) {
  let entry = sessions.get(key);
  if (entry !== undefined) {
    sessions.delete(key);
    sessions.set(key, entry);
    return entry;
  }
  // ORT refuses a view on shared memory: the worker takes its own copy of the bytes once.
  entry = ort.InferenceSession.create(Buffer.from(new Uint8Array(bytes)), {
    intraOpNumThreads,
    interOpNumThreads: 1,
    logSeverityLevel: 3,
  });
  entry.catch(() => sessions.delete(key));
  sessions.set(key, entry);
  while (sessions.size > maxSessions) {
    const oldest = sessions.keys().next().value;
    void release([oldest]);
  }
  return entry;
}

/** One row of zeros and empty strings, shaped [1,1] per input: enough to prove the graph runs. */
function oneRowFeeds(session) {
  const feeds = {};
  for (const m of session.inputMetadata) {
    if (!m.isTensor) throw new Error(`input '${m.name}' is not a tensor`);
    if (m.type === 'float32') feeds[m.name] = new ort.Tensor('float32', new Float32Array(1), [1, 1]);
    else if (m.type === 'string') feeds[m.name] = new ort.Tensor('string', [''], [1, 1]);
    else throw new Error(`input '${m.name}' has type ${m.type}; served models take float32 or string [N,1] inputs`);
  }
  return feeds;
}

function outputWidth(tensor, rows) {
  return rows === 0 ? 0 : tensor.data.length / rows;
}

async function load(task) {
  const t0 = performance.now();
  const session = await sessionFor(task.key, task.bytes);
  const loadMs = performance.now() - t0;
  const t1 = performance.now();
  const results = await session.run(oneRowFeeds(session));
  const runMs = performance.now() - t1;
  const widths = {};
  for (const [name, tensor] of Object.entries(results)) {
    widths[name] = { type: tensor.type, width: outputWidth(tensor, 1) };
    tensor.dispose?.();
  }
  return { inputs: describe(session.inputMetadata), outputs: describe(session.outputMetadata), widths, loadMs, runMs };
}

async function scorePart(task) {
  const session = await sessionFor(task.key, task.bytes);
  const feeds = {};
  task.numericNames.forEach((name, i) => {
    feeds[name] = new ort.Tensor('float32', task.numeric[i], [task.n, 1]);
  });
  task.categoricalNames.forEach((name, i) => {
    feeds[name] = new ort.Tensor('string', task.categorical[i], [task.n, 1]);
  });
  const results = await session.run(feeds, [task.output]);
  const tensor = results[task.output];
  if (tensor === undefined) throw new Error(`the model returned no '${task.output}' output`);
  if (tensor.type !== 'float32') throw new Error(`output '${task.output}' has type ${tensor.type}, expected float32`);
  const data = Float32Array.from(tensor.data);
  const width = outputWidth(tensor, task.n);
  tensor.dispose?.();
  return { data, width };
}

async function score(task) {
  const outcomes = [];
  for (const part of task.parts) {
    try {
      outcomes.push(await scorePart(part));
    } catch (error) {
      outcomes.push({ error });
    }
  }
  return outcomes;
}

export default async function run(task) {
  await release(task.release);
  if (task.type === 'load') return load(task);
  // Outputs are a few floats per row: cloning them back costs less than arranging a transfer.
  if (task.type === 'score') return score(task);
  throw new Error(`unknown task type ${task.type}`);
}
