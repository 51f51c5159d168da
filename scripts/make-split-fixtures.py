"""Writes the reference time splits that test/split/*.test.ts and test/pipeline/time-split.test.ts compare against.

Run with the project's venv: .relearn/venv/bin/python scripts/make-split-fixtures.py
Every split comes from scikit-learn's TimeSeriesSplit(n_splits=K) over the n training rows (those before the
holdout), in time order: split k trains on rows [0, a) and validates on [a, b). `cases` are row counts with and
without a remainder; `seattle` is seattle-weather.csv (the copy vega-datasets ships) sorted by date, its last 20%
held out as Relearn does (round(0.2 * rows) rows, half rounded up), with the first and last date of every train
and validation set. Output is deterministic: running the script twice writes identical files.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import sklearn
from sklearn.model_selection import TimeSeriesSplit

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "test" / "fixtures" / "split" / "time-series-split.json"
WEATHER = ROOT / "node_modules" / "vega-datasets" / "data" / "seattle-weather.csv"
# (training rows, folds): even blocks, remainders of every size, the smallest allowed (2K rows), many folds.
CASES = [(1000, 5), (800, 5), (1169, 3), (4, 2), (7, 3), (17, 4), (100, 3), (37, 5), (41, 20), (2003, 10)]
SEATTLE_FOLDS = 3
SEATTLE_HOLDOUT_FRACTION = 0.2


def as_range(idx: np.ndarray) -> list[int]:
    """A contiguous index array as [start, end); TimeSeriesSplit without a gap always gives one."""
    start, end = int(idx[0]), int(idx[-1]) + 1
    assert np.array_equal(idx, np.arange(start, end)), "not contiguous"
    return [start, end]


def splits(n: int, k: int) -> list[dict[str, list[int]]]:
    return [{"train": as_range(tr), "test": as_range(te)} for tr, te in TimeSeriesSplit(n_splits=k).split(np.zeros(n))]


def seattle() -> dict[str, object]:
    table = pacsv.read_csv(WEATHER, convert_options=pacsv.ConvertOptions(column_types={"date": pa.string()}))
    dates = table.column("date").to_pylist()
    order = sorted(range(len(dates)), key=lambda i: dates[i])  # a stable sort, as the pipeline's snapshot is
    rows = len(dates)
    holdout = math.floor(rows * SEATTLE_HOLDOUT_FRACTION + 0.5)
    n = rows - holdout
    sorted_dates = [dates[i] for i in order]
    out = []
    for s in splits(n, SEATTLE_FOLDS):
        (a, b), (c, d) = s["train"], s["test"]
        out.append({**s, "trainDates": [sorted_dates[a], sorted_dates[b - 1]], "testDates": [sorted_dates[c], sorted_dates[d - 1]]})
    assert pc.count_distinct(table.column("date")).as_py() == rows, "dates are unique: no tie straddles a block edge"
    return {"rows": rows, "holdoutFraction": SEATTLE_HOLDOUT_FRACTION, "holdoutRows": holdout, "n": n, "folds": SEATTLE_FOLDS, "splits": out}


def main() -> None:
    doc = {
        "generatedBy": "scripts/make-split-fixtures.py",
        "versions": {"scikit-learn": sklearn.__version__, "numpy": np.__version__, "pyarrow": pa.__version__},
        "cases": [{"n": n, "folds": k, "splits": splits(n, k)} for n, k in CASES],
        "seattle": seattle(),
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(doc, sort_keys=True) + "\n")
    print(f"wrote {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
