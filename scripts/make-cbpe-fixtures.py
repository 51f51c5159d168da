"""NannyML's CBPE estimates on the flights data, as fixtures for Relearn's own CBPE (src/drift/estimated.ts).

Run with the NannyML environment (scripts/requirements-nannyml.txt says how to make it):
    .relearn/nannyml-venv/bin/python scripts/make-cbpe-fixtures.py [--cache-only]

With --cache-only only the scores cache below is written (the benchmark's input), not the fixtures.

A January champion, fitted the way the reference trainer fits one (scikit-learn logistic regression on distance,
departure hour and origin; balanced class weights, so that it predicts the minority class and F1 means something), is scored on its holdout (the last week of January: the calibration rows) and on every
later week of the flights data. Scores are rounded to 6 decimals before NannyML sees them, so both sides read exactly
the same numbers. Writes:
  test/fixtures/drift/cbpe/flights-cbpe.json   binary (delayed > 15 min) and multiclass (early / on time / late):
                                               calibration rows, a few weekly windows' scores, NannyML's estimates
  test/fixtures/drift/cbpe/flights-weeks.json  binary, every week Feb-Jun: NannyML's estimates and the realized values
  .relearn/cache/cbpe/flights-weeks-scores.json the binary scores of every week (input of
                                               scripts/estimated-performance-flights.ts and bench/estimated.ts)
"""

import json
import os
import sys
import warnings

# NannyML reports usage to a web service unless told not to (and the machines this runs on may have no network).
os.environ["NML_DISABLE_USAGE_LOGGING"] = "1"

import nannyml as nml
import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score, roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

warnings.filterwarnings("ignore")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FLIGHTS = os.path.join(ROOT, "node_modules", "vega-datasets", "data", "flights-3m.parquet")
FIXTURES = os.path.join(ROOT, "test", "fixtures", "drift", "cbpe")
CACHE = os.path.join(ROOT, ".relearn", "cache", "cbpe")
TRAIN_ROWS = 20_000
CALIBRATION_ROWS = 3_000
WEEK_ROWS = 3_000
FIXTURE_WINDOW_ROWS = 1_500
# Weeks whose scores go into the test fixture (by start date): one early, one in the spring peak, one late.
FIXTURE_WEEKS = ["2001-02-01", "2001-04-05", "2001-06-21"]
METRICS = ["roc_auc", "accuracy", "f1"]


def load():
    d = pd.read_parquet(FLIGHTS)
    d["hour"] = d["date"].dt.hour
    d["delayed"] = (d["delay"] > 15).astype(int)
    # early (< 0 min), on time (0-15 min), late (> 15 min)
    d["arrival"] = np.where(d["delay"] < 0, 0, np.where(d["delay"] <= 15, 1, 2))
    return d


def model():
    features = ColumnTransformer(
        [("num", StandardScaler(), ["distance", "hour"]), ("cat", OneHotEncoder(handle_unknown="ignore", min_frequency=50), ["origin"])]
    )
    return make_pipeline(features, LogisticRegression(C=1.0, max_iter=500, class_weight="balanced"))


def r6(a):
    return np.round(np.asarray(a, dtype=float), 6)


def weeks(d):
    start = pd.Timestamp("2001-02-01")
    end = d["date"].max()
    while start + pd.Timedelta(days=7) <= end + pd.Timedelta(minutes=1):
        yield start, start + pd.Timedelta(days=7)
        start += pd.Timedelta(days=7)


def sample(frame, n, seed):
    return frame.sample(n=min(n, len(frame)), random_state=seed).sort_values("date")


def nannyml_binary(cal_y, cal_p, win_p):
    ref = pd.DataFrame({"y": cal_y, "p": cal_p, "y_pred": (cal_p > 0.5).astype(int)})
    ana = pd.DataFrame({"p": win_p, "y_pred": (win_p > 0.5).astype(int)})
    est = nml.CBPE(problem_type="classification_binary", y_pred_proba="p", y_pred="y_pred", y_true="y", metrics=METRICS, chunk_number=1)
    est.fit(ref)
    return est, est.estimate(ana).filter(period="analysis").to_df()


def nannyml_multiclass(cal_y, cal_P, win_P):
    cols = {c: f"p{c}" for c in range(cal_P.shape[1])}
    ref = pd.DataFrame({f"p{c}": cal_P[:, c] for c in cols})
    ref["y"] = cal_y
    ref["y_pred"] = cal_P.argmax(axis=1)
    ana = pd.DataFrame({f"p{c}": win_P[:, c] for c in cols})
    ana["y_pred"] = win_P.argmax(axis=1)
    est = nml.CBPE(problem_type="classification_multiclass", y_pred_proba=cols, y_pred="y_pred", y_true="y", metrics=METRICS, chunk_number=1)
    est.fit(ref)
    return est, est.estimate(ana).filter(period="analysis").to_df()


def estimates(df):
    row = df.iloc[0]
    return {
        m: {
            "value": float(row[(m, "value")]),
            "samplingError": float(row[(m, "sampling_error")]),
            "lower": float(row[(m, "lower_confidence_boundary")]),
            "upper": float(row[(m, "upper_confidence_boundary")]),
        }
        for m in METRICS
    }


def realized_binary(y, p):
    return {"roc_auc": roc_auc_score(y, p), "accuracy": accuracy_score(y, p > 0.5), "f1": f1_score(y, (p > 0.5).astype(int))}


def main():
    d = load()
    jan = d[d["date"] < "2001-02-01"]
    train = sample(jan[jan["date"] < "2001-01-25"], TRAIN_ROWS, 1)
    holdout = sample(jan[jan["date"] >= "2001-01-25"], CALIBRATION_ROWS, 2)
    X = ["distance", "hour", "origin"]
    binary = model().fit(train[X], train["delayed"])
    multi = model().fit(train[X], train["arrival"])
    cal_y = holdout["delayed"].to_numpy()
    cal_p = r6(binary.predict_proba(holdout[X])[:, 1])
    cal_my = holdout["arrival"].to_numpy()
    cal_P = r6(multi.predict_proba(holdout[X]))

    fixture = {
        "nannyml": nml.__version__,
        "what": "January champion (logistic regression on distance, hour, origin; balanced class weights), calibrated on its holdout (Jan 25-31)",
        "binary": {"calibration": {"y": cal_y.tolist(), "p": cal_p.tolist()}, "windows": []},
        "multiclass": {"classes": ["early", "on time", "late"], "calibration": {"y": cal_my.tolist(), "p": cal_P.ravel().tolist()}, "windows": []},
    }
    table = {"nannyml": nml.__version__, "weeks": []}
    cache = {"calibration": {"y": cal_y.tolist(), "p": cal_p.tolist()}, "weeks": []}
    for i, (start, end) in enumerate(weeks(d)):
        week = d[(d["date"] >= start) & (d["date"] < end)]
        rows = sample(week, WEEK_ROWS, 10 + i)
        p = r6(binary.predict_proba(rows[X])[:, 1])
        y = rows["delayed"].to_numpy()
        est, df = nannyml_binary(cal_y, cal_p, p)
        name = start.strftime("%Y-%m-%d")
        table["weeks"].append({"from": name, "to": end.strftime("%Y-%m-%d"), "rows": len(rows), "nannyml": estimates(df), "realized": realized_binary(y, p)})
        cache["weeks"].append({"from": name, "p": p.tolist(), "y": y.tolist()})
        if name in FIXTURE_WEEKS:
            small = slice(0, FIXTURE_WINDOW_ROWS)
            est, df = nannyml_binary(cal_y, cal_p, p[small])
            fixture["binary"]["needsCalibration"] = bool(est.needs_calibration)
            fixture["binary"]["windows"].append({"from": name, "p": p[small].tolist(), "nannyml": estimates(df)})
            P = r6(multi.predict_proba(rows[X].iloc[small]))
            est, df = nannyml_multiclass(cal_my, cal_P, P)
            fixture["multiclass"]["needsCalibration"] = [type(c).__name__ != "NoopCalibrator" for c in est._calibrators.values()]
            fixture["multiclass"]["windows"].append({"from": name, "p": P.ravel().tolist(), "nannyml": estimates(df)})
        print(name, {m: round(v["value"], 4) for m, v in table["weeks"][-1]["nannyml"].items()}, "realized", round(table["weeks"][-1]["realized"]["roc_auc"], 4))

    os.makedirs(CACHE, exist_ok=True)
    if "--cache-only" not in sys.argv:
        os.makedirs(FIXTURES, exist_ok=True)
        with open(os.path.join(FIXTURES, "flights-cbpe.json"), "w") as f:
            json.dump(fixture, f, separators=(",", ":"))
        with open(os.path.join(FIXTURES, "flights-weeks.json"), "w") as f:
            json.dump(table, f, indent=1)
    with open(os.path.join(CACHE, "flights-weeks-scores.json"), "w") as f:
        json.dump(cache, f, separators=(",", ":"))


if __name__ == "__main__":
    main()
