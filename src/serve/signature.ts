import { ModelRejectedError } from '../errors';
import { PROBABILITIES_OUTPUT, VARIABLE_OUTPUT } from '../onnx';
import type { ClassLabel } from '../prediction-log';

/** A class label as the registry's lineage records it; defined with the log's records, whose labels it types. */
export type { ClassLabel };

/** What a served model takes and returns, read from the ONNX graph itself (inputs are the model's own schema). */
export interface ModelSignature {
  /** Features fed as float32 [N,1] inputs, in the graph's order, by the names users send (the columns' names). */
  numeric: string[];
  /** Features fed as string [N,1] inputs, in the graph's order, by the names users send. */
  categorical: string[];
  /**
   * The ONNX input of each feature, parallel to `numeric` and `categorical`, where the model names its inputs
   * otherwise than its features (see src/onnx/feature-inputs.ts); absent when every input is named as its feature.
   */
  inputNames?: { numeric: string[]; categorical: string[] };
  kind: 'classifier' | 'regression';
  /** Output the server reads: `probabilities` (classifiers) or `variable` (regression). */
  output: typeof PROBABILITIES_OUTPUT | typeof VARIABLE_OUTPUT;
  /** Classifiers: the label of each probability column, from the version's lineage (column indices when absent). */
  classes: ClassLabel[];
}

/** An input or output as the scoring worker reports it (onnxruntime's metadata). */
export interface WorkerValueInfo {
  name: string;
  isTensor: boolean;
  type?: string;
  shape?: Array<number | string>;
}

/** What the scoring worker learned when it opened a model and ran it on one row. */
export interface LoadReport {
  inputs: WorkerValueInfo[];
  outputs: WorkerValueInfo[];
  widths: Record<string, { type: string; width: number }>;
  loadMs: number;
  runMs: number;
}

/**
 * Derives the signature from the opened model, the feature → input names its metadata records (when it does) and
 * the version's lineage; throws ModelRejectedError naming the model when it does not follow the trainer's
 * convention (float32/string [N,1] inputs, `probabilities` or `variable` output), when the recorded names do not
 * match its inputs, or when the lineage's classes do not match the probability columns.
 */
export function signatureFrom(
  name: string,
  report: LoadReport,
  lineageClasses: unknown,
  featureInputs?: ReadonlyMap<string, string>,
): ModelSignature {
  const featureOf = new Map<string, string>();
  for (const [feature, input] of featureInputs ?? []) featureOf.set(input, feature);
  const inputs = new Set(report.inputs.map((i) => i.name));
  for (const input of featureOf.keys()) {
    if (!inputs.has(input)) throw new ModelRejectedError(`${name}: its metadata maps feature '${featureOf.get(input)}' to input '${input}', which the model does not have`);
  }
  const numeric: string[] = [];
  const categorical: string[] = [];
  const inputNames = { numeric: [] as string[], categorical: [] as string[] };
  for (const input of report.inputs) {
    const feature = featureOf.get(input.name) ?? input.name;
    if (input.isTensor && input.type === 'float32') {
      numeric.push(feature);
      inputNames.numeric.push(input.name);
    } else if (input.isTensor && input.type === 'string') {
      categorical.push(feature);
      inputNames.categorical.push(input.name);
    } else {
      throw new ModelRejectedError(`${name}: input '${input.name}' has type ${input.type ?? 'non-tensor'}, expected float32 or string [N,1]`);
    }
  }
  const features = new Set([...numeric, ...categorical]);
  if (features.size !== numeric.length + categorical.length) {
    throw new ModelRejectedError(`${name}: two inputs stand for the same feature (features: ${[...numeric, ...categorical].join(', ')})`);
  }
  const renamed = [...featureOf].some(([input, feature]) => input !== feature);
  const names = renamed ? { inputNames } : {};
  const outputNames = report.outputs.map((o) => o.name);
  const probabilities = report.widths[PROBABILITIES_OUTPUT];
  if (probabilities !== undefined) {
    const width = probabilities.width;
    let classes: ClassLabel[];
    if (Array.isArray(lineageClasses) && lineageClasses.every((c) => ['string', 'number', 'boolean'].includes(typeof c))) {
      classes = lineageClasses as ClassLabel[];
      if (classes.length !== width) {
        throw new ModelRejectedError(
          `${name}: output '${PROBABILITIES_OUTPUT}' has ${width} columns but the version's lineage lists ${classes.length} classes`,
        );
      }
    } else {
      classes = Array.from({ length: width }, (_, i) => i);
    }
    return { numeric, categorical, ...names, kind: 'classifier', output: PROBABILITIES_OUTPUT, classes };
  }
  const variable = report.widths[VARIABLE_OUTPUT];
  if (variable !== undefined) {
    if (variable.width !== 1) {
      throw new ModelRejectedError(`${name}: output '${VARIABLE_OUTPUT}' has ${variable.width} values per row, expected 1`);
    }
    return { numeric, categorical, ...names, kind: 'regression', output: VARIABLE_OUTPUT, classes: [] };
  }
  throw new ModelRejectedError(
    `${name}: has neither a '${PROBABILITIES_OUTPUT}' nor a '${VARIABLE_OUTPUT}' output (outputs: ${outputNames.join(', ')})`,
  );
}

/** Every feature of a signature, numeric first, as the error messages list them. */
export function featureList(signature: ModelSignature): string {
  return [...signature.numeric, ...signature.categorical].join(', ');
}
