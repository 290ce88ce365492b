"""The bronze Delta sink: append-only, exactly once.

Each micro-batch is written with Delta's idempotent-write options (`txnAppId` = a stable id of
this query, `txnVersion` = the batch id): a batch replayed after a crash — the checkpoint
has its offsets but not its commit — is skipped by Delta if it was already written.
"""

from __future__ import annotations

import hashlib
from typing import Callable

from delta.tables import DeltaTable
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.streaming import StreamingQuery

from streaming_ingest.bronze import BRONZE_SCHEMA, to_bronze
from streaming_ingest.config import IngestConfig

# Data-skipping statistics only where readers filter: dbt reads new bronze by ingestion_time,
# and Kafka coordinates find a message. Statistics on all 24 columns (the default: the first
# 32) cost a quarter of the write time, most of it on the raw payload.
TABLE_PROPERTIES = {
    "delta.appendOnly": "true",
    "delta.dataSkippingStatsColumns": "ingestion_time,kafka_partition,kafka_offset,kafka_timestamp",
}
TABLE_COMMENT = "Bronze sales events: one row per received message, append-only."


def quote_table_name(name: str) -> str:
    """`catalog.schema.table` → "`catalog`.`schema`.`table`" (each part quoted once)."""
    return ".".join(f"`{part.strip('`')}`" for part in name.split("."))


def bronze_table_ddl(name: str) -> str:
    """CREATE TABLE IF NOT EXISTS for bronze by name: works with one-, two- and three-part names
    (Unity Catalog `catalog.schema.table` on Databricks; Delta's Python table builder only
    parses `schema.table`)."""
    columns = ",\n  ".join(
        f"`{f.name}` {f.dataType.simpleString()}{'' if f.nullable else ' NOT NULL'}" for f in BRONZE_SCHEMA.fields
    )
    properties = ", ".join(f"'{key}' = '{value}'" for key, value in TABLE_PROPERTIES.items())
    return (
        f"CREATE TABLE IF NOT EXISTS {quote_table_name(name)} (\n  {columns}\n) USING DELTA\n"
        f"COMMENT '{TABLE_COMMENT}'\nTBLPROPERTIES ({properties})"
    )


def ensure_bronze_table(spark: SparkSession, config: IngestConfig) -> None:
    """Create the bronze table (by path or by name) with its schema if it does not exist yet.

    An existing table is left as it is; a batch that does not fit its schema fails the query.
    By name, the schema (database) must exist already (on Databricks: created with the bundle).
    """
    if config.bronze_table:
        spark.sql(bronze_table_ddl(config.bronze_table))
        return
    builder = DeltaTable.createIfNotExists(spark).addColumns(BRONZE_SCHEMA).comment(TABLE_COMMENT)
    for key, value in TABLE_PROPERTIES.items():
        builder = builder.property(key, value)
    builder.location(config.bronze_path).execute()


def writer_id(config: IngestConfig) -> str:
    """Stable across restarts of the same query (same checkpoint), distinct between queries."""
    digest = hashlib.sha256(config.checkpoint_dir.rstrip("/").encode()).hexdigest()[:16]
    return f"{config.query_name}-{digest}"


def add_positions(batch: DataFrame) -> DataFrame:
    """`source_position`: grows with line order inside each landing file of the batch
    (monotonically_increasing_id follows the row index within a partition)."""
    if "source_file" not in batch.columns:
        return batch
    return batch.withColumn("source_position", F.monotonically_increasing_id())


def batch_writer(config: IngestConfig) -> Callable[[DataFrame, int], None]:
    app_id = writer_id(config)

    def write_batch(batch: DataFrame, batch_id: int) -> None:
        bronze = to_bronze(add_positions(batch), source_kind=config.source)
        writer = (
            bronze.write.format("delta")
            .mode("append")
            .option("txnAppId", app_id)
            .option("txnVersion", batch_id)
        )
        if config.bronze_table:
            writer.saveAsTable(quote_table_name(config.bronze_table))
        else:
            writer.save(config.bronze_path)

    return write_batch


def start_bronze_query(raw: DataFrame, config: IngestConfig) -> StreamingQuery:
    """Start the streaming query from raw messages to bronze."""
    writer = (
        raw.writeStream.queryName(config.query_name)
        .option("checkpointLocation", config.checkpoint_dir)
        .foreachBatch(batch_writer(config))
    )
    if config.trigger == "available-now":
        writer = writer.trigger(availableNow=True)
    else:
        writer = writer.trigger(processingTime=config.trigger_interval)
    return writer.start()
