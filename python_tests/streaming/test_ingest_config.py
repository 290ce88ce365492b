"""The job's configuration: Kafka / Event Hubs reader options, Databricks settings, --help."""

from __future__ import annotations

import subprocess
import sys

import pytest

from python_tests.conftest import REPO_ROOT
from streaming_ingest.__main__ import main
from streaming_ingest.config import ConfigError, IngestConfig, build_parser, parse_args
from streaming_ingest.settings import DEFAULTS, SETTINGS, markdown_table

CONNECTION_STRING = (
    "Endpoint=sb://retail-ns.servicebus.windows.net/;SharedAccessKeyName=listen;"
    "SharedAccessKey=abc+def/ghi=;EntityPath=sales-events"
)
EVENTHUBS_OPTIONS = {
    "subscribe": "sales-events",
    "startingOffsets": "earliest",
    "failOnDataLoss": "true",
    "includeHeaders": "false",
    "maxOffsetsPerTrigger": "200000",
    "kafka.bootstrap.servers": "retail-ns.servicebus.windows.net:9093",
    "kafka.security.protocol": "SASL_SSL",
    "kafka.sasl.mechanism": "PLAIN",
    # Microsoft's recommended consumer settings for the Event Hubs Kafka endpoint
    "kafka.metadata.max.age.ms": "180000",
    "kafka.connections.max.idle.ms": "180000",
    "kafka.request.timeout.ms": "60000",
    "kafka.session.timeout.ms": "30000",
}


def config(**values) -> IngestConfig:
    base = {"source": "kafka", "bronze_path": "/b", "checkpoint_dir": "/c"}
    return IngestConfig(**{**base, **values})


def test_plain_kafka_options():
    options = config(
        bootstrap_servers="127.0.0.1:9092", topic="t1", starting_offsets="latest", max_offsets_per_trigger=0,
        min_partitions=6, fail_on_data_loss=False, kafka_options={"fetch.max.bytes": "1048576", "kafka.client.id": "x"},
    ).kafka_reader_options()
    assert options == {
        "subscribe": "t1",
        "startingOffsets": "latest",
        "failOnDataLoss": "false",
        "includeHeaders": "false",
        "minPartitions": "6",
        "kafka.bootstrap.servers": "127.0.0.1:9092",
        "kafka.fetch.max.bytes": "1048576",
        "kafka.client.id": "x",
    }


def test_event_hubs_connection_string_gives_sasl_ssl_plain_options():
    options = config(eventhubs_connection_string=CONNECTION_STRING).kafka_reader_options()
    assert options == {
        **EVENTHUBS_OPTIONS,
        "kafka.sasl.jaas.config": (
            'org.apache.kafka.common.security.plain.PlainLoginModule required username="$ConnectionString" '
            f'password="{CONNECTION_STRING}";'
        ),
    }


def test_on_databricks_the_login_module_is_the_shaded_one():
    options = config(eventhubs_connection_string=CONNECTION_STRING, databricks=True).kafka_reader_options()
    assert options == {
        **EVENTHUBS_OPTIONS,
        "kafka.sasl.jaas.config": (
            'kafkashaded.org.apache.kafka.common.security.plain.PlainLoginModule required '
            f'username="$ConnectionString" password="{CONNECTION_STRING}";'
        ),
    }


def test_databricks_task_parameters_and_the_secret_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("DATABRICKS_RUNTIME_VERSION", "15.4")
    monkeypatch.setenv("EVENTHUB_CONNECTION_STRING", CONNECTION_STRING)
    for name in ("KAFKA_BOOTSTRAP_SERVERS", "BRONZE_PATH", "INGEST_BRONZE_TABLE", "BRONZE_TABLE_NAME", "CHECKPOINT_DIR"):
        monkeypatch.delenv(name, raising=False)
    parsed = parse_args([
        "--source", "kafka", "--topic", "sales-events", "--bronze-table", "main.bronze.sales_events",
        "--checkpoint-dir", str(tmp_path / "cp"), "--trigger", "available-now",
    ])
    assert (parsed.databricks, parsed.bronze_table, parsed.bronze_path) == (True, "main.bronze.sales_events", "")
    assert parsed.kafka_reader_options()["kafka.sasl.jaas.config"].startswith("kafkashaded.")
    assert "retail-ns" not in repr(parsed) and "SharedAccessKey" not in repr(parsed)  # secret kept out of logs


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--bronze-table", "main.bronze.sales_events"], "--checkpoint-dir (CHECKPOINT_DIR) is required on Databricks"),
        (["--checkpoint-dir", "/tmp/cp"],
         "--bronze-path (BRONZE_PATH) or --bronze-table (INGEST_BRONZE_TABLE) is required on Databricks"),
    ],
)
def test_databricks_has_no_local_defaults(monkeypatch, args, message):
    monkeypatch.setenv("DATABRICKS_RUNTIME_VERSION", "15.4")
    for name in ("BRONZE_PATH", "INGEST_BRONZE_TABLE", "BRONZE_TABLE_NAME", "CHECKPOINT_DIR"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(ConfigError) as error:
        parse_args(["--source", "files", "--landing-dir", "/tmp/landing", *args])
    assert str(error.value) == message


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--bronze-table", "a.b.c.d"], "--bronze-table must be [catalog.]schema.table or table (got 'a.b.c.d')"),
        (["--max-offsets-per-trigger", "lots"], "argument --max-offsets-per-trigger: invalid int value: 'lots'"),
        (["--fail-on-data-loss", "maybe"], "--fail-on-data-loss must be true or false (got 'maybe')"),
        (["--min-partitions", "-1"], "--min-partitions must be >= 0 (got -1)"),
    ],
)
def test_bad_settings_are_named(monkeypatch, tmp_path, args, message):
    monkeypatch.delenv("DATABRICKS_RUNTIME_VERSION", raising=False)
    monkeypatch.setenv("LAKEHOUSE_DIR", str(tmp_path))
    with pytest.raises(ConfigError) as error:
        parse_args(args)
    assert str(error.value) == message


def test_help_documents_the_kafka_defaults():
    result = subprocess.run([sys.executable, "-m", "streaming_ingest", "--help"], cwd=REPO_ROOT,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0
    text = " ".join(result.stdout.split())
    assert (
        "maxOffsetsPerTrigger: offsets per micro-batch across all partitions, 0 = no limit "
        "(MAX_OFFSETS_PER_TRIGGER; default 200000)"
    ) in text
    assert (
        "failOnDataLoss: fail when unread offsets are gone (retention, topic recreated) rather than skip them "
        "(FAIL_ON_DATA_LOSS; default true)"
    ) in text
    assert "EVENTHUB_CONNECTION_STRING" in text and "DATABRICKS_RUNTIME_VERSION" in text


def test_the_entry_point_fails_by_raising_the_exit_status(monkeypatch, tmp_path):
    """A python_wheel_task ignores what its entry point returns: a bad setting (and a failed
    query) must raise SystemExit with the status, or the task would end as succeeded."""
    monkeypatch.setenv("LAKEHOUSE_DIR", str(tmp_path))
    with pytest.raises(SystemExit) as stopped:
        main(["--source", "pubsub"])
    assert stopped.value.code == 2


def test_every_flag_is_declared_once_with_its_variable_default_and_help(monkeypatch, tmp_path):
    parser = build_parser({}, str(tmp_path))
    flags = {action.option_strings[0]: action for action in parser._actions if action.option_strings}
    declared = {setting.flag: setting for setting in SETTINGS}
    assert set(flags) - set(declared) == {"-h", "--kafka-option", "--databricks"}
    for flag, setting in declared.items():
        assert flags[flag].default == setting.default, flag
        assert f"({setting.env}; default " in flags[flag].help, flag
    assert len({s.env for s in SETTINGS}) == len(SETTINGS)  # one variable per setting
    # IngestConfig's defaults are the declared ones
    assert {name: getattr(IngestConfig(), name) for name in DEFAULTS} == DEFAULTS
    # each variable sets its setting
    monkeypatch.setenv("LAKEHOUSE_DIR", str(tmp_path))
    monkeypatch.setenv("KAFKA_TOPIC", "from-env")
    monkeypatch.setenv("MAX_OFFSETS_PER_TRIGGER", "7")
    parsed = parse_args(["--source", "kafka", "--bootstrap-servers", "127.0.0.1:1"])
    assert (parsed.topic, parsed.max_offsets_per_trigger) == ("from-env", 7)
    assert parse_args(["--source", "kafka", "--bootstrap-servers", "127.0.0.1:1", "--topic", "flag"]).topic == "flag"


def test_the_docs_settings_table_is_the_declared_one():
    page = (REPO_ROOT / "docs" / "streaming-job.md").read_text(encoding="utf-8")
    start = page.index("<!-- settings table: generated by `python -m streaming_ingest.settings` -->\n")
    table = page[page.index("\n", start) + 1:page.index("<!-- end of settings table -->")]
    assert table == markdown_table(), "regenerate it: python -m streaming_ingest.settings"


def test_the_old_bronze_table_variable_still_works_with_a_warning(monkeypatch, tmp_path, capsys):
    monkeypatch.delenv("DATABRICKS_RUNTIME_VERSION", raising=False)
    monkeypatch.delenv("INGEST_BRONZE_TABLE", raising=False)
    monkeypatch.setenv("LAKEHOUSE_DIR", str(tmp_path))
    monkeypatch.setenv("BRONZE_TABLE_NAME", "bronze.sales_events")
    assert parse_args(["--checkpoint-dir", str(tmp_path / "cp")]).bronze_table == "bronze.sales_events"
    assert capsys.readouterr().err == (
        "[ingest] WARNING: BRONZE_TABLE_NAME is deprecated and will be removed: set INGEST_BRONZE_TABLE "
        "(or pass --bronze-table)\n"
    )
    monkeypatch.setenv("INGEST_BRONZE_TABLE", "main.bronze.sales_events")  # the new name wins
    assert parse_args(["--checkpoint-dir", str(tmp_path / "cp")]).bronze_table == "main.bronze.sales_events"
    assert capsys.readouterr().err == ""
