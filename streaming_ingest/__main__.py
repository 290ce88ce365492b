"""Entry point: `python -m streaming_ingest [flags]`, locally and as a Databricks job task.

Exit status: 0 when the query stopped cleanly (available-now drained, or SIGTERM / Ctrl-C
after the current batch), 1 when the query failed, 2 for a bad setting.
"""

from __future__ import annotations

import signal
import sys
import time

from streaming_ingest.config import ConfigError, IngestConfig, parse_args


def _spark(config: IngestConfig):
    from pyspark.sql import SparkSession

    if config.databricks:
        return SparkSession.builder.getOrCreate()
    from streaming_ingest.spark_session import local_spark

    return local_spark("streaming-ingest", driver_memory=config.driver_memory, shuffle_partitions=2)


def run(config: IngestConfig) -> int:
    from streaming_ingest.progress import ProgressPrinter
    from streaming_ingest.sinks import ensure_bronze_table, start_bronze_query
    from streaming_ingest.sources import read_source

    started = time.monotonic()
    spark = _spark(config)
    target = config.bronze_table or config.bronze_path
    print(
        f"[ingest] source={config.source} trigger={config.trigger}"
        + (f" every {config.trigger_interval}" if config.trigger == "processing-time" else "")
        + f" → {target} (checkpoint {config.checkpoint_dir})",
        flush=True,
    )
    listener = ProgressPrinter()
    spark.streams.addListener(listener)
    ensure_bronze_table(spark, config)
    raw = read_source(spark, config)
    query = start_bronze_query(raw, config)

    stop_requested = {"signal": None}

    def request_stop(signum, _frame):
        stop_requested["signal"] = signal.Signals(signum).name
        print(f"[ingest] {stop_requested['signal']}: stopping after the current batch", flush=True)

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)

    while query.isActive:
        if stop_requested["signal"]:
            while query.isActive and query.status.get("isTriggerActive"):
                time.sleep(0.2)
            query.stop()
            break
        query.awaitTermination(0.5)

    error = query.exception()
    time.sleep(0.5)  # let the listener print the last progress event
    spark.streams.removeListener(listener)
    if not config.databricks:
        spark.stop()
    elapsed = time.monotonic() - started
    print(f"[ingest] done: {listener.rows} rows in {listener.batches} batches, {elapsed:.1f} s", flush=True)
    if error is not None:
        print(f"[ingest] ERROR: query failed: {str(error).splitlines()[0]}", file=sys.stderr, flush=True)
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    try:
        config = parse_args(argv)
    except ConfigError as error:
        print(f"streaming_ingest: error: {error}", file=sys.stderr)
        return 2
    return run(config)


if __name__ == "__main__":
    sys.exit(main())
