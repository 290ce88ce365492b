"""CLI: help, bad configuration -> exit 2 with one stderr line naming the setting."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from python_tests.producer.producer_contract import run_producer

from producer.config import KafkaSinkConfig


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("EVENTHUB_CONNECTION_STRING", "EVENTHUB_NAME", "KAFKA_BOOTSTRAP_SERVERS")}
    env.update(extra)
    return env


def test_help_lists_subcommands() -> None:
    result = run_producer("--help")
    assert result.returncode == 0
    assert "{dims,events}" in result.stdout
    assert "write the five dimension seed CSVs" in result.stdout
    assert "send sales events to files, Kafka, Event Hubs or a Capture archive" in " ".join(result.stdout.split())


@pytest.mark.parametrize(("args", "message"), [
    (["events", "--total", "5", "--rate", "-5"], "--rate must be >= 0 (got -5)"),
    (["events", "--total", "5", "--sink", "s3"],
     "--sink must be one of files, kafka, eventhubs, capture (got 's3')"),
    (["events", "--total", "5", "--duplicates", "1.5"],
     "--duplicates must be a fraction in [0, 1] (got 1.5)"),
    (["events", "--total", "5", "--invalid-price", "-0.1"],
     "--invalid-price must be a fraction in [0, 1] (got -0.1)"),
    (["events", "--total", "5", "--dirty", "2"], "--dirty must be a fraction in [0, 1] (got 2)"),
    (["events", "--total", "5", "--late", "0.6", "--duplicates", "0.6"],
     "dirty-data fractions must sum to at most 1 (got 1.2)"),
    (["events", "--total", "ten"], "argument --total: must be an integer (got 'ten')"),
    (["events", "--total", "-1"], "--total must be >= 0 (got -1)"),
    (["events"], "--total or --duration is required when --rate is 0"),
    (["events", "--total", "5", "--start", "soon"],
     "--start must be an ISO-8601 timestamp, e.g. 2026-11-20T08:00:00Z (got 'soon')"),
    (["events", "--total", "5", "--file-max-events", "0"], "--file-max-events must be >= 1 (got 0)"),
    (["events", "--total", "5", "--sink", "kafka"],
     "--bootstrap-servers (or KAFKA_BOOTSTRAP_SERVERS, or an Event Hubs connection string) is "
     "required for --sink kafka"),
    (["events", "--total", "5", "--sink", "eventhubs"],
     "--eventhubs-connection-string (or EVENTHUB_CONNECTION_STRING) is required for --sink "
     "eventhubs"),
    (["events", "--total", "5", "--sink", "eventhubs", "--eventhubs-connection-string",
      "Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKeyName=a;SharedAccessKey=b"],
     "--eventhub-name (or EVENTHUB_NAME, or EntityPath in the connection string) is required "
     "for --sink eventhubs"),
    (["events", "--total", "5", "--sink", "eventhubs", "--eventhubs-connection-string", "oops",
      "--eventhub-name", "x"],
     "Event Hubs connection string must contain Endpoint=sb://<namespace>.servicebus.windows.net/"),
    (["events", "--total", "5", "--seeds-dir", "/nonexistent"],
     "--seeds-dir /nonexistent has no products.csv (run: python -m producer dims --out "
     "/nonexistent)"),
    (["sideways"], "argument {dims,events}: invalid choice: 'sideways' (choose from 'dims', 'events')"),
])
def test_bad_config_exits_2_with_one_line(args: list[str], message: str, tmp_path: Path) -> None:
    extra = ["--landing-dir", str(tmp_path)] if args[0] == "events" else []
    result = run_producer(*args, *extra, env=clean_env())
    assert result.returncode == 2
    assert result.stderr == f"producer: error: {message}\n"
    assert result.stdout == ""
    assert list(tmp_path.iterdir()) == []


def test_kafka_config_from_an_event_hubs_connection_string(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KAFKA_BOOTSTRAP_SERVERS", raising=False)
    conn = ("Endpoint=sb://retail-ns.servicebus.windows.net/;SharedAccessKeyName=send;"
            "SharedAccessKey=abc=;EntityPath=sales-events")
    monkeypatch.setenv("EVENTHUB_CONNECTION_STRING", conn)
    config = KafkaSinkConfig.resolve(None, "sales-events", None, ["linger.ms=5"])
    assert config == KafkaSinkConfig(
        bootstrap_servers="retail-ns.servicebus.windows.net:9093",
        topic="sales-events",
        extra={"security.protocol": "SASL_SSL", "sasl.mechanism": "PLAIN",
               "sasl.username": "$ConnectionString", "sasl.password": conn, "linger.ms": "5"})
    # explicit bootstrap servers win over the connection string
    assert KafkaSinkConfig.resolve("127.0.0.1:9092", "t", None, []) == KafkaSinkConfig(
        "127.0.0.1:9092", "t", {})
