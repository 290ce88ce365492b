"""`make stream`: the near-real-time loop on the local default.

Runs three things at once and prints, after every dbt cycle, the event → gold freshness and
the rows per layer:

  1. the producer, at a steady rate (default 1,000 events/s) into the landing zone,
  2. the streaming job with 5-second micro-batches (landing → bronze),
  3. an incremental `dbt build` of silver and gold in a loop — in this process, through
     dbt's Python API, so Spark starts once and each cycle costs only the new data. Every
     --test-every cycles (default 10) a cycle also runs the data tests and refreshes the star
     schema (gold/star) and the audit tables; the cycles between build only the path to the
     three gold KPI tables (and the quarantine), which keeps the event → gold latency low.

Ctrl-C (or SIGTERM) stops all three cleanly: the producer closes its current file, the
stream finishes its batch, the dbt cycle in flight completes. Nothing is lost: a restart
continues from the streaming checkpoint and the incremental watermarks.

Usage: python local_stack/stream.py [--rate 1000] [--cycles N] [--duration S] [--dirty 0.01]
       [--stats-json PATH]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
SELECTION = ["stg_bronze__sales_events+"]
# Between the test cycles: only what the three gold KPI tables are built from, and the
# quarantine (every bad row is counted each cycle). Left to the test cycles: the star and
# int_store_sales (read by the star alone) and the audit models, whose windows follow on from
# each other, so a build that skips them loses nothing (the next one takes the whole gap).
KPI_TABLES = ("sales_by_day", "top_customers", "product_performance")
FAST_SELECTION = [*(f"stg_bronze__sales_events+,+{table}" for table in KPI_TABLES), "sales_quarantine"]


def log(message: str) -> None:
    print(f"[stream {dt.datetime.now().strftime('%H:%M:%S')}] {message}", flush=True)


def start_process(name: str, args: list[str], log_dir: Path) -> subprocess.Popen:
    log_path = log_dir / f"{name}.log"
    handle = open(log_path, "ab")
    log(f"starting {name} (log: {log_path})")
    return subprocess.Popen(
        [sys.executable, *args], cwd=REPO_ROOT, stdout=handle, stderr=subprocess.STDOUT, start_new_session=True
    )


def stop_process(name: str, process: subprocess.Popen, sig: int, timeout: float) -> None:
    if process.poll() is not None:
        return
    log(f"stopping {name}")
    try:
        os.killpg(process.pid, sig)
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        log(f"{name} did not stop within {timeout:.0f} s: killing it")
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    except ProcessLookupError:
        pass


def layer_stats(spark, cycle_end: dt.datetime, loaded_at: str | None) -> dict:
    """Rows per layer and freshness, read through the dbt session's catalog."""
    counts = spark.sql(
        """
        select
            (select count(*) from bronze.sales_events) as bronze_rows,
            (select count(*) from silver.sales_simple) as silver_rows,
            (select count(*) from silver.sales_quarantine) as quarantine_rows,
            (select sum(transactions) from gold.sales_by_day) as gold_transactions,
            (select max(event_at) from silver.sales_enriched) as newest_event_at
        """
    ).first()
    stats = counts.asDict()
    newest = stats.pop("newest_event_at")
    stats["freshness_s"] = (cycle_end - newest).total_seconds() if newest else None
    stats["latency_p50_s"] = stats["latency_p95_s"] = None
    if loaded_at:
        # event → gold latency of the sales this cycle made visible: cycle end − event time
        row = spark.sql(
            f"""
            select percentile_approx(latency, array(0.5, 0.95)) as p
            from (
                select unix_micros(timestamp'{cycle_end.isoformat(sep=' ')}') / 1e6
                       - unix_micros(event_at) / 1e6 as latency
                from silver.sales_enriched
                where loaded_at = timestamp'{loaded_at}'
            )
            """
        ).first()
        if row and row.p:
            stats["latency_p50_s"], stats["latency_p95_s"] = row.p
    return stats


def main() -> int:
    parser = argparse.ArgumentParser(description="Producer + 5 s stream + incremental dbt loop.")
    parser.add_argument("--rate", type=float, default=float(os.environ.get("STREAM_RATE", "1000")))
    parser.add_argument("--dirty", type=float, default=float(os.environ.get("STREAM_DIRTY", "0.01")))
    parser.add_argument("--cycles", type=int, default=int(os.environ.get("STREAM_CYCLES", "0")),
                        help="stop after N dbt cycles (0 = until Ctrl-C)")
    parser.add_argument("--duration", type=float, default=float(os.environ.get("STREAM_DURATION", "0")),
                        help="stop after S seconds (0 = until Ctrl-C)")
    parser.add_argument("--trigger-interval", default="5 seconds")
    parser.add_argument("--test-every", type=int, default=int(os.environ.get("STREAM_TEST_EVERY", "10")),
                        help="run the data tests every N cycles (models only in between, for freshness)")
    parser.add_argument("--stats-json", help="write per-cycle stats here (for the benchmark)")
    args = parser.parse_args()
    if args.rate <= 0:
        print("stream: error: --rate must be > 0", file=sys.stderr)
        return 2

    lakehouse = Path(os.environ["LAKEHOUSE_DIR"])
    log_dir = lakehouse / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    stop = {"requested": False}

    def request_stop(signum, _frame):
        if not stop["requested"]:
            log(f"{signal.Signals(signum).name}: finishing the current cycle, then stopping everything")
        stop["requested"] = True

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)

    from dbt.cli.main import dbtRunner

    from lakehouse_dbt import honour_profile_ansi_mode

    honour_profile_ansi_mode()  # ANSI mode on, as bin/dbt runs dbt (lakehouse_dbt)
    # one dbt thread here unless told: the whole stack's memory budget (stream + dbt + producer,
    # ≤ 6 GB) was measured with one; the profile's default of two is for one-shot commands
    os.environ.setdefault("LAKEHOUSE_DBT_THREADS", "1")
    dbt = dbtRunner()
    log("dbt seed (once)")
    if not dbt.invoke(["seed", "--quiet"]).success:
        log("dbt seed failed")
        return 1

    producer = start_process(
        "producer",
        ["-m", "producer", "events", "--sink", "files", "--rate", str(args.rate), "--dirty", str(args.dirty),
         "--file-max-seconds", "2", "--quiet", "--seed", str(int(time.time()))],
        log_dir,
    )
    ingest = start_process(
        "ingest",
        ["-m", "streaming_ingest", "--source", "files", "--trigger-interval", args.trigger_interval],
        log_dir,
    )
    started = time.monotonic()
    cycles: list[dict] = []
    status = 0
    try:
        while not stop["requested"]:
            if producer.poll() is not None or ingest.poll() is not None:
                log("producer or ingest exited unexpectedly; see their logs")
                status = 1
                break
            cycle_start = time.monotonic()
            with_tests = args.test_every > 0 and (len(cycles) + 1) % args.test_every == 0
            if with_tests:
                selection, excluded = SELECTION, ["resource_type:unit_test"]
            else:
                selection, excluded = FAST_SELECTION, ["resource_type:unit_test", "resource_type:test"]
            result = dbt.invoke(["build", "--quiet", "--select", *selection, "--exclude", *excluded])
            cycle_end = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
            if not result.success:
                log("dbt build failed; see the dbt log. Retrying next cycle.")
            from pyspark.sql import SparkSession

            spark = SparkSession.builder.getOrCreate()  # the session dbt started in this process
            run_started = None
            try:
                latest = spark.sql("select max(loaded_at) as t from silver.sales_enriched").first().t
                run_started = latest.isoformat(sep=" ") if latest else None
                stats = layer_stats(spark, cycle_end, run_started)
            except Exception as error:  # noqa: BLE001 - a stats failure must not stop the loop
                log(f"could not read stats: {str(error).splitlines()[0]}")
                stats = {}
            stats["cycle_s"] = round(time.monotonic() - cycle_start, 1)
            cycles.append(stats)
            fresh = stats.get("freshness_s")
            p95 = stats.get("latency_p95_s")
            fresh_text = f"{fresh:.1f} s" if fresh is not None else "n/a"
            log(
                f"cycle {len(cycles)} in {stats['cycle_s']:.0f} s | bronze {stats.get('bronze_rows') or 0:,} "
                f"| silver {stats.get('silver_rows') or 0:,} (+{stats.get('quarantine_rows') or 0:,} quarantined) "
                f"| gold transactions {stats.get('gold_transactions') or 0:,} | newest event in gold {fresh_text} old"
            )
            if p95 is not None:
                log(f"   event → gold latency of this cycle's sales: p50 {stats['latency_p50_s']:.1f} s, "
                    f"p95 {p95:.1f} s")
            if args.cycles and len(cycles) >= args.cycles:
                break
            if args.duration and time.monotonic() - started >= args.duration:
                break
    finally:
        stop_process("producer", producer, signal.SIGINT, 30)
        stop_process("ingest", ingest, signal.SIGTERM, 60)
        if args.stats_json:
            Path(args.stats_json).write_text(json.dumps(cycles, indent=2, default=str))
        log(f"stopped after {len(cycles)} cycles; a restart continues where this left off")
    return status


if __name__ == "__main__":
    sys.exit(main())
