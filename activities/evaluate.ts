import { Context } from '@temporalio/activity';
import type { Table } from 'apache-arrow';
import type { ModelConfig } from '../src/config/schema';
import { DataContractError, failFast } from '../src/errors';
import { computeMetrics, summarizeFolds } from '../src/metrics';
import { openSession, scoreRows } from '../src/onnx';
import { foldsFromTable } from '../src/split';
import { type ActivityDeps, readTable } from './deps';
import type { ArtifactRef, Evaluation, MetricSummary } from '../src/contracts';

type Classes = Array<string | number | boolean> | undefined;

/** Label column → class indices in the order of the model's `classes` (or float targets for regression). */
function targets(table: Table, label: string, rows: Int32Array, task: ModelConfig['task'], classes: Classes): Int32Array | Float64Array {
  const column = table.getChild(label);
  if (!column) throw new DataContractError(`snapshot has no label column '${label}'`);
  if (task === 'regression') {
    const out = new Float64Array(rows.length);
    for (let i = 0; i < rows.length; i++) out[i] = Number(column.get(rows[i]!));
    return out;
  }
  if (!classes || classes.length === 0) throw new DataContractError(`classifier for label '${label}' reported no classes in status.json`);
  const index = new Map(classes.map((c, i) => [String(c), i]));
  const out = new Int32Array(rows.length);
  for (let i = 0; i < rows.length; i++) {
    const value = column.get(rows[i]!);
    const k = index.get(String(typeof value === 'bigint' ? Number(value) : value));
    // A label the model never saw counts as a wrong answer for every row it appears in: class -1 matches nothing.
    out[i] = k ?? -1;
  }
  return out;
}

function rowsWhere(fold: Int8Array, value: number): Int32Array {
  let n = 0;
  for (let i = 0; i < fold.length; i++) if (fold[i] === value) n++;
  const rows = new Int32Array(n);
  let j = 0;
  for (let i = 0; i < fold.length; i++) if (fold[i] === value) rows[j++] = i;
  return rows;
}

/** Evaluation activities: every number a decision uses is computed here, by onnxruntime on the stored ONNX bytes. */
export function createEvaluationActivities(deps: ActivityDeps) {
  async function scoreModel(opts: {
    artifact: ArtifactRef;
    table: Table;
    rows: Int32Array;
    task: ModelConfig['task'];
    features: ModelConfig['features'];
    label: string;
    classes: Classes;
    onProgress?: (done: number) => void;
  }): Promise<Record<string, number>> {
    const session = await openSession(await deps.store.readVerified(opts.artifact));
    const scored = await scoreRows({
      session,
      table: opts.table,
      rows: opts.rows,
      features: opts.features,
      task: opts.task,
      onProgress: opts.onProgress,
    });
    const y = targets(opts.table, opts.label, opts.rows, opts.task, opts.classes);
    if (opts.task === 'regression') {
      return { ...computeMetrics('regression', y as Float64Array, scored.predictions!) };
    }
    const nClasses = scored.numClasses ?? opts.classes?.length ?? 2;
    return { ...computeMetrics(opts.task, y as Int32Array, scored.probabilities!, nClasses) };
  }

  return {
    /** Scores each fold model on its held-out fold, then the candidate (and champion) on the holdout. */
    async crossValidate(input: {
      task: ModelConfig['task'];
      snapshot: ArtifactRef;
      split: ArtifactRef;
      label: string;
      features: ModelConfig['features'];
      folds: Array<{ fold: number; artifact: ArtifactRef; classes?: Classes }>;
      /** The model for the holdout; a search trial has none and scores its folds only. */
      candidate?: ArtifactRef;
      classes: Classes;
      champion?: { artifact: ArtifactRef; classes: Classes };
    }): Promise<Evaluation> {
      return failFast(async () => {
        const ctx = Context.current();
        const table = await readTable(deps, input.snapshot);
        const fold = foldsFromTable(await readTable(deps, input.split));
        if (fold.length !== table.numRows) {
          throw new DataContractError(`split has ${fold.length} rows but the snapshot has ${table.numRows}`);
        }
        let rowsScored = 0;
        const perFold: Array<Record<string, number>> = [];
        for (const f of input.folds) {
          const rows = rowsWhere(fold, f.fold);
          perFold.push(
            await scoreModel({
              ...input,
              artifact: f.artifact,
              table,
              rows,
              classes: f.classes ?? input.classes,
              onProgress: (done) => ctx.heartbeat({ stage: `fold ${f.fold}`, rows: rowsScored + done }),
            }),
          );
          rowsScored += rows.length;
          ctx.heartbeat({ stage: `fold ${f.fold} done`, rows: rowsScored });
        }
        const summary: Record<string, MetricSummary> = {};
        for (const metric of Object.keys(perFold[0] ?? {})) {
          const s = summarizeFolds(perFold.map((m) => m[metric]!));
          summary[metric] = { mean: s.mean, std: s.std, ciLow: s.ciLow, ciHigh: s.ciHigh };
        }
        if (!input.candidate) return { perFold, summary, holdout: { rows: 0, candidate: {} }, rowsScored };
        const holdoutRows = rowsWhere(fold, -1);
        const candidate = await scoreModel({ ...input, artifact: input.candidate, table, rows: holdoutRows, classes: input.classes });
        rowsScored += holdoutRows.length;
        let champion: Record<string, number> | undefined;
        if (input.champion) {
          champion = await scoreModel({ ...input, artifact: input.champion.artifact, table, rows: holdoutRows, classes: input.champion.classes });
          rowsScored += holdoutRows.length;
        }
        return { perFold, summary, holdout: { rows: holdoutRows.length, candidate, champion }, rowsScored };
      });
    },
  };
}
