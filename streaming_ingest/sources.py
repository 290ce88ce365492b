"""Streaming readers. Each returns a DataFrame with a string `payload` and its coordinates."""

from __future__ import annotations

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from streaming_ingest.config import IngestConfig


def landing_files(spark: SparkSession, config: IngestConfig) -> DataFrame:
    """Newline-delimited JSON files, read as text: every line, even malformed, is one row.

    Files whose names start with `.` or `_` (the producer's temporary names) are ignored by
    Spark's file source, so a file is read only once it has been renamed into place, whole.
    `source_position` is added per micro-batch by the sink (see sinks.add_positions).
    """
    reader = spark.readStream.format("text").option("pathGlobFilter", "*.json")
    if config.max_files_per_trigger:
        reader = reader.option("maxFilesPerTrigger", config.max_files_per_trigger)
    lines = reader.load(config.landing_dir)
    return lines.select(
        F.col("value").alias("payload"),
        F.col("_metadata.file_path").alias("source_file"),
    )


def kafka(spark: SparkSession, config: IngestConfig) -> DataFrame:
    """A Kafka topic, or an Event Hub through the Event Hubs Kafka endpoint."""
    reader = spark.readStream.format("kafka")
    for key, value in config.kafka_reader_options().items():
        reader = reader.option(key, value)
    return message_columns(reader.load())


def message_columns(messages: DataFrame) -> DataFrame:
    """Kafka records (stream or batch) → the string `payload` and its Kafka coordinates."""
    return messages.select(
        F.col("value").cast("string").alias("payload"),
        F.col("topic").alias("kafka_topic"),
        F.col("partition").alias("kafka_partition"),
        F.col("offset").alias("kafka_offset"),
        F.col("timestamp").alias("kafka_timestamp"),
        F.col("key").cast("string").alias("kafka_key"),
    )


def read_source(spark: SparkSession, config: IngestConfig) -> DataFrame:
    return landing_files(spark, config) if config.source == "files" else kafka(spark, config)
