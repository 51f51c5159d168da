// What a shadow or guard window concludes from the rows it holds: pass, fail or inconclusive, and what the window does
// about it. Two windows, two questions:
//
//   shadow (before promotion): promote only on evidence of non-inferiority — the lower bound of contender − baseline
//     (positive = contender better) at or above −margin; fail on evidence that it is worse by more than the margin
//     (the upper bound below −margin); anything between is inconclusive.
//   guard (after promotion): roll back only on evidence of harm — the upper bound below −harmMargin (default 0: worse
//     than the old champion at the configured confidence); pass on evidence of non-inferiority (lower bound at or
//     above −margin); anything between is inconclusive.
//
// Inconclusive keeps the window open; at its end (maxDuration) the configured default is taken (shadow: reject, guard:
// keep). Two tests give the bounds: `sequential`, an anytime-valid confidence sequence on the per-row loss difference
// (confidence-sequence.ts, row-loss.ts), safe to check at every poll; `fixed`, the paired bootstrap of the primary
// metric (compare.ts), valid when looked at once at the planned row count (minLabeledRows). Pure computation.
import type { SequentialLossEvidence, ShadowComparison, WindowDecision, WindowOutcome, WindowTest } from '../contracts/live';
import type { MetricName } from '../metrics';
import { type ModelScores, type ShadowTask, compareShadow } from './compare';
import { type MeanInterval, type RunningMoments, confidenceSequence, fixedSampleInterval, momentsOf } from './confidence-sequence';
import { rowLossName, rowLosses } from './row-loss';

export type { WindowDecision, WindowOutcome, WindowTest };

/** Which window is decided. */
export type WindowKind = 'shadow' | 'guard';

/** The window's settings decideWindow reads (a resolved `rollout.shadow` or `rollout.guard` block fits). */
export interface DecideWindowConfig {
  test: WindowTest;
  /** fixed: how much worse (primary-metric units) the contender may be and still pass; shadow: also the fail line. */
  margin: number;
  /** sequential: the same, as a share of the baseline's mean loss (0.005 = 0.5%). */
  lossMargin: number;
  /** guard, fixed: fail when the upper bound is below −harmMargin (primary-metric units; default 0). */
  harmMargin?: number;
  /** guard, sequential: fail when the upper bound is below −lossHarmMargin × the baseline's mean loss (default 0). */
  lossHarmMargin?: number;
  /** Coverage of the interval (fixed) or of the whole sequence (sequential), two-sided. */
  confidence: number;
  /** fixed: the planned row count, where it looks; sequential: the row count the sequence is tightest at. */
  minLabeledRows: number;
  /** fixed (and the primary metric reported beside the sequential test): bootstrap resamples and seed. */
  resamples: number;
  seed: number;
  /** What an inconclusive window does at its end: shadow reject | promote, guard keep | rollback. */
  onInconclusive: 'reject' | 'promote' | 'keep' | 'rollback';
}

/** Inputs of decideWindow: the rows both versions scored, with labels, oldest first. */
export interface DecideWindowInput {
  kind: WindowKind;
  task: ShadowTask;
  /** The model's primary metric: decides with `fixed`, reported beside with `sequential`. */
  metric: MetricName;
  /** Classifiers: true class index per row; regression: true value per row. */
  labels: ArrayLike<number>;
  /** The version being defended: the champion in the shadow window, the previous champion in the guard window. */
  baseline: ModelScores;
  /** The version on trial: the candidate in the shadow window, the new champion in the guard window. */
  contender: ModelScores;
  /** Classifiers: the class count or labels (their count is used). */
  classes?: number | readonly unknown[];
  config: DecideWindowConfig;
  /** The window has reached maxDuration: an inconclusive outcome takes `onInconclusive`. */
  final?: boolean;
  /** sequential: also compute the primary metric's bootstrap interval, reported beside (default true; it costs 2 × resamples metric computations). */
  reportPrimary?: boolean;
  /** sequential: fewer labeled rows than this (default 100) is inconclusive, as the sequence rests on a central limit approximation. */
  minRows?: number;
  /** What the reason calls the two sides, e.g. their versions (default `baseline` and `contender`). */
  names?: { baseline: string; contender: string };
  /**
   * sequential: `sequence` (default) is the anytime-valid confidence sequence. `fixed-sample` swaps in the classical
   * interval on the same statistic, valid only for one look planned in advance: windows never use it; the window
   * simulation does, to measure what looking at it after every poll costs.
   */
  interval?: 'sequence' | 'fixed-sample';
}

export const DECIDE_DEFAULTS = { sequentialMinRows: 100, harmMargin: 0, lossHarmMargin: 0 } as const;

const DEFAULTS_BY_KIND: Record<WindowKind, ReadonlyArray<DecideWindowConfig['onInconclusive']>> = {
  shadow: ['reject', 'promote'],
  guard: ['keep', 'rollback'],
};

/** Decides a shadow or guard window at one look; see the file comment for the rules. */
export function decideWindow(input: DecideWindowInput): WindowDecision {
  const { kind, config } = input;
  const test = config.test;
  if (!DEFAULTS_BY_KIND[kind].includes(config.onInconclusive)) {
    throw new RangeError(`onInconclusive of a ${kind} window must be ${DEFAULTS_BY_KIND[kind].join(' or ')}, got '${config.onInconclusive}'`);
  }
  if (!(config.lossMargin >= 0 && config.lossMargin < 1)) throw new RangeError(`lossMargin must be in [0, 1), got ${config.lossMargin}`);
  const names = input.names ?? { baseline: 'baseline', contender: 'contender' };
  const n = input.labels.length;
  const final = input.final === true;
  const pct = `${Math.round(config.confidence * 1000) / 10}%`;

  if (test === 'fixed') {
    // The bootstrap runs only when the fixed test looks: it costs 2 × resamples metric computations.
    if (n < config.minLabeledRows && !final) {
      return undecided(input, null, null, n, `waiting: the fixed test looks once, at ${config.minLabeledRows} labeled rows; ${n} so far`);
    }
    const c = primaryComparison(input, names);
    const primary = c;
    if (c.verdict === 'insufficient' || c.ciLow === null || c.ciHigh === null || c.diff === null) {
      return undecided(input, null, primary, n, c.reason);
    }
    const passAbove = negate(config.margin);
    const failBelow = negate(kind === 'shadow' ? config.margin : (config.harmMargin ?? DECIDE_DEFAULTS.harmMargin));
    const outcome = classify(kind, c.ciLow >= passAbove, c.ciHigh < failBelow);
    const stat =
      `${c.metric}: ${names.contender} ${fmt(c.shadowValue!)} vs ${names.baseline} ${fmt(c.championValue!)} on ${n} labeled rows; ` +
      `diff ${signed(c.diff)} (positive = ${names.contender} better), ${pct} paired bootstrap CI [${signed(c.ciLow)}, ${signed(c.ciHigh)}]`;
    const lines = {
      margin: `${signed(passAbove)} (the margin)`,
      harm: kind === 'shadow' ? `${signed(failBelow)} (the margin)` : failBelow === 0 ? '0 (no difference)' : `${signed(failBelow)} (the harm margin)`,
    };
    return finish(input, outcome, { lower: c.ciLow, upper: c.ciHigh, passAbove, failBelow, sequential: null, primary, rows: n }, stat, lines, '');
  }

  const minRows = input.minRows ?? DECIDE_DEFAULTS.sequentialMinRows;
  if (n < minRows) return undecided(input, null, null, n, `${n} labeled rows, fewer than the ${minRows} the sequential test needs`);
  const primary = input.reportPrimary !== false ? primaryComparison(input, names) : null;
  const sequential = sequentialLossEvidence(input);
  const s = sequential;
  const outcome = classify(kind, s.passLow >= 0, s.failHigh < 0);
  const lossWord = s.evidence.loss === 'brier' ? 'Brier score' : 'squared error';
  const harmShare = kind === 'shadow' ? config.lossMargin : (config.lossHarmMargin ?? DECIDE_DEFAULTS.lossHarmMargin);
  const e = s.evidence;
  const stat =
    `${lossWord} ${names.contender} ${fmt(e.contenderLoss)} vs ${names.baseline} ${fmt(e.baselineLoss)} on ${n} labeled rows; ` +
    `difference per row ${signed(e.diff)} (positive = ${names.contender} better), ${pct} ${input.interval === 'fixed-sample' ? 'fixed-sample interval' : 'confidence sequence'} [${signed(e.lower)}, ${signed(e.upper)}]`;
  const lines = {
    margin: `${signed(e.passAbove)} (the margin, ${share(config.lossMargin)} of ${names.baseline}'s ${lossWord})`,
    harm:
      kind === 'shadow'
        ? `${signed(e.failBelow)} (the margin, ${share(config.lossMargin)} of ${names.baseline}'s ${lossWord})`
        : harmShare === 0
          ? '0 (no difference)'
          : `${signed(e.failBelow)} (the harm margin, ${share(harmShare)} of ${names.baseline}'s ${lossWord})`,
  };
  const beside =
    primary !== null && primary.ciLow !== null && primary.ciHigh !== null && primary.diff !== null
      ? `; ${primary.metric} ${names.contender} ${fmt(primary.shadowValue!)} vs ${names.baseline} ${fmt(primary.championValue!)}, diff ${signed(primary.diff)}, ${pct} paired bootstrap CI [${signed(primary.ciLow)}, ${signed(primary.ciHigh)}]`
      : '';
  return finish(input, outcome, { lower: e.lower, upper: e.upper, passAbove: e.passAbove, failBelow: e.failBelow, sequential: e, primary, rows: n }, stat, lines, beside);
}

/**
 * The sequential test's bounds. The margin is a share m of the baseline's mean loss, so "not worse by more than the
 * margin" is E[loss_c] ≤ (1 + m) E[loss_b], i.e. E[z] ≥ 0 for z_i = d_i + m · loss_b,i with d_i = loss_b,i − loss_c,i.
 * The sequence is taken on z (exact, with no ratio of estimates), and reported shifted back onto d: lower = mean(d) −
 * radius(z), so that lower ≥ −m · mean(loss_b) exactly when the sequence of z lies above 0. The harm check does the
 * same with its own share.
 */
function sequentialLossEvidence(input: DecideWindowInput): { evidence: SequentialLossEvidence; passLow: number; failHigh: number } {
  const { task, config, kind } = input;
  const nClasses = task === 'regression' ? 0 : classCount(input.classes, task);
  const outputsOf = (scores: ModelScores, name: string): ArrayLike<number> => {
    const values = task === 'regression' ? scores.predicted : scores.probabilities;
    if (values === undefined) throw new RangeError(`${name}: ${task === 'regression' ? 'predicted values' : 'probabilities'} are needed for the sequential test`);
    return values;
  };
  const lossB = rowLosses(task, input.labels, outputsOf(input.baseline, 'baseline'), nClasses);
  const lossC = rowLosses(task, input.labels, outputsOf(input.contender, 'contender'), nClasses);
  const n = lossB.length;
  const passShare = config.lossMargin;
  const failShare = kind === 'shadow' ? passShare : (config.lossHarmMargin ?? DECIDE_DEFAULTS.lossHarmMargin);
  if (!(failShare >= 0 && failShare < 1)) throw new RangeError(`lossHarmMargin must be in [0, 1), got ${failShare}`);
  const shifted = (share: number): RunningMoments => {
    const z = new Float64Array(n);
    for (let i = 0; i < n; i++) z[i] = lossB[i]! - lossC[i]! + share * lossB[i]!;
    return momentsOf(z);
  };
  const passMoments = shifted(passShare);
  const failMoments = failShare === passShare ? passMoments : shifted(failShare);
  const interval = (moments: RunningMoments): MeanInterval =>
    input.interval === 'fixed-sample' ? fixedSampleInterval(moments, config.confidence) : confidenceSequence(moments, config.confidence, config.minLabeledRows);
  const pass = interval(passMoments);
  const fail = failMoments === passMoments ? pass : interval(failMoments);
  const baselineLoss = momentsOf(lossB).mean;
  const contenderLoss = momentsOf(lossC).mean;
  const diff = baselineLoss - contenderLoss;
  return {
    evidence: {
      loss: rowLossName(task),
      rows: n,
      baselineLoss,
      contenderLoss,
      diff,
      lower: diff - pass.radius,
      upper: diff + fail.radius,
      passAbove: negate(passShare * baselineLoss),
      failBelow: negate(failShare * baselineLoss),
      confidence: config.confidence,
      plannedRows: config.minLabeledRows,
    },
    passLow: pass.low,
    failHigh: fail.high,
  };
}

/** shadow: pass before fail (they cannot both hold, both use −margin); guard: evidence of harm first. */
function classify(kind: WindowKind, passes: boolean, fails: boolean): WindowOutcome {
  if (kind === 'guard' && fails) return 'fail';
  if (passes) return 'pass';
  if (fails) return 'fail';
  return 'inconclusive';
}

interface Bounds {
  lower: number;
  upper: number;
  passAbove: number;
  failBelow: number;
  sequential: SequentialLossEvidence | null;
  primary: ShadowComparison | null;
  rows: number;
}

function finish(
  input: DecideWindowInput,
  outcome: WindowOutcome,
  bounds: Bounds,
  stat: string,
  lines: { margin: string; harm: string },
  beside: string,
): WindowDecision {
  const { kind } = input;
  const names = input.names ?? { baseline: 'baseline', contender: 'contender' };
  let reason: string;
  if (outcome === 'pass') {
    reason = `${names.contender} is not worse than ${names.baseline} by more than the margin: ${stat}; lower bound ≥ ${lines.margin} → pass`;
  } else if (outcome === 'fail') {
    reason =
      kind === 'shadow'
        ? `${names.contender} is worse than ${names.baseline} by more than the margin: ${stat}; upper bound < ${lines.harm} → fail`
        : `${names.contender} is worse than ${names.baseline}: ${stat}; upper bound < ${lines.harm} → fail`;
  } else {
    const why =
      kind === 'shadow'
        ? `the lower bound is below ${lines.margin} and the upper bound is not`
        : `no evidence of harm, upper bound ≥ ${lines.harm}; none that ${names.contender} is within the margin, lower bound < ${lines.margin}`;
    reason = `inconclusive: ${stat}; ${why}`;
  }
  return withAction(input, outcome, { ...bounds, reason: reason + beside });
}

function undecided(input: DecideWindowInput, sequential: SequentialLossEvidence | null, primary: ShadowComparison | null, rows: number, why: string): WindowDecision {
  return withAction(input, 'inconclusive', { lower: null, upper: null, passAbove: null, failBelow: null, sequential, primary, rows, reason: `inconclusive: ${why}` });
}

type Numbers = Pick<WindowDecision, 'lower' | 'upper' | 'passAbove' | 'failBelow' | 'sequential' | 'primary' | 'rows' | 'reason'>;

function withAction(input: DecideWindowInput, outcome: WindowOutcome, numbers: Numbers): WindowDecision {
  const { kind, config } = input;
  const final = input.final === true;
  let action: WindowDecision['action'];
  let decidedBy: WindowDecision['decidedBy'];
  let reason = numbers.reason;
  if (outcome === 'pass' || outcome === 'fail') {
    decidedBy = 'evidence';
    action = kind === 'shadow' ? (outcome === 'pass' ? 'promote' : 'reject') : outcome === 'pass' ? 'keep' : 'rollback';
  } else if (final) {
    decidedBy = 'default';
    action = config.onInconclusive;
    reason += `; the window reached maxDuration: default ${config.onInconclusive}`;
  } else {
    decidedBy = 'waiting';
    action = 'continue';
  }
  return { kind, test: config.test, outcome, action, decidedBy, ...numbers, reason };
}

function primaryComparison(input: DecideWindowInput, names: { baseline: string; contender: string }): ShadowComparison {
  const { config } = input;
  return compareShadow({
    task: input.task,
    metric: input.metric,
    labels: input.labels,
    champion: input.baseline,
    shadow: input.contender,
    ...(input.classes !== undefined ? { classes: input.classes } : {}),
    margin: config.margin,
    confidence: config.confidence,
    resamples: config.resamples,
    seed: config.seed,
    names: { champion: names.baseline, shadow: names.contender },
  });
}

function classCount(classes: DecideWindowInput['classes'], task: ShadowTask): number {
  const c = typeof classes === 'number' ? classes : classes?.length;
  if (c === undefined) throw new RangeError(`a ${task} window needs classes (the class count or labels)`);
  if (!Number.isInteger(c) || c < 2 || (task === 'binary' && c !== 2)) throw new RangeError(`a ${task} classifier cannot have ${c} classes`);
  return c;
}

/** −x, with 0 for 0 (a margin of 0 reads "0", and compares equal to 0 in results). */
function negate(x: number): number {
  return x === 0 ? 0 : -x;
}

function fmt(x: number): string {
  const a = Math.abs(x);
  if (a === 0) return '0';
  if (a >= 0.01) return x.toFixed(4);
  if (a >= 1e-5) return x.toPrecision(3).replace(/\.?0+$/, '');
  return x.toExponential(2);
}

function signed(x: number): string {
  return x === 0 ? '0' : `${x > 0 ? '+' : '−'}${fmt(Math.abs(x))}`;
}

function share(x: number): string {
  return `${Math.round(x * 10_000) / 100}%`;
}
