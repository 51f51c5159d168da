import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Listr } from 'listr2';
import { RELEARN_ROOT, VENV_DIR, VENV_PYTHON } from '../paths';
import { findTemporalCli, installTemporalCli } from '../temporal/cli';

const REQUIREMENTS = path.join(RELEARN_ROOT, 'trainers', 'sklearn', 'requirements.txt');
const STAMP = path.join(VENV_DIR, '.requirements.sha256');
/** Python packages only the tests use (the Triton/KServe HTTP client), installed into the same venv. */
export const TEST_REQUIREMENTS = path.join(RELEARN_ROOT, 'test', 'requirements.txt');
const TEST_STAMP = path.join(VENV_DIR, '.test-requirements.sha256');
/** Ray for the tests' own Ray head (test/helpers/ray.ts), in a virtual environment of its own: not the trainer's. */
export const RAY_REQUIREMENTS = path.join(RELEARN_ROOT, 'test', 'requirements-ray.txt');
export const RAY_VENV_DIR = path.join(RELEARN_ROOT, '.relearn', 'ray-venv');
/** The `ray` command of that environment. */
export const RAY_BIN = path.join(RAY_VENV_DIR, 'bin', 'ray');
const RAY_STAMP = path.join(RAY_VENV_DIR, '.requirements.sha256');

function requirementsDigest(file: string = REQUIREMENTS): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

/** True when the venv exists and was installed from the current requirements file. */
export function pythonEnvReady(): boolean {
  return existsSync(VENV_PYTHON) && existsSync(STAMP) && readFileSync(STAMP, 'utf8').trim() === requirementsDigest();
}

/** True when the test requirements were installed into the venv from the current test/requirements.txt. */
export function pythonTestClientsReady(): boolean {
  return existsSync(VENV_PYTHON) && existsSync(TEST_STAMP) && readFileSync(TEST_STAMP, 'utf8').trim() === requirementsDigest(TEST_REQUIREMENTS);
}

/** True when the Ray environment exists and was installed from the current test/requirements-ray.txt. */
export function rayEnvReady(): boolean {
  return existsSync(RAY_BIN) && existsSync(RAY_STAMP) && readFileSync(RAY_STAMP, 'utf8').trim() === requirementsDigest(RAY_REQUIREMENTS);
}

/** Creates .relearn/ray-venv and installs the pinned Ray into it (about 2 minutes the first time); a no-op when ready. */
export async function installRayEnv(onLine: (line: string) => void): Promise<void> {
  if (rayEnvReady()) return;
  const python = path.join(RAY_VENV_DIR, 'bin', 'python');
  if (!existsSync(python)) await runStreaming(findSystemPython(), ['-m', 'venv', RAY_VENV_DIR], onLine);
  await runStreaming(python, ['-m', 'pip', 'install', '--disable-pip-version-check', '--progress-bar', 'off', '-r', RAY_REQUIREMENTS], onLine);
  writeFileSync(RAY_STAMP, `${requirementsDigest(RAY_REQUIREMENTS)}\n`);
}

function findSystemPython(): string {
  for (const candidate of ['python3.11', 'python3.12', 'python3.13', 'python3.10', 'python3']) {
    const r = spawnSync(candidate, ['-c', 'import sys; print(sys.version_info >= (3, 10))'], { encoding: 'utf8' });
    if (r.status === 0 && r.stdout.trim() === 'True') return candidate;
  }
  throw new Error('Python 3.10 or newer is needed for the training job (python3 on PATH)');
}

/** Runs a command, passing each output line to `onLine`; rejects with the last lines on failure. */
function runStreaming(cmd: string, args: string[], onLine: (line: string) => void, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env });
    const lastLines: string[] = [];
    const feed = (chunk: Buffer) => {
      for (const line of chunk.toString().split(/\r?\n/)) {
        if (!line.trim()) continue;
        onLine(line);
        lastLines.push(line);
        if (lastLines.length > 20) lastLines.shift();
      }
    };
    child.stdout.on('data', feed);
    child.stderr.on('data', feed);
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`${cmd} ${args.join(' ')} exited ${code}:\n${lastLines.join('\n')}`))));
  });
}

/** Where Debian's `chromium` package puts the browser the browser tests drive. */
export const CHROMIUM_PATH = '/usr/bin/chromium';

/** Installs Debian's `chromium` with apt-get (needs root), passing apt's output lines to `onLine`. */
async function installChromium(onLine: (line: string) => void): Promise<void> {
  if (!existsSync('/usr/bin/apt-get')) throw new Error(`${CHROMIUM_PATH} is missing and there is no apt-get here to install Debian's chromium`);
  if (process.getuid?.() !== 0) {
    throw new Error(`${CHROMIUM_PATH} is missing and installing it needs root: run 'apt-get install -y --no-install-recommends chromium' as root`);
  }
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  await runStreaming('apt-get', ['update'], onLine, env);
  await runStreaming('apt-get', ['install', '-y', '--no-install-recommends', 'chromium'], onLine, env);
  if (!existsSync(CHROMIUM_PATH)) throw new Error(`apt-get installed chromium but ${CHROMIUM_PATH} is still missing`);
}

/** The folder of Debian's PostgreSQL server programs (initdb, pg_ctl, postgres), newest version first; undefined when absent. */
export function findPostgresBin(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root)
    .filter((v) => /^\d+$/.test(v) && existsSync(path.join(root, v, 'bin', 'initdb')) && existsSync(path.join(root, v, 'bin', 'pg_ctl')))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] === undefined ? undefined : path.join(root, versions[0], 'bin');
}

/**
 * Installs Debian's PostgreSQL server for the registry tests (needs root and apt-get); a no-op when it is there. The
 * package would create and start a cluster of its own on port 5432; the tests start their own in a temporary folder,
 * so postgresql-common is told not to (the way Debian-based database images do it).
 */
export async function installPostgres(onLine: (line: string) => void): Promise<void> {
  if (findPostgresBin() !== undefined) return;
  if (!existsSync('/usr/bin/apt-get')) throw new Error("PostgreSQL's server (initdb) is missing and there is no apt-get here to install Debian's postgresql");
  if (process.getuid?.() !== 0) {
    throw new Error("PostgreSQL's server (initdb) is missing and installing it needs root: run 'apt-get install -y postgresql' as root");
  }
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  await runStreaming('apt-get', ['update'], onLine, env);
  await runStreaming('apt-get', ['install', '-y', '--no-install-recommends', 'postgresql-common'], onLine, env);
  const clusterConf = '/etc/postgresql-common/createcluster.conf';
  if (existsSync(clusterConf)) {
    writeFileSync(clusterConf, readFileSync(clusterConf, 'utf8').replace(/^#?\s*create_main_cluster\s*=.*$/m, 'create_main_cluster = false'));
  }
  await runStreaming('apt-get', ['install', '-y', '--no-install-recommends', 'postgresql'], onLine, env);
  if (findPostgresBin() === undefined) throw new Error('apt-get installed postgresql but /usr/lib/postgresql/<version>/bin/initdb is still missing');
}

/** What to install besides the Python environment and the Temporal CLI. */
export interface SetupOptions {
  /** Chromium for the browser tests (`npm test` asks for it; the demo does not need it). */
  browser?: boolean;
  /** The Python packages of test/requirements.txt, for the client tests (`npm test` asks for them). */
  testClients?: boolean;
  /** Ray in its own environment, for the Ray launcher's tests (`npm test` asks for it with the test clients). */
  ray?: boolean;
}

/**
 * Installs what a fresh clone lacks: the trainer's Python environment, the Temporal CLI and, when asked, Chromium
 * and the Python test clients. Idempotent.
 */
export async function runSetup(opts: SetupOptions = {}): Promise<void> {
  const tasks = new Listr(
    [
      {
        title: 'Python environment for the training job (.relearn/venv)',
        skip: () => (pythonEnvReady() ? 'up to date' : false),
        task: async (_ctx, task) => {
          const python = findSystemPython();
          if (!existsSync(VENV_PYTHON)) {
            task.output = `creating a virtual environment with ${python}`;
            await runStreaming(python, ['-m', 'venv', VENV_DIR], (l) => (task.output = l));
          }
          task.output = 'installing pinned scikit-learn, skl2onnx, onnx, pyarrow, numpy';
          await runStreaming(
            VENV_PYTHON,
            ['-m', 'pip', 'install', '--disable-pip-version-check', '--progress-bar', 'off', '-r', REQUIREMENTS],
            (l) => (task.output = l.slice(0, 120)),
          );
          writeFileSync(STAMP, `${requirementsDigest()}\n`);
        },
        rendererOptions: { bottomBar: 2 },
      },
      {
        title: 'Python test clients (test/requirements.txt: tritonclient)',
        enabled: () => opts.testClients === true,
        skip: () => (pythonTestClientsReady() ? 'up to date' : false),
        task: async (_ctx, task) => {
          task.output = 'installing the pinned tritonclient[http] and its dependencies';
          await runStreaming(
            VENV_PYTHON,
            ['-m', 'pip', 'install', '--disable-pip-version-check', '--progress-bar', 'off', '-r', TEST_REQUIREMENTS],
            (l) => (task.output = l.slice(0, 120)),
          );
          writeFileSync(TEST_STAMP, `${requirementsDigest(TEST_REQUIREMENTS)}\n`);
        },
        // Without the client only the client test fails (saying why); the other tests still run.
        exitOnError: false,
        rendererOptions: { bottomBar: 2 },
      },
      {
        title: 'Ray for the Ray launcher tests (test/requirements-ray.txt into .relearn/ray-venv)',
        enabled: () => opts.ray === true,
        skip: () => (rayEnvReady() ? 'up to date' : false),
        task: async (_ctx, task) => {
          task.output = 'installing the pinned ray[default] and its dependencies (about 2 minutes)';
          await installRayEnv((l) => (task.output = l.slice(0, 120)));
        },
        // Without Ray only the Ray launcher tests fail (saying why); the other tests still run.
        exitOnError: false,
        rendererOptions: { bottomBar: 2 },
      },
      {
        title: "PostgreSQL server for the registry tests (Debian's postgresql)",
        enabled: () => opts.testClients === true,
        skip: () => (findPostgresBin() !== undefined ? `found ${findPostgresBin()}` : false),
        task: async (_ctx, task) => {
          await installPostgres((l) => (task.output = l.slice(0, 120)));
        },
        // Without it only the PostgreSQL registry tests fail (saying why); the other tests still run.
        exitOnError: false,
        rendererOptions: { bottomBar: 2 },
      },
      {
        title: 'Temporal CLI (dev server)',
        skip: () => {
          const found = findTemporalCli();
          return found ? `found ${found.version} at ${path.relative(RELEARN_ROOT, found.path).startsWith('..') ? found.path : path.relative(RELEARN_ROOT, found.path)}` : false;
        },
        task: async (_ctx, task) => {
          const installed = installTemporalCli((line) => (task.output = line));
          task.title = `Temporal CLI ${installed.version} installed`;
        },
        rendererOptions: { bottomBar: 2 },
      },
      {
        title: 'Chromium for the browser tests',
        enabled: () => opts.browser === true,
        skip: () => (existsSync(CHROMIUM_PATH) ? `found at ${CHROMIUM_PATH}` : false),
        task: async (_ctx, task) => {
          task.output = 'apt-get update && apt-get install -y --no-install-recommends chromium';
          await installChromium((l) => (task.output = l.slice(0, 120)));
          task.title = `Chromium installed at ${CHROMIUM_PATH}`;
        },
        // Without a browser only the browser test fails (saying why); the other tests still run.
        exitOnError: false,
        rendererOptions: { bottomBar: 2 },
      },
    ],
    { concurrent: false, exitOnError: true, rendererOptions: { collapseSkips: false } },
  );
  await tasks.run();
}
