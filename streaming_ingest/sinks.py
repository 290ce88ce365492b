"""The bronze Delta sink: append-only, exactly once per checkpoint.

Each micro-batch is written with Delta's idempotent-write options: `txnAppId` = this query's
name and its checkpoint's query id, `txnVersion` = the batch id. A batch replayed after a
crash (the checkpoint has its offsets but not its commit) is skipped by Delta if it was
already written.

The query id is the one Spark keeps in the checkpoint (`<checkpoint>/metadata`): stable
across restarts from the same checkpoint, new for a new one. A new checkpoint therefore writes
under a new `txnAppId` whose batch ids start again at 0 without being mistaken for batches
already written (as Databricks' docs require for a query restarted with a new checkpoint).
A new checkpoint re-reads its source from the start (every landing file, or Kafka from
`startingOffsets`); what it reads again lands in bronze again, with a new `record_id`, and
silver drops and counts those rows as duplicates.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Callable

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.streaming import StreamingQuery

from streaming_ingest.bronze import BRONZE_SCHEMA, to_bronze
from streaming_ingest.config import IngestConfig
from streaming_ingest.metrics import BatchMetrics, batch_marker

# The bronze table's layout, the same in the job's CREATE and dbt's (macros/register_bronze.sql;
# python_tests/streaming/test_bronze_schema.py creates both and compares them).
# - Data-skipping statistics only where readers filter: dbt reads new bronze by ingestion_time,
#   and Kafka coordinates find a message. Statistics on all 24 columns (the default: the first
#   32) cost a quarter of the write time, most of it on the raw payload.
# - Liquid clustering by ingestion_time, dbt's access path: OPTIMIZE compacts the small files
#   of 5-second micro-batches into large ones kept in ingestion order. On Databricks bronze is
#   a Unity Catalog managed table: Databricks tunes its file sizes itself, and predictive
#   optimization runs OPTIMIZE and VACUUM on it (on by default for accounts created since
#   2024-11-11, rolled out to older ones; https://docs.databricks.com/aws/en/optimizations/predictive-optimization).
#   Without it, schedule `OPTIMIZE <bronze>`. No auto-optimize properties: "manual tuning
#   recommendations don't apply to Unity Catalog managed tables"
#   (https://docs.databricks.com/aws/en/tables/tune-file-size), and locally optimized writes
#   would add a shuffle to every micro-batch.
TABLE_PROPERTIES = {
    "delta.appendOnly": "true",
    "delta.dataSkippingStatsColumns": "ingestion_time,kafka_partition,kafka_offset,kafka_timestamp",
}
CLUSTER_BY = ("ingestion_time",)
TABLE_COMMENT = "Bronze sales events: one row per received message, append-only."
# Columns added to bronze after its first release: an existing bronze without them gets them at
# the job's start (ensure_bronze_table).
COLUMNS_ADDED_SINCE_CREATION = (
    "eventhub_partition", "eventhub_sequence_number", "eventhub_offset", "eventhub_enqueued_time",
)
# Digits of the checkpoint's query id that end each record_id (`...@<digits>`, see to_bronze).
CHECKPOINT_ID_DIGITS = 12


def quote_table_name(name: str) -> str:
    """`catalog.schema.table` → "`catalog`.`schema`.`table`" (each part quoted once)."""
    return ".".join(f"`{part.strip('`')}`" for part in name.split("."))


def bronze_table_ddl(table: str) -> str:
    """CREATE TABLE IF NOT EXISTS for bronze, `table` already quoted: a name (one to three parts;
    Unity Catalog `catalog.schema.table` on Databricks) or delta.`<path>`."""
    columns = ",\n  ".join(
        f"`{f.name}` {f.dataType.simpleString()}{'' if f.nullable else ' NOT NULL'}" for f in BRONZE_SCHEMA.fields
    )
    properties = ", ".join(f"'{key}' = '{value}'" for key, value in TABLE_PROPERTIES.items())
    return (
        f"CREATE TABLE IF NOT EXISTS {table} (\n  {columns}\n) USING delta\n"
        f"CLUSTER BY ({', '.join(CLUSTER_BY)})\n"
        f"COMMENT '{TABLE_COMMENT}'\nTBLPROPERTIES ({properties})"
    )


def bronze_table(config: IngestConfig) -> str:
    """The bronze table as SQL names it: by name, or delta.`<path>`."""
    if config.bronze_table:
        return quote_table_name(config.bronze_table)
    return "delta.`{}`".format(config.bronze_path.replace("`", "``"))


def ensure_bronze_table(spark: SparkSession, config: IngestConfig) -> list[str]:
    """Create the bronze table (by path or by name) with its schema if it does not exist yet.

    An existing table keeps its data and layout; a bronze that lacks only the columns added to
    bronze since (COLUMNS_ADDED_SINCE_CREATION) gets them, at the end, null in the rows already there
    (`ALTER TABLE ... ADD COLUMNS`, a metadata-only change in Delta). Returns those columns.
    By name, the schema (database) must exist already (on Databricks: created with the bundle).
    """
    table = bronze_table(config)
    spark.sql(bronze_table_ddl(table))
    existing = {field.name for field in spark.sql(f"SELECT * FROM {table} LIMIT 0").schema.fields}
    missing = [field for field in BRONZE_SCHEMA.fields if field.name not in existing]
    # only a bronze of an earlier version (every other column there) is brought up to date; any
    # other table is left as it is, and the first batch fails on its schema, naming it
    if missing and {field.name for field in missing} <= set(COLUMNS_ADDED_SINCE_CREATION):
        columns = ", ".join(f"`{field.name}` {field.dataType.simpleString()}" for field in missing)
        try:
            spark.sql(f"ALTER TABLE {table} ADD COLUMNS ({columns})")
        except Exception as error:  # noqa: BLE001 - another job (stream / backfill) added them first
            existing = {field.name for field in spark.sql(f"SELECT * FROM {table} LIMIT 0").schema.fields}
            if any(field.name not in existing for field in missing):
                raise error
            return []
        print(f"[ingest] bronze: added the columns {', '.join(f.name for f in missing)}", flush=True)
    return [field.name for field in missing]


def checkpoint_query_id(spark: SparkSession, checkpoint_dir: str) -> str:
    """The query id in `<checkpoint>/metadata` (`{"id":"<uuid>"}`): Spark writes it when it
    creates the checkpoint, before the first batch, and reads it back on every restart.

    Read with Spark itself, so any checkpoint location the query can use works (a local path,
    a Unity Catalog volume, abfss://), also where the batch function runs in its own process.
    """
    line = spark.read.text(f"{checkpoint_dir.rstrip('/')}/metadata").first()
    return json.loads(line.value)["id"]


def writer_id(config: IngestConfig, query_id: str) -> str:
    """The Delta `txnAppId`: stable across restarts from one checkpoint, new with a new checkpoint."""
    return f"{config.query_name}-{query_id}"


def add_positions(batch: DataFrame) -> DataFrame:
    """`source_position`: grows with line order inside each landing file of the batch
    (monotonically_increasing_id follows the row index within a partition)."""
    if "source_file" not in batch.columns:
        return batch
    return batch.withColumn("source_position", F.monotonically_increasing_id())


def batch_writer(config: IngestConfig, metrics: BatchMetrics | None = None) -> Callable[[DataFrame, int], None]:
    """The foreachBatch function: bronze's write, then (when on) the batch's metrics row."""
    query_ids: list[str] = []  # the checkpoint's query id, read by this query's first batch

    def write_batch(batch: DataFrame, batch_id: int) -> None:
        started = dt.datetime.now(dt.timezone.utc)
        if not query_ids:
            query_ids.append(checkpoint_query_id(batch.sparkSession, config.checkpoint_dir))
        query_id = query_ids[0]
        bronze = to_bronze(
            add_positions(batch), source_kind=config.source, checkpoint_id=query_id.replace("-", "")[:CHECKPOINT_ID_DIGITS]
        )
        writer_name = writer_id(config, query_id)
        writer = (
            bronze.write.format("delta")
            .mode("append")
            .option("txnAppId", writer_name)
            .option("txnVersion", batch_id)
            .option("userMetadata", batch_marker(writer_name, batch_id, started.isoformat()))
        )
        if config.bronze_table:
            writer.saveAsTable(quote_table_name(config.bronze_table))
        else:
            writer.save(config.bronze_path)
        if metrics is not None:
            metrics.record(batch.sparkSession, bronze_table(config), writer_name, query_id, batch_id,
                           started, dt.datetime.now(dt.timezone.utc))

    return write_batch


def start_bronze_query(raw: DataFrame, config: IngestConfig, metrics: BatchMetrics | None = None) -> StreamingQuery:
    """Start the streaming query from raw messages to bronze."""
    writer = (
        raw.writeStream.queryName(config.query_name)
        .option("checkpointLocation", config.checkpoint_dir)
        .foreachBatch(batch_writer(config, metrics))
    )
    if config.trigger == "available-now":
        writer = writer.trigger(availableNow=True)
    else:
        writer = writer.trigger(processingTime=config.trigger_interval)
    return writer.start()
