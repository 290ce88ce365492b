"""The local SparkSession with Delta Lake, configured like the dbt `local` target.

On Databricks the cluster provides the session (`SparkSession.getActiveSession()`), so
nothing here runs there.
"""

from __future__ import annotations

import os
from pathlib import Path

from pyspark.sql import SparkSession

REPO_ROOT = Path(__file__).resolve().parent.parent


def local_jars_dir() -> Path:
    return Path(os.environ.get("LAKEHOUSE_JARS", REPO_ROOT / ".deps" / "jars"))


def local_spark_conf(app_name: str, driver_memory: str = "1g", shuffle_partitions: int = 4) -> dict[str, str]:
    """Settings shared by the streaming job and the tests: Delta, UTC, loopback, small machine."""
    jars = local_jars_dir()
    if not any(jars.glob("delta-spark_*.jar")):
        raise SystemExit(f"LAKEHOUSE_JARS: no Delta jars in {jars}; run 'make setup' first")
    log4j = Path(os.environ.get("LAKEHOUSE_LOG4J", REPO_ROOT / "setup" / "log4j2.properties"))
    return {
        "spark.master": os.environ.get("SPARK_MASTER", "local[2]"),
        "spark.app.name": app_name,
        "spark.driver.memory": driver_memory,
        "spark.driver.extraClassPath": f"{jars}/*",
        "spark.driver.extraJavaOptions": f"-Dlog4j2.configurationFile={log4j}",
        "spark.driver.bindAddress": "127.0.0.1",
        "spark.driver.host": "127.0.0.1",
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        "spark.sql.extensions": "io.delta.sql.DeltaSparkSessionExtension",
        "spark.sql.catalog.spark_catalog": "org.apache.spark.sql.delta.catalog.DeltaCatalog",
        "spark.sql.session.timeZone": "UTC",
        "spark.sql.shuffle.partitions": str(shuffle_partitions),
        "spark.databricks.delta.snapshotPartitions": "2",
        "spark.sql.streaming.stateStore.providerClass": (
            "org.apache.spark.sql.execution.streaming.state.HDFSBackedStateStoreProvider"
        ),
    }


def local_spark(app_name: str, driver_memory: str = "1g", shuffle_partitions: int = 4) -> SparkSession:
    """A local[2] SparkSession with Delta Lake (no Hive metastore: bronze is written by path)."""
    builder = SparkSession.builder
    for key, value in local_spark_conf(app_name, driver_memory, shuffle_partitions).items():
        builder = builder.config(key, value)
    return builder.getOrCreate()
