"""No-op training job for the orchestration benchmark: honours the job contract (model.onnx, probe.json, then
status.json in the spec's outputDir) without training. It hands back a constant classifier built by prepare.py and
appends its start and end times to $BENCH_JOB_LOG, so the benchmark can subtract the time spent inside jobs.
Standard library only, so it starts in milliseconds.

    python bench/py/noop_trainer.py <spec.json>
"""

import json
import os
import shutil
import sys
import time

started = time.time()
with open(sys.argv[1], encoding="utf-8") as f:
    spec = json.load(f)
out = spec["outputDir"]
os.makedirs(out, exist_ok=True)
shutil.copyfile(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".cache", "constant.onnx"), os.path.join(out, "model.onnx"))
with open(os.path.join(out, "probe.json"), "w", encoding="utf-8") as f:
    json.dump({"rows": spec["probeRows"], "probabilities": [[0.6, 0.4] for _ in spec["probeRows"]]}, f)
status = {
    "status": "succeeded",
    "role": spec["role"],
    "task": spec["task"],
    "estimator": spec["estimator"],
    "params": spec["params"],
    "classes": [0, 1],
    "trainRows": 0,
    "durationMs": 0,
}
tmp = os.path.join(out, "status.json.tmp")
with open(tmp, "w", encoding="utf-8") as f:
    json.dump(status, f)
os.replace(tmp, os.path.join(out, "status.json"))
log = os.environ.get("BENCH_JOB_LOG")
if log:
    with open(log, "a", encoding="utf-8") as f:
        f.write(json.dumps({"jobId": spec["jobId"], "startMs": started * 1000, "endMs": time.time() * 1000}) + "\n")
