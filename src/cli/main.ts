import { Command, CommanderError, Option } from 'commander';
import pc from 'picocolors';
import { RelearnError } from '../errors';
import { registerCommands } from './commands';
import { registerInitCommand } from './init';

/** Exit code for usage and config errors. */
export const EXIT_USAGE = 2;

/** Runs the CLI; errors a user can fix are one line on stderr with exit code 2, never a stack trace. */
export async function main(argv: string[]): Promise<void> {
  const program = new Command('relearn')
    .description('Retraining pipelines for production ML models, on Temporal')
    .addOption(new Option('-c, --config <file>', 'the pipeline config').env('RELEARN_CONFIG').default('temporal.yaml'))
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  // First in --help: a new model starts here.
  registerInitCommand(program);
  registerCommands(program);
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version end here with code 0; usage mistakes were already printed by commander.
      process.exitCode = err.exitCode === 0 ? 0 : EXIT_USAGE;
      return;
    }
    if (err instanceof RelearnError) {
      console.error(`${pc.red('error')} ${err.message}`);
      process.exitCode = EXIT_USAGE;
      return;
    }
    console.error(`${pc.red('error')} ${err instanceof Error ? err.message : String(err)}`);
    if (process.env.RELEARN_DEBUG && err instanceof Error) console.error(err.stack);
    process.exitCode = 1;
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await main(process.argv);
}
