import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { type Command, Option } from 'commander';
import pc from 'picocolors';
import { parse } from 'yaml';
import { z } from 'zod';
import { loadConfig, modelConfig } from '../config';
import { type GateConfig, gateSchema } from '../config/schema';
import { primaryMetricOf } from '../contracts';
import { ConfigError } from '../errors';
import { rejudgeVersions } from '../inspect/what-if';
import { openRegistry } from '../registry';
import { table } from './format';

function metricValue(flag: string) {
  return (value: string, previous: Record<string, number> = {}) => {
    const m = /^([a-z0-9_]+)=(-?\d+(?:\.\d+)?(?:e-?\d+)?)$/i.exec(value);
    if (!m) throw new ConfigError(`${flag}: '${value}' is not <metric>=<number> (e.g. f1=0.65)`);
    return { ...previous, [m[1]!]: Number(m[2]) };
  };
}

/** Reads a rules file: a gate section as in temporal.yaml, bare or under `gate:`. */
function readRulesFile(file: string): Record<string, unknown> {
  let doc: unknown;
  try {
    doc = parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ConfigError(`${file}: ${(err as Error).message.split('\n')[0]}`);
  }
  if (doc && typeof doc === 'object' && 'gate' in doc) doc = (doc as { gate: unknown }).gate;
  if (!doc || typeof doc !== 'object') throw new ConfigError(`${file}: expected gate rules (minimums, maximums, maxCvStd, maxDropVsChampion)`);
  return doc as Record<string, unknown>;
}

interface GateOpts {
  whatIf?: string | boolean;
  min?: Record<string, number>;
  max?: Record<string, number>;
  maxCvStd?: Record<string, number>;
  maxDrop?: number;
  primary?: string;
  replace?: boolean;
  json?: boolean;
}

/**
 * `relearn gate --what-if <file|flags> <model>`: judges the model's registered runs again with changed rules, from
 * their stored metrics, and prints which decisions would have changed. Nothing is moved.
 */
export function registerGateCommand(program: Command): void {
  program
    .command('gate')
    .description('re-judge past runs of <model> with changed gate rules (from a file or flags) and show which decisions would change; nothing is moved')
    .argument('[model]', 'model name')
    .option('--what-if [file]', 'rules to try: a YAML file with a gate section, and/or the flags below (applied on top of the model’s current gate)')
    .option('--min <metric=value>', 'minimum CV mean (repeatable)', metricValue('--min'))
    .option('--max <metric=value>', 'maximum CV mean (repeatable)', metricValue('--max'))
    .option('--max-cv-std <metric=value>', 'maximum CV std (repeatable)', metricValue('--max-cv-std'))
    .addOption(new Option('--max-drop <x>', 'allowed drop of the primary metric vs the champion').argParser((v) => {
      const x = Number(v);
      if (!Number.isFinite(x) || x < 0) throw new ConfigError(`--max-drop: '${v}' is not a non-negative number`);
      return x;
    }))
    .option('--primary <metric>', 'primary metric')
    .option('--replace', 'start from empty rules instead of the model’s current gate')
    .option('--json', 'print JSON')
    .action(async (modelArg: string | undefined, opts: GateOpts, cmd: Command) => {
      let model = modelArg;
      let file = typeof opts.whatIf === 'string' ? opts.whatIf : undefined;
      // `relearn gate --what-if <model> --min …`: the optional value took the model name.
      if (model === undefined && file !== undefined && !existsSync(file)) {
        model = file;
        file = undefined;
      }
      if (!opts.whatIf) throw new ConfigError('gate: --what-if is required (rules from a file or flags, e.g. --what-if --min f1=0.65)');
      if (!model) throw new ConfigError('gate: <model> is missing');
      const loaded = loadConfig(cmd.optsWithGlobals<{ config: string }>().config);
      const cfg = modelConfig(loaded, model);
      const base: Record<string, unknown> = opts.replace ? {} : { ...cfg.gate };
      const fromFile = file ? readRulesFile(file) : {};
      const merged = {
        ...base,
        ...fromFile,
        minimums: { ...(base.minimums as object), ...(fromFile.minimums as object), ...opts.min },
        maximums: { ...(base.maximums as object), ...(fromFile.maximums as object), ...opts.max },
        maxCvStd: { ...(base.maxCvStd as object), ...(fromFile.maxCvStd as object), ...opts.maxCvStd },
        ...(opts.maxDrop !== undefined ? { maxDropVsChampion: opts.maxDrop } : {}),
        ...(opts.primary ? { primaryMetric: opts.primary } : {}),
      };
      const parsed = gateSchema.safeParse(merged);
      if (!parsed.success) throw new ConfigError(`${file ?? 'gate flags'}: ${z.prettifyError(parsed.error).replace(/\n\s*/g, ' ')}`);
      const gate: GateConfig = parsed.data;
      const primaryMetric = gate.primaryMetric ?? primaryMetricOf(cfg);
      const registry = openRegistry(loaded);
      try {
        const registryModel = cfg.registryModel ?? model;
        const rows = rejudgeVersions({ versions: await registry.listVersions(registryModel), audit: await registry.auditLog(registryModel), gate, primaryMetric });
        const changed = rows.filter((r) => r.changed);
        if (opts.json) {
          console.log(JSON.stringify({ model, gate, primaryMetric, runs: rows, changed: changed.map((r) => r.version) }, null, 2));
          return;
        }
        if (rows.length === 0) {
          console.log(`no registered runs of ${model} to judge again`);
          return;
        }
        console.log(
          table(
            ['version', 'run id', 'vs champion', 'recorded', 'what-if', '', 'reasons (what-if)'],
            rows.map((r) => [
              `v${r.version}`,
              r.runId.slice(0, 18),
              r.championVersion === null ? '(none)' : `v${r.championVersion}`,
              `${r.recorded.verdict} (${r.recorded.decision})`,
              r.whatIf.verdict === 'PASS' ? pc.green('PASS') : pc.red('REJECT'),
              r.changed ? pc.bold('changed') : '',
              (r.whatIf.verdict === 'PASS' ? r.whatIf.rules : r.whatIf.rules.filter((x) => !x.passed)).map((x) => x.reason).join('; '),
            ]),
          ),
        );
        console.log(
          changed.length === 0
            ? 'no decision would have changed'
            : `${changed.length} of ${rows.length} decisions would have changed: ${changed.map((r) => `v${r.version} ${r.recorded.verdict} → ${r.whatIf.verdict}`).join(', ')}`,
        );
        console.log(pc.dim('each run is judged against the champion it actually faced; nothing was moved'));
      } finally {
        await registry.close();
      }
    });
}
