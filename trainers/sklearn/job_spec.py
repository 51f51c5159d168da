"""The job spec: parsed and checked before any data is read."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any

TASKS = ("binary", "multiclass", "regression")

# Keys the launcher may add later are tolerated (reported, not fatal), so the spec can grow without breaking old jobs.
KNOWN_KEYS = (
    "jobId",
    "role",
    "task",
    "snapshotPath",
    "splitPath",
    "trainFolds",
    "features",
    "label",
    "estimator",
    "params",
    "seed",
    "probeRows",
    "outputDir",
    "rowShare",
    # Inputs and outputs by store URI, for a job on another machine than the worker (store_io.py).
    "store",
    "snapshot",
    "split",
    "outputUri",
)


class JobInputError(Exception):
    """Bad spec, params or data: the same input would fail again, so the job exits 2 and is never retried."""

    exit_code = 2

    def __init__(self, message: str, kind: str = "spec") -> None:
        super().__init__(message)
        self.kind = kind


@dataclass(frozen=True)
class JobSpec:
    """A validated job spec."""

    job_id: str
    role: str
    task: str
    snapshot_path: str
    split_path: str
    train_folds: tuple[int, ...]
    numeric_features: tuple[str, ...]
    categorical_features: tuple[str, ...]
    label: str
    estimator: str
    params: dict[str, Any]
    seed: int
    probe_rows: tuple[int, ...]
    output_dir: str
    ignored_keys: tuple[str, ...]
    # Share of the training rows to fit on (a seeded subsample); below 1 only for early rungs of a search.
    row_share: float = 1.0

    @property
    def feature_names(self) -> list[str]:
        """Feature names in ONNX input order: numeric first, then categorical."""
        return [*self.numeric_features, *self.categorical_features]


def _fail(where: str, expected: str, got: Any) -> JobInputError:
    shown = json.dumps(got) if not isinstance(got, _Missing) else "nothing"
    if len(shown) > 120:
        shown = shown[:117] + "..."
    return JobInputError(f"spec field '{where}': expected {expected}, got {shown}")


class _Missing:
    pass


_MISSING = _Missing()


def _is_int(value: Any) -> bool:
    # JSON true/false are bools, which Python counts as ints; a row index or seed of `true` is a mistake.
    return isinstance(value, int) and not isinstance(value, bool)


def _string(raw: dict[str, Any], key: str) -> str:
    value = raw.get(key, _MISSING)
    if not isinstance(value, str) or value == "":
        raise _fail(key, "a non-empty string", value)
    return value


def _abs_path(raw: dict[str, Any], key: str) -> str:
    value = _string(raw, key)
    if not os.path.isabs(value):
        raise _fail(key, "an absolute path", value)
    return value


def _int_list(raw: Any, where: str, minimum: int, allow_empty: bool) -> tuple[int, ...]:
    if not isinstance(raw, list) or not all(_is_int(v) for v in raw):
        raise _fail(where, "a list of integers", raw)
    if not allow_empty and len(raw) == 0:
        raise _fail(where, "a non-empty list of integers", raw)
    for i, v in enumerate(raw):
        if v < minimum:
            raise _fail(f"{where}[{i}]", f"an integer >= {minimum}", v)
    return tuple(raw)


def _name_list(raw: Any, where: str) -> tuple[str, ...]:
    if not isinstance(raw, list) or not all(isinstance(v, str) and v != "" for v in raw):
        raise _fail(where, "a list of column names (non-empty strings)", raw)
    seen: set[str] = set()
    for v in raw:
        if v in seen:
            raise _fail(where, "each column once", raw)
        seen.add(v)
    return tuple(raw)


def parse_job_spec(raw: Any) -> JobSpec:
    """Checks a decoded spec.json and returns it typed; raises JobInputError naming the first bad field."""
    if not isinstance(raw, dict):
        raise JobInputError(f"spec: expected a JSON object, got {type(raw).__name__}")

    task = raw.get("task", _MISSING)
    if task not in TASKS:
        raise _fail("task", "one of " + ", ".join(TASKS), task)

    features = raw.get("features", _MISSING)
    if not isinstance(features, dict):
        raise _fail("features", 'an object {"numeric": [...], "categorical": [...]}', features)
    for key in features:
        if key not in ("numeric", "categorical"):
            raise _fail(f"features.{key}", "only the keys 'numeric' and 'categorical'", features[key])
    numeric = _name_list(features.get("numeric", []), "features.numeric")
    categorical = _name_list(features.get("categorical", []), "features.categorical")
    if not numeric and not categorical:
        raise _fail("features", "at least one numeric or categorical feature", features)
    both = sorted(set(numeric) & set(categorical))
    if both:
        raise _fail("features", "each column in only one of numeric/categorical", both)

    label = _string(raw, "label")
    if label in numeric or label in categorical:
        raise _fail("label", "a column that is not also a feature", label)

    params = raw.get("params", {})
    if not isinstance(params, dict):
        raise _fail("params", "an object of estimator parameters", params)

    seed = raw.get("seed", _MISSING)
    if not _is_int(seed) or not 0 <= seed < 2**32:
        raise _fail("seed", "an integer in [0, 2^32)", seed)

    train_folds = _int_list(raw.get("trainFolds", _MISSING), "trainFolds", 0, allow_empty=False)
    if len(set(train_folds)) != len(train_folds):
        raise _fail("trainFolds", "each fold once", list(train_folds))

    row_share = raw.get("rowShare", 1.0)
    if isinstance(row_share, bool) or not isinstance(row_share, (int, float)) or not 0 < row_share <= 1:
        raise _fail("rowShare", "a number in (0, 1]", row_share)

    return JobSpec(
        job_id=_string(raw, "jobId"),
        role=_string(raw, "role"),
        task=task,
        snapshot_path=_abs_path(raw, "snapshotPath"),
        split_path=_abs_path(raw, "splitPath"),
        train_folds=train_folds,
        numeric_features=numeric,
        categorical_features=categorical,
        label=label,
        estimator=_string(raw, "estimator"),
        params=params,
        seed=seed,
        probe_rows=_int_list(raw.get("probeRows", []), "probeRows", 0, allow_empty=True),
        output_dir=_abs_path(raw, "outputDir"),
        ignored_keys=tuple(k for k in raw if k not in KNOWN_KEYS),
        row_share=float(row_share),
    )
