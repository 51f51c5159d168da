// Benchmark 7, object store: the artifact store's create-once write and SHA-256-checked read of one file, on a local
// folder and on a real S3-compatible server (Versity's gateway on this machine, started for the run), beside boto3
// doing the same upload, and download plus SHA-256, against the same server. The S3 numbers measure the client and
// the protocol on loopback; a remote bucket adds its network.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LocalArtifactStore, S3ArtifactStore } from '../src/store';
import { freshBucket, s3Env, startS3Server, stopS3Server } from '../test/helpers/s3';
import { type BenchMode, type BenchOutcome, FLIGHTS_PARQUET, type Timing, fmt, machine, round, runPythonChild, timing } from './lib';

const REPS: Record<BenchMode, number> = { full: 5, quick: 3, smoke: 1 };
const PART_SIZE_BYTES = 8 * 1024 * 1024;

interface SideTimings {
  putMs: number[];
  readMs: number[];
}

async function measureRelearn(file: string, store: () => LocalArtifactStore | S3ArtifactStore, reps: number): Promise<SideTimings> {
  const putMs: number[] = [];
  const readMs: number[] = [];
  // Round 0 warms the client and the caches of the file system; it is not counted.
  for (let rep = 0; rep <= reps; rep++) {
    const s = store();
    const t0 = performance.now();
    const ref = await s.putFile('snapshots', path.basename(file), file);
    const t1 = performance.now();
    await s.verifiedPath(ref);
    const t2 = performance.now();
    if (rep > 0) {
      putMs.push(t1 - t0);
      readMs.push(t2 - t1);
    }
  }
  return { putMs, readMs };
}

interface StoreCase {
  file: string;
  sizeBytes: number;
  local: { put: Timing; verifiedRead: Timing };
  s3: { put: Timing; verifiedRead: Timing };
  boto3: { put: Timing; verifiedRead: Timing };
  s3PutMiBps: number;
  s3ReadMiBps: number;
  putVsBoto3: number;
  readVsBoto3: number;
  s3VsLocalRead: number;
}

/** Runs benchmark 7 and returns its report and summary rows. */
export async function runStore(mode: BenchMode): Promise<BenchOutcome> {
  const reps = REPS[mode];
  const work = mkdtempSync(path.join(os.tmpdir(), 'relearn-bench-store-'));
  const server = await startS3Server({ dataDir: path.join(work, 's3') });
  try {
    const bucket = await freshBucket(server, 'bench');
    const files: Array<{ name: string; path: string }> = [{ name: 'flights-3m.parquet', path: FLIGHTS_PARQUET }];
    if (mode !== 'smoke') {
      const big = path.join(work, 'random-64MiB.bin');
      writeFileSync(big, randomBytes(64 * 1024 * 1024));
      files.push({ name: 'random-64MiB.bin (multipart)', path: big });
    }
    const loadBefore = round(os.loadavg()[0]!, 2);
    const cases: StoreCase[] = [];
    for (const [i, f] of files.entries()) {
      const sizeBytes = statSync(f.path).size;
      let n = 0;
      const local = await measureRelearn(f.path, () => new LocalArtifactStore(path.join(work, `local-${n++}`)), reps);
      const s3 = await measureRelearn(
        f.path,
        () =>
          new S3ArtifactStore({
            bucket,
            prefix: `relearn-${n++}`,
            endpoint: server.endpoint,
            forcePathStyle: true,
            partSizeBytes: PART_SIZE_BYTES,
            cacheDir: path.join(work, `cache-${n}`),
            credentials: server,
          }),
        reps,
      );
      const boto3 = await runPythonChild<SideTimings>('s3_peer.py', [f.path, server.endpoint, bucket, `peer-${i}`, String(reps)], {
        env: { ...process.env, ...s3Env(server) },
      });
      const mib = sizeBytes / (1024 * 1024);
      const side = (t: SideTimings) => ({ put: timing(t.putMs), verifiedRead: timing(t.readMs) });
      const c = { file: f.name, sizeBytes, local: side(local), s3: side(s3), boto3: side(boto3) };
      cases.push({
        ...c,
        s3PutMiBps: round(mib / (c.s3.put.medianMs / 1000), 1),
        s3ReadMiBps: round(mib / (c.s3.verifiedRead.medianMs / 1000), 1),
        putVsBoto3: round(c.s3.put.medianMs / c.boto3.put.medianMs, 2),
        readVsBoto3: round(c.s3.verifiedRead.medianMs / c.boto3.verifiedRead.medianMs, 2),
        s3VsLocalRead: round(c.s3.verifiedRead.medianMs / c.local.verifiedRead.medianMs, 2),
      });
    }
    const loadAfter = round(os.loadavg()[0]!, 2);
    const rows = cases.flatMap((c) => [
      { bench: 'store', case: `S3 put ${c.file}`, relearn: `${fmt(c.s3.put.medianMs, 1)} ms`, peer: `boto3 ${fmt(c.boto3.put.medianMs, 1)} ms`, ratio: `${c.putVsBoto3}×`, goal: '≤ 1.5× boto3' },
      {
        bench: 'store',
        case: `S3 verified read ${c.file} (cold cache)`,
        relearn: `${fmt(c.s3.verifiedRead.medianMs, 1)} ms`,
        peer: `boto3 + sha256 ${fmt(c.boto3.verifiedRead.medianMs, 1)} ms`,
        ratio: `${c.readVsBoto3}×`,
        goal: '≤ 1.5× boto3',
      },
      {
        bench: 'store',
        case: `verified read ${c.file}: S3 vs local folder`,
        relearn: `${fmt(c.s3.verifiedRead.medianMs, 1)} ms`,
        peer: `local ${fmt(c.local.verifiedRead.medianMs, 1)} ms`,
        ratio: `${c.s3VsLocalRead}×`,
        goal: 'information',
      },
    ]);
    return {
      name: 'store',
      title: 'Object store',
      report: {
        bench: 'store',
        mode,
        machine: machine(),
        repetitions: reps,
        server: 'versitygw v1.8.0 (posix backend, loopback)',
        partSizeBytes: PART_SIZE_BYTES,
        loadAverage: { before: loadBefore, after: loadAfter },
        cases,
        summary: rows,
      },
      rows,
    };
  } finally {
    await stopS3Server(server);
    rmSync(work, { recursive: true, force: true });
  }
}
