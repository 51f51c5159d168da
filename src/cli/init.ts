import path from 'node:path';
import { createInterface } from 'node:readline/promises';
import { type Command, Option } from 'commander';
import pc from 'picocolors';
import { DEFAULT_PRIMARY_METRIC } from '../contracts';
import type { SourceFormat } from '../data';
import { RelearnError } from '../errors';
import { type Proposal, type Task, modelBlock, planConfig, profileFile, proposeModel, sourcePathFor, writeModel } from '../init';

/** Flags of `relearn init`. */
export interface InitOptions {
  model: string;
  data: string;
  configPath: string;
  label?: string | undefined;
  task?: Task | undefined;
  time?: string | undefined;
  format?: SourceFormat | undefined;
  force?: boolean | undefined;
  /** Print JSON instead of text. */
  json?: boolean | undefined;
}

/** How `init` talks to a person: `ask` is set only when there is one to ask. */
export interface InitIo {
  print: (line: string) => void;
  ask?: ((question: string) => Promise<string>) | undefined;
}

/** What `init` did. */
export interface InitResult {
  written: boolean;
  created: boolean;
  replaced: boolean;
  proposal: Proposal;
  block: Record<string, unknown>;
  next: string;
}

function list(names: readonly string[]): string {
  return names.length > 0 ? names.join(', ') : '(none)';
}

function quote(v: string | number | boolean): string {
  return typeof v === 'string' ? `'${v}'` : String(v);
}

function assumptionLines(p: Proposal, rows: number): string[] {
  const lines = [
    `  label      ${p.label.value} — ${p.label.why}`,
    `  task       ${p.task.value} — ${p.task.why}${p.task.given || !p.classes ? '' : `: ${p.classes.map(quote).join(', ')}`}`,
  ];
  if (p.task.value === 'binary' && p.classes?.length === 2) {
    lines.push(`  classes    ${p.classes.map(quote).join(', ')}; class 1, the positive one for precision, recall, F1 and ROC AUC: ${quote(p.classes[1]!)}`);
  }
  lines.push(`  time       ${p.time.value} — ${p.time.why}`);
  lines.push(`  features   numeric: ${list(p.features.numeric)}`);
  lines.push(`             categorical: ${list(p.features.categorical)}${p.features.categorical.length > 0 ? ' (one-hot encoded inside the ONNX graph)' : ''}`);
  if (p.excluded.length === 0) lines.push('  excluded   (none)');
  p.excluded.forEach((e, i) => lines.push(`  ${i === 0 ? 'excluded' : '        '}   ${e.name} — ${e.why}`));
  const columns = Object.entries(p.contract.columns);
  const nullable = columns.filter(([, c]) => c.nullable).map(([n]) => n);
  const nonNegative = columns.filter(([, c]) => c.min === 0).map(([n]) => n);
  const allowed = columns.filter(([, c]) => c.allowed);
  lines.push(`  contract   at least ${p.contract.minRows.toLocaleString('en-US')} rows (the file has ${rows.toLocaleString('en-US')}); every column's type as read`);
  lines.push(`             may be null (nulls seen): ${list(nullable)}`);
  lines.push(`             min 0 (no value below 0 seen): ${list(nonNegative)}`);
  for (const [name, c] of allowed) lines.push(`             ${name} only ${c.allowed!.map(quote).join(', ')}`);
  lines.push(
    `  trainer    ${p.estimator}; gate: primary metric ${DEFAULT_PRIMARY_METRIC[p.task.value]} (the default for ${p.task.value}), no minimums, so the first run that passes its checks becomes champion`,
  );
  return lines;
}

/** The command that runs the model, with --config when the config is not the one found by default. */
function nextCommand(model: string, configPath: string): string {
  const found = path.resolve(process.env.RELEARN_CONFIG ?? 'temporal.yaml');
  const flag = path.resolve(configPath) === found ? '' : ` --config ${path.relative(process.cwd(), configPath) || configPath}`;
  return `npx relearn run ${model} --wait${flag}`;
}

/** Proposes a model from a data file, asks what it may ask, and writes the model's block into temporal.yaml. */
export async function runInit(options: InitOptions, io: InitIo): Promise<InitResult> {
  const plan = planConfig(options.configPath, options.model, Boolean(options.force));
  const dataFile = path.resolve(options.data);
  const sourcePath = sourcePathFor(plan, dataFile);
  // The path as given, so messages name the file as the user wrote it.
  const profile = await profileFile(options.data, options.format);
  const flags = { label: options.label, task: options.task, time: options.time };
  let proposal = proposeModel(profile, flags);
  if (io.ask && options.label === undefined) {
    for (let attempt = 0; ; attempt++) {
      const answer = (await io.ask(`label [${proposal.label.value}]: `)).trim();
      if (answer === '' || answer === proposal.label.value) break;
      try {
        proposal = proposeModel(profile, { ...flags, label: answer });
        break;
      } catch (err) {
        if (!(err instanceof RelearnError) || attempt >= 2) throw err;
        io.print(`${pc.red('error')} ${err.message}`);
      }
    }
  }
  const block = modelBlock(
    proposal,
    { path: sourcePath, format: options.format },
    `${proposal.task.value} model of '${proposal.label.value}' in ${path.basename(dataFile)} (written by relearn init)`,
  );
  const next = nextCommand(options.model, plan.configPath);
  const result: InitResult = { written: false, created: plan.create, replaced: false, proposal, block, next };

  if (!options.json) {
    io.print(`read ${options.data} (${profile.format}): ${profile.rows.toLocaleString('en-US')} rows, ${profile.columns.length} columns`);
    for (const line of assumptionLines(proposal, profile.rows)) io.print(line);
    for (const warning of proposal.warnings) io.print(`${pc.yellow('warning')} ${warning}`);
  }
  if (io.ask) {
    const answer = (await io.ask(`write models.${options.model} to ${plan.file}? [Y/n] `)).trim().toLowerCase();
    if (answer !== '' && !answer.startsWith('y')) {
      io.print('nothing written');
      return result;
    }
  }
  const written = writeModel(plan, options.model, block);
  Object.assign(result, { written: true, replaced: written.replaced });
  if (options.json) {
    io.print(JSON.stringify({ model: options.model, config: plan.configPath, ...result }, null, 2));
  } else {
    const how = plan.create ? ' (a new file with the Temporal defaults)' : written.replaced ? ' (replacing the model of that name)' : '';
    io.print(`${pc.green('wrote')} models.${options.model} to ${path.relative(process.cwd(), plan.configPath) || plan.file}${how}`);
    io.print(`next: ${pc.bold(next)}`);
  }
  return result;
}

/** Registers `relearn init`. */
export function registerInitCommand(program: Command): void {
  program
    .command('init')
    .description('propose a model from a data file (label, task, features, time column, data contract) and write its block into temporal.yaml')
    .argument('<model>', 'name of the new model (lowercase letters, digits, dashes)')
    .requiredOption('--data <file>', 'the data file: CSV, Parquet, Arrow IPC or JSON (array of objects or one object per line)')
    .option('--label <column>', 'the column to predict (default: the last column that can be one)')
    .addOption(new Option('--task <task>', 'the kind of model (default: from the label’s type and distinct values)').choices(['binary', 'multiclass', 'regression']))
    .option('--time <column>', 'the date/timestamp column that orders the rows (default: the first complete one)')
    .addOption(new Option('--format <format>', 'the data file’s format (default: from its extension)').choices(['csv', 'parquet', 'arrow', 'json']))
    .option('--force', 'replace a model of that name in the config')
    .option('-y, --yes', 'ask nothing: take every proposal as it is')
    .option('--json', 'print the proposal and the block written as JSON')
    .action(
      async (
        model: string,
        opts: { data: string; label?: string; task?: Task; time?: string; format?: SourceFormat; force?: boolean; yes?: boolean; json?: boolean },
        cmd: Command,
      ) => {
        const interactive = Boolean(process.stdin.isTTY && process.stdout.isTTY) && !opts.yes && !opts.json;
        const readline = interactive ? createInterface({ input: process.stdin, output: process.stdout }) : undefined;
        try {
          await runInit(
            { model, configPath: cmd.optsWithGlobals<{ config: string }>().config, ...opts },
            { print: (line) => console.log(line), ask: readline ? (q) => readline.question(q) : undefined },
          );
        } finally {
          readline?.close();
        }
      },
    );
}
