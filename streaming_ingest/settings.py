"""Every setting of the streaming job, declared once: flag, environment variable, default, help.

The parser (`config.build_parser`), the defaults of `IngestConfig`, `--help` and the settings
table in docs/streaming-job.md all come from `SETTINGS` (a test keeps the table equal to
`markdown_table()`; `python -m streaming_ingest.settings` prints it). A flag wins over its
environment variable, which wins over the default. `$LAKEHOUSE_DIR` in a default is the
local lakehouse root; on Databricks those settings have no default and must be passed.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass


@dataclass(frozen=True)
class Setting:
    name: str  # IngestConfig's field
    flag: str
    env: str | None
    default: str | int | bool
    help: str
    group: str
    kind: type = str
    metavar: str | None = None
    shown_default: str | None = None  # how --help and the docs show a computed default
    old_env: tuple[str, ...] = ()  # earlier names, still read for a while, with a warning

    @property
    def default_text(self) -> str:
        if self.shown_default is not None:
            return self.shown_default
        if self.kind is bool:
            return str(self.default).lower()
        return f"'{self.default}'" if isinstance(self.default, str) and " " in self.default else str(self.default)


GENERAL, FILES, CAPTURE, READER, KAFKA, SINK, TRIGGER = (
    "general", "landing files source", "Event Hubs Capture source (an Avro archive)",
    "file reader (landing files and capture)", "Kafka / Event Hubs (Kafka endpoint) source", "bronze sink",
    "trigger and resources",
)

SETTINGS: tuple[Setting, ...] = (
    Setting("source", "--source", "INGEST_SOURCE", "files", "files | kafka | capture", GENERAL),
    Setting("landing_dir", "--landing-dir", "LANDING_DIR", "", "newline-delimited JSON files", FILES,
            metavar="DIR", shown_default="$LAKEHOUSE_DIR/landing/sales"),
    Setting("max_files_per_trigger", "--max-files-per-trigger", "MAX_FILES_PER_TRIGGER", 0,
            "files per micro-batch (landing files or capture), 0 = all new files", FILES, kind=int, metavar="N"),
    Setting("capture_dir", "--capture-dir", "CAPTURE_DIR", "",
            "the Event Hubs Capture archive: a folder, a Unity Catalog volume path or an abfss:// URI, at or "
            "above {Namespace}/{EventHub}", CAPTURE, metavar="DIR", shown_default="$LAKEHOUSE_DIR/capture"),
    Setting("file_reader", "--file-reader", "FILE_READER", "auto",
            "auto (Auto Loader on Databricks, Spark's file source elsewhere) | autoloader | spark", READER),
    Setting("autoloader_schema_location", "--autoloader-schema-location", "AUTOLOADER_SCHEMA_LOCATION", "",
            "Auto Loader's cloudFiles.schemaLocation", READER, metavar="DIR",
            shown_default="<checkpoint>/autoloader_schema"),
    Setting("file_events", "--file-events", "AUTOLOADER_FILE_EVENTS", False,
            "Auto Loader's cloudFiles.useManagedFileEvents: discover new files from the external location's "
            "file events instead of listing the folder", READER, kind=bool, metavar="true|false"),
    Setting("bootstrap_servers", "--bootstrap-servers", "KAFKA_BOOTSTRAP_SERVERS", "",
            "host:port[,...] of a plain Kafka; without it, EVENTHUB_CONNECTION_STRING selects the Event Hubs "
            "namespace (SASL_SSL)", KAFKA, metavar="HOST:PORT", shown_default="none"),
    Setting("topic", "--topic", "KAFKA_TOPIC", "sales-events", "topic / event hub name", KAFKA),
    Setting("starting_offsets", "--starting-offsets", "STARTING_OFFSETS", "earliest",
            "earliest | latest | JSON offsets; first run of a checkpoint only", KAFKA),
    Setting("max_offsets_per_trigger", "--max-offsets-per-trigger", "MAX_OFFSETS_PER_TRIGGER", 200_000,
            "maxOffsetsPerTrigger: offsets per micro-batch across all partitions, 0 = no limit", KAFKA,
            kind=int, metavar="N"),
    Setting("min_partitions", "--min-partitions", "MIN_PARTITIONS", 0,
            "minPartitions: split Kafka partitions into at least this many Spark tasks per micro-batch, e.g. "
            "2x the cores when there are fewer partitions than cores or they are uneven; 0 = one task per "
            "partition", KAFKA, kind=int, metavar="N"),
    Setting("fail_on_data_loss", "--fail-on-data-loss", "FAIL_ON_DATA_LOSS", True,
            "failOnDataLoss: fail when unread offsets are gone (retention, topic recreated) rather than skip "
            "them", KAFKA, kind=bool, metavar="true|false"),
    Setting("bronze_path", "--bronze-path", "BRONZE_PATH", "", "the bronze Delta table's path", SINK,
            metavar="PATH", shown_default="$LAKEHOUSE_DIR/bronze/sales_events"),
    Setting("bronze_table", "--bronze-table", "INGEST_BRONZE_TABLE", "",
            "or write by table name, [catalog.]schema.table (what the Databricks job does)", SINK,
            metavar="NAME", shown_default="none", old_env=("BRONZE_TABLE_NAME",)),
    Setting("metrics_path", "--metrics-path", "STREAM_METRICS_PATH", "",
            "the stream metrics Delta table's path (one row per micro-batch; `off`: none)", SINK,
            metavar="PATH", shown_default="$LAKEHOUSE_DIR/audit/stream_batches"),
    Setting("metrics_table", "--metrics-table", "STREAM_METRICS_TABLE", "",
            "or write the stream metrics by table name, [catalog.]schema.table (the Databricks job)", SINK,
            metavar="NAME", shown_default="none"),
    Setting("checkpoint_dir", "--checkpoint-dir", "CHECKPOINT_DIR", "",
            "the query's checkpoint: keep it for exactly-once across restarts", SINK, metavar="DIR",
            shown_default="$LAKEHOUSE_DIR/checkpoints/bronze_sales_events_<source>"),
    Setting("trigger", "--trigger", "INGEST_TRIGGER", "processing-time",
            "processing-time (run until SIGTERM / Ctrl-C) | available-now (drain, then stop)", TRIGGER),
    Setting("trigger_interval", "--trigger-interval", "TRIGGER_INTERVAL", "5 seconds",
            "processing-time interval", TRIGGER),
    Setting("driver_memory", "--driver-memory", "INGEST_DRIVER_MEMORY", "1g",
            "local Spark driver memory (local runs only)", TRIGGER),
    Setting("progress_log", "--progress-log", "PROGRESS_LOG", "",
            "also append each micro-batch's full progress JSON, one line each, to this file", TRIGGER,
            metavar="FILE", shown_default="none"),
)

BY_NAME = {setting.name: setting for setting in SETTINGS}
DEFAULTS = {setting.name: setting.default for setting in SETTINGS}

# the flags that are not plain settings (no environment variable, or not a value)
OTHER_FLAGS = (
    ("--kafka-option KEY=VALUE", "extra kafka.* consumer option (repeatable); no environment variable"),
    ("--databricks", "use the cluster's SparkSession and its shaded Kafka client; on when "
                     "DATABRICKS_RUNTIME_VERSION is set (Databricks sets it)"),
)


def help_text(setting: Setting) -> str:
    return f"{setting.help} ({setting.env}; default {setting.default_text})"


def env_value(setting: Setting, env) -> str | None:
    """The setting's environment value: its name, else an earlier name (with a warning)."""
    value = env.get(setting.env) if setting.env else None
    if value not in (None, ""):
        return value
    for old in setting.old_env:
        if env.get(old) not in (None, ""):
            print(f"[ingest] WARNING: {old} is deprecated and will be removed: set {setting.env} "
                  f"(or pass {setting.flag})", file=sys.stderr)
            return env[old]
    return None


def cell(text: str) -> str:
    return text.replace("|", "\\|")


def markdown_table() -> str:
    """The settings table of docs/streaming-job.md."""
    lines = ["| flag | environment variable | default | what it sets |", "|---|---|---|---|"]
    for setting in SETTINGS:
        flag = cell(f"`{setting.flag} {setting.metavar}`" if setting.metavar else f"`{setting.flag}`")
        old = "".join(f" (earlier: `{old}`)" for old in setting.old_env)
        lines.append(f"| {flag} | `{setting.env}`{old} | {cell(setting.default_text)} | {cell(setting.help)} |")
    for flag, text in OTHER_FLAGS:
        lines.append(f"| `{flag}` | — | — | {cell(text)} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.stdout.write(markdown_table())
