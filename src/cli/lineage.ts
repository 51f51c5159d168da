import path from 'node:path';
import type { Command } from 'commander';
import pc from 'picocolors';
import { loadConfig, modelConfig } from '../config';
import { ConfigError } from '../errors';
import { versionLineage } from '../inspect/lineage';
import { openRegistry } from '../registry';
import { num } from './format';
import { decisionWord } from './inspect-format';
import { retrainWorkflowId } from '../contracts';

/** `relearn lineage <model> <version>`: snapshot → jobs → ONNX → evaluations → gate → promotions/rollbacks. */
export function registerLineageCommand(program: Command): void {
  program
    .command('lineage')
    .description('where a version came from: data snapshot → training jobs → ONNX artifact → evaluations → promotions/rollbacks')
    .argument('<model>', 'model name')
    .argument('<version>', 'version number (3 or v3)')
    .option('--json', 'print JSON')
    .action(async (model: string, versionArg: string, opts: { json?: boolean }, cmd: Command) => {
      const loaded = loadConfig(cmd.optsWithGlobals<{ config: string }>().config);
      const registryModel = modelConfig(loaded, model).registryModel ?? model;
      const m = /^v?(\d+)$/.exec(versionArg);
      if (!m) throw new ConfigError(`<version>: '${versionArg}' is not a version number (expected 3 or v3)`);
      const registry = openRegistry(loaded);
      try {
        const l = await versionLineage(registry, registryModel, Number(m[1]), path.join(loaded.stateDir, 'jobs'));
        if (opts.json) {
          console.log(JSON.stringify(l, null, 2));
          return;
        }
        const window = l.snapshot.window as { from?: string; to?: string } | null;
        console.log(`${pc.bold(`${model} v${l.version}`)}  registered ${l.createdAt.replace('T', ' ').slice(0, 19)} UTC by ${retrainWorkflowId(model)} run ${l.runId}`);
        console.log(`  trigger ${l.trigger ?? '?'}, config sha256 ${l.configDigest ?? '?'}, parent ${l.parentVersion === null ? '(none: first champion)' : `v${l.parentVersion}`}`);
        console.log(`├─ data snapshot   ${l.snapshot.uri}`);
        console.log(`│                  sha256 ${l.snapshot.sha256}, ${l.snapshot.rows ?? '?'} rows, window ${window?.from ?? '…'} → ${window?.to ?? '…'}`);
        if (l.snapshot.stats) console.log(`│                  statistics ${l.snapshot.stats}`);
        if (l.split) console.log(`│                  split ${l.split}`);
        console.log(`├─ training jobs   ${l.jobs.length} (${l.estimator ?? '?'})`);
        for (const j of l.jobs) {
          console.log(`│    ${j.role.padEnd(7)} job ${j.jobId} run ${j.run} → ${j.model?.uri ?? '?'}`);
          console.log(`│    ${''.padEnd(7)} ${pc.dim(j.dir)}`);
        }
        console.log(`├─ onnx artifact   ${l.artifact.uri}`);
        console.log(`│                  sha256 ${l.artifact.sha256}, ${(l.artifact.sizeBytes / 1024).toFixed(1)} KiB`);
        const metrics = Object.entries(l.evaluation.cv);
        console.log(`├─ evaluations     cross-validation over ${l.evaluation.perFold.length} folds, holdout of ${l.evaluation.holdout.rows ?? '?'} rows`);
        const why = l.evaluation.undefined;
        // An undefined metric reads `undefined (reason)` in place of its number.
        const shown = (value: number | undefined, reason: string | undefined) => (reason === undefined ? num(value) : `undefined (${reason})`);
        for (const [name, s] of metrics) {
          const cand = l.evaluation.holdout.candidate?.[name];
          const champ = l.evaluation.holdout.champion?.[name];
          const cv = why?.summary?.[name] !== undefined ? shown(s.mean, why.summary[name]) : `${num(s.mean)} ± ${num(s.std)}`;
          console.log(
            `│    ${name.padEnd(9)} CV ${cv}  holdout ${shown(cand, why?.holdout?.candidate?.[name])}${
              champ !== undefined ? `  champion v${l.parentVersion ?? '?'} ${shown(champ, why?.holdout?.champion?.[name])}` : ''
            }`,
          );
        }
        console.log(`├─ gate            ${l.gate?.verdict === 'PASS' ? pc.green('PASS') : pc.red(String(l.gate?.verdict ?? '?'))}`);
        for (const rule of l.gate?.rules ?? []) console.log(`│    ${rule.passed ? pc.green('✓') : pc.red('✗')} ${rule.reason}`);
        console.log(`└─ aliases         ${l.aliases.length ? l.aliases.map((a) => a.alias).join(', ') : '(none now)'}`);
        if (l.events.length === 0) console.log(`     ${decisionWord('rejected')}: never promoted`);
        for (const e of l.events) {
          console.log(
            `     ${e.at.replace('T', ' ').slice(0, 19)}  ${e.alias}: ${e.fromVersion === null ? '(none)' : `v${e.fromVersion}`} → ${e.toVersion === null ? '(none)' : `v${e.toVersion}`}  ${e.action}  ${pc.dim(e.reason)}`,
          );
        }
      } finally {
        await registry.close();
      }
    });
}
