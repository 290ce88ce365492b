"""The retail lakehouse in Airflow 3: one DAG file, two DAGs (docs/airflow.md).

- `retail_lakehouse_databricks`: the pipeline on Databricks. It triggers the bundle's dbt job
  by its name (`DatabricksRunNowOperator(job_name=...)`) and waits for it; the streaming job
  stays the bundle's continuous job and is not touched. The job runs `dbt seed`, `dbt source
  freshness` (failing when bronze is stale) and `dbt build`, so the DAG's run fails with it.
- `retail_lakehouse_local`: the same pipeline on the local twin, one task per step:
  landing zone → bronze (the streaming job, available-now), the seeds, then `dbt build` of
  the staging and silver models with their tests, then of gold (intermediate, marts, star) with
  theirs and the audit models (the run's health row). A task per model (astronomer-cosmos' way) would start one Spark JVM per model on
  the local target and run them one at a time (its embedded metastore admits one JVM), so
  the local DAG runs dbt by layer: three dbt commands, each model's data tests right after it
  inside `dbt build`, and a failing test stops the layers after it.

Settings (Airflow Variables, nothing secret in this file):
- `retail_lakehouse_repo`: the clone of this repository whose `.venv` and `bin/dbt` the local
  tasks run (default: the repository this file is in);
- `retail_lakehouse_dir`: the local lakehouse (`LAKEHOUSE_DIR`; default `<repo>/.lakehouse`);
- `retail_lakehouse_job_name_prefix`: prepended to the bundle's job names. Empty for the prod
  target; `[dev <user>] ` for a dev deployment (development mode prefixes names so);
- the Databricks connection is the Airflow connection `databricks_default` (override with the
  Variable `retail_lakehouse_databricks_conn_id`): host and a token or OAuth service principal.
Both DAGs have no schedule by default (trigger them, or set `retail_lakehouse_schedule`, a cron
expression read when the file is parsed).
"""

from __future__ import annotations

import os
from pathlib import Path

import pendulum
from airflow.providers.databricks.operators.databricks import DatabricksRunNowOperator
from airflow.providers.standard.operators.bash import BashOperator
from airflow.sdk import DAG

REPO = Path(__file__).resolve().parents[2]
# The bundle's job names (resources/*.yml `name:`; python_tests/airflow checks them).
DBT_JOB_NAME = "retail-lakehouse-dbt"
# dbt's data-run selection: unit tests are for development and CI (make test runs them).
NO_UNIT_TESTS = "--exclude resource_type:unit_test"
# `buildable`: a test runs in the layer that builds the last of its parents, so a test over
# silver and gold runs with gold, and none is left out.
LAYER_TESTS = "--indirect-selection buildable"

DEFAULT_ARGS = {"owner": "retail-lakehouse", "retries": 0}
START = pendulum.datetime(2026, 1, 1, tz="UTC")
SCHEDULE = os.environ.get("AIRFLOW_VAR_RETAIL_LAKEHOUSE_SCHEDULE") or None


def _var(name: str, default: str) -> str:
    """A Jinja expression of an Airflow Variable, read when the task runs (not at parse time)."""
    return "{{ var.value.get('" + name + "', '" + default + "') }}"


def local_step(task_id: str, command: str, doc: str) -> BashOperator:
    """A shell step in the repo's environment (bin/lakehouse-env: LAKEHOUSE_DIR, the venv, bin/dbt)."""
    script = (
        'set -euo pipefail; ROOT="$RETAIL_LAKEHOUSE_REPO"; '
        'if [ -n "$RETAIL_LAKEHOUSE_DIR" ]; then export LAKEHOUSE_DIR="$RETAIL_LAKEHOUSE_DIR"; fi; '
        'source "$ROOT/bin/lakehouse-env"; cd "$LAKEHOUSE_DIR"; ' + command
    )
    return BashOperator(
        task_id=task_id,
        bash_command=script,
        env={"RETAIL_LAKEHOUSE_REPO": _var("retail_lakehouse_repo", str(REPO)),
             "RETAIL_LAKEHOUSE_DIR": _var("retail_lakehouse_dir", "")},
        append_env=True,
        doc_md=doc,
    )


def lakehouse_dag(dag_id: str, description: str, tag: str) -> DAG:
    """The settings both DAGs share: no catch-up, one run at a time, this module's doc."""
    return DAG(dag_id=dag_id, description=description, schedule=SCHEDULE, start_date=START, catchup=False,
               max_active_runs=1, default_args=DEFAULT_ARGS, tags=["retail_lakehouse", tag], doc_md=__doc__)


with lakehouse_dag("retail_lakehouse_local",
                   "The retail lakehouse on the local twin: landing zone → bronze → silver → gold.", "local") as local_dag:
    ingest = local_step(
        "ingest_bronze", "python -m streaming_ingest --source files --trigger available-now",
        "Every new landing file → bronze, exactly once (the streaming job, available-now).")
    seed = local_step("dbt_seed", f"dbt build --select resource_type:seed {NO_UNIT_TESTS} {LAYER_TESTS}",
                      "The five dimensions (seeds/*.csv) and their tests.")
    silver = local_step(
        "dbt_build_silver", f"dbt build --select staging silver {NO_UNIT_TESTS} {LAYER_TESTS}",
        "Staging and silver models (sales_simple, sales_quarantine, sales_enriched) and their tests.")
    gold = local_step(
        "dbt_build_gold", f"dbt build --select gold audit {NO_UNIT_TESTS} {LAYER_TESTS}",
        "Gold: intermediate aggregates, the KPI marts, the star; their tests and the cross-layer ones; "
        "then the build's audit rows (models/audit: conservation, quarantine by reason).")
    ingest >> seed >> silver >> gold


with lakehouse_dag("retail_lakehouse_databricks",
                   "The retail lakehouse on Databricks: the bundle's dbt job, by name.", "databricks") as databricks_dag:
    DatabricksRunNowOperator(
        task_id="dbt_job",
        job_name=_var("retail_lakehouse_job_name_prefix", "") + DBT_JOB_NAME,
        databricks_conn_id=_var("retail_lakehouse_databricks_conn_id", "databricks_default"),
        wait_for_termination=True,
        doc_md="The bundle's dbt job: seed, source freshness (fails on a stale bronze), build.",
    )
