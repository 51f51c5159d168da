"""Safe ONNX input names for the features as users name their columns, and the mapping between the two.

Columns come named as people name them ("Speed IAS in knots", "Cost Total $", "Année (vol)"). skl2onnx renames
such inputs its own way (each odd character becomes "_", a clash gets a digit), so a client that sends the column's
name finds no input. The job therefore names every input itself, by the rules below, and records which feature each
input belongs to in the model's metadata (FEATURE_INPUTS_KEY), so Relearn feeds and serves the model by the
user's names.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable, Sequence

# metadata_props key of the model.onnx whose value is the JSON list [{"feature": ..., "input": ...}, ...].
FEATURE_INPUTS_KEY = "relearn.feature_inputs"
# The job contract's output names: an input must never take one.
OUTPUT_NAMES = frozenset({"label", "probabilities", "variable"})

_SAFE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_UNSAFE_RUN = re.compile(r"[^A-Za-z0-9]+")


def _sanitise(name: str) -> str:
    # Accents are dropped rather than replaced ("Année" → "Annee"): the name stays readable.
    ascii_letters = "".join(c for c in unicodedata.normalize("NFKD", name) if not unicodedata.combining(c))
    base = _UNSAFE_RUN.sub("_", ascii_letters).strip("_")
    if base == "":
        return "feature"
    return f"_{base}" if base[0].isdigit() else base


def onnx_input_names(features: Sequence[str], reserved: Iterable[str] = ()) -> list[str]:
    """One safe ONNX input name per feature, in order: ASCII letters, digits and "_", not starting with a digit.

    A name that is already safe is kept as it is. Any other name has accents dropped and each run of other
    characters turned into one "_" (trimmed at both ends). A name taken by an earlier feature, an already-safe
    feature, an output of the job contract or `reserved` gets the first free suffix "_2", "_3", ... Features must be
    distinct; the result is a function of the feature list (and `reserved`) alone.
    """
    if len(set(features)) != len(features):
        raise ValueError(f"features must be distinct, got {list(features)}")
    blocked = set(OUTPUT_NAMES) | set(reserved)
    # Safe names are claimed first, so a column already named "Cost_Total" keeps that name even when it comes after
    # a "Cost Total $" that sanitises to the same text.
    kept = {f for f in features if _SAFE.match(f) and f not in blocked}
    taken = blocked | kept
    names = []
    for feature in features:
        if feature in kept:
            names.append(feature)
            continue
        base = _sanitise(feature)
        name, k = base, 2
        while name in taken:
            name, k = f"{base}_{k}", k + 1
        taken.add(name)
        names.append(name)
    return names


def feature_inputs_json(features: Sequence[str], inputs: Sequence[str]) -> str:
    """The metadata value recording which feature each ONNX input belongs to, in input order."""
    return json.dumps([{"feature": f, "input": i} for f, i in zip(features, inputs, strict=True)], ensure_ascii=False)
