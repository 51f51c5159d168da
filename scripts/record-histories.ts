// Records workflow histories for the replay test (test/replay/): real runs on the test dev server with the real
// trainer, saved as JSON under test/histories/<workflowType>/<name>.json. Run again when a workflow changes in a
// compatible way, with the change behind `patched()` (keep the old histories: they prove old runs still replay).
//   npx tsx scripts/record-histories.ts --tag <tag>          record every workflow type that has a recorder below, as
//                                                            <name>-<tag>.json beside the old files (e.g. the patch name)
//   npx tsx scripts/record-histories.ts --tag <tag> retrain  only these workflow types
//   --overwrite                                              replace existing files instead of refusing
//   npx tsx scripts/record-histories.ts --run <workflowId> [--run-id <id>] --name <name>
//                                                            save the history of a run that already happened on the
//                                                            test dev server (any workflow type, e.g. one a test started)
//   npx tsx scripts/record-histories.ts --scrub-existing     rewrite the saved histories without the recording
//                                                            checkout's folder in their payloads (see scrubPayloads)
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { temporal } from '@temporalio/proto';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import type { LoadedConfig } from '../src/config';
import { RELEARN_ROOT } from '../src/paths';
import { connectClient } from '../src/temporal/connection';
import { runPipeline, smallFlightsModel, testConfig } from '../test/helpers/pipeline-env';

const OUT = path.join(RELEARN_ROOT, 'test', 'histories');

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    run: { type: 'string' },
    'run-id': { type: 'string' },
    name: { type: 'string' },
    tag: { type: 'string' },
    overwrite: { type: 'boolean', default: false },
    'scrub-existing': { type: 'boolean', default: false },
  },
});

/**
 * A checkout's folder as it appears in a payload: the one recording now, and any other absolute folder that holds the
 * project's node_modules (a history recorded from another checkout). Activity and child inputs are data to a replay,
 * which compares commands only, so rewriting them keeps every history replaying.
 */
const CHECKOUT_PREFIX = /(?<=")\/[^"\\\s]*?\/(?=node_modules\/)/g;

/**
 * The history as JSON with the recording checkout's folder made relative inside every payload (base64 JSON), so a
 * saved history names no folder of the machine that recorded it.
 */
function scrubPayloads(json: string): string {
  return json.replace(/("data":\s*")([A-Za-z0-9+/=]+)"/g, (whole, key: string, data: string) => {
    const text = Buffer.from(data, 'base64').toString('utf8');
    const scrubbed = text.split(`${RELEARN_ROOT}/`).join('').replace(CHECKOUT_PREFIX, '');
    return scrubbed === text ? whole : `${key}${Buffer.from(scrubbed, 'utf8').toString('base64')}"`;
  });
}

/** Writes a history to test/histories/<its workflow type>/<name>[-<tag>].json; old histories are kept unless --overwrite. */
function save(name: string, history: temporal.api.history.v1.IHistory): void {
  const type = history.events?.[0]?.workflowExecutionStartedEventAttributes?.workflowType?.name;
  if (!type) throw new Error(`${name}: the history has no WorkflowExecutionStarted event`);
  const file = path.join(OUT, type, `${name}${values.tag ? `-${values.tag}` : ''}.json`);
  if (existsSync(file) && !values.overwrite) {
    throw new Error(`${path.relative(RELEARN_ROOT, file)} exists: it records a run of older code, which must keep replaying; pass --tag <tag> (or --overwrite)`);
  }
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, `${scrubPayloads(historyToJSON(history))}\n`);
  console.log(`${path.relative(RELEARN_ROOT, file)}: ${history.events?.length} events`);
}

async function fetchAndSave(loaded: LoadedConfig, name: string, workflowId: string, runId?: string): Promise<void> {
  const { client, close } = await connectClient(loaded);
  try {
    save(name, await client.workflow.getHandle(workflowId, runId).fetchHistory());
  } finally {
    await close();
  }
}

async function recordRetrain(loaded: LoadedConfig, name: string, model: string, window?: { from: string; to: string }): Promise<void> {
  const outcome = await runPipeline(loaded, model, { window });
  console.log(`${name}: ${outcome.result ? outcome.result.decision : `failed: ${outcome.failureType}`}`);
  await fetchAndSave(loaded, name, outcome.workflowId, outcome.runId);
}

/** One recorder per workflow type: runs that cover its main paths (first run, against a champion, a failure). */
const RECORDERS: Record<string, () => Promise<void>> = {
  async retrain() {
    const model = 'replay-flights';
    const base = smallFlightsModel();
    const loaded = await testConfig({
      [model]: base,
      'replay-bad-params': { ...base, trainer: { ...(base.trainer as object), params: { not_a_param: 1 } } },
    });
    await recordRetrain(loaded, 'first-promoted', model);
    await recordRetrain(loaded, 'vs-champion', model, { from: '2001-03-01', to: '2001-03-08' });
    await recordRetrain(loaded, 'failed-bad-params', 'replay-bad-params');
  },
  /** A run with a grid search where half the trials fail (an l1 penalty lbfgs rejects): the run, its search, one trial. */
  async searchTrials() {
    const model = 'replay-search';
    const base = smallFlightsModel() as { split: Record<string, unknown> };
    const search = { strategy: 'grid', budget: 4, maxParallel: 2, space: { C: [0.01, 1], penalty: ['l1', 'l2'] } };
    const loaded = await testConfig({ [model]: { ...base, split: { ...base.split, folds: 2 }, search } });
    const outcome = await runPipeline(loaded, model);
    const result = outcome.result;
    if (!result?.search) throw new Error(`the search run did not finish: ${outcome.failure}`);
    const searchId = `${outcome.workflowId}/${outcome.runId}/search`;
    await fetchAndSave(loaded, 'with-grid-search', outcome.workflowId, outcome.runId);
    await fetchAndSave(loaded, 'grid-some-trials-failed', searchId);
    await fetchAndSave(loaded, 'fold-jobs-scored', `${searchId}/trial-${result.search.best.id}`);
  },
};

if (values['scrub-existing']) {
  for (const entry of readdirSync(OUT, { recursive: true }).map(String).filter((f) => f.endsWith('.json'))) {
    const file = path.join(OUT, entry);
    const before = readFileSync(file, 'utf8');
    const after = scrubPayloads(before.trimEnd());
    if (after !== before.trimEnd()) {
      writeFileSync(file, `${after}\n`);
      console.log(`${path.relative(RELEARN_ROOT, file)}: scrubbed`);
    }
  }
} else if (values.run) {
  if (!values.name) throw new Error('--run needs --name <name> (the file name under test/histories/<workflowType>/)');
  await fetchAndSave(await testConfig({}), values.name, values.run, values['run-id']);
} else {
  const unknown = positionals.filter((type) => !RECORDERS[type]);
  if (unknown.length > 0) {
    throw new Error(`no recorder for ${unknown.join(', ')} (known: ${Object.keys(RECORDERS).join(', ')}); use --run <workflowId> --name <name>`);
  }
  for (const type of positionals.length > 0 ? positionals : Object.keys(RECORDERS)) await RECORDERS[type]!();
}
