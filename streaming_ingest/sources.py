"""Streaming readers. Each returns a DataFrame with a string `payload` and its coordinates.

Files (landing files and the capture archive) are read with Spark's file source locally and
with Databricks Auto Loader (`cloudFiles`) on Databricks (`--file-reader`, IngestConfig
.uses_autoloader): the same rows and coordinates either way; Auto Loader discovers new files
incrementally (or from file events) instead of listing the whole folder every micro-batch.
"""

from __future__ import annotations

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from streaming_ingest.config import IngestConfig

# The fields of Event Hubs Capture's Avro record (producer/sinks/capture.py has the whole
# schema and where it comes from) that bronze keeps. Spark's Avro reader matches fields by name
# and skips the others (SystemProperties, Properties).
CAPTURE_READ_SCHEMA = T.StructType(
    [
        T.StructField("SequenceNumber", T.LongType()),
        T.StructField("Offset", T.StringType()),
        T.StructField("EnqueuedTimeUtc", T.StringType()),
        T.StructField("Body", T.BinaryType()),
    ]
)
# Capture's default file name: .../{PartitionId}/{Year}/{Month}/{Day}/{Hour}/{Minute}/{Second}.avro
CAPTURE_PARTITION_PATTERN = r"/([0-9]+)/[0-9]{4}/[0-9]{2}/[0-9]{2}/[0-9]{2}/[0-9]{2}/[0-9]{2}\.avro$"


def _file_stream(spark: SparkSession, config: IngestConfig, file_format: str, schema: T.StructType | None):
    """A streaming reader of `file_format` files: Auto Loader on Databricks, else Spark's file source."""
    if config.uses_autoloader:
        reader = spark.readStream.format("cloudFiles").options(**config.autoloader_options(file_format))
    else:
        reader = spark.readStream.format(file_format).option(
            "pathGlobFilter", "*.avro" if file_format == "avro" else "*.json"
        )
        if file_format == "avro":
            reader = reader.option("recursiveFileLookup", "true")  # Capture nests 7 folders deep
        if config.max_files_per_trigger:
            reader = reader.option("maxFilesPerTrigger", config.max_files_per_trigger)
    return reader.schema(schema) if schema is not None else reader


def landing_files(spark: SparkSession, config: IngestConfig) -> DataFrame:
    """Newline-delimited JSON files, read as text: every line, even malformed, is one row.

    Files whose names start with `.` or `_` (the producer's temporary names) are ignored by
    Spark's file source, so a file is read only once it has been renamed into place, whole.
    `source_position` is added per micro-batch by the sink (see sinks.add_positions).
    """
    lines = _file_stream(spark, config, "text", None).load(config.landing_dir)
    return lines.select(
        F.col("value").alias("payload"),
        F.col("_metadata.file_path").alias("source_file"),
    )


def capture_enqueued_time(text: Column) -> Column:
    """Capture's EnqueuedTimeUtc (`6/12/2020 6:32:34 PM`, UTC), or an ISO-8601 timestamp; null otherwise."""
    us_format = F.try_to_timestamp(F.concat(text, F.lit(" +0000")), F.lit("M/d/yyyy h:mm:ss a Z"))
    return F.coalesce(us_format, F.try_to_timestamp(text))


# The payload of a message whose bytes are not UTF-8 (events are UTF-8 JSON): this prefix and
# the bytes in base64, so that nothing of it is lost and it is never mistaken for an event.
NOT_UTF8_PREFIX = "base64:"


def payload_text(body: Column) -> Column:
    """A message's bytes as the bronze payload: the UTF-8 text, or `base64:<the bytes>` when they
    are not valid UTF-8 (decoding would replace the bad bytes with U+FFFD, and a JSON object with
    a mangled id inside could pass as an event). Either way the row stays in bronze; a `base64:`
    payload is not a JSON object, so silver quarantines it as malformed_json. Null stays null."""
    return F.when(F.is_valid_utf8(body), body.cast("string")).otherwise(
        F.concat(F.lit(NOT_UTF8_PREFIX), F.base64(body))
    )


def capture_columns(records: DataFrame) -> DataFrame:
    """Capture records (stream or batch, with `_metadata`) → `payload` and their coordinates.

    The body becomes the payload as `payload_text` says (a null body is a null payload,
    quarantined as malformed_json). The partition comes from Capture's default folder layout;
    with a custom layout it is null and the file path still says where the event is.
    """
    path = F.col("_metadata.file_path")
    partition = F.regexp_extract(path, CAPTURE_PARTITION_PATTERN, 1)
    return records.select(
        payload_text(F.col("Body")).alias("payload"),
        path.alias("source_file"),
        partition.try_cast("int").alias("eventhub_partition"),
        F.col("SequenceNumber").alias("eventhub_sequence_number"),
        F.col("Offset").alias("eventhub_offset"),
        capture_enqueued_time(F.col("EnqueuedTimeUtc")).alias("eventhub_enqueued_time"),
    )


def capture_archive(spark: SparkSession, config: IngestConfig) -> DataFrame:
    """The Event Hubs Capture archive under --capture-dir: every `.avro` file at any depth."""
    return capture_columns(_file_stream(spark, config, "avro", CAPTURE_READ_SCHEMA).load(config.capture_dir))


def kafka(spark: SparkSession, config: IngestConfig) -> DataFrame:
    """A Kafka topic, or an Event Hub through the Event Hubs Kafka endpoint."""
    reader = spark.readStream.format("kafka")
    for key, value in config.kafka_reader_options().items():
        reader = reader.option(key, value)
    return message_columns(reader.load())


def message_columns(messages: DataFrame) -> DataFrame:
    """Kafka records (stream or batch) → the string `payload` and its Kafka coordinates."""
    return messages.select(
        payload_text(F.col("value")).alias("payload"),
        F.col("topic").alias("kafka_topic"),
        F.col("partition").alias("kafka_partition"),
        F.col("offset").alias("kafka_offset"),
        F.col("timestamp").alias("kafka_timestamp"),
        F.col("key").cast("string").alias("kafka_key"),
    )


def read_source(spark: SparkSession, config: IngestConfig) -> DataFrame:
    readers = {"files": landing_files, "kafka": kafka, "capture": capture_archive}
    return readers[config.source](spark, config)
