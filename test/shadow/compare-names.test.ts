import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { compareShadow } from '../../src/shadow/compare';
import { type Fixture, fixtures } from './fixtures';

function inputOf(f: Fixture) {
  const outputs = (values: number[]) => (f.task === 'regression' ? { predicted: values } : { probabilities: values });
  return {
    task: f.task,
    metric: f.metric,
    labels: f.labels,
    champion: outputs(f.champion),
    shadow: outputs(f.shadow),
    classes: f.classes,
    margin: f.margin,
    confidence: f.confidence,
    resampleIndices: f.resampleIndices,
  };
}

describe('compareShadow names the two sides', () => {
  test('the fixtures cover both verdicts', () => {
    const verdicts = new Set(fixtures.map((f) => compareShadow(inputOf(f)).verdict));
    assert.ok(verdicts.has('worse') && verdicts.has('not-worse'), [...verdicts].join(', '));
  });

  for (const f of fixtures) {
    test(`${f.name}: the reason with names is the default reason with the sides renamed, nothing else changed`, () => {
      const plain = compareShadow(inputOf(f));
      const named = compareShadow({ ...inputOf(f), names: { champion: 'v3', shadow: 'v4' } });
      // The exact text the rollout recorded before the names were passed in (the activity rewrote the default one).
      const shadowValue = plain.reason.slice(`${f.metric}: shadow `.length).split(' ')[0]!;
      const expected = plain.reason
        .replace(`${f.metric}: shadow ${shadowValue} vs champion `, `${f.metric}: v4 ${shadowValue} vs v3 `)
        .replace('(positive = shadow better)', '(positive = v4 better)');
      assert.ok(plain.reason.startsWith(`${f.metric}: shadow `) && plain.reason.includes(' vs champion '), plain.reason);
      assert.notEqual(expected, plain.reason);
      assert.equal(named.reason, expected);
      assert.deepEqual({ ...named, reason: '' }, { ...plain, reason: '' });
    });
  }

  test('an insufficient comparison says the same with or without names', () => {
    const f = fixtures[0]!;
    const input = { ...inputOf(f), resampleIndices: undefined, minRows: f.labels.length + 1 };
    const plain = compareShadow(input);
    assert.equal(plain.verdict, 'insufficient');
    assert.equal(compareShadow({ ...input, names: { champion: 'v3', shadow: 'v4' } }).reason, plain.reason);
  });
});
