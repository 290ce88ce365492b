"""The Airflow DAGs (orchestration/dags) in a real Airflow 3, run from its own virtualenv
(.venv-airflow, setup/airflow.lock) by airflow_probe.py: they load without import errors, their
task graphs are the documented ones, the Databricks DAG triggers the bundle's jobs by their
names, and the local DAG runs the pipeline end to end with Airflow's `dag.test()`, giving the
gold tables `make build` gives on the same data."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from python_tests.conftest import REPO_ROOT, Lakehouse
from python_tests.datasets import STAGE_A, counts, kpis
from python_tests.deploy.bundle_model import RESOURCES

pytestmark = pytest.mark.airflow

AIRFLOW_PYTHON = REPO_ROOT / ".venv-airflow" / "bin" / "python"
PROBE = Path(__file__).with_name("airflow_probe.py")
DOC = (REPO_ROOT / "docs" / "airflow.md").read_text(encoding="utf-8")


def probe(home: Path, *args: str, env: dict[str, str] | None = None) -> dict:
    assert AIRFLOW_PYTHON.exists(), "no .venv-airflow: run `make setup-airflow`"
    result = subprocess.run([str(AIRFLOW_PYTHON), str(PROBE), str(home), *args], capture_output=True, text=True,
                            env=env, cwd=REPO_ROOT, timeout=1200)
    assert result.returncode == 0, f"{result.stdout[-4000:]}\n{result.stderr[-6000:]}"
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def described(tmp_path_factory) -> dict:
    return probe(tmp_path_factory.mktemp("airflow") / "home", "describe")


def documented_graph(dag_id: str) -> dict[str, list[str]]:
    """The task graph docs/airflow.md documents: `task <- upstream, ...` lines under the DAG's heading."""
    section = DOC.split(f"### `{dag_id}`", 1)[1].split("###", 1)[0]
    graph = {}
    for task, upstream in re.findall(r"^- `(\w+)`(?: ← (.*))?$", section, re.MULTILINE):
        graph[task] = sorted(re.findall(r"`(\w+)`", upstream or ""))
    return graph


def test_the_dags_load_in_airflow_and_their_graphs_are_the_documented_ones(described):
    assert described["import_errors"] == {}
    assert sorted(described["dags"]) == ["retail_lakehouse_databricks", "retail_lakehouse_local"]
    for dag_id, dag in described["dags"].items():
        assert {task: spec["upstream"] for task, spec in dag["tasks"].items()} == documented_graph(dag_id)
        assert dag["schedule"] is None
    local = described["dags"]["retail_lakehouse_local"]["tasks"]
    assert {t["operator"] for t in local.values()} == {"BashOperator"}
    assert "python -m streaming_ingest --source files --trigger available-now" in local["ingest_bronze"]["bash_command"]


def test_the_databricks_dag_triggers_the_bundles_jobs_by_their_names(described):
    names = {key: spec["name"] for key, (_, spec) in RESOURCES["jobs"].items()}
    tasks = described["dags"]["retail_lakehouse_databricks"]["tasks"]
    assert {t["operator"] for t in tasks.values()} == {"DatabricksRunNowOperator"}
    prefix = "{{ var.value.get('retail_lakehouse_job_name_prefix', '') }}"
    triggered = {task_id: spec["job_name"] for task_id, spec in tasks.items()}
    assert triggered == {"dbt_job": prefix + names["dbt_job"]}
    # the streaming job stays the bundle's continuous job: the DAG never starts or stops it
    assert prefix + names["streaming_ingest_job"] not in triggered.values()
    assert {t["databricks_conn_id"] for t in tasks.values()} == {
        "{{ var.value.get('retail_lakehouse_databricks_conn_id', 'databricks_default') }}"}


@pytest.mark.spark
@pytest.mark.dbt
def test_the_local_dag_runs_the_pipeline_and_gives_what_make_build_gives(spark, stage_a, tmp_path):
    lakehouse = Lakehouse(tmp_path / "lakehouse")
    lakehouse.write_landing_file("sales-a.json", STAGE_A)  # the data stage_a built with `dbt build`
    env = {**lakehouse.env, "AIRFLOW_VAR_RETAIL_LAKEHOUSE_DIR": str(lakehouse.root)}
    result = probe(tmp_path / "home", "test", "retail_lakehouse_local", env=env)
    assert result["run"] == {"state": "success", "tasks": {
        "ingest_bronze": "success", "dbt_seed": "success", "dbt_build_silver": "success", "dbt_build_gold": "success"}}
    assert kpis(spark, lakehouse) == kpis(spark, stage_a)
    assert counts(spark, lakehouse) == counts(spark, stage_a)
    # and the three dbt steps together ran every node `dbt build` runs, but the unit tests
    built = {r["unique_id"] for r in stage_a.build_results["results"]
             if r["unique_id"].split(".")[0] in ("seed", "model", "test")}  # not the unit tests, not the hooks
    steps = []
    for selection in (["resource_type:seed"], ["staging", "silver"], ["gold", "audit"]):  # the DAG's three steps
        listed = lakehouse.dbt("ls", "--select", *selection, "--exclude", "resource_type:unit_test",
                               "--indirect-selection", "buildable", "--resource-types", "seed", "model", "test",
                               "--output", "json", "--quiet")
        steps.append({json.loads(line)["unique_id"] for line in listed.stdout.splitlines() if line.startswith("{")})
    assert set().union(*steps) == built
