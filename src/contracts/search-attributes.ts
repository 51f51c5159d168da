// Search attribute names are part of the contract between workflows (which upsert them), the CLI (which queries
// them) and the set-up (which registers them on the server).
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/** The model a run retrains. */
export const RelearnModel = defineSearchAttributeKey('RelearnModel', SearchAttributeType.KEYWORD);
/** The stage the run is in (pull, split, train, export, evaluate, gate, register, promote, done). */
export const RelearnStage = defineSearchAttributeKey('RelearnStage', SearchAttributeType.KEYWORD);
/** What started the run: schedule | drift | estimated-performance | manual | api. */
export const RelearnTrigger = defineSearchAttributeKey('RelearnTrigger', SearchAttributeType.KEYWORD);
/** The outcome: promoted | rejected | rolled-back | failed. */
export const RelearnDecision = defineSearchAttributeKey('RelearnDecision', SearchAttributeType.KEYWORD);
/** The registry version the run produced. */
export const RelearnVersion = defineSearchAttributeKey('RelearnVersion', SearchAttributeType.INT);
/** The candidate's primary metric (cross-validated mean). */
export const RelearnPrimaryMetric = defineSearchAttributeKey('RelearnPrimaryMetric', SearchAttributeType.DOUBLE);

/** Every search attribute Relearn registers, with its type for the server's registration call. */
export const RELEARN_SEARCH_ATTRIBUTES = [
  RelearnModel,
  RelearnStage,
  RelearnTrigger,
  RelearnDecision,
  RelearnVersion,
  RelearnPrimaryMetric,
] as const;
