import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseConfig } from '../../src/config';
import { MINIMAL_CONFIG, configError } from '../helpers/config';

function withRollout(rollout: string): string {
  return `${MINIMAL_CONFIG}    rollout:\n${rollout
    .trim()
    .split('\n')
    .map((line) => `      ${line}`)
    .join('\n')}\n`;
}

function rolloutOf(text: string) {
  const rollout = parseConfig(text, 'temporal.yaml').models.m1!.rollout;
  assert.ok(rollout !== undefined);
  return rollout;
}

describe('temporal.yaml rollout: the window tests', () => {
  it('defaults: sequential test, loss margin 0.5%, shadow rejects and guard keeps when inconclusive, harm margins 0', () => {
    const r = rolloutOf(withRollout('shadow: {}\nguard: {}'));
    assert.equal(r.shadow!.test, 'sequential');
    assert.equal(r.shadow!.lossMargin, 0.005);
    assert.equal(r.shadow!.onInconclusive, 'reject');
    assert.equal(r.guard!.test, 'sequential');
    assert.equal(r.guard!.lossMargin, 0.005);
    assert.equal(r.guard!.onInconclusive, 'keep');
    assert.equal(r.guard!.harmMargin, 0);
    assert.equal(r.guard!.lossHarmMargin, 0);
  });

  it('every field that existed before keeps its meaning and default', () => {
    const r = rolloutOf(
      withRollout(`
shadow:
  minDuration: 5s
  maxDuration: 10m
  minLabeledRows: 2000
  pollInterval: 2s
  margin: 0.02
  confidence: 0.9
  resamples: 500
  seed: 3
  maxCompareRows: 4000
approval: { required: true, timeout: 1h, onTimeout: approve }
guard:
  minDuration: 5s
  maxDuration: 10m
  minLabeledRows: 2000
  pollInterval: 2s
  margin: 0.01
  maxErrorRate: 0.02
  maxP99LatencyMs: 300`),
    );
    assert.deepEqual(
      { ...r.shadow },
      {
        minDuration: 5000,
        maxDuration: 600_000,
        minLabeledRows: 2000,
        pollInterval: 2000,
        labelWait: 0,
        test: 'sequential',
        margin: 0.02,
        lossMargin: 0.005,
        confidence: 0.9,
        resamples: 500,
        maxCompareRows: 4000,
        seed: 3,
        onInconclusive: 'reject',
      },
    );
    assert.equal(r.approval!.onTimeout, 'approve');
    assert.equal(r.guard!.maxErrorRate, 0.02);
    assert.equal(r.guard!.maxP99LatencyMs, 300);
    assert.equal(r.guard!.resamples, 1000);
    assert.equal(r.guard!.maxCompareRows, 20_000);
  });

  it('takes the fixed test, margins and defaults per window', () => {
    const r = rolloutOf(
      withRollout(`
shadow: { test: fixed, onInconclusive: promote }
guard: { test: sequential, lossMargin: 0.01, lossHarmMargin: 0.002, harmMargin: 0.005, onInconclusive: rollback }`),
    );
    assert.equal(r.shadow!.test, 'fixed');
    assert.equal(r.shadow!.onInconclusive, 'promote');
    assert.equal(r.guard!.lossMargin, 0.01);
    assert.equal(r.guard!.lossHarmMargin, 0.002);
    assert.equal(r.guard!.harmMargin, 0.005);
    assert.equal(r.guard!.onInconclusive, 'rollback');
  });

  it('names the field and what it expects for a wrong test, default or margin', () => {
    assert.match(configError(withRollout('shadow: { test: bayesian }')), /models\.m1\.rollout\.shadow\.test: .*"sequential".*"fixed"/);
    assert.match(configError(withRollout('shadow: { onInconclusive: keep }')), /models\.m1\.rollout\.shadow\.onInconclusive: .*"reject".*"promote"/);
    assert.match(configError(withRollout('guard: { onInconclusive: reject }')), /models\.m1\.rollout\.guard\.onInconclusive: .*"keep".*"rollback"/);
    assert.match(configError(withRollout('guard: { lossMargin: 1.5 }')), /models\.m1\.rollout\.guard\.lossMargin: /);
    assert.match(configError(withRollout('shadow: { lossMargin: -0.01 }')), /models\.m1\.rollout\.shadow\.lossMargin: /);
    assert.match(configError(withRollout('guard: { harmMargin: -1 }')), /models\.m1\.rollout\.guard\.harmMargin: /);
    assert.match(configError(withRollout('guard: { lossHarmMargin: 1 }')), /models\.m1\.rollout\.guard\.lossHarmMargin: /);
  });

  it('a harm margin belongs to the guard window only', () => {
    assert.match(configError(withRollout('shadow: { harmMargin: 0.01 }')), /models\.m1\.rollout\.shadow: unknown key 'harmMargin'/);
    assert.match(configError(withRollout('shadow: { lossHarmMargin: 0.01 }')), /models\.m1\.rollout\.shadow: unknown key 'lossHarmMargin'/);
  });
});
