"""The streaming job's configuration: flags, then environment variables, validated at start-up.

Kafka / Event Hubs reader settings worth knowing (see `IngestConfig.kafka_reader_options`):

- maxOffsetsPerTrigger (`--max-offsets-per-trigger`, default 200000): at most this many
  offsets per micro-batch, split across partitions by their backlog, so a large backlog
  (first start, or after an outage) is worked off in bounded batches. 0 = no limit.
  Available-now honours it too (several batches, then stop).
- failOnDataLoss (`--fail-on-data-loss`, default true): the query fails when offsets it has
  not read yet are gone (retention expired while the job was down, topic deleted and
  recreated, partitions shrunk) instead of silently skipping them — bronze promises
  "nothing dropped", so a gap must stop the job and be looked at. Set false only to skip a
  known gap knowingly, then set it back.
- startingOffsets (`--starting-offsets`, default earliest): used only on the very first run
  of a checkpoint; afterwards the checkpoint decides where to resume.
- Event Hubs: with EVENTHUB_CONNECTION_STRING (and no --bootstrap-servers) the reader goes to
  `<namespace>.servicebus.windows.net:9093` over SASL_SSL / PLAIN, user `$ConnectionString`,
  password the connection string; `--topic` is the event hub's name. On Databricks
  (`--databricks`, set automatically when DATABRICKS_RUNTIME_VERSION is) the Kafka client is
  shaded, so the JAAS login module is `kafkashaded.org.apache.kafka...PlainLoginModule`.
"""

from __future__ import annotations

import argparse
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from streaming_ingest.settings import BY_NAME, DEFAULTS, SETTINGS, env_value, help_text

SOURCES = ("files", "kafka", "capture")
FILE_READERS = ("auto", "autoloader", "spark")
TRIGGERS = ("processing-time", "available-now")
REPO_ROOT = Path(__file__).resolve().parent.parent


# Microsoft's recommended Kafka client settings for Event Hubs, the consumer side of them
# ("Recommended configurations for Apache Kafka clients",
# https://learn.microsoft.com/azure/event-hubs/apache-kafka-configurations). The values that
# differ from the Kafka client's defaults:
# - metadata.max.age.ms, connections.max.idle.ms: below 240000 ms, after which Azure closes idle
#   inbound TCP connections (the client would otherwise use a dead one);
# - request.timeout.ms at least 60000 and session.timeout.ms at least 30000: lower values
#   cause consumer timeouts, rebalances, and more timeouts.
# (heartbeat.interval.ms 3000 and max.poll.interval.ms 300000 are recommended as the defaults.)
EVENTHUBS_KAFKA_SETTINGS = {
    "metadata.max.age.ms": "180000",
    "connections.max.idle.ms": "180000",
    "request.timeout.ms": "60000",
    "session.timeout.ms": "30000",
}


class ConfigError(ValueError):
    """A bad setting; the message names it."""


def lakehouse_dir() -> str:
    return os.environ.get("LAKEHOUSE_DIR", str(REPO_ROOT / ".lakehouse"))


@dataclass(frozen=True)
class IngestConfig:
    """The validated settings; defaults, flags, variables and help: streaming_ingest/settings.py."""

    source: str = DEFAULTS["source"]
    # files
    landing_dir: str = DEFAULTS["landing_dir"]
    max_files_per_trigger: int = DEFAULTS["max_files_per_trigger"]
    # capture (Event Hubs Capture's Avro archive)
    capture_dir: str = DEFAULTS["capture_dir"]
    # how files are read (landing files and capture)
    file_reader: str = DEFAULTS["file_reader"]
    autoloader_schema_location: str = DEFAULTS["autoloader_schema_location"]
    file_events: bool = DEFAULTS["file_events"]
    # kafka / Event Hubs (Kafka endpoint)
    bootstrap_servers: str = DEFAULTS["bootstrap_servers"]
    eventhubs_connection_string: str = field(default="", repr=False)
    topic: str = DEFAULTS["topic"]
    starting_offsets: str = DEFAULTS["starting_offsets"]
    max_offsets_per_trigger: int = DEFAULTS["max_offsets_per_trigger"]
    min_partitions: int = DEFAULTS["min_partitions"]
    fail_on_data_loss: bool = DEFAULTS["fail_on_data_loss"]
    kafka_options: dict[str, str] = field(default_factory=dict)
    databricks: bool = False
    # sink
    bronze_path: str = DEFAULTS["bronze_path"]
    bronze_table: str = DEFAULTS["bronze_table"]
    metrics_path: str = DEFAULTS["metrics_path"]
    metrics_table: str = DEFAULTS["metrics_table"]
    checkpoint_dir: str = DEFAULTS["checkpoint_dir"]
    # trigger
    trigger: str = DEFAULTS["trigger"]
    trigger_interval: str = DEFAULTS["trigger_interval"]
    driver_memory: str = DEFAULTS["driver_memory"]
    query_name: str = "bronze_sales_events"
    progress_log: str = DEFAULTS["progress_log"]

    def validate(self) -> "IngestConfig":
        if self.source not in SOURCES:
            raise ConfigError(f"--source must be one of {', '.join(SOURCES)} (got {self.source!r})")
        if self.trigger not in TRIGGERS:
            raise ConfigError(f"--trigger must be one of {', '.join(TRIGGERS)} (got {self.trigger!r})")
        if not re.fullmatch(r"\d+\s*(ms|milliseconds?|s|seconds?|minutes?)", self.trigger_interval.strip()):
            raise ConfigError(f"--trigger-interval must look like '5 seconds' (got {self.trigger_interval!r})")
        if self.source == "files" and not self.landing_dir:
            raise ConfigError("--landing-dir (LANDING_DIR) is required for --source files")
        if self.source == "capture" and not self.capture_dir:
            raise ConfigError("--capture-dir (CAPTURE_DIR) is required for --source capture")
        if self.file_reader not in FILE_READERS:
            raise ConfigError(f"--file-reader must be one of {', '.join(FILE_READERS)} (got {self.file_reader!r})")
        if self.file_reader == "autoloader" and not self.databricks:
            raise ConfigError("--file-reader autoloader needs Databricks: Auto Loader (cloudFiles) is not part of "
                              "open-source Spark (use auto or spark here)")
        if not self.uses_autoloader:
            for flag, value in (("--file-events", self.file_events),
                                ("--autoloader-schema-location", self.autoloader_schema_location)):
                if value:
                    raise ConfigError(f"{flag} is an Auto Loader setting: it needs --file-reader autoloader or "
                                      "auto on Databricks (files are read with Spark's file source here)")
        if self.source == "capture" and not self.databricks and _is_local(self.capture_dir) and not Path(
                self.capture_dir.removeprefix("file:")).is_dir():
            raise ConfigError(f"--capture-dir (CAPTURE_DIR) is not a folder: {self.capture_dir}")
        if self.source == "kafka":
            if not self.bootstrap_servers and not self.eventhubs_connection_string:
                raise ConfigError(
                    "--bootstrap-servers (KAFKA_BOOTSTRAP_SERVERS) or EVENTHUB_CONNECTION_STRING is required for --source kafka"
                )
            if self.eventhubs_connection_string and not self.bootstrap_servers:
                _eventhubs_namespace(self.eventhubs_connection_string)  # raises when malformed
            if self.max_offsets_per_trigger < 0:
                raise ConfigError(f"--max-offsets-per-trigger must be >= 0 (got {self.max_offsets_per_trigger})")
            if not self.topic:
                raise ConfigError("--topic must not be empty")
            if self.starting_offsets not in ("earliest", "latest") and not self.starting_offsets.startswith("{"):
                raise ConfigError(
                    f"--starting-offsets must be earliest, latest or a JSON offsets object (got {self.starting_offsets!r})"
                )
        if self.min_partitions < 0:
            raise ConfigError(f"--min-partitions must be >= 0 (got {self.min_partitions})")
        if self.max_files_per_trigger < 0:
            raise ConfigError(f"--max-files-per-trigger must be >= 0 (got {self.max_files_per_trigger})")
        if not self.bronze_path and not self.bronze_table:
            raise ConfigError("--bronze-path (BRONZE_PATH) or --bronze-table (INGEST_BRONZE_TABLE) is required")
        if self.bronze_table and not re.fullmatch(r"`?\w+`?(\.`?\w+`?){0,2}", self.bronze_table):
            raise ConfigError(
                f"--bronze-table must be [catalog.]schema.table or table (got {self.bronze_table!r})"
            )
        if not self.checkpoint_dir:
            raise ConfigError("--checkpoint-dir (CHECKPOINT_DIR) is required")
        _check_writable("--checkpoint-dir", self.checkpoint_dir)
        if self.metrics_table and not re.fullmatch(r"`?\w+`?(\.`?\w+`?){0,2}", self.metrics_table):
            raise ConfigError(
                f"--metrics-table must be [catalog.]schema.table or table (got {self.metrics_table!r})"
            )
        if self.metrics_table and self.metrics_path:
            raise ConfigError("--metrics-path and --metrics-table are alternatives: give one")
        if self.bronze_path:
            _check_writable("--bronze-path", self.bronze_path)
        if self.metrics_path:
            _check_writable("--metrics-path", self.metrics_path)
        if self.progress_log:
            _check_writable("--progress-log", str(Path(self.progress_log.removeprefix("file:")).parent))
        return self

    @property
    def uses_autoloader(self) -> bool:
        """Files (landing or capture) read with Auto Loader: on Databricks unless --file-reader spark."""
        return self.file_reader == "autoloader" or (self.file_reader == "auto" and self.databricks)

    def autoloader_options(self, file_format: str) -> dict[str, str]:
        """Options for spark.readStream.format('cloudFiles') (Databricks Auto Loader).

        - cloudFiles.format: avro (capture) or text (landing files, one row per line);
        - cloudFiles.schemaLocation: where Auto Loader tracks the schema; the job passes its
          schema explicitly (no inference), so it only records it; default under the checkpoint;
        - cloudFiles.includeExistingFiles true: a new checkpoint reads what is already there
          (a backfill must);
        - cloudFiles.useManagedFileEvents (--file-events): find new files from the external
          location's file events rather than by listing; needs file events enabled on the
          Unity Catalog external location (Databricks Runtime 14.3 LTS and above);
        - cloudFiles.maxFilesPerTrigger (--max-files-per-trigger) when set.
        """
        options = {
            "cloudFiles.format": file_format,
            "cloudFiles.schemaLocation": self.autoloader_schema_location
            or f"{self.checkpoint_dir.rstrip('/')}/autoloader_schema",
            "cloudFiles.includeExistingFiles": "true",
            "pathGlobFilter": "*.avro" if file_format == "avro" else "*.json",
        }
        if self.file_events:
            options["cloudFiles.useManagedFileEvents"] = "true"
        if self.max_files_per_trigger:
            options["cloudFiles.maxFilesPerTrigger"] = str(self.max_files_per_trigger)
        return options

    def kafka_reader_options(self) -> dict[str, str]:
        """Options for spark.readStream.format('kafka')."""
        options = {
            "subscribe": self.topic,
            "startingOffsets": self.starting_offsets,
            "failOnDataLoss": str(self.fail_on_data_loss).lower(),
            "includeHeaders": "false",
        }
        if self.max_offsets_per_trigger:
            options["maxOffsetsPerTrigger"] = str(self.max_offsets_per_trigger)
        if self.min_partitions:
            options["minPartitions"] = str(self.min_partitions)
        if self.bootstrap_servers:
            options["kafka.bootstrap.servers"] = self.bootstrap_servers
        else:
            namespace = _eventhubs_namespace(self.eventhubs_connection_string)
            login_module = (
                "kafkashaded.org.apache.kafka.common.security.plain.PlainLoginModule"
                if self.databricks
                else "org.apache.kafka.common.security.plain.PlainLoginModule"
            )
            secret = self.eventhubs_connection_string.replace('"', '\\"')
            options.update(
                {
                    "kafka.bootstrap.servers": f"{namespace}.servicebus.windows.net:9093",
                    "kafka.security.protocol": "SASL_SSL",
                    "kafka.sasl.mechanism": "PLAIN",
                    "kafka.sasl.jaas.config": (
                        f'{login_module} required username="$ConnectionString" password="{secret}";'
                    ),
                    **{f"kafka.{key}": value for key, value in EVENTHUBS_KAFKA_SETTINGS.items()},
                }
            )
        options.update({k if k.startswith("kafka.") else f"kafka.{k}": v for k, v in self.kafka_options.items()})
        return options


def _eventhubs_namespace(connection_string: str) -> str:
    match = re.search(r"Endpoint=sb://([^./;]+)\.servicebus\.windows\.net/?", connection_string, re.IGNORECASE)
    if not match:
        raise ConfigError(
            "EVENTHUB_CONNECTION_STRING must look like 'Endpoint=sb://<namespace>.servicebus.windows.net/;"
            "SharedAccessKeyName=...;SharedAccessKey=...'"
        )
    return match.group(1)


def _is_local(location: str) -> bool:
    """A local path (or file: URI); cloud URIs (abfss:, dbfs:, s3:) and volumes are left to Spark."""
    return not (re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", location) and not location.startswith("file:"))


def _check_writable(setting: str, location: str) -> None:
    """Local paths must be creatable and writable; cloud URIs (abfss:, dbfs:, s3:) are left to Spark."""
    if not _is_local(location):
        return
    path = Path(location.removeprefix("file:"))
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / ".write-probe"
        probe.write_text("ok")
        probe.unlink()
    except OSError as error:
        raise ConfigError(f"{setting} is not writable: {location} ({error.strerror or error})") from None


def _env_bool(value: str, flag: str = "--fail-on-data-loss") -> bool:
    if value.lower() in ("1", "true", "yes", "on"):
        return True
    if value.lower() in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{flag} must be true or false (got {value!r})")


class _Parser(argparse.ArgumentParser):
    """argparse, but a bad flag is a ConfigError (one line, exit status 2) like any bad setting."""

    def error(self, message: str):  # type: ignore[override]
        raise ConfigError(message)


EPILOG = """\
Every flag can also come from the environment variable named in its help; a flag wins.
Secrets come only from the environment: EVENTHUB_CONNECTION_STRING (on Databricks set it on
the cluster / job compute as {{secrets/<scope>/<key>}}). DATABRICKS_RUNTIME_VERSION (set by
Databricks) turns on --databricks: the cluster's SparkSession is used and --checkpoint-dir
plus --bronze-path or --bronze-table must be given (no local defaults).
Exit status: 0 stopped cleanly, 1 the query failed, 2 a bad setting.
"""


def build_parser(env: dict[str, str] | os._Environ, base: str) -> argparse.ArgumentParser:
    """The flags of streaming_ingest/settings.py, their defaults read from `env` first."""
    parser = _Parser(
        prog="python -m streaming_ingest",
        description="Land sales events exactly once in the bronze Delta table (Kafka / Event Hubs, landing "
                    "files, or an Event Hubs Capture archive).",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    groups = {"general": parser}
    for setting in SETTINGS:
        if setting.group not in groups:
            groups[setting.group] = parser.add_argument_group(setting.group)
        value = env_value(setting, env)
        if value is not None and setting.kind is int:
            try:
                value = int(value)
            except ValueError:
                raise ConfigError(f"{setting.flag} ({setting.env}) must be an integer (got {value!r})") from None
        groups[setting.group].add_argument(
            setting.flag, dest=setting.name, type=int if setting.kind is int else str, metavar=setting.metavar,
            default=setting.default if value is None else value, help=help_text(setting),
        )
    kafka = groups[BY_NAME["topic"].group]
    kafka.add_argument("--kafka-option", action="append", default=[], metavar="KEY=VALUE",
                       help="extra kafka.* consumer option (repeatable)")
    kafka.add_argument("--databricks", action="store_true", default="DATABRICKS_RUNTIME_VERSION" in env,
                       help="running on Databricks: use the cluster's session and its shaded Kafka "
                            "client (default: on when DATABRICKS_RUNTIME_VERSION is set)")
    return parser


def parse_args(argv: list[str] | None = None) -> IngestConfig:
    """Flags override environment variables; on Databricks the job task passes the flags."""
    env = os.environ
    base = lakehouse_dir()
    args = build_parser(env, base).parse_args(argv)
    kafka_options = {}
    for item in args.kafka_option:
        if "=" not in item:
            raise ConfigError(f"--kafka-option must be KEY=VALUE (got {item!r})")
        key, value = item.split("=", 1)
        kafka_options[key] = value
    bronze_path = args.bronze_path
    checkpoint = args.checkpoint_dir
    if args.databricks:
        # No local defaults on a cluster: $LAKEHOUSE_DIR would point into the workspace files.
        if not checkpoint:
            raise ConfigError("--checkpoint-dir (CHECKPOINT_DIR) is required on Databricks")
        if not bronze_path and not args.bronze_table:
            raise ConfigError(
                "--bronze-path (BRONZE_PATH) or --bronze-table (INGEST_BRONZE_TABLE) is required on Databricks"
            )
    else:
        if not bronze_path and not args.bronze_table:
            bronze_path = f"{base}/bronze/sales_events"
        checkpoint = checkpoint or f"{base}/checkpoints/bronze_sales_events_{args.source}"
    metrics_path = args.metrics_path
    if not metrics_path and not args.metrics_table and not args.databricks:
        metrics_path = f"{base}/audit/stream_batches"
    if metrics_path.lower() == "off":
        metrics_path = ""
    return IngestConfig(
        source=args.source,
        landing_dir=args.landing_dir or f"{base}/landing/sales",
        max_files_per_trigger=args.max_files_per_trigger,
        capture_dir=args.capture_dir or ("" if args.databricks else f"{base}/capture"),
        file_reader=args.file_reader,
        autoloader_schema_location=args.autoloader_schema_location,
        file_events=_env_bool(str(args.file_events), "--file-events"),
        bootstrap_servers=args.bootstrap_servers,
        eventhubs_connection_string=env.get("EVENTHUB_CONNECTION_STRING", ""),
        topic=args.topic,
        starting_offsets=args.starting_offsets,
        max_offsets_per_trigger=args.max_offsets_per_trigger,
        min_partitions=args.min_partitions,
        fail_on_data_loss=_env_bool(str(args.fail_on_data_loss)),
        kafka_options=kafka_options,
        databricks=args.databricks,
        bronze_path=bronze_path,
        bronze_table=args.bronze_table,
        metrics_path=metrics_path,
        metrics_table=args.metrics_table,
        checkpoint_dir=checkpoint,
        trigger=args.trigger,
        trigger_interval=args.trigger_interval,
        driver_memory=args.driver_memory,
        progress_log=args.progress_log,
    ).validate()
