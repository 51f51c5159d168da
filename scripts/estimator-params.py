"""Prints the reference trainer's estimators and their scikit-learn parameter names (get_params()) as JSON.

src/config/estimator-params.ts holds the same list for checking a search space before any job starts;
test/config/search.test.ts runs this script and compares. Run: .relearn/venv/bin/python scripts/estimator-params.py
"""

from __future__ import annotations

import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "trainers", "sklearn"))

from estimators import ESTIMATORS  # noqa: E402

out: dict[str, dict[str, list[str]]] = {}
for name, kind in ESTIMATORS.items():
    out[name] = {}
    for task, cls in (("classifier", kind.classifier), ("regressor", kind.regressor)):
        if cls is not None:
            out[name][task] = sorted(cls().get_params().keys())
print(json.dumps(out, indent=2, sort_keys=True))
