"""Orchestration peer: the no-op pipeline on Apache Airflow 3 in its production set-up on one machine (bench/orchestration.ts
runs this with the Airflow virtual environment's Python and reads the last line it prints).

    python orch_airflow.py driver <work-dir> <plan.json>

The metadata database is PostgreSQL (a server the benchmark started: BENCH_AIRFLOW_DB_URL names the database without
a password, BENCH_AIRFLOW_DB_PASSWORD_FILE holds it); the rest is what `airflow standalone` starts — the LocalExecutor,
the simple auth manager, an API server, a DAG processor, a triggerer and a scheduler — started here as separate
processes on a free port, so the scheduler (the process whose executor runs the tasks: Airflow's worker in this mode)
can be killed and restarted alone. Runs are triggered and watched through the public REST API (/api/v2).

Every phase has a cap (`peerPhaseTimeoutS` in the plan): a phase that fails or is not done in time is reported with its
reason (its unfinished runs are marked failed so they do not load the next phase) and the other phases still run.
"""

import json
import os
import secrets
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request

from orch_common import HERE, answer, free_port, now_ms, start_process, stop_process, wait_http, wait_job_started

DAG_ID = "noop_pipeline"
TERMINAL = {"success", "failed"}


class Api:
    """The REST API with a token from the simple auth manager (every user an admin, as standalone sets it up)."""

    def __init__(self, base: str):
        self.base = base
        self.token = None
        self.retries = 0

    def call(self, method: str, path: str, body: dict | None = None) -> dict:
        data = json.dumps(body).encode() if body is not None else None
        headers = {"Content-Type": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        # On 2 busy cores the API server can take longer than a minute to answer: a call that timed out or lost its
        # connection is made again (a trigger is keyed by its run id, so a repeat is answered 409 and means done).
        for attempt in range(1, 6):
            req = urllib.request.Request(self.base + path, data=data, method=method, headers=headers)
            try:
                with urllib.request.urlopen(req, timeout=60) as r:
                    return json.loads(r.read() or b"{}")
            except urllib.error.HTTPError as e:
                if e.code == 409 and method == "POST" and attempt > 1:
                    return {}
                # A 5xx under load (with SQLite it was "database is locked") is asked again, as any client would;
                # counted in the result.
                if e.code < 500 or attempt == 5:
                    raise RuntimeError(f"{method} {path}: HTTP {e.code} {e.read()[:300]!r}") from None
                self.retries += 1
                time.sleep(1)
            except (TimeoutError, ConnectionError, urllib.error.URLError) as e:
                if attempt == 5:
                    raise RuntimeError(f"{method} {path}: no answer after {attempt} tries ({e})") from None
                self.retries += 1
                time.sleep(1)
        raise AssertionError("unreachable")

    def login(self) -> None:
        with urllib.request.urlopen(self.base + "/auth/token", timeout=30) as r:
            self.token = json.loads(r.read())["access_token"]


class PhaseFailed(Exception):
    """A phase that cannot go on: an Airflow component exited, or the phase's cap was reached."""


def run_many(api: Api, keys: list[str], timeout_s: float, check_alive, on_started=None) -> list[dict]:
    """Triggers one DAG run per key, waits until each is terminal; client-side wall time per run."""
    started: dict[str, float] = {}
    for key in keys:
        started[key] = now_ms()
        api.call("POST", f"/api/v2/dags/{DAG_ID}/dagRuns", {"dag_run_id": key, "logical_date": None, "conf": {"key": key}})
    if on_started is not None:
        on_started(keys)
    done: dict[str, dict] = {}
    deadline = time.time() + timeout_s
    while len(done) < len(keys) and time.time() < deadline:
        check_alive()
        # One request for every open run: the list, newest first.
        listed = api.call("GET", f"/api/v2/dags/{DAG_ID}/dagRuns?limit=100&order_by=-run_after")
        end = now_ms()
        states = {r["dag_run_id"]: r["state"] for r in listed.get("dag_runs", [])}
        for key in keys:
            if key not in done and states.get(key) in TERMINAL:
                done[key] = {"key": key, "wallMs": round(end - started[key]), "endMs": end, "state": states[key]}
        time.sleep(0.05)
    for key in keys:
        if key not in done:
            state = api.call("GET", f"/api/v2/dags/{DAG_ID}/dagRuns/{key}").get("state")
            done[key] = {"key": key, "wallMs": None, "state": f"not finished within the phase's cap of {timeout_s:.0f} s ({state})"}
    return [done[k] for k in keys]


def run_phase(api: Api, batches: list[list[str]], cap_s: float, check_alive) -> dict:
    """Runs batches one after the other (each batch's runs at once) within `cap_s` seconds in all.

    A phase that fails or reaches its cap keeps the runs it measured, lists the others with the reason, and marks its
    unfinished runs failed so the next phase starts on an idle Airflow.
    """
    t = now_ms()
    deadline = time.time() + cap_s
    runs: list[dict] = []
    error = None
    try:
        for batch in batches:
            left = deadline - time.time()
            if left <= 0:
                raise PhaseFailed(f"the phase's cap of {cap_s:.0f} s was reached")
            got = run_many(api, batch, left, check_alive)
            runs += got
            if any(r["wallMs"] is None for r in got):
                raise PhaseFailed(f"the phase's cap of {cap_s:.0f} s was reached with runs unfinished")
    except Exception as e:  # noqa: BLE001 - any failure of a phase is reported, and the next phase runs
        error = str(e).split("\n")[0][:500]
    wall = round(now_ms() - t)
    measured = {r["key"] for r in runs}
    for batch in batches:
        for key in batch:
            if key not in measured:
                runs.append({"key": key, "wallMs": None, "state": f"not measured: {error}"})
    if error is not None:
        for r in runs:
            if r["wallMs"] is None:
                try:
                    api.call("PATCH", f"/api/v2/dags/{DAG_ID}/dagRuns/{r['key']}", {"state": "failed"})
                except Exception:  # noqa: BLE001 - a run never triggered, or an API server that is gone
                    pass
    return {"wallMs": wall, "runs": runs, **({"error": error} if error is not None else {})}


def db_env() -> dict[str, str]:
    """The metadata database the benchmark made: its URL without a password; the password for libpq and asyncpg."""
    url = os.environ.get("BENCH_AIRFLOW_DB_URL")
    password_file = os.environ.get("BENCH_AIRFLOW_DB_PASSWORD_FILE")
    if not url or not password_file:
        raise SystemExit("orch_airflow.py: BENCH_AIRFLOW_DB_URL and BENCH_AIRFLOW_DB_PASSWORD_FILE must name the PostgreSQL database (bench/orchestration.ts sets them)")
    with open(password_file, encoding="utf-8") as f:
        password = f.read().strip()
    # Both drivers (psycopg2 for the sync engine, asyncpg for the async one) read PGPASSWORD when the URL has none.
    return {"AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": url, "PGPASSWORD": password}


def airflow_env(work: str, port: int) -> dict[str, str]:
    home = os.path.join(work, "airflow-home")
    return {
        **os.environ,
        **db_env(),
        "AIRFLOW_HOME": home,
        "AIRFLOW__CORE__DAGS_FOLDER": os.path.join(work, "dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "AIRFLOW__CORE__AUTH_MANAGER": "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{port}/execution/",
        # Room for 50 runs at once: Airflow's default caps (16 runs and 16 tasks per DAG) would queue them.
        "AIRFLOW__CORE__MAX_ACTIVE_RUNS_PER_DAG": "64",
        "AIRFLOW__CORE__MAX_ACTIVE_TASKS_PER_DAG": "256",
        "AIRFLOW__CORE__PARALLELISM": "16",
        # Same for all components, which each make their own otherwise (standalone shares one config file).
        "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_hex(32),
        "AIRFLOW__API__SECRET_KEY": secrets.token_hex(32),
        "AIRFLOW__CORE__FERNET_KEY": "",
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING",
        "BENCH_PY_DIR": HERE,
        "BENCH_PEER_WORK": work,
    }


def log_tail(path: str, lines: int = 3) -> str:
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return " | ".join(line.strip() for line in f.read().strip().split("\n")[-lines:])
    except OSError:
        return ""


def start_scheduler(airflow_bin: list[str], log_path: str, env: dict[str, str]):
    """A scheduler whose log server (default port 8793 on every address) listens on a free port of its own: a killed
    scheduler's log server lives on as an orphan, and another Airflow on this machine may hold the default."""
    return start_process([*airflow_bin, "scheduler"], log_path, {**env, "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port())})


def driver(work: str, plan: dict) -> None:
    import airflow

    port = free_port()
    env = airflow_env(work, port)
    os.makedirs(env["AIRFLOW__CORE__DAGS_FOLDER"], exist_ok=True)
    shutil.copy(os.path.join(HERE, "orch_airflow_dag.py"), os.path.join(env["AIRFLOW__CORE__DAGS_FOLDER"], "noop_pipeline.py"))
    os.environ.update(env)
    airflow_bin = [sys.executable, "-m", "airflow"]
    t0 = time.time()
    migrated = subprocess.run([*airflow_bin, "db", "migrate"], env=env, capture_output=True, text=True)
    if migrated.returncode != 0:
        raise RuntimeError(f"airflow db migrate failed:\n{migrated.stderr[-2000:]}")
    log = lambda name: os.path.join(work, f"{name}.log")  # noqa: E731
    components = {
        "API server": start_process([*airflow_bin, "api-server", "--host", "127.0.0.1", "--port", str(port)], log("api-server"), env),
        "DAG processor": start_process([*airflow_bin, "dag-processor"], log("dag-processor"), env),
        "triggerer": start_process([*airflow_bin, "triggerer"], log("triggerer"), {**env, "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(free_port())}),
    }
    schedulers = [start_scheduler(airflow_bin, log("scheduler"), env)]

    def check_alive() -> None:
        """A phase stops at once when a component exited (a scheduler that died of a database error, say)."""
        for name, proc in [*components.items(), ("scheduler", schedulers[-1])]:
            if proc.poll() is not None:
                logfile = log(name.lower().replace(" ", "-"))
                raise PhaseFailed(f"the Airflow {name} exited with {proc.returncode}: {log_tail(logfile)}")

    caps = plan["peerPhaseTimeoutS"]
    result: dict = {"peer": "airflow", "version": airflow.__version__, "database": "PostgreSQL", "phases": {}}
    try:
        wait_http(f"http://127.0.0.1:{port}/api/v2/monitor/health", 180, components["API server"], "Airflow API server")
        api = Api(f"http://127.0.0.1:{port}")
        api.login()
        deadline = time.time() + 180
        while True:
            try:
                api.call("GET", f"/api/v2/dags/{DAG_ID}")
                break
            except RuntimeError:
                if time.time() > deadline:
                    raise RuntimeError(f"the DAG {DAG_ID} was not parsed within 180 s (see dag-processor.log)") from None
                time.sleep(0.3)
        result["startupMs"] = round((time.time() - t0) * 1000)
        warmup = run_phase(api, [["warmup"]], 180, check_alive)
        if "error" in warmup:
            raise RuntimeError(f"the warm-up run failed: {warmup['error']}")
        phases = result["phases"]
        phases["sequential"] = run_phase(api, [[f"seq-{i}"] for i in range(plan["sequential"])], caps["sequential"], check_alive)
        for n in plan["concurrent"]:
            name = f"concurrent-{n}"
            phases[name] = run_phase(api, [[f"conc{n}-{i}" for i in range(n)]], caps[name], check_alive)
        if plan.get("crash"):
            try:
                result["crash"] = crash(api, work, env, airflow_bin, schedulers, plan["crashTimeoutS"], check_alive)
            except Exception as e:  # noqa: BLE001 - reported as not measured; the timed phases stand
                result["crash"] = {"killed": "the scheduler process", "state": f"not measured: {str(e).splitlines()[0][:500]}", "recoveryMs": None, "runWallMs": None}
        result["apiRetries"] = api.retries
    finally:
        for p in schedulers:
            stop_process(p)
        for p in components.values():
            stop_process(p)
    answer(result)


def crash(api: Api, work: str, env: dict, airflow_bin: list[str], schedulers: list, timeout_s: float, check_alive) -> dict:
    """One run whose scheduler is SIGKILLed while its first job runs; a new scheduler is started at once."""
    # Tasks are run by the scheduler's executor, so the hold reaches the jobs through its environment. A task whose
    # worker died is noticed by the scheduler after its task heartbeat timeout (default 300 s): set, for the crash's
    # schedulers only, to the detection time of Relearn's crash model (bench/orchestration.ts passes both).
    env = {
        **env,
        "BENCH_JOB_HOLD_MS": os.environ["BENCH_CRASH_JOB_HOLD_MS"],
        "BENCH_JOB_STARTED_DIR": os.path.join(work, "started"),
        "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT": os.environ["BENCH_CRASH_HEARTBEAT_TIMEOUT_S"],
    }
    os.environ["BENCH_JOB_STARTED_DIR"] = env["BENCH_JOB_STARTED_DIR"]
    stop_process(schedulers[-1])
    schedulers.append(start_scheduler(airflow_bin, os.path.join(work, "scheduler.log"), env))
    killed: dict = {}

    def kill_when_started(keys: list[str]) -> None:
        wait_job_started(keys[0], 120)
        killed["at"] = now_ms()
        os.kill(schedulers[-1].pid, 9)
        schedulers[-1].wait()
        schedulers.append(start_scheduler(airflow_bin, os.path.join(work, "scheduler.log"), env))

    [run] = run_many(api, ["crash-0"], timeout_s, check_alive, kill_when_started)
    recovered = run["state"] == "success"
    if run["wallMs"] is None:
        try:
            api.call("PATCH", f"/api/v2/dags/{DAG_ID}/dagRuns/crash-0", {"state": "failed"})
        except Exception:  # noqa: BLE001 - the components are stopped next anyway
            pass
    return {
        "killed": "the scheduler process (SIGKILL to its pid; its LocalExecutor workers and task processes are orphaned, not killed)",
        "state": run["state"],
        "recoveryMs": round(run["endMs"] - killed["at"]) if recovered else None,
        "runWallMs": run["wallMs"],
    }


if __name__ == "__main__":
    with open(sys.argv[3], encoding="utf-8") as f:
        driver(sys.argv[2], json.load(f))
