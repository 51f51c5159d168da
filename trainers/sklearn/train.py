"""Relearn's reference training job: `python train.py <spec.json>`; see README.md beside this file for the contract."""

from __future__ import annotations

import hashlib
import json
import math
import os
import platform
import sys
import time
import traceback
import warnings
from typing import Any

from job_spec import JobInputError, JobSpec, parse_job_spec
from store_io import S3Store, fetch_inputs, open_store, upload_outputs

EXIT_OK = 0
EXIT_RETRYABLE = 1
EXIT_BAD_INPUT = 2


def log(message: str) -> None:
    """One progress line on stdout, flushed so a launcher tailing the log sees it at once."""
    print(message, flush=True)


def write_atomically(path: str, data: bytes) -> None:
    """Writes a file so readers see either the old file or the whole new one, never a torn one."""
    tmp = f"{path}.tmp-{os.getpid()}"
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def _json_bytes(value: Any) -> bytes:
    return (json.dumps(value, indent=2, allow_nan=False) + "\n").encode()


def _json_value(value: Any) -> Any:
    """Param values as JSON: numbers and strings as they are, anything else (a callable, an estimator) as its repr."""
    if value is None or isinstance(value, (bool, str, int)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if hasattr(value, "item") and callable(value.item) and getattr(value, "ndim", 1) == 0:
        return _json_value(value.item())
    if isinstance(value, (list, tuple)):
        return [_json_value(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _json_value(v) for k, v in value.items()}
    return repr(value)


def _kilobytes(size_bytes: int) -> str:
    return f"{size_bytes / 1000:.0f} kB" if size_bytes >= 1000 else f"{size_bytes} B"


def _artifact(path: str) -> dict[str, Any]:
    with open(path, "rb") as f:
        data = f.read()
    return {"sizeBytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}


def _failed_status(output_dir: str | None, message: str, exit_code: int, kind: str, extra: dict[str, Any]) -> None:
    if output_dir is None:
        return
    try:
        os.makedirs(output_dir, exist_ok=True)
        status = {"status": "failed", "error": message, "errorKind": kind, "exitCode": exit_code, **extra}
        write_atomically(os.path.join(output_dir, "status.json"), _json_bytes(status))
    except OSError as err:
        print(f"could not write status.json to {output_dir}: {err}", file=sys.stderr)


def run(spec: JobSpec, started: float) -> dict[str, Any]:
    """Trains, exports and writes every output except status.json; returns the success status."""
    # Imported here so a spec that cannot even be read fails in milliseconds, without loading scikit-learn.
    import joblib
    import numpy as np
    import onnx
    import pyarrow
    import skl2onnx
    import sklearn
    from sklearn.metrics import r2_score

    from estimators import build_estimator, build_pipeline, param_error_from_fit
    from onnx_export import UNCONVERTIBLE, export_onnx
    from snapshot import load_training_data

    out = spec.output_dir
    if spec.ignored_keys:
        log(f"spec: ignoring unknown fields {', '.join(spec.ignored_keys)}")

    estimator = build_estimator(spec)
    pipeline = build_pipeline(spec, estimator)

    data = load_training_data(spec)
    n_train = data.x_train.num_rows
    log(f"loaded {data.snapshot_rows} rows from {os.path.basename(spec.snapshot_path)}; "
        f"{n_train} training rows (folds {list(spec.train_folds)}), {len(spec.probe_rows)} probe rows")

    is_classifier = spec.task != "regression"
    classes: list[Any] | None = None
    y = data.y_train
    if is_classifier:
        # Fitting on class indices makes the ONNX `label` output int64 whatever the label type (ids or names).
        unique, y = np.unique(data.y_train, return_inverse=True)
        classes = [_json_value(c) for c in unique]
        if spec.task == "binary" and len(classes) != 2:
            raise JobInputError(
                f"label '{spec.label}': task 'binary' needs exactly 2 classes in the training rows, found "
                f"{len(classes)}: {classes[:10]}",
                kind="data",
            )
        if spec.task == "multiclass" and len(classes) < 2:
            raise JobInputError(
                f"label '{spec.label}': task 'multiclass' needs at least 2 classes in the training rows, found {classes}",
                kind="data",
            )

    log(f"fitting {spec.estimator} ({type(estimator).__name__}) on {n_train} rows x {len(spec.feature_names)} features ...")
    fit_started = time.monotonic()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            pipeline.fit(data.x_train, y)
        except ValueError as err:
            raise param_error_from_fit(err, spec) from None
    fit_warnings = sorted({f"{w.category.__name__}: {' '.join(str(w.message).split())[:200]}" for w in caught})
    for w in fit_warnings:
        log(f"warning: {w}")
    log(f"fitted in {time.monotonic() - fit_started:.1f} s")

    train_predictions = pipeline.predict(data.x_train)
    if is_classifier:
        self_reported = {"trainAccuracy": float(np.mean(train_predictions == y))}
    else:
        self_reported = {"trainR2": float(r2_score(y, train_predictions))}
    # R2 of a constant label is NaN; status.json stays strict JSON, so a metric that is not a number is left out.
    self_reported = {k: v for k, v in self_reported.items() if math.isfinite(v)}

    try:
        onnx_bytes, onnx_description = export_onnx(pipeline, spec)
    except UNCONVERTIBLE as err:
        # Only what skl2onnx raises for a model it does not support: the same params would fail the same way. Anything
        # else (out of memory, a full disk, a bug) propagates and exits 1, so the launcher tries again.
        raise JobInputError(
            f"estimator '{spec.estimator}': skl2onnx cannot convert the fitted model with these params: "
            f"{type(err).__name__}: {str(err)[:500]}",
            kind="export",
        ) from None
    onnx_path = os.path.join(out, "model.onnx")
    write_atomically(onnx_path, onnx_bytes)
    log(f"exported model.onnx ({_kilobytes(len(onnx_bytes))})")

    joblib_path = os.path.join(out, "model.joblib")
    joblib_tmp = f"{joblib_path}.tmp-{os.getpid()}"
    joblib.dump(pipeline, joblib_tmp)
    os.replace(joblib_tmp, joblib_path)
    log(f"saved model.joblib ({_kilobytes(os.path.getsize(joblib_path))})")

    probe: dict[str, Any] = {"rows": list(spec.probe_rows)}
    has_probe = data.x_probe.num_rows > 0
    if is_classifier:
        proba = pipeline.predict_proba(data.x_probe) if has_probe else np.empty((0, len(classes or [])))
        probe["probabilities"] = [[float(p) for p in row] for row in proba]
    else:
        predictions = pipeline.predict(data.x_probe) if has_probe else np.empty(0)
        probe["predictions"] = [float(p) for p in predictions]
    write_atomically(os.path.join(out, "probe.json"), _json_bytes(probe))
    log(f"wrote probe.json ({len(spec.probe_rows)} rows)")

    status: dict[str, Any] = {
        "status": "succeeded",
        "jobId": spec.job_id,
        "role": spec.role,
        "task": spec.task,
        "estimator": spec.estimator,
        "estimatorClass": type(estimator).__name__,
        "params": _json_value(estimator.get_params(deep=False)),
    }
    if classes is not None:
        status["classes"] = classes
    status.update(
        {
            "trainRows": n_train,
            "snapshotRows": data.snapshot_rows,
            "trainFolds": list(spec.train_folds),
            "featureNames": spec.feature_names,
            "onnx": onnx_description,
            "artifacts": {name: _artifact(os.path.join(out, name)) for name in ("model.onnx", "model.joblib", "probe.json")},
            "selfReportedMetrics": self_reported,
            "warnings": fit_warnings[:20],
            "versions": {
                "python": platform.python_version(),
                "sklearn": sklearn.__version__,
                "skl2onnx": skl2onnx.__version__,
                "onnx": onnx.__version__,
                "numpy": np.__version__,
                "pyarrow": pyarrow.__version__,
                "joblib": joblib.__version__,
            },
            "durationMs": round((time.monotonic() - started) * 1000),
        }
    )
    return status


def _upload_failure(upload: tuple[S3Store, str] | None, output_dir: str | None) -> None:
    """Best effort: a failed job's status.json in the store tells a worker on another machine why."""
    if upload is None or output_dir is None:
        return
    try:
        upload_outputs(upload[0], output_dir, upload[1])
    except Exception as err:  # noqa: BLE001 - the job has failed already; the launcher's own state still says so
        print(f"could not upload the failed status to {upload[1]}: {err}", file=sys.stderr)


def main(argv: list[str]) -> int:
    """Runs one job; returns its exit code (0 ok, 2 bad spec/params/data, 1 anything else)."""
    started = time.monotonic()
    if len(argv) != 2:
        print("usage: train.py <spec.json>", file=sys.stderr)
        return EXIT_BAD_INPUT

    spec_path = argv[1]
    output_dir: str | None = None
    upload: tuple[S3Store, str] | None = None
    extra: dict[str, Any] = {}
    try:
        try:
            with open(spec_path, encoding="utf-8") as f:
                raw = json.load(f)
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
            raise JobInputError(f"spec {spec_path}: cannot read it as JSON ({err})") from None
        # A spec too broken to parse may still say where its status belongs.
        if isinstance(raw, dict) and isinstance(raw.get("outputDir"), str) and os.path.isabs(raw["outputDir"]):
            output_dir = raw["outputDir"]
        if isinstance(raw, dict):
            extra = {k: raw[k] for k in ("jobId", "role") if isinstance(raw.get(k), str)}
            # Inputs named by store URI are fetched (and hashed) first; see store_io.py.
            opened = open_store(raw)
            if opened is not None:
                store, output_uri = opened
                output_dir = raw["outputDir"]
                if output_uri is not None:
                    upload = (store, output_uri)
                fetch_inputs(raw, store)
        spec = parse_job_spec(raw)
        os.makedirs(spec.output_dir, exist_ok=True)
        # A status.json from an earlier run of this job must not be read as this run's result while it works.
        try:
            os.remove(os.path.join(spec.output_dir, "status.json"))
        except FileNotFoundError:
            pass
        log(f"job {spec.job_id} ({spec.role}): {spec.task} {spec.estimator}")
        status = run(spec, started)
        write_atomically(os.path.join(spec.output_dir, "status.json"), _json_bytes(status))
        if upload is not None:
            keys = upload_outputs(upload[0], spec.output_dir, upload[1])
            log(f"uploaded {len(keys)} files to {upload[1]}")
        log(f"succeeded in {status['durationMs'] / 1000:.1f} s")
        return EXIT_OK
    except JobInputError as err:
        print(f"error: {err}", file=sys.stderr)
        log(f"failed: {err}")
        _failed_status(output_dir, str(err), EXIT_BAD_INPUT, err.kind, extra)
        _upload_failure(upload, output_dir)
        return EXIT_BAD_INPUT
    except Exception as err:  # noqa: BLE001 - every other fault is reported and left to the launcher to retry
        traceback.print_exc(file=sys.stderr)
        # Out of memory, a full disk, an I/O error: the machine's state, not the input, so another attempt may pass.
        resource = isinstance(err, (MemoryError, OSError))
        detail = str(err) or ("out of memory" if isinstance(err, MemoryError) else "no message")
        message = f"{type(err).__name__}: {detail}"
        print(f"error: {message} (exit {EXIT_RETRYABLE}: retryable)", file=sys.stderr)
        log(f"failed: {message}")
        _failed_status(output_dir, message, EXIT_RETRYABLE, "resource" if resource else "internal", extra)
        _upload_failure(upload, output_dir)
        return EXIT_RETRYABLE


if __name__ == "__main__":
    sys.exit(main(sys.argv))
