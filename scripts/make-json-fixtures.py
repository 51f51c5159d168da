"""Writes the JSON-source fixtures that test/data/json-source.test.ts reads, and the numbers it expects.

Run with the project's venv: .relearn/venv/bin/python scripts/make-json-fixtures.py
Both inputs are real tables that the vega-datasets npm package ships, read here with Python's own json module:
- penguins.json (a JSON array of objects, column names such as "Beak Length (mm)") is read as it is; its rows and
  every column's values, in file order, go to json-expected.json.
- cars.json is rewritten as newline-delimited JSON, one object per line (test/fixtures/data/cars.ndjson), and its
  per-column statistics as a snapshot reports them (numpy, the same definitions as make-data-fixtures.py) go to
  json-expected.json, with the row count, the range of its time column "Year" and the rows of one window.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
VEGA = ROOT / "node_modules" / "vega-datasets" / "data"
OUT_DIR = ROOT / "test" / "fixtures" / "data"

# One definition of the snapshot statistics: the CSV/Parquet fixture script's.
_spec = importlib.util.spec_from_file_location("make_data_fixtures", Path(__file__).with_name("make-data-fixtures.py"))
assert _spec and _spec.loader
data_fixtures = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(data_fixtures)


def kind_of(values: list) -> str:
    kinds = {type(v).__name__ for v in values if v is not None}
    if kinds <= {"int", "float"}:
        return "number"
    assert kinds == {"str"}, kinds
    return "string"


def main() -> None:
    penguins = json.loads((VEGA / "penguins.json").read_text(encoding="utf-8"))
    penguin_columns = list(penguins[0].keys())
    assert all(list(o.keys()) == penguin_columns for o in penguins)
    penguin_values = {name: [o[name] for o in penguins] for name in penguin_columns}

    cars = json.loads((VEGA / "cars.json").read_text(encoding="utf-8"))
    car_columns = list(cars[0].keys())
    assert all(list(o.keys()) == car_columns for o in cars)
    ndjson = "".join(json.dumps(o, ensure_ascii=False) + "\n" for o in cars)
    (OUT_DIR / "cars.ndjson").write_text(ndjson, encoding="utf-8")

    features = {}
    for name in car_columns:
        if name == "Year":
            continue
        raw = [o[name] for o in cars]
        ok = np.array([v is not None for v in raw])
        if kind_of(raw) == "number":
            values = np.array([v if v is not None else np.nan for v in raw], dtype=np.float64)
            features[name] = data_fixtures.numeric_stats(values, ok)
        else:
            values = np.array([v if v is not None else "" for v in raw], dtype=object)
            features[name] = data_fixtures.categorical_stats(values.astype(str), ok)
    years = sorted(o["Year"] for o in cars)
    window = {"from": "1975-01-01", "to": "1980-01-01"}
    window_rows = sum(1 for y in years if window["from"] <= y < window["to"])

    expected = {
        "generator": {"numpy": np.__version__},
        "penguins": {
            "rows": len(penguins),
            "columns": [{"name": n, "kind": kind_of(penguin_values[n])} for n in penguin_columns],
            "values": penguin_values,
        },
        "cars": {
            "rows": len(cars),
            "columns": car_columns,
            "timeRange": {"from": f"{years[0]}T00:00:00.000Z", "to": f"{years[-1]}T00:00:00.000Z"},
            "window": {"window": window, "rows": window_rows},
            "features": features,
        },
    }
    (OUT_DIR / "json-expected.json").write_text(json.dumps(expected, indent=1, allow_nan=False, ensure_ascii=False) + "\n", encoding="utf-8")
    for name in ("cars.ndjson", "json-expected.json"):
        path = OUT_DIR / name
        print(f"{path.relative_to(ROOT)}  {path.stat().st_size} bytes")


if __name__ == "__main__":
    main()
