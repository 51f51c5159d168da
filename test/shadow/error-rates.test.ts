// The window decisions' error rates, simulated at the demo's traffic with a look at every poll (the full table, over
// 1,000 windows per cell, is in docs/shadow.md from scripts/simulate-windows.ts). 400 windows per scenario here, so
// the test runs in seconds; it fails when the sequential test's false rollback or false promotion rate drifts above
// the nominal 5%, or when the harness stops seeing what peeking at a fixed-sample interval does.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { DecideWindowConfig } from '../../src/shadow/decide-window';
import {
  DEMO_TRAFFIC,
  type SimulatedTest,
  type WindowScenario,
  separationForAuc,
  separationForBrierRatio,
  simulateWindows,
} from '../../src/shadow/window-simulation';

const WINDOWS = 400;
// Binomial tolerance: a test whose true rate is the nominal 5% counts more than 31 of 400 with probability 0.0065
// (scipy.stats.binom.sf(31, 400, 0.05)); more than 31 says the rate is above nominal, not that the draw was unlucky.
const MAX_AT_NOMINAL = 31;

const mu = separationForAuc(DEMO_TRAFFIC.auc);

function scenario(kind: 'shadow' | 'guard', contenderSeparation: number): WindowScenario {
  const config: DecideWindowConfig = {
    test: 'sequential',
    margin: 0.01,
    lossMargin: 0.005,
    harmMargin: 0,
    lossHarmMargin: 0,
    confidence: 0.95,
    minLabeledRows: DEMO_TRAFFIC.rows,
    resamples: 200,
    seed: 7,
    onInconclusive: kind === 'shadow' ? 'reject' : 'keep',
  };
  return {
    kind,
    pair: { baseRate: DEMO_TRAFFIC.baseRate, baselineSeparation: mu, contenderSeparation, correlation: DEMO_TRAFFIC.correlation },
    rows: DEMO_TRAFFIC.rows,
    lookEvery: DEMO_TRAFFIC.lookEvery,
    config,
  };
}

function run(s: WindowScenario, t: SimulatedTest, seed: number) {
  return simulateWindows(s, t, WINDOWS, seed);
}

describe(`window error rates over ${WINDOWS} simulated windows, a look every ${DEMO_TRAFFIC.lookEvery} rows`, () => {
  test('guard, equal quality: the sequential test rolls back at most the nominal 5%', () => {
    const tally = run(scenario('guard', mu), 'sequential', 101);
    assert.ok(tally.fail <= MAX_AT_NOMINAL, `false rollbacks ${tally.fail}/${WINDOWS}`);
  });

  test('shadow, a contender worse by exactly the margin: the sequential test promotes at most the nominal 5%', () => {
    const tally = run(scenario('shadow', separationForBrierRatio(mu, DEMO_TRAFFIC.baseRate, 1.005)), 'sequential', 102);
    assert.ok(tally.pass <= MAX_AT_NOMINAL, `false promotions ${tally.pass}/${WINDOWS}`);
  });

  test('guard, equal quality: a fixed-sample interval looked at every poll rolls back far more than 5%', () => {
    // What the sequential test is for: the same statistic and margin with a one-look interval at every poll.
    const tally = run(scenario('guard', mu), 'fixed-every-poll', 103);
    assert.ok(tally.fail > MAX_AT_NOMINAL, `false rollbacks with peeking ${tally.fail}/${WINDOWS}`);
  });

  test('guard, a real drop of 0.02 ROC AUC: the sequential test still catches it in a good share of windows', () => {
    // docs/shadow.md measures about 45% at 7,000 rows; 30% is far below what 400 windows could show by chance.
    const tally = run(scenario('guard', separationForAuc(DEMO_TRAFFIC.auc - 0.02)), 'sequential', 104);
    assert.ok(tally.fail >= 0.3 * WINDOWS, `rollbacks ${tally.fail}/${WINDOWS}`);
    assert.equal(tally.pass, 0, 'a worse contender never passes the guard');
  });
});
