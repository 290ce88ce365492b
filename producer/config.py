"""Typed configuration of the producer, read from flags and environment, validated at start-up.

Every problem is reported as one ``ConfigError`` whose message names the bad setting; the CLI
prints it as a single ``producer: error: ...`` line and exits with status 2.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SEEDS_DIR = REPO_ROOT / "seeds"
SINKS = ("files", "kafka", "eventhubs", "capture")
DEFAULT_TOPIC = "sales-events"
# Spacing of event_timestamp (events per second of event time) when --rate is 0.
DEFAULT_SIM_RATE = 1000.0


class ConfigError(ValueError):
    """A bad setting; the message names it."""


def lakehouse_dir() -> Path:
    return Path(os.environ.get("LAKEHOUSE_DIR") or REPO_ROOT / ".lakehouse")


def default_landing_dir() -> Path:
    return lakehouse_dir() / "landing" / "sales"


def default_capture_dir() -> Path:
    return lakehouse_dir() / "capture"


@dataclass(frozen=True)
class DirtyMix:
    """Fraction of messages per dirty kind (each in [0, 1], summing to at most 1).

    ``duplicates``, ``late``, ``unknown_ids`` and ``extra_fields`` are valid events; the other
    kinds are named after the contract's quarantine reason they trigger.
    """

    duplicates: float = 0.0
    late: float = 0.0
    unknown_ids: float = 0.0
    extra_fields: float = 0.0
    malformed_json: float = 0.0
    missing_transaction_id: float = 0.0
    invalid_timestamp: float = 0.0
    future_timestamp: float = 0.0
    invalid_quantity: float = 0.0
    invalid_price: float = 0.0
    invalid_discount: float = 0.0
    missing_reference: float = 0.0
    unsupported_currency: float = 0.0

    def items(self) -> list[tuple[str, float]]:
        return [(name, getattr(self, name)) for name in self.__dataclass_fields__]

    def validate(self) -> None:
        for name, value in self.items():
            if not 0.0 <= value <= 1.0:
                raise ConfigError(f"--{name.replace('_', '-')} must be a fraction in [0, 1] (got {value:g})")
        total = sum(value for _, value in self.items())
        if total > 1.0 + 1e-9:
            raise ConfigError(f"dirty-data fractions must sum to at most 1 (got {total:g})")


@dataclass(frozen=True)
class FilesSinkConfig:
    landing_dir: Path
    max_events: int = 100_000
    max_bytes: int = 0  # 0 = no byte limit
    max_seconds: float = 5.0  # publish a partly filled file after this long (0 = never)

    def validate(self) -> None:
        if self.max_events < 1:
            raise ConfigError(f"--file-max-events must be >= 1 (got {self.max_events})")
        if self.max_bytes < 0:
            raise ConfigError(f"--file-max-bytes must be >= 0 (got {self.max_bytes})")
        if self.max_seconds < 0:
            raise ConfigError(f"--file-max-seconds must be >= 0 (got {self.max_seconds:g})")


@dataclass(frozen=True)
class CaptureSinkConfig:
    """An Event Hubs Capture archive (producer/sinks/capture.py)."""

    capture_dir: Path
    namespace: str = "lakehouse-local"
    eventhub: str = DEFAULT_TOPIC
    partitions: int = 4
    window_seconds: float = 60.0

    def validate(self) -> None:
        for flag, value in (("--capture-namespace", self.namespace), ("--capture-eventhub", self.eventhub)):
            if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", value):
                raise ConfigError(f"{flag} must be a name of letters, digits, '.', '_' or '-' (got {value!r})")
        if not 1 <= self.partitions <= 1024:
            raise ConfigError(f"--capture-partitions must be in [1, 1024] (got {self.partitions})")
        if self.window_seconds < 1:
            raise ConfigError(f"--capture-window-seconds must be >= 1 (got {self.window_seconds:g})")


@dataclass(frozen=True)
class KafkaSinkConfig:
    bootstrap_servers: str
    topic: str = DEFAULT_TOPIC
    # Extra librdkafka settings (SASL for Event Hubs, user --kafka-config overrides).
    extra: dict[str, str] = field(default_factory=dict)

    @classmethod
    def resolve(cls, bootstrap_servers: str | None, topic: str, connection_string: str | None,
                overrides: list[str]) -> "KafkaSinkConfig":
        bootstrap = bootstrap_servers or os.environ.get("KAFKA_BOOTSTRAP_SERVERS") or ""
        conn = connection_string or os.environ.get("EVENTHUB_CONNECTION_STRING") or ""
        extra: dict[str, str] = {}
        if not bootstrap and conn:
            namespace = eventhubs_namespace(conn)
            bootstrap = f"{namespace}.servicebus.windows.net:9093"
            extra = {
                "security.protocol": "SASL_SSL",
                "sasl.mechanism": "PLAIN",
                "sasl.username": "$ConnectionString",
                "sasl.password": conn,
            }
        if not bootstrap:
            raise ConfigError(
                "--bootstrap-servers (or KAFKA_BOOTSTRAP_SERVERS, or an Event Hubs connection "
                "string) is required for --sink kafka")
        if not topic:
            raise ConfigError("--topic must not be empty")
        for item in overrides:
            key, sep, value = item.partition("=")
            if not sep or not key:
                raise ConfigError(f"--kafka-config must be KEY=VALUE (got {item!r})")
            extra[key] = value
        return cls(bootstrap, topic, extra)


@dataclass(frozen=True)
class EventHubsSinkConfig:
    connection_string: str
    eventhub_name: str
    retry_total: int = 3  # the SDK's own retries
    send_retries: int = 3  # our bounded retry around send_batch on EventHubError

    @classmethod
    def resolve(cls, connection_string: str | None, eventhub_name: str | None,
                send_retries: int) -> "EventHubsSinkConfig":
        conn = connection_string or os.environ.get("EVENTHUB_CONNECTION_STRING") or ""
        if not conn:
            raise ConfigError(
                "--eventhubs-connection-string (or EVENTHUB_CONNECTION_STRING) is required "
                "for --sink eventhubs")
        eventhubs_namespace(conn)
        name = eventhub_name or os.environ.get("EVENTHUB_NAME") or _entity_path(conn)
        if not name:
            raise ConfigError("--eventhub-name (or EVENTHUB_NAME, or EntityPath in the "
                              "connection string) is required for --sink eventhubs")
        if send_retries < 0:
            raise ConfigError(f"--send-retries must be >= 0 (got {send_retries})")
        return cls(conn, name, send_retries=send_retries)


def _connection_string_parts(conn: str) -> dict[str, str]:
    parts = {}
    for item in conn.split(";"):
        key, sep, value = item.partition("=")
        if sep:
            parts[key.strip().lower()] = value.strip()
    return parts


def _entity_path(conn: str) -> str:
    return _connection_string_parts(conn).get("entitypath", "")


def eventhubs_namespace(conn: str) -> str:
    """``Endpoint=sb://<namespace>.servicebus.windows.net/;...`` -> ``<namespace>``."""
    endpoint = _connection_string_parts(conn).get("endpoint", "")
    match = re.fullmatch(r"sb://([A-Za-z0-9-]+)\.servicebus\.windows\.net/?", endpoint)
    if not match:
        raise ConfigError(
            "Event Hubs connection string must contain "
            "Endpoint=sb://<namespace>.servicebus.windows.net/")
    return match.group(1)


def parse_start(value: str | None) -> dt.datetime | None:
    if value is None:
        return None
    text = value.strip()
    try:
        parsed = dt.datetime.fromisoformat(text)
    except ValueError:
        raise ConfigError(f"--start must be an ISO-8601 timestamp, e.g. 2026-11-20T08:00:00Z "
                          f"(got {value!r})") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.timezone.utc)
    return parsed.astimezone(dt.timezone.utc)


@dataclass(frozen=True)
class EventsConfig:
    sink: str
    seed: int
    seeds_dir: Path
    total: int | None
    rate: float
    duration: float | None
    start: dt.datetime | None
    sim_rate: float
    future_days: float
    dirty: DirtyMix
    summary_json: Path | None
    progress: bool
    files: FilesSinkConfig | None = None
    kafka: KafkaSinkConfig | None = None
    eventhubs: EventHubsSinkConfig | None = None
    capture: CaptureSinkConfig | None = None

    def validate(self) -> None:
        if self.sink not in SINKS:
            raise ConfigError(f"--sink must be one of {', '.join(SINKS)} (got {self.sink!r})")
        if self.rate < 0:
            raise ConfigError(f"--rate must be >= 0 (got {self.rate:g})")
        if self.total is not None and self.total < 0:
            raise ConfigError(f"--total must be >= 0 (got {self.total})")
        if self.duration is not None and self.duration <= 0:
            raise ConfigError(f"--duration must be > 0 (got {self.duration:g})")
        if self.total is None and self.duration is None and self.rate == 0:
            raise ConfigError("--total or --duration is required when --rate is 0")
        if self.sim_rate <= 0:
            raise ConfigError(f"--sim-rate must be > 0 (got {self.sim_rate:g})")
        if self.future_days <= 1:
            raise ConfigError(f"--future-days must be > 1 (got {self.future_days:g})")
        for name in ("products.csv", "stores.csv", "channels.csv", "customers.csv"):
            if not (self.seeds_dir / name).is_file():
                raise ConfigError(f"--seeds-dir {self.seeds_dir} has no {name} "
                                  f"(run: python -m producer dims --out {self.seeds_dir})")
        self.dirty.validate()
        if self.files is not None:
            self.files.validate()
        if self.capture is not None:
            self.capture.validate()
