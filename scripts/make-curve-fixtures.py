"""Writes the reference curves that test/evaluate/curves.test.ts compares src/evaluate/curves.ts against.

Run with the project's venv: .relearn/venv/bin/python scripts/make-curve-fixtures.py
Every number comes from scikit-learn / numpy (roc_curve, precision_recall_curve, calibration_curve,
confusion_matrix, numpy.histogram); the inputs come from a seeded generator, so running the script twice
writes byte-identical files.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import sklearn
from sklearn.calibration import calibration_curve
from sklearn.metrics import confusion_matrix, precision_recall_curve, roc_curve

SEED = 20250301
OUT = Path(__file__).resolve().parent.parent / "test" / "fixtures" / "evaluate" / "curves.json"


def floats(a: np.ndarray) -> list:
    """JSON has no infinity: roc_curve's first threshold (inf) is written as null."""
    return [None if not np.isfinite(x) else float(x) for x in np.asarray(a, dtype=np.float64)]


def binary_case(name: str, y: np.ndarray, p1: np.ndarray) -> dict:
    # Probabilities are float32, as onnxruntime returns them; scikit-learn gets the float64 copy the TS side uses.
    p1 = p1.astype(np.float32)
    proba = np.stack([1 - p1, p1], axis=1).astype(np.float32)
    s = proba[:, 1].astype(np.float64)
    fpr, tpr, roc_thr = roc_curve(y, s)
    precision, recall, pr_thr = precision_recall_curve(y, s)
    prob_true, prob_pred = calibration_curve(y, s, n_bins=10, strategy="uniform")
    y_pred = np.argmax(proba.astype(np.float64), axis=1)
    return {
        "name": name,
        "y": y.tolist(),
        "proba": [float(v) for v in proba.reshape(-1)],
        "roc": {"fpr": floats(fpr), "tpr": floats(tpr), "thresholds": floats(roc_thr)},
        "pr": {"precision": floats(precision), "recall": floats(recall), "thresholds": floats(pr_thr)},
        "calibration": {"probTrue": floats(prob_true), "probPred": floats(prob_pred)},
        "confusion": confusion_matrix(y, y_pred, labels=[0, 1]).tolist(),
    }


def main() -> None:
    rng = np.random.default_rng(SEED)
    cases = []

    # Scores rounded to two decimals: many ties, which both curves must collapse as scikit-learn does.
    n = 400
    y = (rng.random(n) < 0.35).astype(np.int64)
    logits = rng.normal(0, 1, n) + 1.3 * y
    cases.append(binary_case("binary-ties", y, np.round(1 / (1 + np.exp(-logits)), 2)))

    # Distinct scores, more points than the curves keep after dropping collinear ones.
    n = 800
    y = (rng.random(n) < 0.5).astype(np.int64)
    logits = rng.normal(0, 1.5, n) + 0.8 * y
    cases.append(binary_case("binary-distinct", y, 1 / (1 + np.exp(-logits))))

    # Three classes: one-vs-rest ROC per class and the confusion matrix of the argmax.
    n = 300
    k = 3
    y3 = rng.integers(0, k, n)
    z = rng.normal(0, 1, (n, k))
    z[np.arange(n), y3] += 1.0
    proba3 = (np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)).astype(np.float32)
    p64 = proba3.astype(np.float64)
    one_vs_rest = []
    for c in range(k):
        fpr, tpr, thr = roc_curve((y3 == c).astype(np.int64), p64[:, c])
        precision, recall, pr_thr = precision_recall_curve((y3 == c).astype(np.int64), p64[:, c])
        one_vs_rest.append(
            {
                "roc": {"fpr": floats(fpr), "tpr": floats(tpr), "thresholds": floats(thr)},
                "pr": {"precision": floats(precision), "recall": floats(recall), "thresholds": floats(pr_thr)},
            }
        )
    multiclass = {
        "y": y3.tolist(),
        "proba": [float(v) for v in proba3.reshape(-1)],
        "classes": k,
        "oneVsRest": one_vs_rest,
        "confusion": confusion_matrix(y3, np.argmax(p64, axis=1), labels=list(range(k))).tolist(),
    }

    # Regression: residuals (actual - predicted) in 20 equal-width bins over their range.
    n = 500
    actual = rng.normal(10, 3, n)
    predicted = (actual + rng.normal(0, 1.2, n)).astype(np.float32)
    residuals = actual - predicted.astype(np.float64)
    counts, edges = np.histogram(residuals, bins=20)
    regression = {
        "actual": [float(v) for v in actual],
        "predicted": [float(v) for v in predicted],
        "residualHistogram": {"counts": counts.tolist(), "edges": floats(edges)},
    }

    OUT.parent.mkdir(parents=True, exist_ok=True)
    doc = {
        "generatedBy": "scripts/make-curve-fixtures.py",
        "sklearn": sklearn.__version__,
        "numpy": np.__version__,
        "binary": cases,
        "multiclass": multiclass,
        "regression": regression,
    }
    OUT.write_text(json.dumps(doc, separators=(",", ":")) + "\n")
    print(f"wrote {OUT.relative_to(Path.cwd()) if OUT.is_relative_to(Path.cwd()) else OUT}")


if __name__ == "__main__":
    main()
