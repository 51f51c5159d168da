import { copyFileSync } from 'node:fs';
import path from 'node:path';
import { type Command, InvalidArgumentError, Option } from 'commander';
import pc from 'picocolors';
import { loadConfig, modelConfig } from '../config';
import { openRegistry, openSqliteRegistry } from '../registry';
import { writeRunReport } from '../report';
import { openArtifactStore } from '../store';
import { UI_DEFAULTS, recordRegistryUi, startRegistryUi, stopRegistryUi, webUiBase, webUiRunLink } from '../ui';
import { SERVE_TOKEN_ENV, resolveServeToken } from './serve';

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65_535) throw new InvalidArgumentError(`--port must be an integer from 0 to 65535, got '${value}'`);
  return n;
}

/** `relearn report <model> [run]` and `relearn ui`. */
export function registerReportCommands(program: Command): void {
  program
    .command('report')
    .description("write a run's report: one HTML file with its charts (ROC, precision-recall, calibration, folds, live windows, versions, drift), opens without a network")
    .argument('<model>', 'model name')
    .argument('[run]', 'v<N> for the run that registered version N, or a run id (a unique prefix will do); default: the newest version')
    .option('--out <file>', 'also copy the page to this file')
    .option('--json', 'print JSON (path, store URI, sha256, size, build time)')
    .action(async (model: string, run: string | undefined, opts: { out?: string; json?: boolean }, cmd: Command) => {
      const loaded = loadConfig(cmd.optsWithGlobals<{ config: string }>().config);
      const registryModel = modelConfig(loaded, model).registryModel ?? model;
      const registry = openRegistry(loaded);
      try {
        const written = await writeRunReport({
          registry,
          store: openArtifactStore(loaded),
          model: registryModel,
          ...(run !== undefined ? { ref: run } : {}),
          ...withRunLink(webUiRunLink(webUiBase(loaded), loaded.config.temporal.namespace)),
        });
        const file = opts.out ? path.resolve(opts.out) : written.path;
        if (opts.out) copyFileSync(written.path, file);
        if (opts.json) {
          console.log(JSON.stringify({ path: file, uri: written.artifact.uri, sha256: written.artifact.sha256, sizeBytes: written.artifact.sizeBytes, model: written.model, version: written.version, runId: written.runId, buildMs: Math.round(written.buildMs) }, null, 2));
          return;
        }
        console.error(pc.dim(`${written.model} v${written.version} (run ${written.runId}): ${(written.artifact.sizeBytes / 1024).toFixed(0)} KiB, built in ${written.buildMs.toFixed(0)} ms`));
        console.log(file);
      } finally {
        await registry.close();
      }
    });

  program
    .command('ui')
    .description('serve the registry page: models, versions with metrics, gate verdicts and evaluations, the alias history, lineage with Temporal Web UI links, run reports (read-only, its own port)')
    .option('--host <host>', 'address to listen on', UI_DEFAULTS.host)
    .option('--port <port>', 'port to listen on (0: any free port)', port, UI_DEFAULTS.port)
    .option('--no-auth', `serve without the bearer token (by default the token from ${SERVE_TOKEN_ENV} or --token-file, as relearn serve)`)
    .option('--token-file <file>', `file holding the bearer token (instead of ${SERVE_TOKEN_ENV})`)
    .option('--registry <file>', "registry database to show (default: the config's)")
    .option('--web-ui <url>', 'the Temporal Web UI to link runs to (default: TEMPORAL_WEB_UI, temporal.webUi, or the embedded dev server)')
    .option('--stop', 'stop the registry page started in the background (by the demo) and exit')
    .addOption(new Option('--port-fallback', 'take any free port when --port is taken').hideHelp())
    .action(async (opts: { host: string; port: number; auth: boolean; tokenFile?: string; registry?: string; webUi?: string; stop?: boolean; portFallback?: boolean }, cmd: Command) => {
      const loaded = loadConfig(cmd.optsWithGlobals<{ config: string }>().config);
      if (opts.stop) {
        console.log(stopRegistryUi(loaded.stateDir) ? 'stopped the registry page' : 'no registry page runs for this state folder');
        return;
      }
      const token = resolveServeToken(opts);
      const registry = opts.registry !== undefined ? openSqliteRegistry(path.resolve(opts.registry)) : openRegistry(loaded);
      // A file path, or a PostgreSQL URL without its password.
      const registryPath = registry.location;
      const deps = {
        registry,
        store: openArtifactStore(loaded),
        jobsDir: path.join(loaded.stateDir, 'jobs'),
        token,
        ...withRunLink(webUiRunLink(webUiBase(loaded, opts.webUi), loaded.config.temporal.namespace)),
        host: opts.host,
      };
      let ui;
      try {
        ui = await startRegistryUi({ ...deps, port: opts.port }).catch((err: unknown) => {
          if (opts.portFallback && (err as NodeJS.ErrnoException).code === 'EADDRINUSE') return startRegistryUi({ ...deps, port: 0 });
          throw err;
        });
      } catch (err) {
        await registry.close();
        throw err;
      }
      const record = recordRegistryUi(loaded.stateDir, { pid: process.pid, url: ui.url, registry: registryPath });
      console.log(`registry page on ${ui.url} (${registryPath.includes('://') ? registryPath : path.relative(process.cwd(), registryPath) || registryPath}; auth ${token === null ? pc.yellow('off') : 'on'})`);
      await new Promise<void>((resolve) => {
        const stop = (): void => {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          resolve();
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      });
      record.forget();
      await ui.close();
      await registry.close();
    });
}

function withRunLink<T>(runLink: T | undefined): { runLink: T } | Record<string, never> {
  return runLink === undefined ? {} : { runLink };
}
