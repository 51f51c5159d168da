// Records workflow histories for the replay test (test/replay/): real runs on the dev server with the real trainer,
// saved as JSON. Run again when the workflow changes in a compatible way, with the change behind `patched()`:
//   npx tsx scripts/record-histories.ts
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { RELEARN_ROOT } from '../src/paths';
import { connectClient } from '../src/temporal/connection';
import { runPipeline, smallFlightsModel, testConfig } from '../test/helpers/pipeline-env';

const OUT = path.join(RELEARN_ROOT, 'test', 'histories');

async function record(name: string, loaded: Awaited<ReturnType<typeof testConfig>>, model: string, window?: { from: string; to: string }) {
  const outcome = await runPipeline(loaded, model, { window });
  const { client, close } = await connectClient(loaded);
  try {
    const history = await client.workflow.getHandle(outcome.workflowId, outcome.runId).fetchHistory();
    writeFileSync(path.join(OUT, `${name}.json`), `${historyToJSON(history)}\n`);
    console.log(`${name}: ${history.events?.length} events, ${outcome.result ? outcome.result.decision : `failed: ${outcome.failureType}`}`);
  } finally {
    await close();
  }
}

const model = 'replay-flights';
const base = smallFlightsModel();
const loaded = await testConfig({
  [model]: base,
  'replay-bad-params': { ...base, trainer: { ...(base.trainer as object), params: { not_a_param: 1 } } },
});
await record('retrain-first-promoted', loaded, model);
await record('retrain-vs-champion', loaded, model, { from: '2001-03-01', to: '2001-03-08' });
await record('retrain-failed-bad-params', loaded, 'replay-bad-params');
