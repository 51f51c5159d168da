"""Orchestration peer: the no-op pipeline on Prefect 3 with its local server (bench/orchestration.ts runs this with the
Prefect virtual environment's Python and reads the last line it prints).

    python orch_prefect.py driver <work-dir> <plan.json>   starts the server and a worker, runs the plan, stops both
    python orch_prefect.py worker                          the worker: serves the pipeline's deployment

The pipeline is a flow of tasks in Relearn's order: pull → split → 3 fold jobs + final job (at once, each the no-op
job as a subprocess) → export/check → evaluate → gate → register → promote. The worker is `flow.serve()`, Prefect's
own long-lived process that picks up scheduled runs of the deployment and runs each flow run in a subprocess.
"""

import asyncio
import json
import os
import sys
import time

from orch_common import (
    TRAIN_ROLES,
    answer,
    free_port,
    now_ms,
    run_noop_job,
    start_process,
    stop_process,
    wait_http,
    wait_job_started,
)

FLOW = "noop-pipeline"
DEPLOYMENT = f"{FLOW}/bench"
TERMINAL = {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}


def build_flow():
    from prefect import flow, task

    @task
    def pull_data(key: str) -> dict:
        return {"snapshot": f"{key}/snapshot", "rows": 2000}

    @task
    def split_data(snapshot: dict) -> dict:
        return {"folds": 3, "snapshot": snapshot["snapshot"]}

    @task(retries=2, retry_delay_seconds=0.5)
    def run_training_job(key: str, role: str, split: dict) -> str:
        return run_noop_job(key, role)

    @task
    def export_onnx(models: list[str]) -> list[str]:
        return models

    @task
    def cross_validate(models: list[str]) -> dict:
        return {"roc_auc": 0.5}

    @task
    def gate(metrics: dict) -> bool:
        return True

    @task
    def register(passed: bool) -> int:
        return 1

    @task
    def promote(version: int) -> str:
        return "champion"

    @flow(name=FLOW, log_prints=False)
    def pipeline(key: str) -> str:
        snapshot = pull_data(key)
        split = split_data(snapshot)
        futures = [run_training_job.submit(key, role, split) for role in TRAIN_ROLES]
        models = [f.result() for f in futures]
        checked = export_onnx(models)
        return promote(register(gate(cross_validate(checked))))

    return pipeline


def worker() -> None:
    build_flow().serve(name="bench", limit=int(os.environ.get("BENCH_WORKER_LIMIT", "60")), print_starting_message=False)


async def run_many(keys: list[str], timeout_s: float, on_started=None) -> list[dict]:
    """Creates one flow run per key at once, waits until each is terminal; client-side wall time per run."""
    from prefect.client.orchestration import get_client

    async with get_client() as client:
        deployment = await client.read_deployment_by_name(DEPLOYMENT)
        started: dict[str, float] = {}
        ids: dict[str, object] = {}

        async def create(key: str) -> None:
            started[key] = now_ms()
            fr = await client.create_flow_run_from_deployment(deployment.id, parameters={"key": key})
            ids[key] = fr.id

        await asyncio.gather(*(create(k) for k in keys))
        if on_started is not None:
            await on_started(keys)
        done: dict[str, dict] = {}
        deadline = time.time() + timeout_s
        while len(done) < len(keys) and time.time() < deadline:
            for key in keys:
                if key in done:
                    continue
                fr = await client.read_flow_run(ids[key])
                state = fr.state.type.value if fr.state else "PENDING"
                if state in TERMINAL:
                    end = now_ms()
                    done[key] = {"key": key, "wallMs": round(end - started[key]), "endMs": end, "state": state}
            await asyncio.sleep(0.05)
        for key in keys:
            if key not in done:
                fr = await client.read_flow_run(ids[key])
                done[key] = {"key": key, "wallMs": None, "state": f"not finished within {timeout_s:.0f} s ({fr.state.type.value if fr.state else '?'})"}
        return [done[k] for k in keys]


def driver(work: str, plan: dict) -> None:
    port = free_port()
    env = {
        **os.environ,
        "PREFECT_HOME": os.path.join(work, "prefect-home"),
        "PREFECT_API_URL": f"http://127.0.0.1:{port}/api",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_LOGGING_LEVEL": "WARNING",
        # Default 10 s: how often a served deployment looks for scheduled runs; 1 s is the smallest it takes.
        "PREFECT_RUNNER_POLL_FREQUENCY": "1",
        "BENCH_PEER_WORK": work,
    }
    # Prefect reads its settings when first imported: the environment is set before.
    os.environ.update(env)
    import prefect

    t0 = time.time()
    server = start_process([sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1", "--port", str(port)], os.path.join(work, "server.log"), env)
    me = [sys.executable, os.path.abspath(__file__), "worker"]
    workers = []
    result: dict = {"peer": "prefect", "version": prefect.__version__, "phases": {}}
    try:
        wait_http(f"http://127.0.0.1:{port}/api/health", 120, server, "Prefect server")
        workers.append(start_process(me, os.path.join(work, "worker.log"), env))
        wait_deployment(120, workers[-1])
        result["startupMs"] = round((time.time() - t0) * 1000)
        # Warm-up, not counted: the first flow run pays for imports and the server's caches.
        asyncio.run(run_many(["warmup"], 120))
        phases = result["phases"]
        runs = []
        t = now_ms()
        for i in range(plan["sequential"]):
            runs += asyncio.run(run_many([f"seq-{i}"], 300))
        phases["sequential"] = {"wallMs": round(now_ms() - t), "runs": runs}
        for n in plan["concurrent"]:
            t = now_ms()
            runs = asyncio.run(run_many([f"conc{n}-{i}" for i in range(n)], 900))
            phases[f"concurrent-{n}"] = {"wallMs": round(now_ms() - t), "runs": runs}
        if plan.get("crash"):
            result["crash"] = crash(work, env, me, workers, plan["crashTimeoutS"])
    finally:
        for w in workers:
            stop_process(w)
        stop_process(server)
    answer(result)


def wait_deployment(timeout_s: float, proc) -> None:
    from prefect.client.orchestration import get_client

    async def look() -> bool:
        async with get_client() as client:
            try:
                await client.read_deployment_by_name(DEPLOYMENT)
                return True
            except Exception:
                return False

    deadline = time.time() + timeout_s
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the Prefect worker exited with {proc.returncode} during start-up")
        if asyncio.run(look()):
            return
        time.sleep(0.3)
    raise RuntimeError(f"the deployment {DEPLOYMENT} did not appear within {timeout_s:.0f} s")


def crash(work: str, env: dict, me: list[str], workers: list, timeout_s: float) -> dict:
    """One run whose worker is SIGKILLed while its first job runs; a new worker is started at once; kill → terminal."""
    os.environ["BENCH_JOB_HOLD_MS"] = "3000"
    os.environ["BENCH_JOB_STARTED_DIR"] = os.path.join(work, "started")
    # The worker is restarted with the same environment, so its jobs hold too.
    env = {**env, "BENCH_JOB_HOLD_MS": "3000", "BENCH_JOB_STARTED_DIR": os.environ["BENCH_JOB_STARTED_DIR"]}
    stop_process(workers[-1])
    workers.append(start_process(me, os.path.join(work, "worker.log"), env))
    wait_deployment(120, workers[-1])
    killed: dict = {}

    async def kill_when_started(keys: list[str]) -> None:
        await asyncio.get_running_loop().run_in_executor(None, wait_job_started, keys[0], 120)
        killed["at"] = now_ms()
        os.kill(workers[-1].pid, 9)
        workers[-1].wait()
        workers.append(start_process(me, os.path.join(work, "worker.log"), env))

    [run] = asyncio.run(run_many(["crash-0"], timeout_s, kill_when_started))
    recovered = run["state"] == "COMPLETED" and run["wallMs"] is not None
    return {
        "killed": "the flow.serve() process (SIGKILL to its pid; the flow-run subprocess it started is orphaned, not killed)",
        "state": run["state"],
        "recoveryMs": round(run["endMs"] - killed["at"]) if recovered else None,
        "runWallMs": run["wallMs"],
    }


if __name__ == "__main__":
    if sys.argv[1] == "worker":
        worker()
    else:
        with open(sys.argv[3], encoding="utf-8") as f:
            driver(sys.argv[2], json.load(f))
