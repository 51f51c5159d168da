"""Writes the ONNX models and reference values that test/onnx/*.test.ts check src/onnx against.

Run with the project's venv: .relearn/venv/bin/python scripts/make-onnx-fixtures.py
The models follow the trainer's input convention (one [N,1] input per feature, float32 for
numeric and string for categorical features; outputs `label` + `probabilities` or `variable`).
Reference numbers come from scikit-learn's own predict_proba / predict on the same rows.
The hostile models are small graphs built with onnx.helper: each one breaks one safety rule.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import pyarrow as pa
import sklearn
import skl2onnx
from onnx import TensorProto, helper, numpy_helper
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from skl2onnx import to_onnx
from skl2onnx.common.data_types import FloatTensorType, StringTensorType

SEED = 20240611
N_ROWS = 300
BATCH_ROWS = 64  # several record batches, so the Arrow → tensor code meets multi-chunk columns
OUT_DIR = Path(__file__).resolve().parent.parent / "test" / "fixtures" / "onnx"
NUMERIC = ["distance", "delay", "hour"]
CATEGORICAL = ["origin"]
ORIGINS = ["ATL", "BOS", "DEN", "LAX", "ORD", "SFO", "Zürich"]
OPSET = 17
IR_VERSION = 8


def make_table(rng: np.random.Generator) -> pa.Table:
    distance = rng.integers(100, 3000, N_ROWS).astype(np.int64)
    delay = np.round(rng.normal(10, 25, N_ROWS), 2)
    hour = rng.integers(0, 24, N_ROWS).astype(np.int32)
    origin = rng.choice(ORIGINS, N_ROWS)
    score = 0.002 * distance + 0.05 * delay - 0.1 * hour + np.where(origin == "ORD", 1.5, 0.0)
    score += rng.normal(0, 1, N_ROWS)
    binary = (score > np.median(score)).astype(np.int32)
    three = np.digitize(score, np.quantile(score, [1 / 3, 2 / 3])).astype(np.int32)
    target = score * 10.0
    # nulls in every feature column, so null handling (NaN / "") is part of what is compared
    distance_mask = rng.random(N_ROWS) < 0.05
    delay_mask = rng.random(N_ROWS) < 0.05
    origin_mask = rng.random(N_ROWS) < 0.05
    return pa.table(
        {
            "distance": pa.array(distance, pa.int64(), mask=distance_mask),
            "delay": pa.array(delay, pa.float64(), mask=delay_mask),
            "hour": pa.array(hour, pa.int32()),
            "origin": pa.array(origin.tolist(), pa.large_utf8(), mask=origin_mask),
            "label": pa.array(binary, pa.int32()),
            "label3": pa.array(three, pa.int32()),
            "target": pa.array(target, pa.float64()),
        }
    )


def features_matrix(table: pa.Table) -> np.ndarray:
    """The rows as the trainer feeds them: numeric nulls → NaN (float32-exact), categorical nulls → "".

    An object matrix whose columns are NUMERIC then CATEGORICAL: skl2onnx maps column i to the
    i-th declared input, which gives the one-input-per-feature convention without pandas.
    """
    matrix = np.empty((table.num_rows, len(NUMERIC) + len(CATEGORICAL)), dtype=object)
    for i, name in enumerate(NUMERIC):
        col = table.column(name).to_numpy(zero_copy_only=False).astype(np.float64)
        matrix[:, i] = col.astype(np.float32).astype(np.float64)
    for j, name in enumerate(CATEGORICAL):
        matrix[:, len(NUMERIC) + j] = [("" if v is None else v) for v in table.column(name).to_pylist()]
    return matrix


def preprocessor() -> ColumnTransformer:
    numeric = Pipeline([("impute", SimpleImputer(strategy="median")), ("scale", StandardScaler())])
    numeric_idx = list(range(len(NUMERIC)))
    categorical_idx = list(range(len(NUMERIC), len(NUMERIC) + len(CATEGORICAL)))
    return ColumnTransformer(
        [("num", numeric, numeric_idx), ("cat", OneHotEncoder(handle_unknown="ignore"), categorical_idx)]
    )


def initial_types():
    return [(n, FloatTensorType([None, 1])) for n in NUMERIC] + [
        (n, StringTensorType([None, 1])) for n in CATEGORICAL
    ]


def convert(model, name: str, classifier: bool) -> bytes:
    options = {id(model): {"zipmap": False}} if classifier else None
    onx = to_onnx(model, initial_types=initial_types(), target_opset=OPSET, options=options)
    data = onx.SerializeToString()
    (OUT_DIR / name).write_bytes(data)
    return data


def tiny_graph(initializer: TensorProto) -> onnx.ModelProto:
    """variable = x * w, with w an initializer the caller may point at external data."""
    node = helper.make_node("Mul", ["x", "w"], ["variable"])
    graph = helper.make_graph(
        [node],
        "scale",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, 1])],
        [helper.make_tensor_value_info("variable", TensorProto.FLOAT, [None, 1])],
        initializer=[initializer],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], ir_version=IR_VERSION)


def external_weight(location: str) -> TensorProto:
    tensor = numpy_helper.from_array(np.array([[2.5]], dtype=np.float32), "w")
    tensor.ClearField("raw_data")
    tensor.data_location = TensorProto.EXTERNAL
    for key, value in (("location", location), ("offset", "0"), ("length", "4")):
        entry = tensor.external_data.add()
        entry.key = key
        entry.value = value
    return tensor


def constant_of_shape_bomb(num_floats: int) -> onnx.ModelProto:
    """A 200-byte graph that asks for num_floats × 4 bytes when it runs."""
    shape = numpy_helper.from_array(np.array([num_floats], dtype=np.int64), "shape")
    fill = helper.make_tensor("one", TensorProto.FLOAT, [1], [1.0])
    nodes = [
        helper.make_node("ConstantOfShape", ["shape"], ["big"], value=fill),
        helper.make_node("ReduceSum", ["big"], ["total"], keepdims=1),
        helper.make_node("Add", ["x", "total"], ["variable"]),
    ]
    graph = helper.make_graph(
        nodes,
        "bomb",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, 1])],
        [helper.make_tensor_value_info("variable", TensorProto.FLOAT, [None, 1])],
        initializer=[shape],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], ir_version=IR_VERSION)


def endless_loop() -> onnx.ModelProto:
    """A Loop whose trip count is INT64_MAX: loads instantly, never finishes its first run."""
    body = helper.make_graph(
        [
            helper.make_node("Identity", ["cond_in"], ["cond_out"]),
            helper.make_node("Add", ["acc_in", "one"], ["acc_out"]),
        ],
        "body",
        [
            helper.make_tensor_value_info("iter", TensorProto.INT64, []),
            helper.make_tensor_value_info("cond_in", TensorProto.BOOL, []),
            helper.make_tensor_value_info("acc_in", TensorProto.FLOAT, [None, 1]),
        ],
        [
            helper.make_tensor_value_info("cond_out", TensorProto.BOOL, []),
            helper.make_tensor_value_info("acc_out", TensorProto.FLOAT, [None, 1]),
        ],
        initializer=[numpy_helper.from_array(np.array(1.0, dtype=np.float32), "one")],
    )
    inits = [
        numpy_helper.from_array(np.array(np.iinfo(np.int64).max, dtype=np.int64), "trips"),
        numpy_helper.from_array(np.array(True), "keep_going"),
    ]
    loop = helper.make_node("Loop", ["trips", "keep_going", "x"], ["variable"], body=body)
    graph = helper.make_graph(
        [loop],
        "endless",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, 1])],
        [helper.make_tensor_value_info("variable", TensorProto.FLOAT, [None, 1])],
        initializer=inits,
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], ir_version=IR_VERSION)


def save(model: onnx.ModelProto, name: str, check: bool = True) -> None:
    if check:
        onnx.checker.check_model(model)
    (OUT_DIR / name).write_bytes(model.SerializeToString())


def main() -> None:
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(SEED)
    table = make_table(rng)
    with pa.OSFile(str(OUT_DIR / "tiny.arrow"), "wb") as sink:
        with pa.ipc.new_file(sink, table.schema) as writer:
            for batch in table.to_batches(max_chunksize=BATCH_ROWS):
                writer.write_batch(batch)

    frame = features_matrix(table)
    binary = Pipeline([("prep", preprocessor()), ("model", LogisticRegression(max_iter=500))])
    binary.fit(frame, table.column("label").to_numpy())
    three = Pipeline([("prep", preprocessor()), ("model", LogisticRegression(max_iter=500))])
    three.fit(frame, table.column("label3").to_numpy())
    ridge = Pipeline([("prep", preprocessor()), ("model", Ridge(alpha=1.0))])
    ridge.fit(frame, table.column("target").to_numpy())

    binary_bytes = convert(binary, "classifier-binary.onnx", classifier=True)
    convert(three, "classifier-3class.onnx", classifier=True)
    convert(ridge, "regressor.onnx", classifier=False)

    expected = {
        "versions": {"sklearn": sklearn.__version__, "skl2onnx": skl2onnx.__version__, "onnx": onnx.__version__},
        "numeric": NUMERIC,
        "categorical": CATEGORICAL,
        "rows": N_ROWS,
        "classifierBinary": {
            "classes": binary.classes_.tolist(),
            "probabilities": binary.predict_proba(frame).tolist(),
        },
        "classifier3Class": {
            "classes": three.classes_.tolist(),
            "probabilities": three.predict_proba(frame).tolist(),
        },
        "regressor": {"predictions": ridge.predict(frame).tolist()},
    }
    (OUT_DIR / "expected.json").write_text(json.dumps(expected, indent=1) + "\n")

    # Hostile files. Each breaks one rule; the tests expect each to be rejected with its reason.
    (OUT_DIR / "hostile-truncated.onnx").write_bytes(binary_bytes[: len(binary_bytes) // 2])
    (OUT_DIR / "hostile-random-bytes.onnx").write_bytes(np.random.default_rng(SEED).bytes(4096))
    save(tiny_graph(external_weight("/etc/passwd")), "hostile-external-absolute.onnx", check=False)
    save(tiny_graph(external_weight("../weights.bin")), "hostile-external-dotdot.onnx", check=False)
    # onnxruntime reads this location as "the offset is an address in my own memory".
    save(tiny_graph(external_weight("*/_ORT_MEM_ADDR_/*")), "hostile-external-mem-addr.onnx", check=False)
    unknown_op = tiny_graph(numpy_helper.from_array(np.array([[2.5]], dtype=np.float32), "w"))
    unknown_op.graph.node[0].op_type = "NoSuchOperator"
    save(unknown_op, "hostile-unknown-op.onnx", check=False)
    # A well-behaved external-data model: the tests also copy it next to a symlinked weights.bin.
    external_dir = OUT_DIR / "external-inside"
    external_dir.mkdir(exist_ok=True)
    save(tiny_graph(external_weight("weights.bin")), "external-inside/model.onnx", check=False)
    (external_dir / "weights.bin").write_bytes(np.array([2.5], dtype=np.float32).tobytes())
    save(constant_of_shape_bomb(500_000_000), "hostile-constant-of-shape.onnx")
    save(endless_loop(), "hostile-endless-loop.onnx")


if __name__ == "__main__":
    main()
