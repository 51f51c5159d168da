"""Python peer of the evaluation benchmark: onnxruntime fed from pyarrow/numpy, batch by batch, the way a Python
evaluation loop would do it (Arrow columns → numpy [n,1] arrays → session.run).

    python bench/py/score.py <model.onnx> <data.arrow> <features json> <threads> <batch> <repetitions>
"""

from __future__ import annotations

import json
import sys
import time

import numpy as np
import onnxruntime as ort
import pyarrow as pa


def feeds_for(batch: pa.Table, numeric: list[str], categorical: list[str]) -> dict[str, np.ndarray]:
    feeds: dict[str, np.ndarray] = {}
    for name in numeric:
        col = batch.column(name)
        # Nulls become NaN, as Relearn's tensors do.
        values = col.to_numpy(zero_copy_only=False)
        feeds[name] = values.astype(np.float32, copy=False).reshape(-1, 1)
    for name in categorical:
        col = batch.column(name).fill_null("")
        feeds[name] = col.to_numpy(zero_copy_only=False).astype(object).reshape(-1, 1)
    return feeds


def score_once(session: ort.InferenceSession, table: pa.Table, numeric: list[str], categorical: list[str], batch: int) -> tuple[float, float, float]:
    """Wall time, conversion time and process CPU time (all threads) of one pass, in milliseconds."""
    convert = 0.0
    cpu0 = time.process_time()
    t0 = time.perf_counter()
    for start in range(0, table.num_rows, batch):
        c0 = time.perf_counter()
        feeds = feeds_for(table.slice(start, batch), numeric, categorical)
        convert += time.perf_counter() - c0
        session.run(["probabilities"], feeds)
    return (time.perf_counter() - t0) * 1000, convert * 1000, (time.process_time() - cpu0) * 1000


def main(argv: list[str]) -> int:
    model, data, features_json, threads, batch, reps = argv[1], argv[2], argv[3], int(argv[4]), int(argv[5]), int(argv[6])
    features = json.loads(features_json)
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    session = ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])
    table = pa.ipc.open_file(pa.memory_map(data)).read_all()
    numeric, categorical = features["numeric"], features["categorical"]
    cold, _, _ = score_once(session, table, numeric, categorical, batch)  # warm-up
    runs, cpu_runs, converts = [], [], []
    for _ in range(reps):
        total, convert, cpu = score_once(session, table, numeric, categorical, batch)
        runs.append(total)
        cpu_runs.append(cpu)
        converts.append(convert)
    print(json.dumps({"rows": table.num_rows, "coldMs": cold, "runsMs": runs, "cpuRunsMs": cpu_runs, "convertMs": converts,
                      "onnxruntime": ort.__version__}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
