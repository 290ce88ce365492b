"""`make demo`: producer → bronze → silver → gold → KPIs on the local default, in one Spark JVM.

A first demo (or one whose events or pipeline code changed, or `--fresh`) starts from an
empty lakehouse:

  1. the producer writes the landing zone (the Makefile's PRODUCE_ARGS: deterministic);
  2. the streaming job, available-now (`streaming_ingest.run`, what `make ingest` runs);
  3. `dbt build` through dbt's Python API, without the unit tests (they test the SQL, not the
     data: `make test` runs them; dbt recommends leaving them out of data runs). dbt-spark's
     session method takes the JVM the ingest started, warm;
  4. the KPIs of `make kpis`, read with dbt's SparkSession.

A repeated demo on the lakehouse of the last one, with the same events and the same producer,
streaming job and profile (the fingerprint below), rebuilds only what changed since then:
`dbt build --select state:modified+ --full-refresh --state <the last demo's manifest>` — the
models, seeds and tests whose SQL, YAML, macros or CSVs changed, and everything downstream of
them, from scratch (an incremental model's new SQL must see all of bronze, not only new rows).
Nothing changed: no Spark at all, the KPIs come from delta-rs. An incremental build equals a
full one (python_tests/dbt), so this prints what a demo from empty would.

The exit status is the first failing step's (1), or 1 when the counts do not add up, else 0.
Settings: LAKEHOUSE_DIR, LAKEHOUSE_DBT_THREADS (default 2 here: two models or tests at once on
two cores), LAKEHOUSE_DRIVER_MEMORY (default 2g, the dbt profile's), LAKEHOUSE_SMALL_DATA (unset:
on for at most 100,000 events, as bin/dbt decides it from bronze's size), KPI_ROWS.

Usage: python -m local_stack.demo [--fresh] -- PRODUCER_ARGS...     (make demo [FRESH=1])
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
NO_UNIT_TESTS = ["--exclude-resource-type", "unit_test"]
# what bronze is made of: a change here means the demo's bronze is not this code's any more
PIPELINE_SOURCES = ("producer", "streaming_ingest", "profiles.yml", "setup/requirements.lock", "setup/jars.pom.xml")
RESET = ("landing", "bronze", "checkpoints", "warehouse", "metastore_db", "demo")


def log(message: str) -> None:
    print(f"[demo] {message}", flush=True)


def fingerprint(produce_args: list[str]) -> str:
    """The demo's events and the code that lands them (not dbt's: dbt's state compares that)."""
    digest = hashlib.sha256(json.dumps(produce_args).encode())
    for source in PIPELINE_SOURCES:
        path = REPO_ROOT / source
        for file in sorted([path] if path.is_file() else path.rglob("*.py")):
            digest.update(str(file.relative_to(REPO_ROOT)).encode() + b"\0" + file.read_bytes())
    return digest.hexdigest()


def bronze_version(lakehouse: Path) -> int | None:
    from deltalake import DeltaTable

    from local_stack.show_kpis import bronze_path

    try:
        return DeltaTable(str(bronze_path())).version()
    except Exception:  # noqa: BLE001 - no bronze (yet) or unreadable: not the last demo's
        return None


def why_not_reuse(lakehouse: Path, produce_args: list[str]) -> str | None:
    """None when the lakehouse holds the last demo's result for these events and this code."""
    stamp_file = lakehouse / "demo" / "stamp.json"
    if not stamp_file.is_file() or not (lakehouse / "demo" / "manifest.json").is_file():
        return "no finished demo in this lakehouse"
    stamp = json.loads(stamp_file.read_text())
    if stamp.get("fingerprint") != fingerprint(produce_args):
        return "the events or the producer, streaming job or profile changed since the last demo"
    if stamp.get("bronze_version") != bronze_version(lakehouse):
        return "bronze changed since the last demo"
    return None


def save_state(lakehouse: Path, produce_args: list[str]) -> None:
    state = lakehouse / "demo"
    state.mkdir(exist_ok=True)
    target = Path(os.environ.get("DBT_TARGET_PATH", REPO_ROOT / "target"))
    shutil.copy(target / "manifest.json", state / "manifest.json")
    stamp = {"fingerprint": fingerprint(produce_args), "bronze_version": bronze_version(lakehouse)}
    (state / "stamp.json").write_text(json.dumps(stamp, indent=2) + "\n")


def choose_small_data(produce_args: list[str], from_empty: bool) -> None:
    """LAKEHOUSE_SMALL_DATA unset: small-data mode for a small demo, as bin/dbt chooses it from
    bronze's size (streaming_ingest/spark_session.py); from empty, bronze is yet to be written,
    so the events the producer is about to send decide."""
    from streaming_ingest.spark_session import (
        SMALL_DATA_AUTO_MAX_EVENTS, SMALL_DATA_VARIABLE, local_bronze_path, settle_small_data, small_data,
    )

    small_data()  # a bad value stops here, naming it
    if from_empty and not os.environ.get(SMALL_DATA_VARIABLE, "").strip():
        total = int(produce_args[produce_args.index("--total") + 1]) if "--total" in produce_args else None
        small = total is not None and total <= SMALL_DATA_AUTO_MAX_EVENTS
        os.environ[SMALL_DATA_VARIABLE] = "1" if small else "0"
    settle_small_data(local_bronze_path())
    log(f"small-data mode {'on' if small_data() else 'off'} ({SMALL_DATA_VARIABLE}={os.environ[SMALL_DATA_VARIABLE]})")


def timed(name: str, started: float) -> None:
    log(f"{name}: done in {time.monotonic() - started:.1f} s")


def dbt_build(lakehouse: Path, args: list[str]) -> bool:
    from lakehouse_dbt import honour_profile_ansi_mode

    honour_profile_ansi_mode()
    from dbt.cli.main import dbtRunner

    started = time.monotonic()
    result = dbtRunner().invoke(["build", *args])
    if not result.success:
        print(f"[demo] ERROR: dbt build {' '.join(args)} failed (above; logs in {lakehouse}/logs)", file=sys.stderr)
        return False
    timed(f"dbt build {' '.join(args)} (local)", started)
    return True


def from_empty(lakehouse: Path, produce_args: list[str], memory: str) -> bool:
    started = time.monotonic()
    for name in RESET:
        shutil.rmtree(lakehouse / name, ignore_errors=True)
    producer = subprocess.run([sys.executable, "-m", "producer", "events", *produce_args, "--summary-json",
                               str(lakehouse / "produced.json")], cwd=REPO_ROOT)
    if producer.returncode != 0:
        print("[demo] ERROR: the producer failed (above)", file=sys.stderr)
        return False
    timed("reset the lakehouse, produce → landing zone", started)

    started = time.monotonic()
    from streaming_ingest.__main__ import run as ingest
    from streaming_ingest.config import parse_args

    # the first Spark start launches the JVM: with the dbt profile's memory, for every step
    if ingest(parse_args(["--source", "files", "--trigger", "available-now", "--driver-memory", memory])) != 0:
        print("[demo] ERROR: the ingest failed (above)", file=sys.stderr)
        return False
    timed("ingest: landing zone → bronze (available-now)", started)
    return dbt_build(lakehouse, NO_UNIT_TESTS)


def show_kpis(lakehouse: Path) -> bool:
    """With dbt's SparkSession when a step started one, else with delta-rs (no JVM)."""
    from local_stack.show_kpis import default_rows, print_kpis, print_kpis_delta_rs

    started = time.monotonic()
    from pyspark import SparkContext

    if SparkContext._active_spark_context is None:  # noqa: SLF001 - nothing started Spark
        conserved = print_kpis_delta_rs(lakehouse, default_rows())
    else:
        from pyspark.sql import SparkSession

        spark = SparkSession.builder.getOrCreate()  # dbt's session, on the lakehouse's metastore
        try:
            conserved = print_kpis(spark, default_rows())
        finally:
            spark.stop()
    timed("gold KPIs", started)
    return conserved


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     usage="python -m local_stack.demo [--fresh] -- PRODUCER_ARGS...")
    parser.add_argument("--fresh", action="store_true", help="start from an empty lakehouse in any case")
    parser.add_argument("produce_args", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    produce_args = [a for a in args.produce_args if a != "--"]
    if not produce_args:
        parser.error("the producer's arguments are missing (after --)")
    from streaming_ingest.config import lakehouse_dir

    lakehouse = Path(lakehouse_dir()).resolve()
    lakehouse.mkdir(parents=True, exist_ok=True)
    os.chdir(lakehouse)  # Derby writes derby.log to the working folder, as `cd $LAKEHOUSE_DIR && dbt` does
    os.environ.setdefault("LAKEHOUSE_DBT_THREADS", "2")
    memory = os.environ.setdefault("LAKEHOUSE_DRIVER_MEMORY", "2g")
    began = time.monotonic()

    reason = "--fresh" if args.fresh else why_not_reuse(lakehouse, produce_args)
    choose_small_data(produce_args, from_empty=bool(reason))
    if reason:
        log(f"from an empty lakehouse ({reason})")
        if not from_empty(lakehouse, produce_args, memory):
            return 1
    else:
        log("the lakehouse holds the last demo's events: rebuilding only the models, seeds and tests "
            "that changed since, and what is downstream of them")
        (lakehouse / "demo" / "stamp.json").unlink()  # a failed rebuild must not count as a finished demo
        if not dbt_build(lakehouse, ["--select", "state:modified+", "--state", str(lakehouse / "demo"),
                                     "--full-refresh", *NO_UNIT_TESTS]):
            return 1
    if not show_kpis(lakehouse):
        print("[demo] ERROR: the pipeline counts do not add up (conserved = false)", file=sys.stderr)
        return 1
    save_state(lakehouse, produce_args)  # only a demo that finished and adds up is reused
    log(f"done in {time.monotonic() - began:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
