"""The ingest job as a Databricks `python_wheel_task` runs it, in a process of its own.

    python -m python_tests.streaming.cluster_task METASTORE_DIR SCHEMA [job flags...]

Like a cluster: a SparkSession with Delta and a metastore (Derby under METASTORE_DIR, the
stand-in for Unity Catalog) exists before the task starts, DATABRICKS_RUNTIME_VERSION is set,
and the task is the wheel's entry point (`lakehouse-ingest` in pyproject.toml's
[project.scripts]) called with the task parameters as sys.argv. SCHEMA is created first (the
bundle creates the bronze schema), located at METASTORE_DIR/SCHEMA so its tables have a known
path. Exits with the entry point's status: a wheel task fails only when the entry point raises.
"""

from __future__ import annotations

import importlib
import os
import sys
import tomllib

from python_tests.conftest import REPO_ROOT


def entry_point(name: str = "lakehouse-ingest"):
    target = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]["scripts"][name]
    module, function = target.split(":")
    return getattr(importlib.import_module(module), function)


def main() -> None:
    metastore_dir, schema, *parameters = sys.argv[1:]
    from streaming_ingest.spark_session import local_spark

    os.environ["DATABRICKS_RUNTIME_VERSION"] = "17.3"
    spark = local_spark("cluster", driver_memory="1g", shuffle_partitions=2, lakehouse_dir=metastore_dir)
    spark.sql(f"CREATE SCHEMA IF NOT EXISTS {schema} LOCATION '{metastore_dir}/{schema}'")
    sys.argv = ["lakehouse-ingest", *parameters]
    code = 0
    try:
        entry_point()()
    except SystemExit as stop:
        code = stop.code if isinstance(stop.code, int) else 1
    finally:
        spark.stop()
    sys.exit(code)


if __name__ == "__main__":
    main()
