"""Estimators by name, their params, and the preprocessing pipeline around them."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import numpy as np
from skl2onnx.sklapi import CastTransformer
from sklearn.base import BaseEstimator
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import (
    GradientBoostingClassifier,
    GradientBoostingRegressor,
    HistGradientBoostingClassifier,
    HistGradientBoostingRegressor,
    RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from sklearn.utils._param_validation import InvalidParameterError

from job_spec import JobInputError, JobSpec


@dataclass(frozen=True)
class EstimatorKind:
    """One supported estimator name: its classes per task and whether it needs dense input."""

    classifier: type[BaseEstimator] | None
    regressor: type[BaseEstimator] | None
    # HistGradientBoosting rejects sparse matrices, so its one-hot columns are materialised (rows x categories floats).
    needs_dense: bool = False
    # Trees split on thresholds, so scaling changes nothing for them, and it would put float64 arithmetic (native) and
    # float32 arithmetic (ONNX) between the input and the thresholds: see build_pipeline.
    scale_numeric: bool = True


ESTIMATORS: dict[str, EstimatorKind] = {
    "logistic_regression": EstimatorKind(LogisticRegression, None),
    "random_forest": EstimatorKind(RandomForestClassifier, RandomForestRegressor, scale_numeric=False),
    "gradient_boosting": EstimatorKind(GradientBoostingClassifier, GradientBoostingRegressor, scale_numeric=False),
    "hist_gradient_boosting": EstimatorKind(
        HistGradientBoostingClassifier, HistGradientBoostingRegressor, needs_dense=True, scale_numeric=False
    ),
    "linear_regression": EstimatorKind(None, LinearRegression),
    "ridge": EstimatorKind(None, Ridge),
}


def estimator_class(spec: JobSpec) -> type[BaseEstimator]:
    """The scikit-learn class for the spec's estimator name and task; raises JobInputError for an unknown pair."""
    kind = ESTIMATORS.get(spec.estimator)
    is_regression = spec.task == "regression"
    cls = None if kind is None else (kind.regressor if is_regression else kind.classifier)
    if cls is None:
        usable = [name for name, k in ESTIMATORS.items() if (k.regressor if is_regression else k.classifier) is not None]
        raise JobInputError(
            f"spec field 'estimator': '{spec.estimator}' is not supported for task '{spec.task}'; "
            f"supported: {', '.join(usable)}",
            kind="params",
        )
    return cls


def _param_in_message(message: str, names: list[str]) -> str | None:
    match = re.search(r"The '(\w+)' parameter", message)
    if match:
        return match.group(1)
    for name in sorted(names, key=len, reverse=True):
        if re.search(rf"\b{re.escape(name)}\b", message):
            return name
    return None


def build_estimator(spec: JobSpec) -> BaseEstimator:
    """The estimator with the spec's params and seed applied and checked against scikit-learn's own constraints."""
    cls = estimator_class(spec)
    estimator = cls()
    valid = sorted(estimator.get_params().keys())
    for name in spec.params:
        if name == "random_state":
            raise JobInputError(
                "params.random_state: not allowed; the job's 'seed' sets random_state", kind="params"
            )
        if name not in valid:
            raise JobInputError(
                f"params.{name}: unknown parameter for {cls.__name__} (estimator '{spec.estimator}'); "
                f"valid parameters: {', '.join(valid)}",
                kind="params",
            )
    estimator.set_params(**spec.params)
    if "random_state" in valid:
        estimator.set_params(random_state=spec.seed)
    try:
        # The same check fit() runs first; doing it now fails before any data is read.
        estimator._validate_params()
    except InvalidParameterError as err:
        param = _param_in_message(str(err), list(spec.params))
        raise JobInputError(f"params.{param or '?'}: {err}", kind="params") from None
    return estimator


def param_error_from_fit(err: ValueError, spec: JobSpec) -> JobInputError:
    """A ValueError raised by fit() for a combination of params (say, a penalty the solver lacks) as a JobInputError."""
    param = _param_in_message(str(err), list(spec.params))
    where = f"params.{param}" if param else "params"
    return JobInputError(f"{where}: {spec.estimator} rejected its params during fit: {err}", kind="params")


def build_pipeline(spec: JobSpec, estimator: BaseEstimator) -> Pipeline:
    """Imputation, scaling and one-hot encoding in front of the estimator, so all of it is exported to ONNX."""
    kind = ESTIMATORS[spec.estimator]
    dense = kind.needs_dense
    transformers: list[tuple[str, Any, list[str]]] = []
    if spec.numeric_features:
        # The ONNX model takes float32 inputs, so the model is fitted on (and predicts from) the float32 values it will
        # be fed: without the cast, a value such as 7.2 is 7.2 in float64 for scikit-learn and 7.1999998 for ONNX, and a
        # tree threshold between them (common with decimal data: the midpoint of 6.1 and 8.3) sends the row down
        # different branches. After the cast both sides compare the same float32 values with the same thresholds
        # (skl2onnx rounds each threshold to the float32 that splits float32 inputs as scikit-learn's float64 one does).
        numeric_steps: list[tuple[str, Any]] = [
            ("impute", SimpleImputer(strategy="median")),
            ("float32", CastTransformer(dtype=np.float32)),
        ]
        if kind.scale_numeric:
            numeric_steps.append(("scale", StandardScaler()))
        transformers.append(("numeric", Pipeline(numeric_steps), list(spec.numeric_features)))
    if spec.categorical_features:
        # No imputer here: nulls already arrive as "" (as they do at serving time), and skl2onnx cannot convert a
        # string SimpleImputer whose missing value is not a string. "" is one more category when it was seen in
        # training and is ignored (all zeros) when it was not.
        encoder = OneHotEncoder(handle_unknown="ignore", sparse_output=not dense)
        transformers.append(("categorical", encoder, list(spec.categorical_features)))
    # Linear models and random forests take the sparse one-hot matrix as is; rows x categories never goes dense.
    preprocess = ColumnTransformer(transformers, sparse_threshold=0.0 if dense else 0.3)
    return Pipeline([("preprocess", preprocess), ("estimator", estimator)])
