"""The job as a Databricks task: it runs in a process that already has a SparkSession (the
cluster's), uses it without stopping it, and writes bronze by table name.

Simulated in-process with the test session standing in for the cluster's, the flags as the
task parameters and DATABRICKS_RUNTIME_VERSION set.
"""

from __future__ import annotations

import uuid

import pytest
from pyspark.sql import SparkSession

from streaming_ingest.__main__ import run
from streaming_ingest.bronze import BRONZE_SCHEMA
from streaming_ingest.config import parse_args

pytestmark = pytest.mark.spark


@pytest.fixture
def schema(spark, tmp_path):
    name = f"bronze_{uuid.uuid4().hex[:8]}"
    spark.sql(f"CREATE SCHEMA {name} LOCATION '{tmp_path / 'schema'}'")
    yield name
    spark.sql(f"DROP SCHEMA IF EXISTS {name} CASCADE")


def task_config(monkeypatch, lakehouse, table: str):
    monkeypatch.setenv("DATABRICKS_RUNTIME_VERSION", "15.4")
    return parse_args([
        "--source", "files", "--landing-dir", str(lakehouse.landing), "--bronze-table", table,
        "--checkpoint-dir", str(lakehouse.path("checkpoints", "bronze")), "--trigger", "available-now",
        "--file-reader", "spark",  # Auto Loader (the default on Databricks) exists only there
    ])


def test_runs_in_the_clusters_session_and_writes_bronze_by_name(spark, lakehouse, schema, monkeypatch, capsys):
    table = f"spark_catalog.{schema}.sales_events"  # catalog.schema.table, as with Unity Catalog
    lines = ['{"transaction_id":"d1","quantity":1}', "{broken", '{"transaction_id":"d2"}']
    lakehouse.write_landing_file("sales-0001.json", lines)
    config = task_config(monkeypatch, lakehouse, table)
    assert config.databricks

    assert run(config) == 0
    assert SparkSession.getActiveSession() is spark  # the "cluster" session is still there
    assert spark.range(3).count() == 3
    bronze = spark.table(table)
    assert [(f.name, f.dataType, f.nullable) for f in bronze.schema.fields] == [
        (f.name, f.dataType, f.nullable) for f in BRONZE_SCHEMA.fields
    ]
    assert sorted((r.source_position, r.raw_payload) for r in bronze.collect()) == list(enumerate(lines))
    assert spark.sql(f"SHOW TBLPROPERTIES {table} ('delta.appendOnly')").collect()[0].value == "true"

    # a second run of the task: nothing new, nothing doubled
    assert run(config) == 0
    assert spark.table(table).count() == 3
    out = capsys.readouterr().out.splitlines()
    assert [line.split(",")[0] for line in out if line.startswith("[ingest] done:")] == [
        "[ingest] done: 3 rows in 1 batches",
        "[ingest] done: 0 rows in 0 batches",
    ]


def test_a_table_in_a_missing_schema_fails_at_start_with_exit_1(spark, lakehouse, monkeypatch, capsys):
    config = task_config(monkeypatch, lakehouse, "spark_catalog.no_such_schema.sales_events")
    assert run(config) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err[0].startswith(
        "[ingest] ERROR: could not start: AnalysisException: [SCHEMA_NOT_FOUND] The schema "
        "`spark_catalog`.`no_such_schema` cannot be found."
    )
    assert SparkSession.getActiveSession() is spark
