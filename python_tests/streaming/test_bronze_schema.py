"""dbt creates bronze (macros/register_bronze.sql) exactly as the streaming job does (sinks.py):
the same columns, nullability, layout, comment and properties, on the local target and in the
statement it runs on the databricks target."""

from __future__ import annotations

import json

import pytest

from python_tests.conftest import REPO_ROOT, run
from streaming_ingest.sinks import bronze_table_ddl, quote_table_name

pytestmark = [pytest.mark.spark, pytest.mark.dbt]


def table_shape(spark, table: str) -> dict:
    detail = spark.sql(f"DESCRIBE DETAIL {table}").first()
    return {
        "columns": [(f.name, f.dataType, f.nullable) for f in spark.table(table).schema.fields],
        "clustering": detail.clusteringColumns,
        "comment": detail.description,
        "properties": detail.properties,
        "features": sorted(detail.tableFeatures),
    }


def test_dbt_creates_the_same_bronze_as_the_job_locally(spark, lakehouse, tmp_path):
    lakehouse.dbt("run-operation", "register_bronze")  # what every dbt build's on-run-start runs
    job_table = tmp_path / "job_bronze"
    spark.sql(bronze_table_ddl(f"delta.`{job_table}`"))  # what the job runs (ensure_bronze_table)

    by_dbt = table_shape(spark, f"delta.`{lakehouse.bronze_path}`")
    assert by_dbt == table_shape(spark, f"delta.`{job_table}`")
    assert by_dbt["clustering"] == ["ingestion_time"]
    assert by_dbt["properties"] == {
        "delta.appendOnly": "true",
        "delta.dataSkippingStatsColumns": "ingestion_time,kafka_partition,kafka_offset,kafka_timestamp",
    }


def test_dbt_runs_the_jobs_create_on_the_databricks_target(spark, lakehouse):
    """`dbt run-operation show_bronze_ddl --target databricks` (no connection needed) logs the
    statement register_bronze runs there; Spark's parser reads it as the job's statement for
    `<catalog>.<BRONZE_SCHEMA>.<BRONZE_TABLE>`."""
    env = {**lakehouse.env, "DBT_TARGET": "databricks", "DATABRICKS_HOST": "adb-1.azuredatabricks.net",
           "DBT_ACCESS_TOKEN": "not-used", "DATABRICKS_CATALOG": "retail", "BRONZE_SCHEMA": "raw",
           "BRONZE_TABLE": "events"}
    result = run([str(REPO_ROOT / ".venv" / "bin" / "dbt"), "--log-format", "json", "run-operation",
                  "show_bronze_ddl"], env=env, cwd=lakehouse.root, timeout=300)
    messages = [json.loads(line)["info"]["msg"] for line in result.stdout.splitlines() if line.startswith("{")]
    (ddl,) = [m for m in messages if m.startswith("create table")]
    assert ddl.startswith("create table if not exists `retail`.`raw`.`events` (")

    def plan(sql: str) -> str:
        return spark._jsparkSession.sessionState().sqlParser().parsePlan(sql).toString()

    assert plan(ddl) == plan(bronze_table_ddl(quote_table_name("retail.raw.events")))
