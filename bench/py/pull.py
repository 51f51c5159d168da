"""Python peer of the data-pull benchmark: pyarrow reads the Parquet file with the window as a filter (pushed down to
row groups), checks for nulls, puts rows in time order, writes an Arrow IPC file and computes the same statistics as
Relearn's snapshot (numeric: count, nulls, min, max, mean, std, 11 quantiles; strings: distinct and top 50 values).

    python bench/py/pull.py <parquet> <from> <to> <out.arrow> <repetitions>
"""

from __future__ import annotations

import json
import resource
import sys
import time
from datetime import datetime

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

QUANTILES = [0, 0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 1]


def column_stats(col: pa.ChunkedArray) -> dict:
    nulls = col.null_count
    if pa.types.is_string(col.type) or pa.types.is_large_string(col.type) or pa.types.is_boolean(col.type):
        counts = pc.value_counts(col.drop_null()).to_pylist()
        ordered = sorted(((str(c["values"]), c["counts"]) for c in counts), key=lambda vc: (-vc[1], vc[0]))
        top = ordered[:50]
        total = sum(c for _, c in ordered)
        return {"kind": "categorical", "count": total, "nulls": nulls, "distinct": len(ordered),
                "top": [{"value": v, "count": c} for v, c in top], "otherCount": total - sum(c for _, c in top)}
    values = col.drop_null().to_numpy().astype(np.float64)
    values = values[~np.isnan(values)]
    if values.size == 0:
        return {"kind": "numeric", "count": 0, "nulls": nulls}
    qs = np.quantile(values, QUANTILES)
    return {"kind": "numeric", "count": int(values.size), "nulls": nulls, "min": float(values.min()), "max": float(values.max()),
            "mean": float(values.mean()), "std": float(values.std()), "quantiles": [float(q) for q in qs]}


def pull_once(path: str, start: datetime, end: datetime, out: str) -> int:
    table = pq.read_table(path, filters=[("date", ">=", start), ("date", "<", end)])
    for name in table.column_names:
        if table[name].null_count > 0:
            raise ValueError(f"column {name} has nulls")
    keys = table["date"].to_numpy().astype("int64")
    if keys.size > 1 and not bool(np.all(keys[1:] >= keys[:-1])):
        table = table.take(pc.sort_indices(table, sort_keys=[("date", "ascending")]))
    with pa.OSFile(out, "wb") as sink, pa.ipc.new_file(sink, table.schema) as writer:
        writer.write_table(table)
    stats = {
        "rows": table.num_rows,
        "timeRange": [str(pc.min(table["date"])), str(pc.max(table["date"]))],
        "features": {name: column_stats(table[name]) for name in table.column_names if name != "date"},
    }
    json.dumps(stats)
    return table.num_rows


def peak_rss_mb() -> int:
    """Peak resident memory of this process image: VmHWM, which starts afresh at exec. ru_maxrss does not: it keeps
    the high-water mark inherited from the (larger) bench process that forked this one."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) // 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024  # KiB on Linux


def main(argv: list[str]) -> int:
    path, start, end, out, reps = argv[1], argv[2], argv[3], argv[4], int(argv[5])
    start_dt = datetime.fromisoformat(start.replace("Z", ""))
    end_dt = datetime.fromisoformat(end.replace("Z", ""))
    t0 = time.perf_counter()
    rows = pull_once(path, start_dt, end_dt, out)
    cold = (time.perf_counter() - t0) * 1000
    runs, cpu_runs = [], []
    for _ in range(reps):
        c0 = time.process_time()
        t0 = time.perf_counter()
        rows = pull_once(path, start_dt, end_dt, out)
        runs.append((time.perf_counter() - t0) * 1000)
        cpu_runs.append((time.process_time() - c0) * 1000)
    peak = peak_rss_mb()
    print(json.dumps({"rows": rows, "coldMs": cold, "runsMs": runs, "cpuRunsMs": cpu_runs, "peakRssMB": int(peak), "pyarrow": pa.__version__}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
