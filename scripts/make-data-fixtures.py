"""Writes the small data fixtures that test/data/*.test.ts read, and the numbers they expect.

Run with the project's venv: .relearn/venv/bin/python scripts/make-data-fixtures.py
The same table is written as Parquet, CSV and an Arrow IPC file under test/fixtures/data/;
expected.json holds its statistics computed with numpy (population std, numpy's default
'linear' quantiles), window row counts, the stable time order and derived-feature counts.
Inputs come from a seeded generator, so running the script twice writes identical files.
"""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.ipc as ipc
import pyarrow.parquet as pq

SEED = 20240612
ROWS = 1200
OUT_DIR = Path(__file__).resolve().parent.parent / "test" / "fixtures" / "data"
START = np.datetime64("2024-01-01T00:00:00", "us")
QUANTILES = {
    "p0": 0.0, "p1": 0.01, "p5": 0.05, "p10": 0.1, "p25": 0.25, "p50": 0.5,
    "p75": 0.75, "p90": 0.9, "p95": 0.95, "p99": 0.99, "p100": 1.0,
}
WINDOWS = [
    {"from": "2024-01-15", "to": "2024-02-01"},
    {"from": "2024-02-10T12:00:00Z", "to": "2024-02-20T06:30:00"},
    {"from": "2024-01-31"},
    {"to": "2024-01-03T00:00:00"},
]


def make_columns(rng: np.random.Generator) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Each column as (values, valid) so every format writes the same nulls."""
    n = ROWS
    # Minutes over 60 days, shuffled, with repeated instants so the stable sort is tested.
    minutes = rng.integers(0, 60 * 24 * 60, size=n)
    minutes[rng.choice(n, size=60, replace=False)] = minutes[:60]
    ts = START + minutes.astype("timedelta64[m]").astype("timedelta64[us]")
    delay = np.round(rng.gamma(1.5, 20.0, size=n) - 15).astype(np.int64)
    distance = np.round(rng.lognormal(6.5, 0.6, size=n), 1)
    big = 5_000_000_000 + rng.integers(0, 1000, size=n).astype(np.int64)
    carriers = np.array(["AA", "UA", "DL", "WN", "B6", "AS", "NK", "F9", "HA", "G4", "SY", "MQ"])
    carrier = carriers[np.minimum(rng.geometric(0.25, size=n) - 1, len(carriers) - 1)]
    # 80 tails drawn so several share a count at the top-50 boundary.
    tail = np.array([f"N{100 + int(k)}" for k in rng.integers(0, 80, size=n)])
    zone = np.array([f"{int(k):03d}" for k in rng.integers(0, 30, size=n)])
    cancelled = rng.random(size=n) < 0.1

    def valid(rate: float) -> np.ndarray:
        return rng.random(size=n) >= rate

    return {
        "ts": (ts, np.ones(n, dtype=bool)),
        "delay": (delay, valid(0.03)),
        "distance": (distance, valid(0.02)),
        "big": (big, np.ones(n, dtype=bool)),
        "carrier": (carrier, valid(0.05)),
        "tail": (tail, np.ones(n, dtype=bool)),
        "zone": (zone, np.ones(n, dtype=bool)),
        "cancelled": (cancelled, np.ones(n, dtype=bool)),
    }


def arrow_table(columns: dict[str, tuple[np.ndarray, np.ndarray]]) -> pa.Table:
    types = {
        "ts": pa.timestamp("us"), "delay": pa.int64(), "distance": pa.float64(), "big": pa.int64(),
        "carrier": pa.string(), "tail": pa.string(), "zone": pa.string(), "cancelled": pa.bool_(),
    }
    arrays = {
        name: pa.array(values.tolist() if values.dtype.kind == "U" else values, type=types[name], mask=~ok)
        for name, (values, ok) in columns.items()
    }
    return pa.table(arrays)


def write_csv(columns: dict[str, tuple[np.ndarray, np.ndarray]], path: Path) -> None:
    names = list(columns)
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(names)
        for i in range(ROWS):
            row = []
            for name in names:
                values, ok = columns[name]
                if not ok[i]:
                    row.append("")
                elif name == "ts":
                    row.append(str(values[i]).replace("T", " ")[:19])
                elif name == "cancelled":
                    row.append("true" if values[i] else "false")
                else:
                    row.append(str(values[i]))
            writer.writerow(row)


def numeric_stats(values: np.ndarray, ok: np.ndarray) -> dict:
    present = values[ok].astype(np.float64)
    stats = {"kind": "numeric", "count": int(present.size), "nulls": int((~ok).sum())}
    qs = np.quantile(present, list(QUANTILES.values()))
    stats.update(
        min=float(present.min()), max=float(present.max()),
        mean=float(np.mean(present)), std=float(np.std(present)),
        quantiles={name: float(q) for name, q in zip(QUANTILES, qs)},
    )
    return stats


def categorical_stats(values: np.ndarray, ok: np.ndarray) -> dict:
    present = values[ok]
    if present.dtype == bool:
        present = np.where(present, "true", "false")
    uniques, counts = np.unique(present, return_counts=True)
    order = sorted(range(len(uniques)), key=lambda k: (-int(counts[k]), str(uniques[k])))
    top = [{"value": str(uniques[k]), "count": int(counts[k])} for k in order[:50]]
    return {
        "kind": "categorical", "count": int(present.size), "nulls": int((~ok).sum()),
        "distinct": int(len(uniques)), "top": top,
        "otherCount": int(present.size - sum(t["count"] for t in top)),
    }


def utc_us(text: str) -> np.datetime64:
    return np.datetime64(text.replace("Z", ""), "us")


def iso(t: np.datetime64) -> str:
    return str(t.astype("datetime64[ms]")) + "Z"


def main() -> None:
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(SEED)
    columns = make_columns(rng)
    table = arrow_table(columns)
    pq.write_table(table, OUT_DIR / "flights-small.parquet", compression="zstd", row_group_size=400)
    with ipc.new_file(OUT_DIR / "flights-small.arrow", table.schema) as writer:
        writer.write_table(table, max_chunksize=500)
    write_csv(columns, OUT_DIR / "flights-small.csv")

    ts = columns["ts"][0]
    features = {}
    for name, (values, ok) in columns.items():
        if name == "ts":
            continue
        kind = values.dtype.kind
        features[name] = numeric_stats(values, ok) if kind in "if" else categorical_stats(values, ok)

    windows = []
    for window in WINDOWS:
        keep = np.ones(ROWS, dtype=bool)
        if "from" in window:
            keep &= ts >= utc_us(window["from"])
        if "to" in window:
            keep &= ts < utc_us(window["to"])
        windows.append({"window": window, "rows": int(keep.sum())})

    order = np.argsort(ts, kind="stable")
    delay, delay_ok = columns["delay"]
    sorted_delay = [int(delay[i]) if delay_ok[i] else None for i in order]

    days = ts.astype("datetime64[D]")
    derived = {
        "hour": (ts.astype("datetime64[h]") - days).astype(np.int64),
        # numpy day 0 (1970-01-01) was a Thursday: 3 with Monday = 0.
        "dayOfWeek": (days.astype(np.int64) + 3) % 7,
        "month": ts.astype("datetime64[M]").astype(np.int64) % 12 + 1,
        "dayOfMonth": (days - ts.astype("datetime64[M]").astype("datetime64[D]")).astype(np.int64) + 1,
    }
    derived_counts = {
        op: {str(int(k)): int(c) for k, c in zip(*np.unique(values, return_counts=True))}
        for op, values in derived.items()
    }
    distance, distance_ok = columns["distance"]
    derived_counts["distanceGreaterThan1000"] = {
        "1": int(((distance > 1000) & distance_ok).sum()),
        "0": int(((distance <= 1000) & distance_ok).sum()),
        "null": int((~distance_ok).sum()),
    }
    derived_counts["delayLessThan0"] = {
        "1": int(((delay < 0) & delay_ok).sum()),
        "0": int(((delay >= 0) & delay_ok).sum()),
        "null": int((~delay_ok).sum()),
    }

    expected = {
        "generator": {"seed": SEED, "rows": ROWS, "numpy": np.__version__, "pyarrow": pa.__version__},
        "rows": ROWS,
        "timeRange": {"from": iso(ts.min()), "to": iso(ts.max())},
        "features": features,
        "windows": windows,
        "sortedDelay": sorted_delay,
        "derivedCounts": derived_counts,
    }
    text = json.dumps(expected, indent=1, allow_nan=False) + "\n"
    assert not any(isinstance(v, float) and math.isnan(v) for v in features["delay"]["quantiles"].values())
    (OUT_DIR / "expected.json").write_text(text, encoding="utf-8")
    for path in sorted(OUT_DIR.iterdir()):
        print(f"{path.relative_to(OUT_DIR.parent.parent.parent)}  {path.stat().st_size} bytes")


if __name__ == "__main__":
    main()
