"""Builds the benchmarks' cached inputs (skipped when present): scoring data as Arrow IPC files, the demo's flights
classifier and a 100-feature synthetic classifier (fitted and exported by the reference trainer's own pipeline code),
and the constant model the no-op trainer of the orchestration benchmark hands back.

    python bench/py/prepare.py <cache dir> <rows>
"""

from __future__ import annotations

import json
import os
import sys
import time

import numpy as np
import onnx
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from onnx import TensorProto, helper

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "trainers", "sklearn"))

from estimators import build_estimator, build_pipeline  # noqa: E402
from job_spec import parse_job_spec  # noqa: E402
from onnx_export import export_onnx  # noqa: E402

FLIGHTS = os.path.join(ROOT, "node_modules", "vega-datasets", "data", "flights-3m.parquet")
FLIGHTS_FEATURES = {"numeric": ["distance", "hour", "weekday"], "categorical": ["origin", "destination"]}
SYNTHETIC_WIDTH = 100


def write_arrow(table: pa.Table, path: str) -> None:
    tmp = f"{path}.tmp"
    with pa.OSFile(tmp, "wb") as sink, pa.ipc.new_file(sink, table.schema) as writer:
        writer.write_table(table, max_chunksize=65536)
    os.replace(tmp, path)


def flights_table(rows: int | None, month: int | None = None) -> pa.Table:
    """flights-3m with the demo's derived columns (hour, weekday, delayed); the first `rows` rows or one month of 2001."""
    table = pq.read_table(FLIGHTS, columns=["date", "delay", "distance", "origin", "destination"])
    if month is not None:
        months = pc.month(table["date"])
        table = table.filter(pc.equal(months, month))
    if rows is not None:
        table = table.slice(0, rows)
    date = table["date"]
    return pa.table(
        {
            "distance": table["distance"],
            "hour": pc.cast(pc.hour(date), pa.int32()),
            # The demo's dayOfWeek is 0 = Sunday; pyarrow's day_of_week is 0 = Monday.
            "weekday": pc.cast(pc.day_of_week(date, count_from_zero=True, week_start=7), pa.int32()),
            "origin": pc.cast(table["origin"], pa.string()),
            "destination": pc.cast(table["destination"], pa.string()),
            "delayed": pc.greater(table["delay"], 15),
        }
    )


def fit_and_export(features: dict, table: pa.Table, params: dict, out: str) -> None:
    spec = parse_job_spec(
        {
            "jobId": "bench",
            "role": "candidate",
            "task": "binary",
            "snapshotPath": "/unused",
            "splitPath": "/unused",
            "trainFolds": [0],
            "features": features,
            "label": "delayed",
            "estimator": "logistic_regression",
            "params": params,
            "seed": 7,
            "probeRows": [0],
            "outputDir": "/unused",
        }
    )
    pipeline = build_pipeline(spec, build_estimator(spec))
    x = table.select(spec.feature_names)
    _, y = np.unique(table["delayed"].to_numpy(zero_copy_only=False), return_inverse=True)
    pipeline.fit(x, y)
    model_bytes, _ = export_onnx(pipeline, spec)
    with open(f"{out}.tmp", "wb") as f:
        f.write(model_bytes)
    os.replace(f"{out}.tmp", out)


def synthetic_table(rows: int, seed: int = 11) -> pa.Table:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((rows, SYNTHETIC_WIDTH), dtype=np.float32)
    w = rng.standard_normal(SYNTHETIC_WIDTH).astype(np.float32)
    y = (x @ w + rng.standard_normal(rows).astype(np.float32)) > 0
    cols = {f"f{i}": pa.array(x[:, i]) for i in range(SYNTHETIC_WIDTH)}
    cols["delayed"] = pa.array(y)
    return pa.table(cols)


def constant_model(features: dict, out: str) -> None:
    """A classifier whose outputs ignore its inputs (probabilities [0.6, 0.4]): what the no-op trainer returns."""
    inputs = [helper.make_tensor_value_info(n, TensorProto.FLOAT, ["N", 1]) for n in features["numeric"]]
    inputs += [helper.make_tensor_value_info(n, TensorProto.STRING, ["N", 1]) for n in features["categorical"]]
    first = features["numeric"][0]
    nodes = [
        helper.make_node("Mul", [first, "zero"], ["zeros"]),
        helper.make_node("Add", ["zeros", "constant"], ["probabilities"]),
        helper.make_node("ArgMax", ["probabilities"], ["label"], axis=1, keepdims=0),
    ]
    graph = helper.make_graph(
        nodes,
        "relearn_bench_constant",
        inputs,
        [
            helper.make_tensor_value_info("label", TensorProto.INT64, ["N"]),
            helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, ["N", 2]),
        ],
        initializer=[
            helper.make_tensor("zero", TensorProto.FLOAT, [1, 1], [0.0]),
            helper.make_tensor("constant", TensorProto.FLOAT, [1, 2], [0.6, 0.4]),
        ],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], producer_name="relearn-bench")
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, out)


def main(argv: list[str]) -> int:
    cache, rows = argv[1], int(argv[2])
    os.makedirs(cache, exist_ok=True)
    made: list[str] = []
    t0 = time.monotonic()

    flights_data = os.path.join(cache, f"flights-{rows}.arrow")
    if not os.path.exists(flights_data):
        write_arrow(flights_table(rows), flights_data)
        made.append(os.path.basename(flights_data))
    synthetic_data = os.path.join(cache, f"synthetic-{rows}.arrow")
    if not os.path.exists(synthetic_data):
        write_arrow(synthetic_table(rows), synthetic_data)
        made.append(os.path.basename(synthetic_data))

    flights_model = os.path.join(cache, "flights.onnx")
    if not os.path.exists(flights_model):
        # The demo's first run: January 2001, sampled to 100,000 rows (seed 7), its estimator and params.
        january = flights_table(None, month=1)
        sample = np.sort(np.random.default_rng(7).choice(january.num_rows, 100_000, replace=False))
        params = {"C": 1.0, "max_iter": 500, "class_weight": "balanced"}
        fit_and_export(FLIGHTS_FEATURES, january.take(pa.array(sample)), params, flights_model)
        made.append("flights.onnx")
    synthetic_model = os.path.join(cache, "synthetic-100.onnx")
    if not os.path.exists(synthetic_model):
        features = {"numeric": [f"f{i}" for i in range(SYNTHETIC_WIDTH)], "categorical": []}
        fit_and_export(features, synthetic_table(20_000, seed=12), {"C": 1.0, "max_iter": 300}, synthetic_model)
        made.append("synthetic-100.onnx")
    small = os.path.join(cache, "orchestration.parquet")
    if not os.path.exists(small):
        # A small slice of flights-3m (2,000 rows of February 2001) so the orchestration benchmark's data stages are cheap.
        table = pq.read_table(FLIGHTS, columns=["date", "delay", "distance", "origin"])
        table = table.filter(pc.equal(pc.month(table["date"]), 2)).slice(0, 2000)
        pq.write_table(table, f"{small}.tmp")
        os.replace(f"{small}.tmp", small)
        made.append("orchestration.parquet")
    inputs_only = os.path.join(cache, "flights-inputs-only.onnx")
    if not os.path.exists(inputs_only):
        # The flights model's inputs into a graph that ignores them: what handing them to onnxruntime costs by itself.
        constant_model(FLIGHTS_FEATURES, inputs_only)
        made.append("flights-inputs-only.onnx")
    noop_model = os.path.join(cache, "constant.onnx")
    if not os.path.exists(noop_model):
        constant_model({"numeric": ["distance", "hour"], "categorical": ["origin"]}, noop_model)
        made.append("constant.onnx")

    print(json.dumps({"made": made, "seconds": round(time.monotonic() - t0, 1), "python": sys.version.split()[0]}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
