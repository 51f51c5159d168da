"""NannyML's CBPE on the cached flights scores (bench/estimated.ts): fit on the holdout, estimate every week, timed.

    .relearn/nannyml-venv/bin/python bench/py/cbpe_peer.py <scores.json> <weeks> <repetitions>
Prints one JSON line: the timed runs (ms; fit + every week's estimate, after one untimed warm-up) and the estimates.
"""

import json
import os
import sys
import time
import warnings

os.environ["NML_DISABLE_USAGE_LOGGING"] = "1"
warnings.filterwarnings("ignore")

import nannyml as nml  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402


def run(cal, weeks):
    ref = pd.DataFrame({"y": cal["y"], "p": cal["p"]})
    ref["y_pred"] = (ref["p"] > 0.5).astype(int)
    est = nml.CBPE(problem_type="classification_binary", y_pred_proba="p", y_pred="y_pred", y_true="y", metrics=["roc_auc", "accuracy", "f1"], chunk_number=1)
    est.fit(ref)
    out = []
    for w in weeks:
        ana = pd.DataFrame({"p": w["p"]})
        ana["y_pred"] = (ana["p"] > 0.5).astype(int)
        df = est.estimate(ana).filter(period="analysis").to_df()
        out.append(float(df.iloc[0][("roc_auc", "value")]))
    return out


def main():
    scores = json.load(open(sys.argv[1]))
    weeks = scores["weeks"][: int(sys.argv[2])]
    reps = int(sys.argv[3])
    estimates = run(scores["calibration"], weeks)
    runs = []
    for _ in range(reps):
        t = time.perf_counter()
        run(scores["calibration"], weeks)
        runs.append((time.perf_counter() - t) * 1000)
    print(json.dumps({"runsMs": runs, "rocAuc": estimates, "nannyml": nml.__version__, "numpy": np.__version__}))


if __name__ == "__main__":
    main()
