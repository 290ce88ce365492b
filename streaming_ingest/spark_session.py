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


# Small-data mode, LAKEHOUSE_SMALL_DATA=1 (the test suite sets it): on datasets of a few
# thousand rows, compiling code costs more CPU than it saves. Spark then evaluates expressions
# interpreted (no whole-stage or expression code generation) and plans without adaptive query
# execution, and the JVM JIT-compiles with C1 only. The results are the same (Spark's own tests
# run both ways); a cold `dbt build` of the test data takes ~25 % less CPU, ~18 % less time.
# Off (the defaults below) for everything else: at millions of events code generation pays.
# The three local Spark JVMs get these: the job and the warehouse server from here, dbt's
# `local` target from profiles.yml (python_tests/test_local_stack.py keeps them equal).
SMALL_DATA_VARIABLE = "LAKEHOUSE_SMALL_DATA"
SMALL_DATA_SPARK_SETTINGS = {  # key: (small-data value, Spark's default)
    "spark.sql.codegen.wholeStage": ("false", "true"),
    "spark.sql.codegen.factoryMode": ("NO_CODEGEN", "FALLBACK"),
    "spark.sql.adaptive.enabled": ("false", "true"),
}
# C1 only makes HotSpot emulate a client VM, whose code cache is 48 MB instead of 240 MB: one
# long JVM (make demo's ingest + dbt build) filled it ("Out of space in CodeCache for method
# handle intrinsic"), so the tiered default size is kept.
SMALL_DATA_JAVA_OPTIONS = "-XX:TieredStopAtLevel=1 -XX:ReservedCodeCacheSize=240m"


def small_data() -> bool:
    """LAKEHOUSE_SMALL_DATA: '1' on, '0' or unset off; anything else stops, naming it."""
    value = os.environ.get(SMALL_DATA_VARIABLE, "").strip()
    if value not in ("", "0", "1"):
        raise SystemExit(f"{SMALL_DATA_VARIABLE}={value!r}: use 1 (small-data mode) or 0 (off)")
    return value == "1"


# dbt on the local target picks the mode by itself when LAKEHOUSE_SMALL_DATA is unset (bin/dbt,
# `make build`, `make sample`, `make demo`): on while bronze's data files add up to at most this
# much (about 100,000 events), off above it. Measured on the 20,000-event demo lakehouse,
# `dbt build -s sales_by_day+` (Spark start included) takes 22 s in small-data mode and 34 s
# without. The streaming job and the warehouse server never guess: unset is off for them.
SMALL_DATA_AUTO_MAX_BYTES = 16 * 2**20
SMALL_DATA_AUTO_MAX_EVENTS = 100_000  # the same threshold in events (~150 bytes each in bronze)


def bronze_data_bytes(bronze_path: str | Path, limit: int = SMALL_DATA_AUTO_MAX_BYTES) -> int:
    """The size of a Delta table's data files (its .parquet files), counted up to just past `limit`."""
    total = 0
    for folder, dirs, files in os.walk(bronze_path):
        dirs[:] = [d for d in dirs if d != "_delta_log"]
        for name in files:
            if name.endswith(".parquet"):
                try:
                    total += os.path.getsize(os.path.join(folder, name))
                except OSError:  # vacuumed while we looked
                    continue
                if total > limit:
                    return total
    return total


def settle_small_data(bronze_path: str | Path) -> bool:
    """For dbt on the local target: when LAKEHOUSE_SMALL_DATA is unset, set it from bronze's size
    (1 at most SMALL_DATA_AUTO_MAX_BYTES of data files, else 0); an explicit 0 or 1 wins."""
    if not os.environ.get(SMALL_DATA_VARIABLE, "").strip():
        small = bronze_data_bytes(bronze_path) <= SMALL_DATA_AUTO_MAX_BYTES
        os.environ[SMALL_DATA_VARIABLE] = "1" if small else "0"
    return small_data()


def local_bronze_path() -> str:
    """The local bronze table's path, as the streaming job and dbt's register_bronze resolve it."""
    from streaming_ingest.config import lakehouse_dir

    return os.environ.get("BRONZE_PATH", "").strip() or f"{lakehouse_dir()}/bronze/sales_events"


def size_settings() -> dict[str, str]:
    """The small-data settings' values for this environment (small-data mode, or the defaults)."""
    index = 0 if small_data() else 1
    return {key: values[index] for key, values in SMALL_DATA_SPARK_SETTINGS.items()}


def java_options() -> str:
    """Extra JVM options of every local Spark JVM: LAKEHOUSE_JAVA_OPTS, which bin/lakehouse-env
    sets to the class-data archive of `make setup-tests` when there is one (setup/class_archive.py),
    and C1-only JIT in small-data mode."""
    options = os.environ.get("LAKEHOUSE_JAVA_OPTS", "").strip()
    return f"{options} {SMALL_DATA_JAVA_OPTIONS}".strip() if small_data() else options


# The settings every local Spark JVM shares: the streaming job, dbt's `local` target and the
# warehouse server (local_stack/warehouse/server.py). profiles.yml repeats them for dbt (YAML
# cannot import them); python_tests/test_local_stack.py keeps the three equal.
LOCAL_SPARK_SETTINGS = {
    "spark.driver.bindAddress": "127.0.0.1",
    "spark.driver.host": "127.0.0.1",
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.extensions": "io.delta.sql.DeltaSparkSessionExtension",
    "spark.sql.catalog.spark_catalog": "org.apache.spark.sql.delta.catalog.DeltaCatalog",
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.shuffle.partitions": "4",
    "spark.databricks.delta.snapshotPartitions": "2",
    # HotSpot does not JIT-compile a method over 8000 bytes of bytecode; Spark's default
    # limit (65535) lets the bronze parse's whole-stage code grow past it and run
    # interpreted at half speed. At 8000 Spark splits such a stage instead.
    "spark.sql.codegen.hugeMethodLimit": "8000",
    "spark.sql.sources.parallelPartitionDiscovery.parallelism": "2",
}


def local_spark_conf(app_name: str, driver_memory: str = "1g", shuffle_partitions: int = 4) -> dict[str, str]:
    """The job's (and the tests') settings: the shared ones, plus class path, memory, app name."""
    jars = local_jars_dir()
    if not any(jars.glob("delta-spark_*.jar")):
        raise SystemExit(f"LAKEHOUSE_JARS: no Delta jars in {jars}; run 'make setup' first")
    log4j = Path(os.environ.get("LAKEHOUSE_LOG4J", REPO_ROOT / "setup" / "log4j2.properties"))
    return {
        **LOCAL_SPARK_SETTINGS,
        **size_settings(),
        "spark.master": os.environ.get("SPARK_MASTER", "local[2]"),
        "spark.app.name": app_name,
        "spark.driver.memory": driver_memory,
        "spark.driver.extraClassPath": f"{jars}/*",
        "spark.driver.extraJavaOptions": f"-Dlog4j2.configurationFile={log4j} {java_options()}".strip(),
        "spark.sql.shuffle.partitions": str(shuffle_partitions),
        "spark.sql.streaming.stateStore.providerClass": (
            "org.apache.spark.sql.execution.streaming.state.HDFSBackedStateStoreProvider"
        ),
    }


def metastore_conf(lakehouse_dir: str) -> dict[str, str]:
    """The Derby metastore and warehouse the dbt `local` target uses (see profiles.yml)."""
    base = Path(lakehouse_dir).resolve()
    return {
        "spark.sql.warehouse.dir": str(base / "warehouse"),
        "spark.hadoop.javax.jdo.option.ConnectionURL": f"jdbc:derby:;databaseName={base}/metastore_db;create=true",
        "spark.sql.catalogImplementation": "hive",
    }


def local_spark(
    app_name: str,
    driver_memory: str = "1g",
    shuffle_partitions: int = 4,
    lakehouse_dir: str | None = None,
) -> SparkSession:
    """A local[2] SparkSession with Delta Lake.

    Without `lakehouse_dir` there is no Hive metastore (the streaming job writes bronze by
    path and must not hold the Derby metastore that dbt uses). With it, the session opens the
    dbt `local` target's metastore to read silver and gold tables by name — only while no
    dbt command runs (Derby allows one process at a time).
    """
    conf = local_spark_conf(app_name, driver_memory, shuffle_partitions)
    # the JVM inherits this: fewer glibc malloc arenas, lower resident memory (bin/lakehouse-env)
    os.environ.setdefault("MALLOC_ARENA_MAX", "2")
    if lakehouse_dir:
        conf.update(metastore_conf(lakehouse_dir))
        base = Path(lakehouse_dir).resolve()
        conf["spark.driver.extraJavaOptions"] += f" -Dderby.system.home={base}"
    builder = SparkSession.builder
    for key, value in conf.items():
        builder = builder.config(key, value)
    if lakehouse_dir:
        builder = builder.enableHiveSupport()
    return builder.getOrCreate()
