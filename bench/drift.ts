// bench/drift: every numeric drift test (KS statistic + p-value, PSI, normed Wasserstein, Jensen–Shannon) of
// src/drift on N reference × N current rows × K features, side by side with numpy/scipy (bench/drift_peer.py) on the
// same data (written once as .npy files both sides read) and the same bins. Each test is timed over all K features,
// sorting included (scipy sorts inside ks_2samp and wasserstein_distance); medians of several repetitions after a
// warm-up, with min and max. Writes bench/results/drift.json and drift.md.
//
//   npx tsx bench/drift.ts [--quick|--smoke]   full: 1,000,000 × 1,000,000 × 10; quick: 100,000 × 100,000 × 3;
//                                              smoke: 20,000 × 20,000 × 2 (seconds)
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { sortedPresent } from '../src/drift/check';
import { ks2SampleSorted } from '../src/drift/ks';
import { jensenShannonNumeric, psiNumericUnsorted, wassersteinNormed } from '../src/drift/stats';
import {
  BENCH_DIR,
  CACHE_DIR,
  RESULTS_DIR,
  type SummaryRow,
  VENV_PYTHON,
  machine,
  round,
  runJsonChild,
  timing,
  type Timing,
} from './lib';
import { mulberry32 } from '../src/contracts';

/** Tests in the order they are timed. */
export const DRIFT_TESTS = ['ks', 'psi', 'wasserstein', 'jensenshannon'] as const;
type TestName = (typeof DRIFT_TESTS)[number];
const PSI_BINS = 10;
const JS_BINS = 30;

/** Sizes of a run. */
interface Size {
  rows: number;
  features: number;
  repetitions: number;
  /** Untimed runs first, so the timed ones run optimised code (small sizes need more to warm the JIT up). */
  warmup: number;
}
const SIZES: Record<'full' | 'quick' | 'smoke', Size> = {
  full: { rows: 1_000_000, features: 10, repetitions: 5, warmup: 1 },
  quick: { rows: 100_000, features: 3, repetitions: 5, warmup: 2 },
  // Seconds: only keeps the script from rotting.
  smoke: { rows: 20_000, features: 2, repetitions: 2, warmup: 3 },
};

// ---- the data: K features of N values each, stored feature-major as float64 .npy (shape (K, N)) ----

function npyBytes(data: Float64Array, shape: [number, number]): Buffer {
  let header = `{'descr': '<f8', 'fortran_order': False, 'shape': (${shape[0]}, ${shape[1]}), }`;
  // Magic (6) + version (2) + length (2) + header + '\n' is padded to a multiple of 64.
  const total = Math.ceil((10 + header.length + 1) / 64) * 64;
  header = header.padEnd(total - 10 - 1, ' ') + '\n';
  const head = Buffer.alloc(10);
  head.write('\x93NUMPY', 0, 'latin1');
  head[6] = 1;
  head[7] = 0;
  head.writeUInt16LE(header.length, 8);
  return Buffer.concat([head, Buffer.from(header, 'latin1'), Buffer.from(data.buffer, data.byteOffset, data.byteLength)]);
}

function readNpy(file: string): { data: Float64Array; shape: [number, number] } {
  const bytes = readFileSync(file);
  const headerLength = bytes.readUInt16LE(8);
  const header = bytes.subarray(10, 10 + headerLength).toString('latin1');
  const m = /'shape': \((\d+), (\d+)\)/.exec(header);
  if (!m || !header.includes("'<f8'")) throw new Error(`${file}: not a (K, N) float64 .npy file`);
  const offset = 10 + headerLength;
  // Copy into an aligned buffer (Node's file buffers may start at any offset).
  const data = new Float64Array(Number(m[1]) * Number(m[2]));
  new Uint8Array(data.buffer).set(bytes.subarray(offset, offset + data.byteLength));
  return { data, shape: [Number(m[1]), Number(m[2])] };
}

function normal(rng: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng());
}

/** Feature j of a sample: a mix of shapes (normal, log-normal, integers with ties, exponential, bimodal), `shift` apart. */
function featureValue(j: number, rng: () => number, shift: number): number {
  switch (j % 5) {
    case 0:
      return normal(rng) + shift;
    case 1:
      return Math.exp(0.5 * normal(rng) + shift);
    case 2:
      return Math.floor(rng() * (100 + 20 * shift));
    case 3:
      return -Math.log(1 - rng()) * (1 + shift);
    default:
      return (rng() < 0.3 + shift ? 5 : 0) + normal(rng);
  }
}

/** Writes (once) the reference and current .npy files for a size; the current sample is slightly shifted. */
function ensureData(size: Size): { reference: string; current: string } {
  const dir = path.join(CACHE_DIR, `drift-${size.rows}x${size.features}`);
  const reference = path.join(dir, 'reference.npy');
  const current = path.join(dir, 'current.npy');
  if (existsSync(reference) && existsSync(current)) return { reference, current };
  mkdirSync(dir, { recursive: true });
  for (const [file, seed, shift] of [[reference, 1, 0], [current, 2, 0.02]] as const) {
    const data = new Float64Array(size.rows * size.features);
    for (let j = 0; j < size.features; j++) {
      const rng = mulberry32(seed * 1000 + j);
      for (let i = 0; i < size.rows; i++) data[j * size.rows + i] = featureValue(j, rng, shift * (1 + j / 10));
    }
    writeFileSync(file, npyBytes(data, [size.features, size.rows]));
  }
  return { reference, current };
}

// ---- Relearn's side ----

/**
 * One test on one feature, from raw columns: missing values dropped, then sorted for the tests that walk ECDFs (KS,
 * Wasserstein); PSI selects its quantiles and Jensen–Shannon bins without sorting, as numpy does.
 */
function relearnTest(test: TestName, ref: Float64Array, cur: Float64Array): number[] {
  switch (test) {
    case 'ks': {
      const r = ks2SampleSorted(sortedPresent(ref).sorted, sortedPresent(cur).sorted);
      return [r.statistic, r.pValue];
    }
    case 'psi':
      return [psiNumericUnsorted(ref, cur, PSI_BINS).statistic];
    case 'wasserstein':
      return [wassersteinNormed(sortedPresent(ref).sorted, sortedPresent(cur).sorted).statistic];
    case 'jensenshannon':
      return [jensenShannonNumeric(ref, cur, JS_BINS, false).statistic];
  }
}

interface SideResult {
  timings: Record<TestName, Timing>;
  /** CPU time (user + system) of the same runs: steadier than wall time on a busy machine. */
  cpu: Record<TestName, Timing>;
  /** Per test, per feature: the statistic (and the KS p-value). */
  values: Record<TestName, number[][]>;
}

function runRelearn(files: { reference: string; current: string }, size: Size): SideResult {
  const ref = readNpy(files.reference).data;
  const cur = readNpy(files.current).data;
  const n = size.rows;
  const column = (data: Float64Array, j: number) => data.subarray(j * n, (j + 1) * n);
  const timings = {} as Record<TestName, Timing>;
  const cpu = {} as Record<TestName, Timing>;
  const values = {} as Record<TestName, number[][]>;
  for (const test of DRIFT_TESTS) {
    const runs: number[] = [];
    const cpuRuns: number[] = [];
    for (let rep = 1 - size.warmup; rep <= size.repetitions; rep++) {
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      const out: number[][] = [];
      for (let j = 0; j < size.features; j++) out.push(relearnTest(test, column(ref, j), column(cur, j)));
      const ms = performance.now() - t0;
      const c = process.cpuUsage(c0);
      if (rep > 0) {
        runs.push(ms);
        cpuRuns.push((c.user + c.system) / 1000);
      }
      values[test] = out;
    }
    timings[test] = timing(runs);
    cpu[test] = timing(cpuRuns);
  }
  return { timings, cpu, values };
}

function relativeDifference(a: number, b: number): number {
  if (a === b) return 0;
  return Math.abs(a - b) / Math.max(Math.abs(a), Math.abs(b), 1e-300);
}

/** Runs both sides and writes bench/results/drift.json and drift.md; returns the summary rows. */
export async function main(argv: string[] = process.argv.slice(2)): Promise<SummaryRow[]> {
  const mode = argv.includes('--smoke') ? 'smoke' : argv.includes('--quick') ? 'quick' : 'full';
  const size = SIZES[mode];
  const files = ensureData(size);
  console.log(`▸ drift: ${size.rows.toLocaleString('en-US')} reference × ${size.rows.toLocaleString('en-US')} current rows × ${size.features} features, ${size.repetitions} repetitions after ${size.warmup} warm-up run(s)`);
  const relearn = runRelearn(files, size);
  const peer = await runJsonChild<SideResult & { versions: Record<string, string> }>(
    VENV_PYTHON,
    [path.join(BENCH_DIR, 'drift_peer.py'), files.reference, files.current, String(size.repetitions), String(PSI_BINS), String(JS_BINS), String(size.warmup)],
    { timeoutMs: 30 * 60_000 },
  );
  const cases = DRIFT_TESTS.map((test) => {
    const r = relearn.timings[test];
    const p = peer.timings[test];
    let maxRelDiff = 0;
    relearn.values[test].forEach((row, j) => row.forEach((v, k) => (maxRelDiff = Math.max(maxRelDiff, relativeDifference(v, peer.values[test][j]![k]!)))));
    const cpu = { relearn: relearn.cpu[test], peer: peer.cpu[test], ratio: round(peer.cpu[test].medianMs / relearn.cpu[test].medianMs, 2) };
    return { test, relearn: r, peer: p, ratio: round(p.medianMs / r.medianMs, 2), cpu, maxRelativeDifference: maxRelDiff };
  });
  const peerName: Record<TestName, string> = {
    ks: 'scipy.stats.ks_2samp',
    psi: 'np.quantile + searchsorted',
    wasserstein: 'scipy.stats.wasserstein_distance / np.std',
    jensenshannon: 'np.histogram + scipy jensenshannon',
  };
  const summary: SummaryRow[] = cases.map((c) => ({
    bench: 'drift',
    case: `${c.test} (${size.features} features)`,
    relearn: `${c.relearn.medianMs} ms`,
    peer: `${c.peer.medianMs} ms (${peerName[c.test]})`,
    ratio: `${c.ratio}× ${c.ratio >= 1 ? 'faster' : 'slower'}`,
    goal: c.ratio >= 1 ? 'met (≥ 1×)' : 'missed (≥ 1×)',
  }));
  const report = {
    name: 'drift',
    mode,
    finishedAt: new Date().toISOString(),
    machine: machine(),
    size: { referenceRows: size.rows, currentRows: size.rows, features: size.features, repetitions: size.repetitions, warmup: size.warmup, psiBins: PSI_BINS, jsBins: JS_BINS },
    peerVersions: peer.versions,
    note: 'each timing covers one test over all features, from raw columns (sorting included where the test needs it); ratio = peer median / Relearn median (> 1: Relearn faster); cpu = user + system time of the same runs',
    cases,
    summary,
  };
  mkdirSync(RESULTS_DIR, { recursive: true });
  writeFileSync(path.join(RESULTS_DIR, 'drift.json'), `${JSON.stringify(report, null, 2)}\n`);
  const md = [
    '# Drift statistics: Relearn vs numpy/scipy',
    '',
    `${size.rows.toLocaleString('en-US')} reference × ${size.rows.toLocaleString('en-US')} current rows × ${size.features} features (float64, same .npy files on both sides), ` +
      `PSI on ${PSI_BINS} reference quantile bins, Jensen–Shannon on ${JS_BINS} equal-width bins; median of ${size.repetitions} runs after ${size.warmup} warm-up run(s), min–max in brackets. ` +
      `Mode ${mode}, ${report.finishedAt}; ${JSON.stringify(report.machine)}; ${Object.entries(peer.versions).map(([k, v]) => `${k} ${v}`).join(', ')}.`,
    '',
    '| test | Relearn (ms) | numpy/scipy (ms) | ratio (peer / Relearn) | CPU ms Relearn / peer (ratio) | max relative difference of results |',
    '|---|---|---|---|---|---|',
    ...cases.map(
      (c) =>
        `| ${c.test} | ${c.relearn.medianMs} [${c.relearn.minMs}–${c.relearn.maxMs}] | ${c.peer.medianMs} [${c.peer.minMs}–${c.peer.maxMs}] | ${c.ratio} | ` +
        `${c.cpu.relearn.medianMs} / ${c.cpu.peer.medianMs} (${c.cpu.ratio}) | ${c.maxRelativeDifference.toExponential(2)} |`,
    ),
    '',
    `Load average at the end: ${String((report.machine as { loadAverage1m?: number }).loadAverage1m)} on ${String((report.machine as { cores?: number }).cores)} cores; ` +
      'wall times on a busy machine are noisy, CPU times (user + system of the process) less so.',
    '',
  ].join('\n');
  writeFileSync(path.join(RESULTS_DIR, 'drift.md'), md);
  console.log(md);
  return summary;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : String(err));
    process.exitCode = 1;
  });
}
