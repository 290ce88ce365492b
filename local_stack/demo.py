"""`make demo` after the producer: landing zone → bronze → silver → gold → KPIs, one Spark JVM.

Run as three commands (`make ingest build kpis`), the demo starts three Spark JVMs and each
runs its code cold. Here the three run in this one process, one after another, in one JVM:

  1. the streaming job, available-now (`streaming_ingest.run`, exactly what `make ingest` runs);
  2. `dbt build` through dbt's Python API, without the unit tests (they test the SQL, not the
     data: `make test` runs them; dbt recommends leaving them out of data runs). dbt-spark's
     session method takes the JVM the ingest started, warm;
  3. the KPIs of `make kpis`, read with dbt's SparkSession.

Each step prints its time; the exit status is the first failing step's (1), or 1 when the
counts do not add up (the conservation check), else 0. Settings: LAKEHOUSE_DIR (the lakehouse),
LAKEHOUSE_DBT_THREADS (default 2 here: dbt runs two models or tests at once on the two cores),
LAKEHOUSE_DRIVER_MEMORY (default 2g, the dbt profile's), KPI_ROWS.

Usage: python -m local_stack.demo        (after `make produce`; `make demo` runs both)
"""

from __future__ import annotations

import os
import sys
import time

DBT_BUILD = ["build", "--exclude-resource-type", "unit_test"]


def step(name: str, started: float) -> None:
    print(f"[demo] {name}: done in {time.monotonic() - started:.1f} s", flush=True)


def main(argv: list[str] | None = None) -> int:
    if argv:
        sys.exit(__doc__.strip().splitlines()[-1])
    from streaming_ingest.config import lakehouse_dir

    lakehouse = lakehouse_dir()
    os.makedirs(lakehouse, exist_ok=True)
    os.chdir(lakehouse)  # Derby writes derby.log to the working folder, as `cd $LAKEHOUSE_DIR && dbt` does
    os.environ.setdefault("LAKEHOUSE_DBT_THREADS", "2")
    memory = os.environ.setdefault("LAKEHOUSE_DRIVER_MEMORY", "2g")
    began = time.monotonic()

    started = time.monotonic()
    from streaming_ingest.__main__ import run as ingest
    from streaming_ingest.config import parse_args

    # the first Spark start launches the JVM: with the dbt profile's memory, for all three steps
    if ingest(parse_args(["--source", "files", "--trigger", "available-now", "--driver-memory", memory])) != 0:
        print("[demo] ERROR: the ingest failed (above)", file=sys.stderr)
        return 1
    step("ingest: landing zone → bronze (available-now)", started)

    started = time.monotonic()
    from lakehouse_dbt import honour_profile_ansi_mode

    honour_profile_ansi_mode()
    from dbt.cli.main import dbtRunner

    result = dbtRunner().invoke(DBT_BUILD)
    if not result.success:
        print(f"[demo] ERROR: dbt {' '.join(DBT_BUILD)} failed (above; logs in {lakehouse}/logs)", file=sys.stderr)
        return 1
    step(f"dbt {' '.join(DBT_BUILD)} (local)", started)

    started = time.monotonic()
    from pyspark.sql import SparkSession

    from local_stack.show_kpis import default_rows, print_kpis

    spark = SparkSession.builder.getOrCreate()  # dbt's session, on the lakehouse's metastore
    try:
        conserved = print_kpis(spark, default_rows())
    finally:
        spark.stop()
    step("gold KPIs", started)
    print(f"[demo] ingest, build and KPIs in {time.monotonic() - began:.1f} s", flush=True)
    if not conserved:
        print("[demo] ERROR: the pipeline counts do not add up (conserved = false)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
