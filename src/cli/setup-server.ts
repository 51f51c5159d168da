import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import pc from 'picocolors';
import { loadConfig } from '../config';
import { ConfigError } from '../errors';
import { namesRemoteServer, registerServerSearchAttributes } from '../setup/server';

/**
 * The server step of `relearn setup`: registers the search attributes when the config names a server. Plain `setup`
 * skips it quietly where there is no config file or no address (the embedded dev server registers them at start);
 * `setup --server` insists.
 */
export async function setupServer(cmd: Command, required: boolean): Promise<void> {
  const file = cmd.optsWithGlobals<{ config: string }>().config;
  if (!required && !existsSync(file)) return;
  const loaded = loadConfig(file);
  if (!namesRemoteServer(loaded)) {
    if (required) throw new ConfigError(`${file}: temporal.address: no server is named (the embedded dev server registers the search attributes when it starts)`);
    console.log(pc.dim('search attributes: registered by the embedded dev server when it starts'));
    return;
  }
  const r = await registerServerSearchAttributes(loaded);
  console.log(
    r.added.length > 0
      ? `${pc.green('✔')} search attributes registered in namespace ${r.namespace} on ${r.address}: ${r.added.join(', ')}`
      : `${pc.green('✔')} search attributes already registered in namespace ${r.namespace} on ${r.address}`,
  );
}
