"""The orchestration benchmark's no-op pipeline as an Apache Airflow 3 DAG (orch_airflow.py copies it into the DAG
folder of its own Airflow home): pull → split → 3 fold jobs + final job (at once, each the no-op job as a subprocess)
→ export/check → evaluate → gate → register → promote. The run's `key` comes in the run's conf.
"""

import os
import sys
from datetime import timedelta

from airflow.sdk import dag, task

sys.path.insert(0, os.environ["BENCH_PY_DIR"])
from orch_common import TRAIN_ROLES, run_noop_job  # noqa: E402


@dag(
    dag_id="noop_pipeline",
    schedule=None,
    catchup=False,
    is_paused_upon_creation=False,
    max_active_runs=64,
    max_active_tasks=256,
    default_args={"retries": 2, "retry_delay": timedelta(seconds=0.5)},
)
def noop_pipeline():
    @task
    def pull_data(**context) -> dict:
        return {"key": context["dag_run"].conf["key"], "rows": 2000}

    @task
    def split_data(snapshot: dict) -> dict:
        return {"key": snapshot["key"], "folds": 3}

    @task
    def run_training_job(split: dict, role: str) -> str:
        return run_noop_job(split["key"], role)

    @task
    def export_onnx(models: list) -> list:
        return list(models)

    @task
    def cross_validate(models: list) -> dict:
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

    split = split_data(pull_data())
    models = [run_training_job.override(task_id=f"train_{role.replace('-', '_')}")(split, role) for role in TRAIN_ROLES]
    promote(register(gate(cross_validate(export_onnx(models)))))


noop_pipeline()
