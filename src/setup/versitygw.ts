// Versity's S3 gateway (Apache-2.0), the S3-compatible server the tests and the benchmark run the S3 store against.
// It is built from source with `go install` (about 75 s the first time) into .relearn/bin, like the Temporal CLI's
// fallback, with a stamp naming the module version so a new pin rebuilds it.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { LOCAL_BIN_DIR } from '../paths';

/** The pinned gateway; v1.8.0 answers a second `If-None-Match: *` write with 412 PreconditionFailed. */
export const VERSITYGW_GO_MODULE = 'github.com/versity/versitygw/cmd/versitygw@v1.8.0';
/** Where `go install` puts the gateway. */
export const VERSITYGW_BIN = path.join(LOCAL_BIN_DIR, 'versitygw');
const STAMP = `${VERSITYGW_BIN}.module`;

/** True when the gateway was built from the pinned module. */
export function versitygwReady(): boolean {
  return existsSync(VERSITYGW_BIN) && existsSync(STAMP) && readFileSync(STAMP, 'utf8').trim() === VERSITYGW_GO_MODULE;
}

/** Builds the pinned gateway into .relearn/bin with `go install` unless it is there; returns the binary's path. */
export async function installVersitygw(onLine: (line: string) => void = () => undefined): Promise<string> {
  if (versitygwReady()) return VERSITYGW_BIN;
  onLine(`building ${VERSITYGW_GO_MODULE} with go install (about 75 s the first time)`);
  const lastLines: string[] = [];
  const status = await new Promise<number | null>((resolve, reject) => {
    const child = spawn('go', ['install', VERSITYGW_GO_MODULE], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, GOBIN: LOCAL_BIN_DIR } });
    const feed = (chunk: Buffer) => {
      for (const line of chunk.toString().split(/\r?\n/).filter((l) => l.trim())) {
        onLine(line);
        lastLines.push(line);
        if (lastLines.length > 15) lastLines.shift();
      }
    };
    child.stdout.on('data', feed);
    child.stderr.on('data', feed);
    child.on('error', (err) =>
      reject(new Error(`cannot run 'go' to build ${VERSITYGW_GO_MODULE} (${err.message}); install Go 1.22 or newer and put it on PATH`)),
    );
    child.on('close', resolve);
  });
  if (status !== 0 || !existsSync(VERSITYGW_BIN)) {
    throw new Error(`go install ${VERSITYGW_GO_MODULE} exited ${status}:\n${lastLines.join('\n')}`);
  }
  writeFileSync(STAMP, `${VERSITYGW_GO_MODULE}\n`);
  return VERSITYGW_BIN;
}
