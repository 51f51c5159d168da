// Headless Chromium for browser tests: Debian's `chromium` package, installed with apt-get when missing. Playwright
// drives it (playwright-core ships no browser and downloads none).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/** Where Debian's package puts the browser. */
export const CHROMIUM_PATH = '/usr/bin/chromium';

/** Flags for a quiet, sandbox-free headless browser that talks to nothing but the page under test. */
export const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

function run(cmd: string, args: string[]): { ok: boolean; output: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }, timeout: 15 * 60_000 });
  const output = `${r.stdout ?? ''}${r.stderr ?? ''}${r.error ? String(r.error) : ''}`;
  return { ok: r.status === 0, output };
}

/** Returns the Chromium binary, installing Debian's package when missing; `skip` says why it cannot be had. */
export function ensureChromium(log: (line: string) => void = () => undefined): { path: string } | { skip: string } {
  if (existsSync(CHROMIUM_PATH)) return { path: CHROMIUM_PATH };
  if (!existsSync('/usr/bin/apt-get')) return { skip: `${CHROMIUM_PATH} is missing and there is no apt-get to install it` };
  if (typeof process.getuid === 'function' && process.getuid() !== 0) {
    return { skip: `${CHROMIUM_PATH} is missing and installing it needs root (apt-get install -y chromium)` };
  }
  log('installing Debian package chromium (apt-get update && apt-get install -y chromium)');
  const update = run('apt-get', ['update']);
  if (!update.ok) return { skip: `apt-get update failed: ${update.output.trim().split('\n').slice(-2).join(' ')}` };
  const install = run('apt-get', ['install', '-y', '--no-install-recommends', 'chromium']);
  if (!install.ok || !existsSync(CHROMIUM_PATH)) {
    return { skip: `apt-get install -y chromium failed: ${install.output.trim().split('\n').slice(-2).join(' ')}` };
  }
  return { path: CHROMIUM_PATH };
}
