// The compare-and-set rule of an alias move, as a pure function of what the transaction read: both backends read the
// same facts inside their write transaction and apply the plan, so they cannot decide differently.
import { ConfigError } from '../errors';
import type { AuditAction, MoveAliasResult } from './schemas';

/** One alias move as the registry performs it: a move, a promotion's step, or a rollback. */
export interface AliasMove {
  model: string;
  alias: string;
  toVersion: number | null;
  expectedVersion: number | null;
  reason: string;
  workflowId: string;
  runId: string;
  action: 'move' | 'promote' | 'rollback';
  /** The call's single clock reading. */
  at: string;
}

/** What the write transaction read before deciding. */
export interface AliasMoveFacts {
  /** The registry's location, for messages. */
  location: string;
  /** Whether `toVersion` is a registered version (true when the move unsets the alias). */
  targetExists: boolean;
  /** The model's latest version, null when it has none. */
  latestVersion: number | null;
  /** Where the alias points now. */
  current: number | null;
  /** This run's earlier audit rows for this alias, oldest first. */
  runRows: ReadonlyArray<{ action: string; fromVersion: number | null; toVersion: number | null }>;
}

/** Result of a compare-and-set; `changed` tells promote whether to move `previous` too. */
export interface AliasMoveOutcome extends MoveAliasResult {
  changed: boolean;
  fromVersion: number | null;
}

/** What to write: the alias's new value (null: unset it) and one audit row, either or both absent. */
export interface AliasMovePlan {
  outcome: AliasMoveOutcome;
  alias?: { toVersion: number | null };
  audit?: { action: AuditAction; fromVersion: number | null; toVersion: number | null; reason: string };
}

/** Decides an alias move from the facts read in its transaction; throws ConfigError for a version that does not exist. */
export function planAliasMove(move: AliasMove, facts: AliasMoveFacts): AliasMovePlan {
  const { model, alias, toVersion, expectedVersion, action } = move;
  const { current, latestVersion } = facts;
  if (!facts.targetExists) {
    throw new ConfigError(
      `registry ${facts.location}: model ${JSON.stringify(model)} has no version ${String(toVersion)} ` +
        `(${latestVersion === null ? 'no versions registered' : `versions are 1..${latestVersion}`}); cannot ${action} ${alias}`,
    );
  }
  const recorded = (a: string, from: number | null): boolean =>
    facts.runRows.some((r) => r.action === a && r.toVersion === toVersion && r.fromVersion === from);

  // A retry of this run's own move: the effect already happened, so report it and write nothing.
  // Keyed by the expected version too: one run may move the same alias to the same place twice on purpose (the
  // shadow alias is cleared after the shadow window and again after the guard window).
  if (recorded(action, expectedVersion)) {
    const reason =
      current === toVersion
        ? `${alias} is ${versionLabel(toVersion)} (already moved by this run)`
        : `this run already moved ${alias} to ${versionLabel(toVersion)}; it has since moved to ${versionLabel(current)}`;
    return { outcome: { moved: true, changed: false, version: current, fromVersion: current, reason } };
  }

  if (current !== expectedVersion) {
    // Moved by someone else since the caller looked: the loss is recorded once per run, and nothing else changes.
    const reason = `${alias} is ${versionLabel(current)}, expected ${versionLabel(expectedVersion)} (moved by someone else)`;
    const rejected: AuditAction = `${action}-rejected`;
    const outcome = { moved: false, changed: false, version: current, fromVersion: current, reason };
    if (recorded(rejected, current)) return { outcome };
    return { outcome, audit: { action: rejected, fromVersion: current, toVersion, reason: `${reason}; requested: ${move.reason}` } };
  }

  if (current === toVersion) {
    return { outcome: { moved: true, changed: false, version: current, fromVersion: current, reason: `${alias} is already ${versionLabel(current)}` } };
  }

  return {
    outcome: { moved: true, changed: true, version: toVersion, fromVersion: current, reason: `${alias} moved from ${versionLabel(current)} to ${versionLabel(toVersion)}` },
    alias: { toVersion },
    audit: { action, fromVersion: current, toVersion, reason: move.reason },
  };
}

function versionLabel(version: number | null): string {
  return version === null ? 'unset' : `v${version}`;
}
