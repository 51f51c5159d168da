"""Writes the reference values that test/metrics/*.test.ts compare src/metrics against.

Run with the project's venv: .relearn/venv/bin/python scripts/make-metric-fixtures.py
Every number comes from scikit-learn / numpy / scipy; the inputs come from a seeded generator,
so running the script twice writes byte-identical files.
"""

from __future__ import annotations

import json
import math
import warnings
from pathlib import Path

import numpy as np
import scipy
import sklearn
from scipy import stats
from sklearn.exceptions import UndefinedMetricWarning
from sklearn.metrics import (
    accuracy_score,
    f1_score,
    log_loss,
    mean_absolute_error,
    precision_score,
    r2_score,
    recall_score,
    roc_auc_score,
    root_mean_squared_error,
)

SEED = 20240611
OUT_DIR = Path(__file__).resolve().parent.parent / "test" / "fixtures" / "metrics"


def finite_or_none(x: float) -> float | None:
    """JSON has no NaN; the tests read null back as NaN."""
    x = float(x)
    return None if math.isnan(x) else x


def softmax(logits: np.ndarray) -> np.ndarray:
    z = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def classification_expected(task: str, y_true: np.ndarray, proba: np.ndarray) -> dict:
    n_classes = proba.shape[1]
    # The TypeScript side widens float32 input to float64 before computing, so the reference
    # is sklearn on the float64 copy (sklearn on a float32 array would clip at float32 eps).
    p64 = proba.astype(np.float64)
    y_pred = np.argmax(p64, axis=1)
    labels = list(range(n_classes))
    with warnings.catch_warnings():
        # Zero-division and single-class AUC warnings are the cases under test.
        warnings.simplefilter("ignore", UndefinedMetricWarning)
        warnings.simplefilter("ignore", UserWarning)
        if task == "binary":
            prf = dict(average="binary", pos_label=1)
            auc = roc_auc_score(y_true, p64[:, 1])
        else:
            prf = dict(average="macro")
            auc = roc_auc_score(y_true, p64, multi_class="ovr", average="macro", labels=labels)
        return {
            "accuracy": finite_or_none(accuracy_score(y_true, y_pred)),
            "precision": finite_or_none(precision_score(y_true, y_pred, **prf)),
            "recall": finite_or_none(recall_score(y_true, y_pred, **prf)),
            "f1": finite_or_none(f1_score(y_true, y_pred, **prf)),
            "roc_auc": finite_or_none(auc),
            "log_loss": finite_or_none(log_loss(y_true, p64, labels=labels)),
        }


def classification_case(name: str, task: str, y_true: np.ndarray, proba: np.ndarray, note: str) -> dict:
    dtype = "float32" if proba.dtype == np.float32 else "float64"
    return {
        "name": name,
        "note": note,
        "task": task,
        "nClasses": int(proba.shape[1]),
        "dtype": dtype,
        "yTrue": [int(v) for v in y_true],
        # float32 values are written as the exact double they widen to, so Float32Array.from() is lossless.
        "proba": [float(v) for v in proba.ravel()],
        "expected": classification_expected(task, y_true, proba),
    }


def classification_cases(rng: np.random.Generator) -> list[dict]:
    cases = []

    n = 800
    y = rng.integers(0, 2, n)
    logit = 1.2 * (2 * y - 1) + rng.normal(0, 1.5, n)
    p1 = 1 / (1 + np.exp(-logit))
    cases.append(classification_case("binary-random", "binary", y, np.column_stack([1 - p1, p1]), "noisy logistic scores"))

    n = 1000
    y = rng.integers(0, 2, n)
    # Scores on a 0.1 grid: many ties inside and across classes, including exact 0.5/0.5 rows (argmax -> class 0).
    p1 = np.clip(np.round(0.5 + 0.25 * (2 * y - 1) + rng.normal(0, 0.25, n), 1), 0, 1)
    cases.append(classification_case("binary-ties", "binary", y, np.column_stack([1 - p1, p1]), "scores rounded to 0.1"))

    n = 300
    y = rng.integers(0, 2, n)
    p1 = np.where(y == 1, rng.uniform(0.6, 0.99, n), rng.uniform(0.01, 0.4, n))
    cases.append(classification_case("binary-perfect", "binary", y, np.column_stack([1 - p1, p1]), "perfect separation"))

    n = 200
    y = rng.integers(0, 2, n)
    p1 = rng.choice([0.0, 1.0, 0.3, 0.7], n)
    cases.append(
        classification_case("binary-hard-zero-one", "binary", y, np.column_stack([1 - p1, p1]), "probabilities exactly 0 and 1, wrong ones included (log-loss clipping)")
    )

    n = 600
    y = rng.integers(0, 2, n)
    logits = np.column_stack([np.zeros(n), 2.0 * y - 1 + rng.normal(0, 1.2, n)]).astype(np.float32)
    p32 = softmax(logits).astype(np.float32)
    cases.append(classification_case("binary-float32", "binary", y, p32, "float32 probabilities as onnxruntime returns them"))

    n = 400
    y = rng.integers(0, 2, n)
    p1 = rng.uniform(0.0, 0.45, n)
    cases.append(
        classification_case("binary-no-predicted-positive", "binary", y, np.column_stack([1 - p1, p1]), "class 1 never predicted: precision, f1 zero division")
    )

    n = 150
    y = np.zeros(n, dtype=np.int64)
    p1 = rng.uniform(0.0, 1.0, n)
    cases.append(classification_case("binary-single-class", "binary", y, np.column_stack([1 - p1, p1]), "only class 0 in yTrue: AUC undefined (NaN), recall zero division"))

    n = 600
    y = rng.integers(0, 3, n)
    logits = rng.normal(0, 1.0, (n, 3))
    logits[np.arange(n), y] += 1.3
    cases.append(classification_case("multiclass-3", "multiclass", y, softmax(logits), "3 classes, softmax of noisy logits"))

    n = 1000
    y = rng.integers(0, 5, n)
    alpha = np.ones((n, 5))
    alpha[np.arange(n), y] += 2.0
    # Probabilities in steps of 1/20 so many scores tie; rows still sum to 1.
    counts = np.array([rng.multinomial(20, rng.dirichlet(a)) for a in alpha])
    cases.append(classification_case("multiclass-5-ties", "multiclass", y, counts / 20.0, "5 classes, probabilities on a 1/20 grid (ties, argmax ties)"))

    n = 700
    y = rng.integers(0, 4, n)
    logits = rng.normal(0, 1.0, (n, 4))
    logits[np.arange(n), y] += 1.0
    logits[:, 2] -= 10.0  # class 2 is never the argmax
    cases.append(classification_case("multiclass-never-predicted", "multiclass", y, softmax(logits), "class 2 never predicted: its precision is a zero division"))

    n = 500
    y = rng.choice([0, 1, 3], n)
    logits = rng.normal(0, 1.0, (n, 4))
    logits[np.arange(n), y] += 1.5
    logits[:, 2] -= 10.0
    cases.append(
        classification_case("multiclass-absent-class", "multiclass", y, softmax(logits), "class 2 neither in yTrue nor predicted: left out of macro P/R/F1, OVR AUC is NaN")
    )

    n = 800
    y = rng.integers(0, 3, n)
    logits = rng.normal(0, 1.0, (n, 3)).astype(np.float32)
    logits[np.arange(n), y] += 1.0
    p32 = softmax(logits).astype(np.float32)
    cases.append(classification_case("multiclass-float32", "multiclass", y, p32, "float32 probabilities, rows not summing to exactly 1 (no renormalisation)"))

    return cases


def regression_case(name: str, y_true: np.ndarray, y_pred: np.ndarray, note: str) -> dict:
    dtype = "float32" if y_pred.dtype == np.float32 else "float64"
    yt = y_true.astype(np.float64)
    yp = y_pred.astype(np.float64)
    return {
        "name": name,
        "note": note,
        "predDtype": dtype,
        "yTrue": [float(v) for v in yt],
        "yPred": [float(v) for v in yp],
        "expected": {
            "rmse": finite_or_none(root_mean_squared_error(yt, yp)),
            "mae": finite_or_none(mean_absolute_error(yt, yp)),
            "r2": finite_or_none(r2_score(yt, yp)),
        },
    }


def regression_cases(rng: np.random.Generator) -> list[dict]:
    cases = []
    n = 1000
    x = rng.normal(0, 1, n)
    y = 3.0 * x + 10 + rng.normal(0, 2.0, n)
    cases.append(regression_case("regression-random", y, 3.1 * x + 9.5, "linear model with noise"))

    n = 700
    y = rng.gamma(2.0, 30.0, n)
    pred = (y + rng.normal(0, 15.0, n)).astype(np.float32)
    cases.append(regression_case("regression-float32", y, pred, "float32 predictions as onnxruntime returns them"))

    y = np.full(50, 3.5)
    cases.append(regression_case("regression-constant-imperfect", y, 3.5 + rng.normal(0, 0.1, 50), "constant target, imperfect predictions: r2 = 0"))
    cases.append(regression_case("regression-constant-perfect", y, y.copy(), "constant target, perfect predictions: r2 = 1"))

    y = rng.normal(5, 2, 100)
    cases.append(regression_case("regression-perfect", y, y.copy(), "perfect predictions"))

    y = rng.normal(0, 1, 300)
    cases.append(regression_case("regression-worse-than-mean", y, -y, "negated predictions: r2 < 0"))

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UndefinedMetricWarning)  # r2 of one row is undefined: NaN
        cases.append(regression_case("regression-single-row", np.array([2.0]), np.array([2.5]), "one row: r2 is NaN"))
    return cases


def summary_case(name: str, values: np.ndarray, note: str) -> dict:
    k = len(values)
    mean = float(np.mean(values))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # ddof=1 with one value is NaN, as expected
        std = float(np.std(values, ddof=1))
    if k < 2:
        low = high = float("nan")
    elif std == 0:
        # scipy refuses scale=0 (returns NaN); Relearn reports the zero-width interval [mean, mean].
        low = high = mean
    else:
        low, high = stats.t.interval(0.95, k - 1, loc=mean, scale=std / math.sqrt(k))
    return {
        "name": name,
        "note": note,
        "values": [float(v) for v in values],
        "expected": {"mean": finite_or_none(mean), "std": finite_or_none(std), "ciLow": finite_or_none(low), "ciHigh": finite_or_none(high)},
    }


def summary_cases(rng: np.random.Generator) -> list[dict]:
    return [
        summary_case("k5", np.array([0.81, 0.83, 0.79, 0.85, 0.80]), "five folds"),
        summary_case("k2", np.array([0.7, 0.9]), "two folds: t with 1 degree of freedom"),
        summary_case("k3", np.array([12.5, 11.75, 13.125]), "three folds of an rmse"),
        summary_case("k10-random", rng.normal(0.9, 0.02, 10), "ten folds"),
        summary_case("k30-random", rng.normal(100.0, 7.0, 30), "thirty folds"),
        summary_case("k1", np.array([0.77]), "one fold: std and CI are NaN"),
        summary_case("k4-constant", np.array([0.5, 0.5, 0.5, 0.5]), "identical folds: std 0, CI of zero width"),
    ]


def sklearn_verdict(compute) -> dict:
    """scikit-learn's answer for one metric: its value, and why it is not defined when it says so.

    Undefined means scikit-learn raises a ValueError, returns NaN or a non-finite number, or warns with an
    UndefinedMetricWarning and substitutes a value. `scope` tells a metric with no value at all ("metric") from a
    macro average where only some classes' terms are 0/0 and count as 0 ("class-term").
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            value = float(compute())
        except ValueError as err:
            return {"value": None, "undefined": f"ValueError: {err}", "scope": "metric"}
    messages = [str(w.message) for w in caught if issubclass(w.category, UndefinedMetricWarning)]
    if messages:
        scope = "class-term" if " in labels with " in messages[0] else "metric"
        return {"value": finite_or_none(value), "undefined": messages[0], "scope": scope}
    if not math.isfinite(value):
        return {"value": None, "undefined": f"not finite ({value})", "scope": "metric"}
    return {"value": value, "undefined": None, "scope": None}


def undefined_classification_case(name: str, task: str, class_names: list[str], y_true: np.ndarray, proba: np.ndarray, note: str) -> dict:
    labels = list(range(proba.shape[1]))
    y_pred = np.argmax(proba, axis=1)
    prf = dict(average="binary", pos_label=1) if task == "binary" else dict(average="macro")
    auc = (lambda: roc_auc_score(y_true, proba[:, 1])) if task == "binary" else (lambda: roc_auc_score(y_true, proba, multi_class="ovr", average="macro", labels=labels))
    return {
        "name": name,
        "note": note,
        "task": task,
        "nClasses": len(labels),
        "classNames": class_names,
        "yTrue": [int(v) for v in y_true],
        "proba": [float(v) for v in proba.ravel()],
        "sklearn": {
            "accuracy": sklearn_verdict(lambda: accuracy_score(y_true, y_pred)),
            "precision": sklearn_verdict(lambda: precision_score(y_true, y_pred, **prf)),
            "recall": sklearn_verdict(lambda: recall_score(y_true, y_pred, **prf)),
            "f1": sklearn_verdict(lambda: f1_score(y_true, y_pred, **prf)),
            "roc_auc": sklearn_verdict(auc),
            # Relearn always knows the model's classes, as scikit-learn does when given `labels`.
            "log_loss": sklearn_verdict(lambda: log_loss(y_true, proba, labels=labels)),
        },
    }


def undefined_regression_case(name: str, y_true: np.ndarray, y_pred: np.ndarray, note: str) -> dict:
    return {
        "name": name,
        "note": note,
        "task": "regression",
        "yTrue": [float(v) for v in y_true],
        "yPred": [float(v) for v in y_pred],
        "sklearn": {
            "rmse": sklearn_verdict(lambda: root_mean_squared_error(y_true, y_pred)),
            "mae": sklearn_verdict(lambda: mean_absolute_error(y_true, y_pred)),
            # force_finite=False shows what R² is; the default stands 1.0 or 0.0 in for the 0/0 or x/0 of a constant target.
            "r2": sklearn_verdict(lambda: r2_score(y_true, y_pred, force_finite=False)),
        },
    }


def undefined_cases() -> list[dict]:
    """Sets of rows on which some metric has no value: a class missing, no positive predicted, a constant target."""
    # Its own generator, so the cases above keep their numbers.
    rng = np.random.default_rng([SEED, 2])
    cases = []
    binary = ["on-time", "delayed"]

    def binary_proba(p1: np.ndarray) -> np.ndarray:
        return np.column_stack([1 - p1, p1])

    n = 60
    cases.append(undefined_classification_case("binary-only-negatives", "binary", binary, np.zeros(n, dtype=np.int64), binary_proba(rng.uniform(0, 1, n)), "the positive class never occurs: AUC and recall undefined"))
    cases.append(undefined_classification_case("binary-only-positives", "binary", binary, np.ones(n, dtype=np.int64), binary_proba(rng.uniform(0, 1, n)), "the negative class never occurs: AUC undefined"))
    y = rng.integers(0, 2, n)
    cases.append(undefined_classification_case("binary-never-predicted", "binary", binary, y, binary_proba(rng.uniform(0, 0.45, n)), "no row predicted positive: precision undefined"))
    cases.append(
        undefined_classification_case("binary-nothing-positive", "binary", binary, np.zeros(n, dtype=np.int64), binary_proba(rng.uniform(0, 0.45, n)), "no positive row and none predicted: AUC, precision, recall and F1 undefined")
    )
    cases.append(undefined_classification_case("binary-defined", "binary", binary, y, binary_proba(np.clip(0.3 + 0.4 * y + rng.normal(0, 0.2, n), 0, 1)), "both classes, both predicted: everything defined"))

    weather = ["drizzle", "fog", "rain", "snow", "sun"]
    n = 146
    logits = rng.normal(0, 1.0, (n, 5))
    y = rng.choice([0, 1, 2, 4], n)  # no snow in these rows
    logits[np.arange(n), y] += 1.5
    logits[:5, 3] += 6.0  # yet snow is predicted for a few of them
    cases.append(undefined_classification_case("multiclass-missing-class", "multiclass", weather, y, softmax(logits), "'snow' never occurs but is predicted: AUC undefined; recall's snow term is 0/0"))
    y = rng.choice([2, 4], n)
    logits = rng.normal(0, 1.0, (n, 5))
    logits[np.arange(n), y] += 1.5
    cases.append(undefined_classification_case("multiclass-three-missing", "multiclass", weather, y, softmax(logits), "only rain and sun occur: AUC undefined"))
    y = rng.integers(0, 5, n)
    logits = rng.normal(0, 1.0, (n, 5))
    logits[np.arange(n), y] += 1.5
    logits[:, 1] -= 10.0  # fog is never predicted
    cases.append(undefined_classification_case("multiclass-never-predicted", "multiclass", weather, y, softmax(logits), "every class occurs, fog never predicted: precision's fog term is 0/0, the average stays"))

    n = 40
    cases.append(undefined_regression_case("regression-constant-target", np.full(n, 3.5), 3.5 + rng.normal(0, 0.1, n), "constant target: R² is x/0"))
    cases.append(undefined_regression_case("regression-constant-perfect", np.full(n, 3.5), np.full(n, 3.5), "constant target predicted exactly: R² is 0/0"))
    cases.append(undefined_regression_case("regression-one-row", np.array([2.0]), np.array([2.5]), "one row: R² undefined"))
    y = rng.normal(10, 3, n)
    cases.append(undefined_regression_case("regression-defined", y, y + rng.normal(0, 1, n), "a varying target: everything defined"))
    return cases


def write_json(name: str, payload: dict) -> None:
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    # Compact: the files are read by tests, not people, and stay small in the repository.
    text = json.dumps(payload, separators=(",", ":"), sort_keys=True, allow_nan=False) + "\n"
    (OUT_DIR / name).write_text(text, encoding="utf-8")


def main() -> None:
    rng = np.random.default_rng(SEED)
    versions = {"numpy": np.__version__, "scipy": scipy.__version__, "scikit-learn": sklearn.__version__}
    write_json("classification.json", {"generatedBy": "scripts/make-metric-fixtures.py", "seed": SEED, "versions": versions, "cases": classification_cases(rng)})
    write_json("regression.json", {"generatedBy": "scripts/make-metric-fixtures.py", "seed": SEED, "versions": versions, "cases": regression_cases(rng)})
    write_json("summary.json", {"generatedBy": "scripts/make-metric-fixtures.py", "seed": SEED, "versions": versions, "cases": summary_cases(rng)})
    write_json("undefined.json", {"generatedBy": "scripts/make-metric-fixtures.py", "seed": SEED, "versions": versions, "cases": undefined_cases()})


if __name__ == "__main__":
    main()
