// Renders the estimator matrix that test/trainers/estimator-matrix.test.ts measured (every estimator × task × real
// dataset, ONNX parity max |Δ|) into docs/estimators.md, between its `estimator-matrix` markers.
//   npx tsx scripts/estimator-matrix-report.ts [<estimator-matrix.json>] [--out <file>]
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { RELEARN_ROOT } from '../src/paths';

const TASKS = ['binary', 'multiclass', 'regression'] as const;
const START = '<!-- estimator-matrix:start (written by scripts/estimator-matrix-report.ts) -->';
const END = '<!-- estimator-matrix:end -->';

const cellSchema = z.object({
  dataset: z.string(),
  task: z.enum(TASKS),
  estimator: z.string(),
  label: z.string(),
  what: z.string(),
  snapshotRows: z.number().int(),
  trainRows: z.number().int(),
  probeRows: z.number().int(),
  features: z.object({ numeric: z.number().int(), categorical: z.number().int() }),
  maxAbsDiff: z.number().nullable(),
  maxScaledDiff: z.number().nullable(),
  scale: z.number().nullable(),
  tolerance: z.number(),
  passed: z.boolean(),
  error: z.string().optional(),
  trainSeconds: z.number(),
});
const resultsSchema = z.object({ at: z.string(), versions: z.record(z.string(), z.string()), cells: z.array(cellSchema) });
type Cell = z.infer<typeof cellSchema>;

function parseArgs(argv: string[]): { input: string; out: string } {
  let input = process.env.RELEARN_ESTIMATOR_MATRIX ?? path.join(RELEARN_ROOT, '.relearn-test', 'estimator-matrix.json');
  let out = path.join(RELEARN_ROOT, 'docs', 'estimators.md');
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--out') out = path.resolve(argv[++i] ?? out);
    else input = path.resolve(argv[i]!);
  }
  return { input, out };
}

function exp(value: number): string {
  return value === 0 ? '0' : value.toExponential(1);
}

/** max |Δ| with two significant digits, and the relative figure the tolerance bounds where predictions exceed 1. */
function formatDiff(cell: Cell): string {
  if (!cell.passed) return '**fails** (below)';
  const abs = cell.maxAbsDiff ?? 0;
  const scaled = cell.maxScaledDiff ?? abs;
  return scaled < abs ? `${exp(abs)} (${exp(scaled)} rel.)` : exp(abs);
}

function render(results: z.infer<typeof resultsSchema>): string {
  const { cells } = results;
  const datasets = [...new Set(cells.map((c) => c.dataset))];
  const estimators = [...new Set(cells.map((c) => c.estimator))].sort();
  const columns = datasets.flatMap((dataset) =>
    TASKS.filter((task) => cells.some((c) => c.dataset === dataset && c.task === task)).map((task) => ({ dataset, task })),
  );
  const find = (dataset: string, task: string, estimator: string) =>
    cells.find((c) => c.dataset === dataset && c.task === task && c.estimator === estimator);
  const tolerances = [...new Set(cells.map((c) => c.tolerance))];
  const passed = cells.filter((c) => c.passed).length;
  const lines: string[] = [];
  lines.push(
    `Measured ${results.at.slice(0, 10)} by \`test/trainers/estimator-matrix.test.ts\`: ${cells.length} cells, ${passed} within the ` +
      `default parity tolerance (${tolerances.join(', ')}). scikit-learn ${results.versions.sklearn ?? '?'}, skl2onnx ` +
      `${results.versions.skl2onnx ?? '?'}, onnxruntime-node ${results.versions['onnxruntime-node'] ?? '?'}. Each cell: the largest |ONNX − native| over every probe ` +
      'row and output column (class probabilities, or the regression prediction) and, where predictions exceed 1, that figure ' +
      'divided by the largest |prediction| on the probe rows (rel.), which is what the tolerance bounds; — where the estimator ' +
      'does not do the task.',
    '',
  );
  lines.push(`| estimator | ${columns.map((c) => `${c.dataset}<br>${c.task}`).join(' | ')} |`);
  lines.push(`| --- | ${columns.map(() => '---:').join(' | ')} |`);
  for (const estimator of estimators) {
    const row = columns.map(({ dataset, task }) => {
      const cell = find(dataset, task, estimator);
      return cell ? formatDiff(cell) : '—';
    });
    lines.push(`| \`${estimator}\` | ${row.join(' | ')} |`);
  }
  lines.push('', '| dataset | task | label | features (numeric + categorical) | snapshot rows | training rows | probe rows |');
  lines.push('| --- | --- | --- | --- | ---: | ---: | ---: |');
  for (const { dataset, task } of columns) {
    const cell = cells.find((c) => c.dataset === dataset && c.task === task)!;
    lines.push(
      `| ${dataset} | ${task} | \`${cell.label}\` (${cell.what}) | ${cell.features.numeric} + ${cell.features.categorical} | ` +
        `${cell.snapshotRows} | ${cell.trainRows} | ${cell.probeRows} |`,
    );
  }
  const failures = cells.filter((c) => !c.passed);
  if (failures.length > 0) {
    lines.push('', 'Failures:', '');
    for (const c of failures) lines.push(`- ${c.dataset} ${c.task} \`${c.estimator}\`: ${c.error ?? 'no parity result'}`);
  }
  return lines.join('\n');
}

function main(): void {
  const { input, out } = parseArgs(process.argv.slice(2));
  if (!existsSync(input)) {
    console.error(`error no estimator matrix results at ${input}; run the matrix first: npm test -- estimator-matrix`);
    process.exitCode = 2;
    return;
  }
  const parsed = resultsSchema.safeParse(JSON.parse(readFileSync(input, 'utf8')));
  if (!parsed.success) {
    console.error(`error ${input}: ${z.prettifyError(parsed.error)}`);
    process.exitCode = 2;
    return;
  }
  const doc = readFileSync(out, 'utf8');
  const from = doc.indexOf(START);
  const to = doc.indexOf(END);
  if (from < 0 || to < from) {
    console.error(`error ${out}: the markers ${START} … ${END} are missing`);
    process.exitCode = 2;
    return;
  }
  writeFileSync(out, `${doc.slice(0, from + START.length)}\n${render(parsed.data)}\n${doc.slice(to)}`);
  console.log(`wrote the estimator matrix (${parsed.data.cells.length} cells) to ${path.relative(RELEARN_ROOT, out)}`);
}

main();
