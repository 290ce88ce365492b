"""Entry point of the bronze ingest job, locally and as a Databricks job task (unchanged).

    python -m streaming_ingest [flags]              # local (the repo's .venv)
    lakehouse-ingest [flags]                        # the wheel's console script
    python_wheel_task: package_name retail_lakehouse, entry_point lakehouse-ingest, the flags
                       as `parameters` (Databricks, the wheel built from pyproject.toml)

Settings: each flag also comes from an environment variable (a flag wins); all of them are
declared once in streaming_ingest/settings.py, with their defaults and help (`--help`, and the
table in docs/streaming-job.md). The secret EVENTHUB_CONNECTION_STRING comes only from the
environment; LAKEHOUSE_DIR is the local defaults' root; LAKEHOUSE_JARS / LAKEHOUSE_LOG4J /
SPARK_MASTER concern local Spark only.

On Databricks (DATABRICKS_RUNTIME_VERSION set): the cluster's SparkSession is used (never
stopped here), the shaded Kafka client's login module is used for Event Hubs, and
--checkpoint-dir plus --bronze-path or --bronze-table must be passed as task parameters. The
secret reaches the job as a cluster / job-compute environment variable:
`spark_env_vars: {EVENTHUB_CONNECTION_STRING: "{{secrets/<scope>/<key>}}"}`.

Exactly once: Spark's checkpoint records each micro-batch's offsets before it runs, and the
Delta sink writes each batch with `txnAppId`/`txnVersion`, so a batch replayed after a crash
is skipped if it was already committed (see sinks.py). Kill -9 at any point loses nothing and
doubles nothing; restart from the same checkpoint. A deleted (or new) checkpoint loses nothing
either: the new query writes under its own `txnAppId` and reads its source again from the start
(every landing file; Kafka from --starting-offsets), and silver drops and counts the messages it
lands a second time as duplicates.

Stopping: SIGTERM or SIGINT (Ctrl-C) lets the micro-batch in flight commit, then stops the
query (waiting at most 300 s). A batch cut short — the one right behind it when batches run
back to back, or one still running after 300 s — is replayed exactly once by the next run.
Send SIGTERM to the driver process only: a SIGTERM to the whole process group also reaches
Spark's JVM, which then exits at once (still exactly once, but not graceful). Ctrl-C in a
terminal is fine: pyspark starts its JVM ignoring SIGINT.

Exit status: 0 when the query stopped cleanly (available-now drained, or stopped on a
signal), 1 when the query failed or could not start, 2 for a bad setting. The last stdout
line is always the summary `[ingest] done: <rows> rows in <batches> batches, <s> s` (what
this run's micro-batches read from the source).
"""

from __future__ import annotations

import signal
import sys
import threading
import time

from streaming_ingest.config import ConfigError, IngestConfig, parse_args

# How long a stop request waits for the micro-batch in flight before stopping anyway.
STOP_GRACE_SECONDS = 300.0


def _spark(config: IngestConfig):
    from pyspark.sql import SparkSession

    if config.databricks:
        return SparkSession.getActiveSession() or SparkSession.builder.getOrCreate()
    from streaming_ingest.spark_session import local_spark

    return local_spark("streaming-ingest", driver_memory=config.driver_memory, shuffle_partitions=2)


def _last_batch_id(query) -> int | None:
    from streaming_ingest.progress import progress_dict

    progress = query.lastProgress
    return progress_dict(progress).get("batchId") if progress else None


def stop_after_current_batch(query, grace: float = STOP_GRACE_SECONDS) -> None:
    """Stop the query once the micro-batch in flight (if any) has committed.

    When batches run back to back (a backlog), the next one has usually started by then:
    stop() cuts it short before its commit, and the next run replays it exactly once (its
    offsets are in the checkpoint; the idempotent sink skips it if it had reached Delta).
    """
    in_flight_after = _last_batch_id(query)
    deadline = time.monotonic() + grace
    while query.isActive and time.monotonic() < deadline:
        if not query.status.get("isTriggerActive") or _last_batch_id(query) != in_flight_after:
            break
        time.sleep(0.05)
    query.stop()


class _StopRequest:
    """SIGTERM / SIGINT handlers that only record the request (the main loop acts on it)."""

    def __init__(self) -> None:
        self.signal: str | None = None
        self._previous: dict[int, object] = {}

    def install(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return  # e.g. a notebook cell: signals cannot be handled here
        for signum in (signal.SIGTERM, signal.SIGINT):
            self._previous[signum] = signal.signal(signum, self._handle)

    def restore(self) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
        self._previous.clear()

    def _handle(self, signum, _frame) -> None:
        self.signal = signal.Signals(signum).name
        print(f"[ingest] {self.signal}: stopping after the current batch", flush=True)


def run(config: IngestConfig) -> int:
    from streaming_ingest.progress import ProgressPrinter, root_cause

    started = time.monotonic()
    stop = _StopRequest()
    stop.install()
    listener = ProgressPrinter(progress_log=config.progress_log)
    spark = None
    query = None
    error: str | None = None
    try:
        from streaming_ingest.metrics import BatchMetrics
        from streaming_ingest.sinks import ensure_bronze_table, start_bronze_query
        from streaming_ingest.sources import read_source

        spark = _spark(config)
        target = config.bronze_table or config.bronze_path
        print(
            f"[ingest] source={config.source} trigger={config.trigger}"
            + (f" every {config.trigger_interval}" if config.trigger == "processing-time" else "")
            + f" → {target} (checkpoint {config.checkpoint_dir})",
            flush=True,
        )
        spark.streams.addListener(listener)
        ensure_bronze_table(spark, config)
        metrics = BatchMetrics(config, listener.latest)
        if metrics.ensure_table(spark):
            print(f"[ingest] stream metrics → {metrics.table}", flush=True)
        query = start_bronze_query(read_source(spark, config), config, metrics)
        while query.isActive:
            if stop.signal:
                stop_after_current_batch(query)
                break
            try:
                query.awaitTermination(0.5)
            except Exception:  # noqa: BLE001 - the query failed; query.exception() has it
                break
        failure = query.exception()
        if failure is not None:
            error = f"query failed: {root_cause(str(failure))}"
        listener.wait_for_batch(_last_batch_id(query))
        listener.wait_for_termination()
    except Exception as exc:  # noqa: BLE001 - report any start-up failure in one line, exit 1
        stage = "query failed" if query is not None else "could not start"
        error = f"{stage}: {root_cause(f'{type(exc).__name__}: {exc}')}"
        if query is not None and query.isActive:
            query.stop()
    finally:
        stop.restore()
        if spark is not None:
            try:
                spark.streams.removeListener(listener)
            finally:
                if not config.databricks:
                    spark.stop()
    elapsed = time.monotonic() - started
    if error is None and config.source == "capture" and config.trigger == "available-now" and listener.rows == 0:
        # a backfill that lands nothing: fine on a rerun, a wrong --capture-dir otherwise
        print(f"[ingest] WARNING: no new Capture files under {config.capture_dir} (every file there was read "
              "by this checkpoint before, or this is not the archive's folder)", flush=True)
    if error is not None:
        print(f"[ingest] ERROR: {error}", file=sys.stderr, flush=True)
    print(f"[ingest] done: {listener.rows} rows in {listener.batches} batches, {elapsed:.1f} s", flush=True)
    return 1 if error is not None else 0


def main(argv: list[str] | None = None) -> int:
    """The job (console script `lakehouse-ingest`, and the python_wheel_task's entry point).

    A failure raises SystemExit with the exit status: a python_wheel_task ignores what its
    entry point returns, so returning 1 would end the task as succeeded.
    """
    try:
        config = parse_args(argv)
    except ConfigError as error:
        print(f"streaming_ingest: error: {error}", file=sys.stderr)
        raise SystemExit(2) from None
    code = run(config)
    if code:
        raise SystemExit(code)
    return code


if __name__ == "__main__":
    sys.exit(main())
