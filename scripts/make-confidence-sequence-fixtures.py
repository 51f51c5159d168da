"""Reference numbers for the sequential window test (src/shadow/confidence-sequence.ts, row-loss.ts, decide-window.ts).

Run with a Python that has confseq (see scripts/requirements-confseq.txt for how to build it):
    .confseq-venv/bin/python scripts/make-confidence-sequence-fixtures.py
Writes test/fixtures/shadow/sequential/confidence-sequence.json.

Two independent sources for every bound, which the script requires to agree before it writes anything:
  - confseq's normal_mixture_bound(v=t, alpha, v_opt=t*, alpha_opt=alpha, is_one_sided=False) / t: the two-sided
    normal-mixture boundary of Howard et al., which Theorem 2.2 of Waudby-Smith et al. (arXiv:2103.06476) scales by
    the sample standard deviation to get the asymptotic confidence sequence;
  - a direct transcription of the paper's formula: sigma_t * sqrt(2(t rho^2 + 1) / (t^2 rho^2) * log(sqrt(t rho^2 + 1) / alpha))
    with rho^2 = (2 log(1/alpha) + log(1 + 2 log(1/alpha))) / t*.
Per-row losses: their means are checked against scikit-learn's brier_score_loss and mean_squared_error. The
fixed-sample interval uses scipy.stats.norm.ppf. The outcome at each look follows the rules of docs/shadow.md,
transcribed here.
"""

import json
import math
from pathlib import Path

import confseq
import numpy as np
import scipy
import sklearn
from confseq.boundaries import normal_mixture_bound
from scipy import stats
from sklearn.metrics import brier_score_loss, mean_squared_error

OUT = Path(__file__).resolve().parent.parent / "test" / "fixtures" / "shadow" / "sequential"
LOOK_EVERY = 50


def paper_radius(t, t_opt, alpha):
    """The unit-variance half-width of the asymptotic CS, transcribed from the paper."""
    l = 2 * math.log(1 / alpha)
    rho2 = (l + math.log(1 + l)) / t_opt
    a = t * rho2 + 1
    return math.sqrt(2 * a / (t * t * rho2) * math.log(math.sqrt(a) / alpha))


def confseq_radius(t, t_opt, alpha):
    return normal_mixture_bound(t, alpha, t_opt, alpha, False) / t


def radius(t, t_opt, alpha):
    a, b = confseq_radius(t, t_opt, alpha), paper_radius(t, t_opt, alpha)
    assert abs(a - b) <= 1e-12 * max(1.0, abs(a)), (t, t_opt, alpha, a, b)
    return a


def row_losses(task, y, outputs, n_classes):
    if task == "regression":
        return (y - outputs) ** 2
    probs = outputs.reshape(len(y), n_classes)
    if task == "binary":
        return (probs[:, 1] - y) ** 2
    return np.sum((probs - np.eye(n_classes)[y]) ** 2, axis=1)


def sklearn_mean_loss(task, y, outputs, n_classes):
    if task == "regression":
        return mean_squared_error(y, outputs)
    probs = outputs.reshape(len(y), n_classes)
    if task == "binary":
        return brier_score_loss(y, probs[:, 1])
    return brier_score_loss(y, probs, labels=list(range(n_classes)))


def outcome(kind, lower, upper, pass_above, fail_below):
    passes, fails = lower >= pass_above, upper < fail_below
    if kind == "guard" and fails:
        return "fail"
    if passes:
        return "pass"
    if fails:
        return "fail"
    return "inconclusive"


def make_case(name, task, n_classes, kind, loss_margin, loss_harm_margin, confidence, planned_rows, y, base, cont):
    alpha = 1 - confidence
    z_crit = stats.norm.ppf(1 - alpha / 2)
    fail_share = loss_margin if kind == "shadow" else loss_harm_margin
    looks = []
    for t in range(LOOK_EVERY, len(y) + 1, LOOK_EVERY):
        yt = y[:t]
        width = 1 if task == "regression" else n_classes
        lb = row_losses(task, yt, base[: t * width], n_classes)
        lc = row_losses(task, yt, cont[: t * width], n_classes)
        mb, mc = sklearn_mean_loss(task, yt, base[: t * width], n_classes), sklearn_mean_loss(task, yt, cont[: t * width], n_classes)
        assert abs(mb - lb.mean()) < 1e-12 and abs(mc - lc.mean()) < 1e-12, (name, t)
        d = lb - lc
        z_pass, z_fail = d + loss_margin * lb, d + fail_share * lb
        r = radius(t, planned_rows, alpha)
        pass_radius, fail_radius = np.std(z_pass) * r, np.std(z_fail) * r
        lower, upper = d.mean() - pass_radius, d.mean() + fail_radius
        pass_above, fail_below = -loss_margin * mb, -fail_share * mb
        looks.append(
            {
                "rows": t,
                "baselineLoss": mb,
                "contenderLoss": mc,
                "diff": d.mean(),
                "lower": lower,
                "upper": upper,
                "passAbove": pass_above,
                "failBelow": fail_below,
                "outcome": outcome(kind, lower, upper, pass_above, fail_below),
                # The fixed-sample interval of z_pass's mean: mean ± z_{1-alpha/2} · sd / sqrt(t).
                "fixedLow": z_pass.mean() - z_crit * np.std(z_pass) / math.sqrt(t),
                "fixedHigh": z_pass.mean() + z_crit * np.std(z_pass) / math.sqrt(t),
            }
        )
    return {
        "name": name,
        "task": task,
        "classes": n_classes,
        "kind": kind,
        "lossMargin": loss_margin,
        "lossHarmMargin": loss_harm_margin,
        "confidence": confidence,
        "plannedRows": planned_rows,
        "labels": y.tolist(),
        "baseline": base.tolist(),
        "contender": cont.tolist(),
        "looks": looks,
    }


def calibrated_pair(rng, n, base_rate, mu_b, mu_c, corr):
    """Binary labels and two calibrated binormal scorers with correlated noise (the model of docs/shadow.md)."""
    y = (rng.random(n) < base_rate).astype(np.int64)
    e1 = rng.standard_normal(n)
    e2 = corr * e1 + math.sqrt(1 - corr * corr) * rng.standard_normal(n)
    logit = math.log(base_rate / (1 - base_rate))
    pb = 1 / (1 + np.exp(-(mu_b * (mu_b * y + e1) - mu_b**2 / 2 + logit)))
    pc = 1 / (1 + np.exp(-(mu_c * (mu_c * y + e2) - mu_c**2 / 2 + logit)))
    return y, np.c_[1 - pb, pb].ravel(), np.c_[1 - pc, pc].ravel()


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(20240315)
    boundaries = []
    for t_opt in (100, 2000, 7000):
        for alpha in (0.05, 0.1, 0.01):
            for t in (1, 10, 100, 250, 1000, 7000, 100000):
                boundaries.append({"rows": t, "plannedRows": t_opt, "alpha": alpha, "radius": radius(t, t_opt, alpha),
                                   "rho2": (2 * math.log(1 / alpha) + math.log(1 + 2 * math.log(1 / alpha))) / t_opt})
    cases = []
    # A better contender (separations 0.8 vs 1.6) with strongly correlated noise: shadow, one margin.
    y, b, c = calibrated_pair(rng, 800, 0.2, 0.8, 1.6, 0.8)
    cases.append(make_case("binary-shadow", "binary", 2, "shadow", 0.005, 0.005, 0.95, 300, y, b, c))
    # A worse contender in shadow (1.4 vs 0.6): fails once the sequence is narrow enough.
    y, b, c = calibrated_pair(rng, 600, 0.2, 1.4, 0.6, 0.6)
    cases.append(make_case("binary-shadow-worse", "binary", 2, "shadow", 0.005, 0.005, 0.95, 600, y, b, c))
    # A much worse contender (1.2 vs 0.3): the guard's harm margin differs from its margin, so two widths.
    y, b, c = calibrated_pair(rng, 600, 0.3, 1.2, 0.3, 0.5)
    cases.append(make_case("binary-guard-two-margins", "binary", 2, "guard", 0.01, 0.002, 0.9, 200, y, b, c))
    # Three classes: Dirichlet probabilities for the baseline, the contender a mix of it with the truth and other Dirichlet draws.
    n = 400
    y = rng.integers(0, 3, n)
    pb = rng.dirichlet([2, 2, 2], n)
    pb = 0.5 * pb + 0.5 * np.eye(3)[y] * 0.6 + 0.5 * 0.4 / 3
    pc = 0.85 * pb + 0.15 * (0.5 * np.eye(3)[y] + 0.5 * rng.dirichlet([1, 1, 1], n))
    cases.append(make_case("multiclass-shadow", "multiclass", 3, "shadow", 0.02, 0.02, 0.95, 400, y, pb.ravel(), pc.ravel()))
    # Regression: the baseline is noisier than the contender; guard with no harm margin.
    n = 500
    x = rng.normal(size=n)
    y = 3 * x + rng.normal(size=n)
    c = 3 * x + 0.1 * rng.normal(size=n)
    b = c + 0.5 * rng.normal(size=n)
    cases.append(make_case("regression-guard", "regression", 0, "guard", 0.01, 0.0, 0.95, 250, y, b, c))
    payload = {
        "source": "scripts/make-confidence-sequence-fixtures.py",
        "versions": {"confseq": getattr(confseq, "__version__", "0.0.11"), "numpy": np.__version__, "scipy": scipy.__version__, "sklearn": sklearn.__version__},
        "lookEvery": LOOK_EVERY,
        "boundaries": boundaries,
        "cases": cases,
    }
    (OUT / "confidence-sequence.json").write_text(json.dumps(payload, indent=1) + "\n")
    counts = {c["name"]: {o: sum(1 for l in c["looks"] if l["outcome"] == o) for o in ("pass", "fail", "inconclusive")} for c in cases}
    print(f"wrote {OUT / 'confidence-sequence.json'}: {len(boundaries)} boundaries, outcomes per look {counts}")


if __name__ == "__main__":
    main()
