"""Reading the Arrow snapshot and split, and turning the chosen rows into model inputs."""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from job_spec import JobInputError, JobSpec


@dataclass
class TrainingData:
    """The rows a job trains on and the rows it reports probe outputs for."""

    snapshot_rows: int
    x_train: pa.Table
    y_train: np.ndarray
    x_probe: pa.Table


def _open_arrow_file(path: str, what: str) -> pa.Table:
    if os.path.isdir(path):
        raise JobInputError(f"{what} {path}: is a folder, not an Arrow IPC file", kind="data")
    try:
        # Memory-mapped so only the selected columns and rows are ever copied.
        with pa.memory_map(path, "r") as source:
            return pa.ipc.open_file(source).read_all()
    except FileNotFoundError:
        raise JobInputError(f"{what} {path}: file not found", kind="data") from None
    except pa.ArrowInvalid as err:
        raise JobInputError(f"{what} {path}: not a readable Arrow IPC file ({err})", kind="data") from None
    # Any other OSError is an I/O fault (the file's bytes could not be read), left to propagate: exit 1, retried.


def _column(table: pa.Table, name: str, path: str, role: str) -> pa.ChunkedArray:
    if name not in table.column_names:
        shown = ", ".join(table.column_names[:30])
        raise JobInputError(f"snapshot {path}: {role} column '{name}' not found; columns are: {shown}", kind="data")
    return table.column(name)


def _numeric_feature(col: pa.ChunkedArray, name: str, path: str) -> pa.ChunkedArray:
    t = col.type
    if not (pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_boolean(t) or pa.types.is_decimal(t)):
        raise JobInputError(
            f"snapshot {path}: numeric feature '{name}' must be an integer, float or boolean column, got {t}", kind="data"
        )
    return pc.fill_null(pc.cast(col, pa.float64()), float("nan"))


def _categorical_feature(col: pa.ChunkedArray, name: str, path: str) -> pa.ChunkedArray:
    t = col.type
    value_type = t.value_type if pa.types.is_dictionary(t) else t
    if not (pa.types.is_string(value_type) or pa.types.is_large_string(value_type)):
        raise JobInputError(
            f"snapshot {path}: categorical feature '{name}' must be a string column (Utf8, LargeUtf8 or a dictionary "
            f"of strings), got {t}",
            kind="data",
        )
    # "" is how the ONNX model is fed a missing category too, so training sees nulls exactly as serving will.
    return pc.fill_null(pc.cast(col, pa.string()), "")


def _features(table: pa.Table, spec: JobSpec) -> pa.Table:
    columns = {}
    for name in spec.numeric_features:
        columns[name] = _numeric_feature(table.column(name), name, spec.snapshot_path)
    for name in spec.categorical_features:
        columns[name] = _categorical_feature(table.column(name), name, spec.snapshot_path)
    return pa.table(columns)


def _labels(col: pa.ChunkedArray, spec: JobSpec) -> np.ndarray:
    where = f"snapshot {spec.snapshot_path}: label column '{spec.label}'"
    if col.null_count > 0:
        raise JobInputError(f"{where} has {col.null_count} nulls in the training rows; labels must be present", kind="data")
    t = col.type
    if spec.task == "regression":
        if not (pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_decimal(t)):
            raise JobInputError(f"{where} must be numeric for task 'regression', got {t}", kind="data")
        values = pc.cast(col, pa.float64()).to_numpy()
        if not np.all(np.isfinite(values)):
            raise JobInputError(f"{where} has NaN or infinite values in the training rows", kind="data")
        return values
    if pa.types.is_dictionary(t):
        col = pc.cast(col, t.value_type)
        t = col.type
    if pa.types.is_integer(t) or pa.types.is_boolean(t):
        return col.to_numpy()
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return col.to_numpy(zero_copy_only=False).astype(object)
    raise JobInputError(
        f"{where} must hold class ids (an integer column) or class names (a string column) for task '{spec.task}', got {t}",
        kind="data",
    )


def load_training_data(spec: JobSpec) -> TrainingData:
    """Reads the snapshot and split, and returns the training rows (those whose fold is in trainFolds) and probe rows."""
    snapshot = _open_arrow_file(spec.snapshot_path, "snapshot")
    split = _open_arrow_file(spec.split_path, "split")
    n = snapshot.num_rows

    if "fold" not in split.column_names:
        raise JobInputError(f"split {spec.split_path}: column 'fold' not found", kind="data")
    fold_col = split.column("fold")
    if not pa.types.is_integer(fold_col.type):
        raise JobInputError(f"split {spec.split_path}: column 'fold' must be an integer column, got {fold_col.type}", kind="data")
    if split.num_rows != n:
        raise JobInputError(
            f"split {spec.split_path}: has {split.num_rows} rows but snapshot {spec.snapshot_path} has {n}", kind="data"
        )
    if fold_col.null_count > 0:
        raise JobInputError(f"split {spec.split_path}: column 'fold' has {fold_col.null_count} nulls", kind="data")

    folds = fold_col.to_numpy()
    train_idx = np.flatnonzero(np.isin(folds, np.asarray(spec.train_folds, dtype=np.int64)))
    if train_idx.size == 0:
        present = sorted(int(v) for v in np.unique(folds))
        raise JobInputError(
            f"trainFolds {list(spec.train_folds)} select no rows of split {spec.split_path}; its folds are {present}",
            kind="data",
        )
    if spec.row_share < 1.0:
        # A seeded permutation's prefix: the same seed gives nested subsets, so a larger share sees a superset of rows.
        keep = max(1, int(round(spec.row_share * train_idx.size)))
        order = np.random.RandomState(spec.seed).permutation(train_idx.size)
        train_idx = np.sort(train_idx[order[:keep]])
    for i, row in enumerate(spec.probe_rows):
        if row >= n:
            raise JobInputError(f"spec field 'probeRows[{i}]': row {row} is outside the snapshot's {n} rows")

    for name in spec.numeric_features:
        _column(snapshot, name, spec.snapshot_path, "numeric feature")
    for name in spec.categorical_features:
        _column(snapshot, name, spec.snapshot_path, "categorical feature")
    _column(snapshot, spec.label, spec.snapshot_path, "label")
    wanted = snapshot.select([*spec.feature_names, spec.label])
    train = wanted.take(pa.array(train_idx))
    probe = wanted.take(pa.array(np.asarray(spec.probe_rows, dtype=np.int64)))
    return TrainingData(
        snapshot_rows=n,
        x_train=_features(train, spec),
        y_train=_labels(train.column(spec.label), spec),
        x_probe=_features(probe, spec),
    )
