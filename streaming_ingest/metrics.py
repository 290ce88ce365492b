"""Stream metrics: one row per micro-batch in a Delta table of its own (the run audit trail).

    query_name | query_id | batch_id | started_at | ended_at | write_seconds | rows | bronze_version
    | replayed | offsets_behind_latest | files_outstanding | lag_from_batch_id | recorded_at

The batch function writes the row after bronze's write, in the same call, so every batch that
Spark commits has its row:

- Exactly one row per (query_id, batch_id): the row is written with Delta's idempotent-write
  options (`txnAppId` = bronze's writer id + `-metrics`, `txnVersion` = the batch id). A batch
  replayed after a crash writes it if the crash came before it, and is skipped otherwise.
- `rows` and `bronze_version` come from bronze's own commit: each bronze write carries
  `userMetadata` naming its writer and batch, and `DESCRIBE HISTORY` gives that commit's
  `numOutputRows`. A replayed batch whose bronze write Delta skipped finds its first commit
  there (`replayed` = true): the row counts what bronze holds, never twice.
- Source lag: the backlog the stream reported in the progress of its previous batch (Kafka /
  Event Hubs: the largest `maxOffsetsBehindLatest` of its partitions; landing files:
  `numFilesOutstanding`), and that batch's id. Null for the first batch after a start.
- It never risks bronze or stops the stream: bronze is written first and alone; any failure
  here (a missing schema, a permission, a full disk) prints one warning line and the batch
  goes on. The row costs one small Delta commit and a short history read per batch.
"""

from __future__ import annotations

import datetime as dt
import json
import threading

from pyspark.sql import SparkSession
from pyspark.sql import types as T

from streaming_ingest.config import IngestConfig

METRICS_SCHEMA = T.StructType([
    T.StructField("query_name", T.StringType(), False),
    T.StructField("query_id", T.StringType(), False),
    T.StructField("batch_id", T.LongType(), False),
    T.StructField("started_at", T.TimestampType(), False),
    T.StructField("ended_at", T.TimestampType(), False),
    T.StructField("write_seconds", T.DoubleType(), False),
    T.StructField("rows", T.LongType(), True),
    T.StructField("bronze_version", T.LongType(), True),
    T.StructField("replayed", T.BooleanType(), True),
    T.StructField("offsets_behind_latest", T.LongType(), True),
    T.StructField("files_outstanding", T.LongType(), True),
    T.StructField("lag_from_batch_id", T.LongType(), True),
    T.StructField("recorded_at", T.TimestampType(), False),
])
TABLE_COMMENT = "Stream metrics: one row per micro-batch of the bronze ingest query."
# how far back in bronze's history a batch's commit is looked for (other writers, e.g. a
# backfill, may commit in between)
HISTORY_DEPTH = 20


def batch_marker(writer: str, batch_id: int, attempt: str) -> str:
    """The `userMetadata` of bronze's commit of one batch: its writer, batch id and the
    attempt (the batch function's start time) that wrote it."""
    return json.dumps({"writer": writer, "batch": batch_id, "attempt": attempt}, separators=(",", ":"))


def read_marker(text: str | None) -> dict:
    try:
        marker = json.loads(text) if text else {}
    except ValueError:
        return {}
    return marker if isinstance(marker, dict) else {}


class LatestProgress:
    """The newest progress event the stream reported (the listener sets it, batches read it)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._progress: dict | None = None

    def set(self, progress: dict) -> None:
        with self._lock:
            self._progress = progress

    def lag(self) -> tuple[int | None, int | None, int | None]:
        """(offsets behind latest, files outstanding, the batch they were reported for)."""
        with self._lock:
            progress = self._progress
        if not progress:
            return None, None, None
        offsets = files = None
        for source in progress.get("sources") or []:
            metrics = source.get("metrics") or {}
            if "maxOffsetsBehindLatest" in metrics:
                value = int(float(metrics["maxOffsetsBehindLatest"]))
                offsets = value if offsets is None else max(offsets, value)
            if "numFilesOutstanding" in metrics:
                value = int(float(metrics["numFilesOutstanding"]))
                files = value if files is None else files + value
        return offsets, files, progress.get("batchId")


def metrics_table(config: IngestConfig) -> str | None:
    """The metrics table as SQL names it, or None when metrics are off."""
    from streaming_ingest.sinks import quote_table_name  # sinks imports this module

    if config.metrics_table:
        return quote_table_name(config.metrics_table)
    if config.metrics_path:
        return "delta.`{}`".format(config.metrics_path.replace("`", "``"))
    return None


def metrics_table_ddl(table: str) -> str:
    columns = ",\n  ".join(
        f"`{f.name}` {f.dataType.simpleString()}{'' if f.nullable else ' NOT NULL'}" for f in METRICS_SCHEMA.fields
    )
    return (
        f"CREATE TABLE IF NOT EXISTS {table} (\n  {columns}\n) USING delta\n"
        f"COMMENT '{TABLE_COMMENT}'\nTBLPROPERTIES ('delta.appendOnly' = 'true')"
    )


def warn(message: str) -> None:
    print(f"[ingest] WARNING: {message}", flush=True)


class BatchMetrics:
    """Records each micro-batch's row; see the module's docstring."""

    def __init__(self, config: IngestConfig, latest: LatestProgress) -> None:
        self.config = config
        self.latest = latest
        self.table = metrics_table(config)
        self.ready = False

    def ensure_table(self, spark: SparkSession) -> bool:
        """Create the table if it does not exist; False (and one warning) when that fails."""
        if self.table is None:
            return False
        try:
            spark.sql(metrics_table_ddl(self.table))
        except Exception as error:  # noqa: BLE001 - metrics must never stop the stream
            from streaming_ingest.progress import root_cause

            warn(f"stream metrics off: cannot create {self.table} ({root_cause(f'{type(error).__name__}: {error}')})")
            self.table = None
            return False
        self.ready = True
        return True

    def bronze_commit(self, spark: SparkSession, bronze: str, writer: str,
                      batch_id: int) -> tuple[int | None, int | None, str | None]:
        """(version, rows, attempt) of bronze's commit of this writer's batch, or Nones."""
        for entry in spark.sql(f"DESCRIBE HISTORY {bronze} LIMIT {HISTORY_DEPTH}").collect():
            marker = read_marker(entry["userMetadata"])
            if marker.get("writer") == writer and marker.get("batch") == batch_id:
                rows = (entry["operationMetrics"] or {}).get("numOutputRows")
                return int(entry["version"]), int(rows) if rows is not None else None, marker.get("attempt")
        return None, None, None

    def record(self, spark: SparkSession, bronze: str, writer: str, query_id: str, batch_id: int,
               started: dt.datetime, ended: dt.datetime) -> None:
        """Write the row of a batch whose bronze write (marked batch_marker(writer, batch_id,
        started.isoformat())) has returned."""
        if not self.ready:
            return
        try:
            version, rows, attempt = self.bronze_commit(spark, bronze, writer, batch_id)
            offsets, files, lag_batch = self.latest.lag()
            row = (
                self.config.query_name, query_id, batch_id, started, ended,
                round((ended - started).total_seconds(), 3), rows, version,
                None if attempt is None else attempt != started.isoformat(),
                offsets, files, lag_batch, dt.datetime.now(dt.timezone.utc),
            )
            writer_ = (
                spark.createDataFrame([row], METRICS_SCHEMA).write.format("delta").mode("append")
                .option("txnAppId", f"{writer}-metrics").option("txnVersion", batch_id)
            )
            if self.config.metrics_table:
                writer_.saveAsTable(self.table)
            else:
                writer_.save(self.config.metrics_path)
        except Exception as error:  # noqa: BLE001 - metrics must never stop the stream
            from streaming_ingest.progress import root_cause

            warn(f"stream metrics of batch {batch_id} not written: {root_cause(f'{type(error).__name__}: {error}')}")
