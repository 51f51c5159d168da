"""No-op training job for the orchestration benchmark: honours the job contract (model.onnx, probe.json, then
status.json in the spec's outputDir) without training. It hands back a constant classifier built by prepare.py and
appends its start and end times to $BENCH_JOB_LOG, so the benchmark can subtract the time spent inside jobs.
For the crash measurement it can also touch a file in $BENCH_JOB_STARTED_DIR when it starts and then wait
$BENCH_JOB_HOLD_MS, so the worker can be killed while the job runs. Standard library only, so it starts in
milliseconds.

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
# A job on an S3 store (bench/distributed.ts, on Ray) has no output folder of the worker: it writes to a folder of its
# own and uploads it to the spec's outputUri, status.json last, as the real trainer does.
store = None
if spec.get("store") is not None:
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "trainers", "sklearn"))
    from store_io import open_store, upload_outputs  # noqa: E402

    store, output_uri = open_store(spec)
out = spec["outputDir"]
started_dir = os.environ.get("BENCH_JOB_STARTED_DIR")
if started_dir:
    os.makedirs(started_dir, exist_ok=True)
    with open(os.path.join(started_dir, spec["jobId"].replace("/", "_")), "w", encoding="utf-8"):
        pass
time.sleep(int(os.environ.get("BENCH_JOB_HOLD_MS", "0")) / 1000)
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
if store is not None and output_uri is not None:
    upload_outputs(store, out, output_uri)
log = os.environ.get("BENCH_JOB_LOG")
if log:
    with open(log, "a", encoding="utf-8") as f:
        f.write(json.dumps({"jobId": spec["jobId"], "startMs": started * 1000, "endMs": time.time() * 1000}) + "\n")
