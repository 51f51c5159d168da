"""Shared parts of the orchestration peers (orch_prefect.py, orch_airflow.py): the no-op training job each peer's fold
tasks launch (the same bench/py/noop_trainer.py Relearn's pipeline runs, as a subprocess with the same interpreter),
free ports, waiting for an HTTP server, killing a worker, and the one JSON line a driver answers with.
Standard library only, so it imports in both peers' virtual environments.
"""

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
NOOP_TRAINER = os.path.join(HERE, "noop_trainer.py")

# The pipeline's stages, the same as Relearn's retrain workflow: K=3 fold jobs and a final job between split and export.
TRAIN_ROLES = ["fold-0", "fold-1", "fold-2", "final"]


def run_noop_job(key: str, role: str) -> str:
    """Writes a job spec and runs the no-op job on it (BENCH_* variables say where; the job logs its own interval)."""
    work = os.environ["BENCH_PEER_WORK"]
    out = os.path.join(work, "jobs", key, role)
    os.makedirs(out, exist_ok=True)
    spec_path = os.path.join(out, "spec.json")
    spec = {
        "jobId": f"{key}/{role}",
        "outputDir": out,
        "probeRows": list(range(20)),
        "role": role,
        "task": "binary",
        "estimator": "logistic_regression",
        "params": {},
    }
    with open(spec_path, "w", encoding="utf-8") as f:
        json.dump(spec, f)
    subprocess.run([os.environ["BENCH_NOOP_PYTHON"], NOOP_TRAINER, spec_path], check=True)
    return os.path.join(out, "model.onnx")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url: str, timeout_s: float, proc: subprocess.Popen | None = None, what: str = "server") -> None:
    """Waits until `url` answers 2xx; fails early when `proc` exited."""
    deadline = time.time() + timeout_s
    while time.time() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"the {what} exited with {proc.returncode} before answering {url}")
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if 200 <= r.status < 300:
                    return
        except Exception:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"the {what} did not answer {url} within {timeout_s:.0f} s")


def wait_job_started(key: str, timeout_s: float) -> None:
    """Waits for the no-op job of run `key` to have started (the job touches a file in BENCH_JOB_STARTED_DIR)."""
    folder = os.environ["BENCH_JOB_STARTED_DIR"]
    deadline = time.time() + timeout_s
    while time.time() < deadline:
        if os.path.isdir(folder) and any(name.startswith(key.replace("/", "_")) for name in os.listdir(folder)):
            return
        time.sleep(0.02)
    raise RuntimeError(f"no job of run {key} started within {timeout_s:.0f} s")


def start_process(args: list[str], log_path: str, env: dict[str, str]) -> subprocess.Popen:
    """A server or worker in its own session (so stopping it takes its children), its output in a log file."""
    log = open(log_path, "ab")
    return subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)


def stop_process(proc: subprocess.Popen, grace_s: float = 10) -> None:
    """SIGTERM to the process's group, SIGKILL after `grace_s`."""
    if proc.poll() is not None:
        _kill_group(proc.pid, 9)
        return
    _kill_group(proc.pid, 15)
    try:
        proc.wait(grace_s)
    except subprocess.TimeoutExpired:
        pass
    _kill_group(proc.pid, 9)
    proc.wait()


def _kill_group(pgid: int, sig: int) -> None:
    try:
        os.killpg(pgid, sig)
    except ProcessLookupError:
        pass


def answer(result: dict) -> None:
    """The driver's result: one JSON line on stdout, the last one (the benchmark reads it)."""
    sys.stdout.write(json.dumps(result) + "\n")
    sys.stdout.flush()


def now_ms() -> float:
    return time.time() * 1000
