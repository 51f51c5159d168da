"""Error rates of the domain-classifier drift check (src/drift/domain-classifier.ts) by simulation.

Run with the trainer's Python:  .relearn/venv/bin/python scripts/simulate-domain-classifier.py [--reps N]
The check's defaults are mirrored here: HistGradientBoostingClassifier(max_iter=100, learning_rate=0.1) on the
features of `maxRows` rows from each side, 3 stratified folds, the mean held-out ROC AUC against maxAuc 0.55. Each
scenario draws fresh windows of four standard-normal features (x1..x4) and counts how often the check fires:
  - no drift (the false-alarm rate),
  - the correlation of x1 and x2 moved from 0 to rho with both marginals unchanged (what univariate tests miss),
  - a mean shift of one feature by a share of its standard deviation.
Prints a Markdown table (rate, its 95% Wilson interval, the mean AUC) for docs/drift.md.
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold

MAX_AUC = 0.55


def window(rng: np.random.Generator, n: int, rho: float = 0.0, shift: float = 0.0) -> np.ndarray:
    x = rng.standard_normal((n, 4))
    x[:, 1] = rho * x[:, 0] + math.sqrt(1 - rho * rho) * x[:, 1]
    x[:, 2] += shift
    return x


def cv_auc(reference: np.ndarray, current: np.ndarray, seed: int, folds: int) -> float:
    x = np.vstack([reference, current]).astype(np.float32)
    y = np.r_[np.zeros(len(reference)), np.ones(len(current))]
    aucs = []
    for train, test in StratifiedKFold(folds, shuffle=True, random_state=seed).split(x, y):
        model = HistGradientBoostingClassifier(max_iter=100, learning_rate=0.1, random_state=42).fit(x[train], y[train])
        aucs.append(roc_auc_score(y[test], model.predict_proba(x[test])[:, 1]))
    return float(np.mean(aucs))


def wilson(k: int, n: int) -> tuple[float, float]:
    z = 1.96
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reps", type=int, default=100)
    parser.add_argument("--rows", type=int, default=5000, help="rows per side (the check's maxRows)")
    parser.add_argument("--folds", type=int, default=3)
    args = parser.parse_args()
    scenarios = [
        ("no drift", {}),
        ("correlation of x1, x2: 0 → 0.2", {"rho": 0.2}),
        ("correlation of x1, x2: 0 → 0.3", {"rho": 0.3}),
        ("correlation of x1, x2: 0 → 0.5", {"rho": 0.5}),
        ("mean of x3 shifted by 0.1 sd", {"shift": 0.1}),
        ("mean of x3 shifted by 0.2 sd", {"shift": 0.2}),
    ]
    print(f"{args.reps} windows per scenario, {args.rows} rows a side, {args.folds} folds, drift when AUC > {MAX_AUC}\n")
    print("| scenario | fires | 95% interval | mean AUC (sd) |")
    print("| --- | --- | --- | --- |")
    started = time.monotonic()
    for s, (name, kw) in enumerate(scenarios):
        rng = np.random.default_rng(20261130 + s)
        aucs = [cv_auc(window(rng, args.rows), window(rng, args.rows, **kw), seed=r, folds=args.folds) for r in range(args.reps)]
        fired = sum(a > MAX_AUC for a in aucs)
        lo, hi = wilson(fired, args.reps)
        print(f"| {name} | {fired}/{args.reps} ({fired / args.reps:.1%}) | {lo:.1%}–{hi:.1%} | {np.mean(aucs):.4f} ({np.std(aucs):.4f}) |", flush=True)
    print(f"\n{time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    main()
