"""Reference numbers for the champion-vs-shadow comparison (src/shadow/compare.ts), from scikit-learn, numpy and scipy.

Run with the project's Python:  .relearn/venv/bin/python scripts/make-shadow-fixtures.py
Writes test/fixtures/shadow/<case>.json: labels, both models' outputs, the bootstrap resample indices, and the
expected metric values, paired-bootstrap percentile interval, one-sided bootstrap p-value and McNemar test.

The resample indices are drawn with a Python port of mulberry32 (src/data/sample.ts), index = floor(u * n), so the
test can check both that compare.ts reproduces these numbers on the saved indices and that its own seeded draw
yields the same indices.
"""

import json
import math
from pathlib import Path

import numpy as np
import scipy
import sklearn
from scipy import stats
from sklearn import metrics as skm

OUT = Path(__file__).resolve().parent.parent / "test" / "fixtures" / "shadow"
ROWS = 200
RESAMPLES = 200
LOWER_IS_BETTER = {"log_loss", "rmse", "mae"}
MCNEMAR_EXACT_BELOW = 25


def mulberry32(seed):
    state = seed & 0xFFFFFFFF

    def imul(a, b):
        return (a * b) & 0xFFFFFFFF

    def nxt():
        nonlocal state
        state = (state + 0x6D2B79F5) & 0xFFFFFFFF
        t = state
        t = imul(t ^ (t >> 15), t | 1)
        t ^= (t + imul(t ^ (t >> 7), t | 61)) & 0xFFFFFFFF
        return ((t ^ (t >> 14)) & 0xFFFFFFFF) / 4294967296

    return nxt


def bootstrap_indices(n, resamples, seed):
    random = mulberry32(seed)
    return np.array([[math.floor(random() * n) for _ in range(n)] for _ in range(resamples)], dtype=np.int64)


def metric(task, name, y, out, n_classes):
    if task == "regression":
        if name == "rmse":
            return float(skm.root_mean_squared_error(y, out))
        if name == "mae":
            return float(skm.mean_absolute_error(y, out))
        return float(skm.r2_score(y, out))
    pred = out.argmax(axis=1)
    avg = "binary" if task == "binary" else "macro"
    if name == "accuracy":
        return float(skm.accuracy_score(y, pred))
    if name == "f1":
        return float(skm.f1_score(y, pred, average=avg, zero_division=0))
    if name == "precision":
        return float(skm.precision_score(y, pred, average=avg, zero_division=0))
    if name == "recall":
        return float(skm.recall_score(y, pred, average=avg, zero_division=0))
    if name == "log_loss":
        return float(skm.log_loss(y, out, labels=list(range(n_classes))))
    if name == "roc_auc":
        if len(np.unique(y)) < n_classes:
            return float("nan")
        if task == "binary":
            return float(skm.roc_auc_score(y, out[:, 1]))
        return float(skm.roc_auc_score(y, out, multi_class="ovr", average="macro", labels=list(range(n_classes))))
    raise ValueError(name)


def signed(name, champion, shadow):
    return champion - shadow if name in LOWER_IS_BETTER else shadow - champion


def mcnemar(y, champion_pred, shadow_pred):
    champion_right = champion_pred == y
    shadow_right = shadow_pred == y
    b = int(np.sum(champion_right & ~shadow_right))
    c = int(np.sum(~champion_right & shadow_right))
    n = b + c
    if n < MCNEMAR_EXACT_BELOW:
        k = min(b, c)
        p = 1.0 if n == 0 else float(stats.binomtest(k, n, 0.5, alternative="two-sided").pvalue)
        return {"b": b, "c": c, "statistic": float(k), "pValue": p, "exact": True}
    statistic = (abs(b - c) - 1) ** 2 / n
    return {"b": b, "c": c, "statistic": float(statistic), "pValue": float(stats.chi2.sf(statistic, 1)), "exact": False}


def softmax_rows(logits):
    z = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def binary_case(rng, champion_noise, shadow_noise, decimals=None, n=ROWS):
    y = rng.integers(0, 2, n)
    signal = (2 * y - 1) * 1.0

    def model(noise):
        p1 = 1 / (1 + np.exp(-(signal + rng.normal(0, noise, n))))
        if decimals is not None:
            p1 = np.round(p1, decimals)
        return np.column_stack([1 - p1, p1])

    return y, model(champion_noise), model(shadow_noise)


def case(name, task, metric_name, y, champion, shadow, margin, confidence, seed, n_classes, expected_verdict):
    n = len(y)
    idx = bootstrap_indices(n, RESAMPLES, seed)
    champion_value = metric(task, metric_name, y, champion, n_classes)
    shadow_value = metric(task, metric_name, y, shadow, n_classes)
    diffs = []
    for rows in idx:
        d = signed(metric_name, metric(task, metric_name, y[rows], champion[rows], n_classes), metric(task, metric_name, y[rows], shadow[rows], n_classes))
        if math.isfinite(d):
            diffs.append(d)
    diffs = np.array(diffs)
    alpha = 1 - confidence
    # np.quantile (numpy's default linear method) with q itself: np.percentile would divide by 100 and could round differently.
    ci_low = float(np.quantile(diffs, alpha / 2))
    ci_high = float(np.quantile(diffs, 1 - alpha / 2))
    verdict = "not-worse" if ci_low >= -margin else "worse"
    assert verdict == expected_verdict, (name, verdict, ci_low, margin)
    fixture = {
        "name": name,
        "task": task,
        "metric": metric_name,
        "classes": n_classes,
        "margin": margin,
        "confidence": confidence,
        "seed": seed,
        "labels": [float(v) for v in y] if task == "regression" else [int(v) for v in y],
        "champion": champion.ravel().tolist(),
        "shadow": shadow.ravel().tolist(),
        "resampleIndices": idx.tolist(),
        "expected": {
            "rows": n,
            "championValue": champion_value,
            "shadowValue": shadow_value,
            "diff": signed(metric_name, champion_value, shadow_value),
            "ciLow": ci_low,
            "ciHigh": ci_high,
            "resamples": int(len(diffs)),
            "pValue": float(np.mean(diffs < -margin)),
            "mcnemar": None if task == "regression" else mcnemar(y, champion.argmax(axis=1), shadow.argmax(axis=1)),
            "verdict": verdict,
        },
    }
    (OUT / f"{name}.json").write_text(json.dumps(fixture, separators=(",", ":")) + "\n")
    e = fixture["expected"]
    print(f"{name}: {metric_name} {e['championValue']:.4f} → {e['shadowValue']:.4f}, CI [{e['ciLow']:+.4f}, {e['ciHigh']:+.4f}], p={e['pValue']:.3f}, mcnemar={e['mcnemar']}, {verdict}")


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(20240605)

    # A shadow with less noise than the champion: better AUC.
    y, c, s = binary_case(rng, champion_noise=1.6, shadow_noise=0.9)
    case("good-shadow", "binary", "roc_auc", y, c, s, 0.02, 0.95, 11, 2, "not-worse")

    # A shadow with much more noise: clearly worse.
    y, c, s = binary_case(rng, champion_noise=0.9, shadow_noise=2.5)
    case("worse-shadow", "binary", "roc_auc", y, c, s, 0.02, 0.95, 12, 2, "worse")

    # The same model twice: every resampled difference is 0, no discordant pair.
    y, c, _ = binary_case(rng, champion_noise=1.2, shadow_noise=1.2)
    case("equal", "binary", "accuracy", y, c, c.copy(), 0.0, 0.95, 13, 2, "not-worse")

    # Probabilities rounded to one decimal: many tied scores within and across classes.
    y, c, s = binary_case(rng, champion_noise=1.2, shadow_noise=1.3, decimals=1)
    case("ties", "binary", "roc_auc", y, c, s, 0.05, 0.9, 14, 2, "not-worse")

    # The shadow differs from the champion on a few rows only: b + c < 25, exact McNemar.
    y, c, _ = binary_case(rng, champion_noise=1.4, shadow_noise=1.4)
    s = c.copy()
    flip = rng.choice(ROWS, 9, replace=False)
    s[flip] = s[flip][:, ::-1]
    case("mcnemar-exact", "binary", "accuracy", y, c, s, 0.05, 0.95, 15, 2, "not-worse")

    # Two unrelated models: many discordant pairs, chi-square McNemar; F1 as the metric.
    y, c, s = binary_case(rng, champion_noise=1.0, shadow_noise=1.5)
    case("mcnemar-chi2", "binary", "f1", y, c, s, 0.01, 0.95, 16, 2, "worse")

    # Three classes, log loss (lower is better, so the difference is flipped).
    y = rng.integers(0, 3, ROWS)
    onehot = np.eye(3)[y]
    c = softmax_rows(2.0 * onehot + rng.normal(0, 1.0, (ROWS, 3)))
    s = softmax_rows(2.2 * onehot + rng.normal(0, 1.0, (ROWS, 3)))
    case("multiclass-log-loss", "multiclass", "log_loss", y, c, s, 0.05, 0.95, 17, 3, "not-worse")

    # Regression, RMSE (lower is better).
    x = rng.normal(0, 1, ROWS)
    y = 3 * x + rng.normal(0, 1, ROWS)
    c = 3 * x + rng.normal(0, 0.8, ROWS)
    s = 3 * x + rng.normal(0, 0.5, ROWS)
    case("regression-rmse", "regression", "rmse", y, c, s, 0.1, 0.95, 18, 0, "not-worse")

    print(f"numpy {np.__version__}, scipy {scipy.__version__}, scikit-learn {sklearn.__version__}")


if __name__ == "__main__":
    main()
