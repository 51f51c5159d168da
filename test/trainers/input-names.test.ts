// The reference trainer's ONNX input names for columns as users name them (trainers/sklearn/input_names.py), called
// in the project's Python environment: spaces, `$`, parentheses, accents and other non-ASCII text, names that
// collide once sanitised, names of the job contract's outputs.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, test } from 'node:test';
import { VENV_PYTHON } from '../../src/paths';

const TRAINER_DIR = path.resolve(import.meta.dirname, '../../trainers/sklearn');

// Reads [[features, reserved], ...] on stdin, prints one result per case: the names, or the error's message.
const SCRIPT = `
import json, sys
sys.path.insert(0, sys.argv[1])
from input_names import feature_inputs_json, onnx_input_names
results = []
for features, reserved in json.load(sys.stdin):
    try:
        names = onnx_input_names(features, reserved)
        results.append({"names": names, "metadata": json.loads(feature_inputs_json(features, names))})
    except ValueError as err:
        results.append({"error": str(err)})
print(json.dumps(results))
`;

type Result = { names: string[]; metadata: Array<{ feature: string; input: string }> } | { error: string };

function inputNames(cases: Array<[string[], string[]?]>): Result[] {
  const run = spawnSync(VENV_PYTHON, ['-c', SCRIPT, TRAINER_DIR], {
    input: JSON.stringify(cases.map(([features, reserved]) => [features, reserved ?? []])),
    encoding: 'utf8',
    timeout: 60_000,
  });
  assert.equal(run.status, 0, `python failed:\n${run.stderr}`);
  return JSON.parse(run.stdout) as Result[];
}

function names(features: string[], reserved?: string[]): string[] {
  const [result] = inputNames([[features, reserved]]);
  assert.ok(result !== undefined && 'names' in result, `expected names, got ${JSON.stringify(result)}`);
  return result.names;
}

describe('ONNX input names for user column names', () => {
  test('spaces, $, parentheses, accents and other non-ASCII text become ASCII identifiers', () => {
    assert.deepEqual(
      names(['Speed IAS in knots', 'Cost Total $', 'Beak Length (mm)', 'Année (vol)', 'Température °C', '2nd engine', 'Größe', 'a.b-c/d']),
      ['Speed_IAS_in_knots', 'Cost_Total', 'Beak_Length_mm', 'Annee_vol', 'Temperature_C', '_2nd_engine', 'Gro_e', 'a_b_c_d'],
    );
  });

  test('names that are already safe are kept as they are, whatever comes before them', () => {
    assert.deepEqual(names(['distance', 'hour_of_day', '_x1', 'X__2']), ['distance', 'hour_of_day', '_x1', 'X__2']);
    // 'Cost_Total' keeps its name; the columns that sanitise to it get the next free suffixes, in order.
    assert.deepEqual(names(['Cost Total $', 'Cost Total', 'Cost-Total', 'Cost_Total']), ['Cost_Total_2', 'Cost_Total_3', 'Cost_Total_4', 'Cost_Total']);
    // A suffix already taken by a column is skipped.
    assert.deepEqual(names(['a b', 'a_b', 'a_b_2']), ['a_b_3', 'a_b', 'a_b_2']);
  });

  test('never an output name of the job contract, nor a reserved name', () => {
    assert.deepEqual(names(['label', 'probabilities', 'variable', 'label 2']), ['label_2', 'probabilities_2', 'variable_2', 'label_2_2']);
    assert.deepEqual(names(['merged columns', 'x'], ['merged_columns']), ['merged_columns_2', 'x']);
  });

  test('a name with nothing ASCII left becomes "feature", numbered when there are several', () => {
    assert.deepEqual(names(['€', '$$$', '東京']), ['feature', 'feature_2', 'feature_3']);
  });

  test('the names are unique, a function of the feature list, and recorded feature by feature', () => {
    const features = ['Speed IAS in knots', 'Speed-IAS in knots', 'Speed_IAS_in_knots', 'speed ias in knots', 'Année (vol)', 'Annee vol'];
    const [first, second] = inputNames([[features], [features]]);
    assert.ok(first !== undefined && 'names' in first && second !== undefined && 'names' in second);
    assert.deepEqual(first.names, ['Speed_IAS_in_knots_2', 'Speed_IAS_in_knots_3', 'Speed_IAS_in_knots', 'speed_ias_in_knots', 'Annee_vol', 'Annee_vol_2']);
    assert.equal(new Set(first.names).size, features.length);
    assert.deepEqual(second.names, first.names);
    assert.deepEqual(first.metadata, features.map((feature, i) => ({ feature, input: first.names[i] })));
  });

  test('a feature listed twice is refused', () => {
    const [result] = inputNames([[['a', 'b', 'a']]]);
    assert.ok(result !== undefined && 'error' in result);
    assert.match(result.error, /features must be distinct/);
  });
});
