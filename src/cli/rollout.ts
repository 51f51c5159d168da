import os from 'node:os';
import path from 'node:path';
import { WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import type { Command } from 'commander';
import pc from 'picocolors';
import { loadConfig, modelConfig } from '../config';
import { ConfigError } from '../errors';
import { CHAMPION_ALIAS, PREVIOUS_ALIAS, openRegistry } from '../registry';
import { connectClient } from '../temporal/connection';
import {
  approveUpdate,
  rejectUpdate,
  retrainWorkflowId,
  rollbackUpdate,
  type ManualDecisionInput,
  type RetrainStatus,
} from '../contracts';

type Action = 'approve' | 'reject' | 'rollback';

const UPDATES = { approve: approveUpdate, reject: rejectUpdate, rollback: rollbackUpdate } as const;

interface ManualOpts {
  reason?: string;
  by?: string;
  to?: string;
}

/** Sends a manual decision to the model's running retrain; undefined when no run of the model is open. */
async function sendToRun(
  cmd: Command,
  model: string,
  action: Action,
  input: ManualDecisionInput,
): Promise<{ message: string } | { refused: string } | undefined> {
  const loaded = loadConfig(cmd.optsWithGlobals<{ config: string }>().config);
  modelConfig(loaded, model);
  const { client, close } = await connectClient(loaded);
  try {
    const handle = client.workflow.getHandle(retrainWorkflowId(model));
    let running: boolean;
    try {
      running = (await handle.describe()).status.name === 'RUNNING';
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return undefined;
      throw err;
    }
    if (!running) return undefined;
    try {
      return { message: await handle.executeUpdate(UPDATES[action], { args: [input] }) };
    } catch (err) {
      if (err instanceof WorkflowUpdateFailedError) {
        const cause = err.cause instanceof Error ? err.cause.message : err.message;
        const status = await handle.query<RetrainStatus>('status').catch(() => undefined);
        return { refused: `${cause}${status ? ` (now: ${status.stage} — ${status.detail})` : ''}` };
      }
      throw err;
    }
  } finally {
    await close();
  }
}

/** Rolls the champion back in the registry when no run of the model is in its guard window. */
async function rollbackInRegistry(cmd: Command, model: string, opts: ManualOpts, by: string): Promise<string> {
  const loaded = loadConfig(cmd.optsWithGlobals<{ config: string }>().config);
  const cfg = modelConfig(loaded, model);
  const registryModel = cfg.registryModel ?? model;
  const registry = openRegistry(loaded);
  try {
    const champion = await registry.getAlias(registryModel, CHAMPION_ALIAS);
    if (champion === null) throw new Error(`${registryModel} has no champion; nothing to roll back`);
    let target: number;
    if (opts.to !== undefined) {
      const m = /^v?(\d+)$/.exec(opts.to);
      if (m === null) throw new ConfigError(`--to: '${opts.to}' is not a version (expected e.g. 3 or v3)`);
      target = Number(m[1]);
    } else {
      const previous = await registry.getAlias(registryModel, PREVIOUS_ALIAS);
      if (previous === null) throw new Error(`${registryModel} has no previous champion; name the version with --to`);
      target = previous.version;
    }
    if (target === champion.version) return `${registryModel}: champion is already v${target}; nothing moved`;
    const moved = await registry.moveAlias({
      model: registryModel,
      alias: CHAMPION_ALIAS,
      toVersion: target,
      expectedVersion: champion.version,
      reason: `manual rollback by ${by}${opts.reason ? `: ${opts.reason}` : ''}`,
      workflowId: 'cli',
      runId: `rollback-${new Date().toISOString()}-${process.pid}`,
      action: 'rollback',
    });
    if (!moved.moved) throw new Error(`${registryModel}: rollback lost a race: ${moved.reason}; run it again to roll back from the new champion`);
    return `${registryModel}: champion v${champion.version} → v${target} (${moved.reason}); the audit log has the reason`;
  } finally {
    await registry.close();
  }
}

/**
 * `relearn approve|reject|rollback <model>`: a person's decision for a run waiting on live traffic or approval.
 * Rollback also works with no run open: it moves the champion back to the previous version in the registry.
 */
export function registerRolloutCommands(program: Command): void {
  const describe: Record<Action, string> = {
    approve: "promote the candidate of <model>'s running retrain now (in its shadow window or while it waits for approval)",
    reject: "reject the candidate of <model>'s running retrain now (in its shadow window or while it waits for approval)",
    rollback: "roll <model>'s champion back: the running retrain's guard window decides at once, or with no run open the registry moves the champion to the previous version (or --to)",
  };
  for (const action of ['approve', 'reject', 'rollback'] as const) {
    const command = program
      .command(action)
      .description(describe[action])
      .argument('<model>', 'model name')
      .option('--reason <text>', 'why; kept in the run result, the registry and the audit log')
      .option('--by <name>', 'who decides (default: the OS user)');
    if (action === 'rollback') command.option('--to <version>', 'with no run open: the version to restore (default: the previous champion)');
    command.action(async (model: string, opts: ManualOpts, cmd: Command) => {
      const by = opts.by ?? os.userInfo().username;
      const input: ManualDecisionInput = { by, ...(opts.reason ? { reason: opts.reason } : {}) };
      const sent = await sendToRun(cmd, model, action, input);
      if (sent !== undefined && 'message' in sent) {
        console.log(`${pc.green(action)}: ${sent.message}`);
        return;
      }
      if (action === 'rollback') {
        // No run is in its guard window: the registry moves the champion itself (compare-and-set, audited). A run that
        // is still before its promotion then loses its compare-and-set and says so.
        if (sent !== undefined) console.log(pc.dim(`the open run does not take it (${sent.refused}); rolling back in the registry`));
        console.log(`${pc.yellow('rollback')}: ${await rollbackInRegistry(cmd, model, opts, by)}`);
        return;
      }
      if (sent === undefined) throw new Error(`no run of ${model} is open; ${action} applies to a run in its shadow window or waiting for approval`);
      throw new Error(sent.refused);
    });
  }
}
