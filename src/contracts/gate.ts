// The gate is a pure function of stored metrics and rules, so it runs inside the workflow (deterministic, replayable)
// and `relearn gate --what-if` can re-judge past runs with the same code.
import type { GateConfig } from '../config/schema';
import { LOWER_IS_BETTER } from './metrics';
import type { Evaluation, GateResult, GateRuleResult } from './run';

function fmt(x: number | undefined): string {
  if (x === undefined || Number.isNaN(x)) return 'NaN';
  return Math.abs(x) >= 1000 ? x.toFixed(1) : x.toFixed(4);
}

/** Judges a candidate: one line of reason per rule; any failed rule rejects. */
export function judge(input: {
  gate: GateConfig;
  primaryMetric: string;
  evaluation: Evaluation;
  championVersion: number | null;
}): GateResult {
  const { gate, primaryMetric, evaluation, championVersion } = input;
  const rules: GateRuleResult[] = [];
  const mean = (m: string) => evaluation.summary[m]?.mean;
  // A rule on a metric that has no value cannot pass; it says why instead of comparing a NaN or a stand-in number.
  const undefinedInCv = (rule: string, metric: string): boolean => {
    const why = evaluation.undefined?.summary?.[metric];
    if (why === undefined) return false;
    rules.push({ rule, passed: false, reason: `${metric} is undefined in cross-validation: ${why} — the rule cannot pass` });
    return true;
  };

  for (const [metric, min] of Object.entries(gate.minimums)) {
    if (min === undefined) continue;
    if (undefinedInCv(`minimum ${metric}`, metric)) continue;
    const value = mean(metric);
    const passed = value !== undefined && !Number.isNaN(value) && value >= min;
    const brief = `${metric} ${fmt(value)} ${passed ? '≥' : '<'} ${fmt(min)}`;
    rules.push({ rule: `minimum ${metric}`, passed, reason: `${brief} (CV mean)`, brief });
  }
  for (const [metric, max] of Object.entries(gate.maximums)) {
    if (max === undefined) continue;
    if (undefinedInCv(`maximum ${metric}`, metric)) continue;
    const value = mean(metric);
    const passed = value !== undefined && !Number.isNaN(value) && value <= max;
    const brief = `${metric} ${fmt(value)} ${passed ? '≤' : '>'} ${fmt(max)}`;
    rules.push({ rule: `maximum ${metric}`, passed, reason: `${brief} (CV mean)`, brief });
  }
  for (const [metric, maxStd] of Object.entries(gate.maxCvStd)) {
    if (maxStd === undefined) continue;
    if (undefinedInCv(`max CV std ${metric}`, metric)) continue;
    const std = evaluation.summary[metric]?.std;
    const passed = std !== undefined && !Number.isNaN(std) && std <= maxStd;
    const brief = `${metric} std ${fmt(std)} ${passed ? '≤' : '>'} ${fmt(maxStd)}`;
    rules.push({ rule: `max CV std ${metric}`, passed, reason: `${brief} across folds`, brief });
  }
  const champion = evaluation.holdout.champion;
  const candidateUndefined = evaluation.undefined?.holdout?.candidate?.[primaryMetric];
  const championUndefined = evaluation.undefined?.holdout?.champion?.[primaryMetric];
  if (championVersion === null || champion === undefined) {
    rules.push({ rule: 'non-regression vs champion', passed: true, reason: 'no champion yet: judged by the minimums alone' });
  } else if (candidateUndefined !== undefined || championUndefined !== undefined) {
    const reason =
      candidateUndefined !== undefined
        ? `${primaryMetric} is undefined on the holdout: ${candidateUndefined} — the rule cannot pass`
        : `${primaryMetric} of champion v${championVersion} is undefined on the holdout: ${championUndefined} — the rule cannot pass`;
    rules.push({ rule: 'non-regression vs champion', passed: false, reason });
  } else {
    const cand = evaluation.holdout.candidate[primaryMetric];
    const champ = champion[primaryMetric];
    const lower = LOWER_IS_BETTER.has(primaryMetric);
    const drop = cand === undefined || champ === undefined ? Number.NaN : lower ? cand - champ : champ - cand;
    const passed = !Number.isNaN(drop) && drop <= gate.maxDropVsChampion + 1e-12;
    rules.push({
      rule: 'non-regression vs champion',
      passed,
      reason: `${primaryMetric} on holdout ${fmt(cand)} vs champion v${championVersion} ${fmt(champ)}: ${
        Number.isNaN(drop)
          ? 'not comparable'
          : drop > 0
            ? `worse by ${fmt(drop)} (${passed ? 'within' : 'exceeds'} the allowed drop of ${fmt(gate.maxDropVsChampion)})`
            : `better by ${fmt(-drop)}`
      }`,
    });
  }
  return { verdict: rules.every((r) => r.passed) ? 'PASS' : 'REJECT', primaryMetric, rules };
}

/** The gate's verdict in one line for people: "gate: REJECT — f1 0.6100 < 0.6500" (the failed rules, or all on PASS). */
export function gateSummary(gate: GateResult, maxLength = 180): string {
  const shown = gate.verdict === 'PASS' ? gate.rules : gate.rules.filter((r) => !r.passed);
  const reasons = shown.map((r) => r.brief ?? r.reason).join('; ');
  const line = `gate: ${gate.verdict} — ${reasons}`;
  return line.length > maxLength ? `${line.slice(0, maxLength - 1)}…` : line;
}
