"""Run by the Airflow virtualenv's Python (.venv-airflow), never imported by pytest itself:
Airflow lives in its own virtualenv (setup/airflow.lock), apart from the project's packages.

    .venv-airflow/bin/python python_tests/airflow/airflow_probe.py <airflow home> describe
    .venv-airflow/bin/python python_tests/airflow/airflow_probe.py <airflow home> test <dag id>

Sets up a throw-away Airflow home (SQLite metadata database, the repo's DAGs folder, no
examples, no telemetry), loads the DAGs folder with Airflow's own DagBag, and prints one JSON
line: every DAG's tasks (operator, upstream ids, the fields the tests check) and the import
errors; with `test`, runs the DAG in-process with `dag.test()` and adds the run's state and
each task's state.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DAGS = REPO / "orchestration" / "dags"


def airflow_environment(home: Path) -> dict[str, str]:
    return {
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home}/airflow.db",
        "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
        "DO_NOT_TRACK": "1",
        "SCARF_NO_ANALYTICS": "true",
    }


def describe(dagbag) -> dict:
    dags = {}
    for dag_id, dag in sorted(dagbag.dags.items()):
        tasks = {}
        for task in dag.tasks:
            fields = {name: getattr(task, name) for name in ("bash_command", "job_name", "databricks_conn_id")
                      if hasattr(task, name)}
            tasks[task.task_id] = {"operator": type(task).__name__, "upstream": sorted(task.upstream_task_ids),
                                   **fields}
        dags[dag_id] = {"tasks": tasks, "schedule": str(dag.schedule) if dag.schedule else None,
                        "tags": sorted(dag.tags)}
    return dags


def main() -> int:
    home, command = Path(sys.argv[1]), sys.argv[2]
    home.mkdir(parents=True, exist_ok=True)
    os.environ.update(airflow_environment(home))
    migrate = subprocess.run([sys.executable, "-m", "airflow", "db", "migrate"], capture_output=True, text=True)
    if migrate.returncode != 0:
        print(migrate.stdout[-3000:], migrate.stderr[-3000:], file=sys.stderr)
        return 1
    from airflow.dag_processing.dagbag import DagBag

    dagbag = DagBag(dag_folder=str(DAGS))
    result = {"import_errors": {str(k): str(v) for k, v in dagbag.import_errors.items()}, "dags": describe(dagbag)}
    if command == "test":
        dag = dagbag.get_dag(sys.argv[3])
        run = dag.test()
        result["run"] = {"state": str(run.state),
                         "tasks": {ti.task_id: str(ti.state) for ti in run.get_task_instances()}}
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
