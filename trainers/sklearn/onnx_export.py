"""Converting the fitted pipeline to ONNX with the input and output names of the job contract."""

from __future__ import annotations

import functools
from typing import Any

import numpy as np
import onnx
import skl2onnx.common.tree_ensemble as tree_ensemble
from skl2onnx import convert_sklearn
from skl2onnx.common.exceptions import MissingConverter, MissingShapeCalculator
from skl2onnx.common.data_types import FloatTensorType, StringTensorType
from sklearn.pipeline import Pipeline

from input_names import FEATURE_INPUTS_KEY, feature_inputs_json, onnx_input_names
from job_spec import JobSpec


def _patch_hist_gradient_boosting_export() -> None:
    # skl2onnx 1.20 passes a Python bool (`missing = False` for leaves) into an integer attribute list when it converts
    # HistGradientBoosting*; protobuf 7 refuses bools there ("Expected an int, got a boolean"), so without this the
    # converter fails on every HistGradientBoosting model. Coercing to int is what the ONNX attribute means anyway.
    # It also rounds HistGradientBoosting thresholds to the nearest float32, which can lie above the float64 threshold
    # and send a float32 input equal to it down the other branch; for the other trees it takes the largest float32 not
    # above the threshold, which splits every float32 input as scikit-learn does (the pipeline casts inputs to float32,
    # see estimators.build_pipeline). HistGradientBoosting gets the same rounding.
    original = tree_ensemble.add_node
    if getattr(original, "_relearn_patched", False):
        return

    @functools.wraps(original)
    def add_node(*args: Any, **kwargs: Any) -> Any:
        if "nodes_missing_value_tracks_true" in kwargs:
            kwargs["nodes_missing_value_tracks_true"] = int(kwargs["nodes_missing_value_tracks_true"])
        if kwargs.get("dtype") in (np.float32, np.float64):
            kwargs["adjust_threshold_for_sklearn"] = True
        return original(*args, **kwargs)

    add_node._relearn_patched = True  # type: ignore[attr-defined]
    tree_ensemble.add_node = add_node


_patch_hist_gradient_boosting_export()

# What skl2onnx raises for a model it does not support (a converter's NotImplementedError names the param, such as a
# loss it lacks): the same model fails the same way, so the job reports bad params rather than a fault to retry.
UNCONVERTIBLE: tuple[type[Exception], ...] = (MissingConverter, MissingShapeCalculator, NotImplementedError)

_ELEM_TYPES = {onnx.TensorProto.FLOAT: "float", onnx.TensorProto.INT64: "int64", onnx.TensorProto.STRING: "string"}


def _describe(values: Any) -> list[dict[str, Any]]:
    described = []
    for v in values:
        t = v.type.tensor_type
        shape = [d.dim_value if d.HasField("dim_value") else None for d in t.shape.dim]
        elem = _ELEM_TYPES.get(t.elem_type, onnx.TensorProto.DataType.Name(t.elem_type).lower())
        described.append({"name": v.name, "type": f"tensor({elem})", "shape": shape})
    return described


def _subgraphs(node: onnx.NodeProto) -> list[onnx.GraphProto]:
    return [g for attr in node.attribute for g in ([attr.g] if attr.HasField("g") else []) + list(attr.graphs)]


def _graph_names(graph: onnx.GraphProto) -> set[str]:
    """Every value name used in the graph and its subgraphs."""
    names = {v.name for v in (*graph.input, *graph.output, *graph.value_info)} | {t.name for t in graph.initializer}
    for node in graph.node:
        names.update(node.input)
        names.update(node.output)
        for sub in _subgraphs(node):
            names |= _graph_names(sub)
    names.discard("")
    return names


def _rename_values(graph: onnx.GraphProto, renames: dict[str, str]) -> None:
    for value in (*graph.input, *graph.output, *graph.value_info):
        value.name = renames.get(value.name, value.name)
    for node in graph.node:
        node.input[:] = [renames.get(n, n) for n in node.input]
        node.output[:] = [renames.get(n, n) for n in node.output]
        # A subgraph sees its parent's values by name; the new names are free in subgraphs too (see _name_inputs).
        for sub in _subgraphs(node):
            _rename_values(sub, renames)


def _name_inputs(model: onnx.ModelProto, features: list[str]) -> list[str]:
    """Renames the graph's inputs (skl2onnx's own renaming of the columns) to the job's safe names; returns them."""
    graph = model.graph
    old = [i.name for i in graph.input]
    if len(old) != len(features):
        raise RuntimeError(f"ONNX inputs {old} do not match the features {features}")
    # A new name must not be one skl2onnx already gave to a value inside the graph (it derives some from the inputs').
    inside = _graph_names(graph) - set(old)
    new = onnx_input_names(features, reserved=inside)
    renames = {o: n for o, n in zip(old, new) if o != n}
    if renames:
        _rename_values(graph, renames)
    return new


def export_onnx(pipeline: Pipeline, spec: JobSpec) -> tuple[bytes, dict[str, Any]]:
    """The ONNX bytes of the pipeline (one [N,1] input per feature, safely named, the mapping to the features in the
    model's metadata) and a description of its inputs, outputs and opsets."""
    initial_types = [(name, FloatTensorType([None, 1])) for name in spec.numeric_features]
    initial_types += [(name, StringTensorType([None, 1])) for name in spec.categorical_features]
    options = None
    if spec.task != "regression":
        # Without zipmap the classifier returns a plain [N, C] float tensor instead of a sequence of maps.
        options = {id(pipeline.steps[-1][1]): {"zipmap": False}}
    # A fixed graph name (not the job id) keeps the bytes a function of data, params and seed alone.
    model = convert_sklearn(pipeline, initial_types=initial_types, options=options, name="relearn_sklearn")
    # The columns keep the user's names up to here (the fitted ColumnTransformer finds its inputs by them).
    input_names = _name_inputs(model, spec.feature_names)
    del model.metadata_props[:]
    model.metadata_props.add(key=FEATURE_INPUTS_KEY, value=feature_inputs_json(spec.feature_names, input_names))
    # skl2onnx orders opset imports by string-hash iteration, so identical models got different bytes (and digests)
    # from one process to the next; sorted, the same fit always serialises to the same bytes.
    opsets = sorted(((o.domain, o.version) for o in model.opset_import))
    del model.opset_import[:]
    for domain, version in opsets:
        model.opset_import.add(domain=domain, version=version)
    onnx.checker.check_model(model)

    inputs = [i.name for i in model.graph.input]
    if inputs != input_names:
        raise RuntimeError(f"ONNX inputs {inputs}, expected {input_names} for the features {spec.feature_names}")
    outputs = [o.name for o in model.graph.output]
    expected = ["variable"] if spec.task == "regression" else ["label", "probabilities"]
    if outputs != expected:
        raise RuntimeError(f"ONNX outputs {outputs}, expected {expected}")

    described_inputs = _describe(model.graph.input)
    for described, feature in zip(described_inputs, spec.feature_names, strict=True):
        described["feature"] = feature
    description = {
        "inputs": described_inputs,
        "outputs": _describe(model.graph.output),
        "opsets": {(o.domain or "ai.onnx"): o.version for o in model.opset_import},
    }
    return model.SerializeToString(), description
