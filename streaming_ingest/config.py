"""The streaming job's configuration: flags, then environment variables, validated at start-up."""

from __future__ import annotations

import argparse
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

SOURCES = ("files", "kafka")
TRIGGERS = ("processing-time", "available-now")
REPO_ROOT = Path(__file__).resolve().parent.parent


class ConfigError(ValueError):
    """A bad setting; the message names it."""


def lakehouse_dir() -> str:
    return os.environ.get("LAKEHOUSE_DIR", str(REPO_ROOT / ".lakehouse"))


@dataclass(frozen=True)
class IngestConfig:
    source: str = "files"
    # files
    landing_dir: str = ""
    max_files_per_trigger: int = 0
    # kafka / Event Hubs (Kafka endpoint)
    bootstrap_servers: str = ""
    eventhubs_connection_string: str = field(default="", repr=False)
    topic: str = "sales-events"
    starting_offsets: str = "earliest"
    max_offsets_per_trigger: int = 200_000
    fail_on_data_loss: bool = True
    kafka_options: dict[str, str] = field(default_factory=dict)
    databricks: bool = False
    # sink
    bronze_path: str = ""
    bronze_table: str = ""
    checkpoint_dir: str = ""
    # trigger
    trigger: str = "processing-time"
    trigger_interval: str = "5 seconds"
    driver_memory: str = "1g"
    query_name: str = "bronze_sales_events"

    def validate(self) -> "IngestConfig":
        if self.source not in SOURCES:
            raise ConfigError(f"--source must be one of {', '.join(SOURCES)} (got {self.source!r})")
        if self.trigger not in TRIGGERS:
            raise ConfigError(f"--trigger must be one of {', '.join(TRIGGERS)} (got {self.trigger!r})")
        if not re.fullmatch(r"\d+\s*(ms|milliseconds?|s|seconds?|minutes?)", self.trigger_interval.strip()):
            raise ConfigError(f"--trigger-interval must look like '5 seconds' (got {self.trigger_interval!r})")
        if self.source == "files" and not self.landing_dir:
            raise ConfigError("--landing-dir (LANDING_DIR) is required for --source files")
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
        if self.max_files_per_trigger < 0:
            raise ConfigError(f"--max-files-per-trigger must be >= 0 (got {self.max_files_per_trigger})")
        if not self.bronze_path and not self.bronze_table:
            raise ConfigError("--bronze-path (BRONZE_PATH) or --bronze-table (BRONZE_TABLE) is required")
        if not self.checkpoint_dir:
            raise ConfigError("--checkpoint-dir (CHECKPOINT_DIR) is required")
        _check_writable("--checkpoint-dir", self.checkpoint_dir)
        if self.bronze_path:
            _check_writable("--bronze-path", self.bronze_path)
        return self

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
                    "kafka.request.timeout.ms": "60000",
                    "kafka.session.timeout.ms": "30000",
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


def _check_writable(setting: str, location: str) -> None:
    """Local paths must be creatable and writable; cloud URIs (abfss:, dbfs:, s3:) are left to Spark."""
    if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", location) and not location.startswith("file:"):
        return
    path = Path(location.removeprefix("file:"))
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / ".write-probe"
        probe.write_text("ok")
        probe.unlink()
    except OSError as error:
        raise ConfigError(f"{setting} is not writable: {location} ({error.strerror or error})") from None


def _env_bool(value: str) -> bool:
    if value.lower() in ("1", "true", "yes", "on"):
        return True
    if value.lower() in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"--fail-on-data-loss must be true or false (got {value!r})")


def parse_args(argv: list[str] | None = None) -> IngestConfig:
    """Flags override environment variables; on Databricks the job task passes the flags."""
    env = os.environ
    base = lakehouse_dir()
    parser = argparse.ArgumentParser(
        prog="python -m streaming_ingest",
        description="Land sales events exactly once in the bronze Delta table.",
    )
    parser.add_argument("--source", default=env.get("INGEST_SOURCE", "files"), help="files | kafka")
    parser.add_argument("--landing-dir", default=env.get("LANDING_DIR", f"{base}/landing/sales"))
    parser.add_argument("--max-files-per-trigger", type=int, default=int(env.get("MAX_FILES_PER_TRIGGER", "0")))
    parser.add_argument("--bootstrap-servers", default=env.get("KAFKA_BOOTSTRAP_SERVERS", ""))
    parser.add_argument("--topic", default=env.get("KAFKA_TOPIC", "sales-events"))
    parser.add_argument("--starting-offsets", default=env.get("STARTING_OFFSETS", "earliest"))
    parser.add_argument(
        "--max-offsets-per-trigger", type=int, default=int(env.get("MAX_OFFSETS_PER_TRIGGER", "200000"))
    )
    parser.add_argument("--fail-on-data-loss", default=env.get("FAIL_ON_DATA_LOSS", "true"))
    parser.add_argument(
        "--kafka-option", action="append", default=[], metavar="KEY=VALUE", help="extra kafka.* consumer option"
    )
    parser.add_argument("--bronze-path", default=env.get("BRONZE_PATH", ""))
    parser.add_argument("--bronze-table", default=env.get("BRONZE_TABLE_NAME", ""))
    parser.add_argument("--checkpoint-dir", default=env.get("CHECKPOINT_DIR", ""))
    parser.add_argument("--trigger", default=env.get("INGEST_TRIGGER", "processing-time"))
    parser.add_argument("--trigger-interval", default=env.get("TRIGGER_INTERVAL", "5 seconds"))
    parser.add_argument("--driver-memory", default=env.get("INGEST_DRIVER_MEMORY", "1g"))
    parser.add_argument("--databricks", action="store_true", default="DATABRICKS_RUNTIME_VERSION" in env)
    args = parser.parse_args(argv)
    kafka_options = {}
    for item in args.kafka_option:
        if "=" not in item:
            raise ConfigError(f"--kafka-option must be KEY=VALUE (got {item!r})")
        key, value = item.split("=", 1)
        kafka_options[key] = value
    bronze_path = args.bronze_path
    if not bronze_path and not args.bronze_table:
        bronze_path = f"{base}/bronze/sales_events"
    checkpoint = args.checkpoint_dir or f"{base}/checkpoints/bronze_sales_events_{args.source}"
    return IngestConfig(
        source=args.source,
        landing_dir=args.landing_dir,
        max_files_per_trigger=args.max_files_per_trigger,
        bootstrap_servers=args.bootstrap_servers,
        eventhubs_connection_string=env.get("EVENTHUB_CONNECTION_STRING", ""),
        topic=args.topic,
        starting_offsets=args.starting_offsets,
        max_offsets_per_trigger=args.max_offsets_per_trigger,
        fail_on_data_loss=_env_bool(str(args.fail_on_data_loss)),
        kafka_options=kafka_options,
        databricks=args.databricks,
        bronze_path=bronze_path,
        bronze_table=args.bronze_table,
        checkpoint_dir=checkpoint,
        trigger=args.trigger,
        trigger_interval=args.trigger_interval,
        driver_memory=args.driver_memory,
    ).validate()
