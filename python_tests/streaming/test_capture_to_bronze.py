"""An Event Hubs Capture archive → bronze through the real streaming job (available-now): every
archived event exactly once, with the coordinates that trace it back to its Avro file."""

from __future__ import annotations

import base64
import copy
import datetime as dt
import os
import re
from pathlib import Path

import fastavro
import pytest

from producer.sinks.capture import CAPTURE_SCHEMA, PARSED_SCHEMA, capture_path, enqueued_time_text
from python_tests.producer.producer_contract import failing_rules, run_producer
from streaming_ingest.bronze import BRONZE_SCHEMA
from streaming_ingest.config import ConfigError, parse_args
from streaming_ingest.sources import capture_enqueued_time

# A schema seen in captured files in the wild: the Properties union also allows null. Spark's
# Avro reader takes the fields bronze keeps by name, whichever of the two a file has.
WILD = copy.deepcopy(CAPTURE_SCHEMA)
WILD["fields"][4]["type"]["values"] = ["long", "double", "string", "bytes", "null"]
WILD_SCHEMA = fastavro.parse_schema(WILD)

pytestmark = pytest.mark.spark


def archived(root: Path) -> dict[tuple[int, int], dict]:
    """(partition, sequence number) → the record and its file, read with fastavro."""
    events = {}
    for path in sorted(root.rglob("*.avro")):
        partition = int(path.relative_to(root).parts[2])
        with open(path, "rb") as handle:
            for record in fastavro.reader(handle):
                events[(partition, record["SequenceNumber"])] = {**record, "file": path}
    return events


def write_capture_file(path: Path, records: list[dict], schema: dict = PARSED_SCHEMA) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "wb") as handle:
        fastavro.writer(handle, schema, records)
    os.replace(tmp, path)


def record(sequence: int, body: bytes | None, when: dt.datetime, offset: int) -> dict:
    return {"SequenceNumber": sequence, "Offset": str(offset), "EnqueuedTimeUtc": enqueued_time_text(when),
            "SystemProperties": {}, "Properties": {}, "Body": body}


def test_every_archived_event_lands_once_with_its_coordinates(spark, lakehouse):
    archive = lakehouse.path("capture")
    result = run_producer("events", "--sink", "capture", "--capture-dir", str(archive), "--total", "1500",
                          "--start", "2026-11-20T08:00:00Z", "--dirty", "0.02", "--capture-window-seconds", "1",
                          "--quiet")
    assert result.returncode == 0, result.stderr
    # a hand-made file of odd bodies (no body, bytes that are not UTF-8, not an object), written
    # with the wild schema and a Properties value that is null
    odd_at = dt.datetime(2026, 11, 20, 9, 0, 0, tzinfo=dt.timezone.utc)
    not_utf8 = b'{"transaction_id":"x\xff1","quantity":1}'
    odd = [record(0, None, odd_at, 0), record(1, not_utf8, odd_at, 0), record(2, b"[1,2]", odd_at, 11)]
    odd[2]["Properties"] = {"note": None, "n": 3}
    write_capture_file(capture_path(archive, "other-ns", "sales-events", 7, odd_at), odd, WILD_SCHEMA)
    (archive / "lakehouse-local" / "sales-events" / "0" / ".pending.avro.tmp").write_bytes(b"not yet")
    expected = archived(archive)
    assert len(expected) == 1503

    out = lakehouse.ingest("--source", "capture").stdout
    assert "[ingest] done: 1503 rows" in out
    bronze = spark.read.format("delta").load(lakehouse.bronze_path)
    rows = bronze.collect()
    assert len(rows) == 1503 and len({r.record_id for r in rows}) == 1503
    by_coordinates = {(r.eventhub_partition, r.eventhub_sequence_number): r for r in rows}
    assert set(by_coordinates) == set(expected)  # every event once, nothing else
    for key, event in expected.items():
        row = by_coordinates[key]
        assert row.source_kind == "capture"
        assert row.source_file == f"file:{event['file']}"
        assert row.record_id.startswith(f"file:{event['file']}#")
        assert row.eventhub_offset == event["Offset"]
        enqueued = dt.datetime.strptime(event["EnqueuedTimeUtc"], "%m/%d/%Y %I:%M:%S %p")
        assert row.eventhub_enqueued_time == enqueued  # the session runs in UTC
        body = event["Body"]
        if body is not None and key != (7, 1):
            assert row.raw_payload == body.decode("utf-8")
        assert (row.kafka_topic, row.kafka_partition, row.kafka_offset) == (None, None, None)
    # the odd bodies stay in bronze, none of them an event: a null payload, the bytes that are
    # not UTF-8 whole in base64 (not decoded into a JSON object with a mangled id), the array
    assert [by_coordinates[(7, n)].raw_payload for n in range(3)] == [
        None, "base64:" + base64.b64encode(not_utf8).decode(), "[1,2]"]
    assert [by_coordinates[(7, n)].is_json_object for n in range(3)] == [False, False, False]
    assert by_coordinates[(7, 1)].transaction_id is None
    # every other body: a JSON object exactly when the contract's classifier says it is one
    now = dt.datetime.now(dt.timezone.utc)
    generated = {k: e for k, e in expected.items() if k[0] != 7}
    assert {k: by_coordinates[k].is_json_object for k in generated} == {
        k: failing_rules(e["Body"].decode("utf-8"), now)[:1] != ["malformed_json"] for k, e in generated.items()}
    assert sum(not by_coordinates[k].is_json_object for k in generated) == sum(
        1 for e in generated.values() if failing_rules(e["Body"].decode("utf-8"), now)[:1] == ["malformed_json"]) > 0
    # within a file, source_position follows the sequence numbers (silver's tie-break order)
    for path in {r.source_file for r in rows}:
        in_file = sorted((r for r in rows if r.source_file == path), key=lambda r: r.source_position)
        assert [r.eventhub_sequence_number for r in in_file] == sorted(r.eventhub_sequence_number for r in in_file)

    # the same checkpoint again: nothing new, nothing doubled; a new file: read once
    assert "[ingest] done: 0 rows" in lakehouse.ingest("--source", "capture").stdout
    later = odd_at + dt.timedelta(minutes=1)
    write_capture_file(capture_path(archive, "other-ns", "sales-events", 7, later),
                       [record(3, b'{"transaction_id":"late-1"}', later, 16)])
    assert "[ingest] done: 1 rows" in lakehouse.ingest("--source", "capture").stdout
    final = spark.read.format("delta").load(lakehouse.bronze_path)
    assert final.count() == 1504
    assert final.where("eventhub_partition = 7 and eventhub_sequence_number = 3").count() == 1


def test_a_bronze_created_before_the_capture_columns_gets_them_and_keeps_its_rows(spark, lakehouse):
    bronze = lakehouse.bronze_path
    spark.sql(
        f"""CREATE TABLE delta.`{bronze}` (record_id string not null, raw_payload string,
        is_json_object boolean not null, transaction_id string, event_timestamp string, store_id string,
        channel_id string, product_id string, customer_id string, quantity bigint, unit_price decimal(18,6),
        discount_pct decimal(18,6), has_discount_pct boolean not null, payment_method string, currency string,
        ingestion_time timestamp not null, source_kind string not null, source_file string, source_position bigint,
        kafka_topic string, kafka_partition int, kafka_offset bigint, kafka_timestamp timestamp, kafka_key string)
        USING delta TBLPROPERTIES ('delta.appendOnly' = 'true')"""
    )
    spark.sql(f"""INSERT INTO delta.`{bronze}` (record_id, raw_payload, is_json_object, has_discount_pct,
        ingestion_time, source_kind) VALUES ('old-1', '{{}}', true, false, timestamp'2026-11-01 00:00:00', 'files')""")
    lakehouse.write_landing_file("sales-0001.json", ['{"transaction_id":"n1"}'])

    out = lakehouse.ingest().stdout
    assert ("[ingest] bronze: added the columns eventhub_partition, eventhub_sequence_number, eventhub_offset, "
            "eventhub_enqueued_time") in out
    table = spark.read.format("delta").load(bronze)
    assert [(f.name, f.dataType) for f in table.schema.fields] == [(f.name, f.dataType) for f in BRONZE_SCHEMA.fields]
    assert sorted((r.record_id[:5], r.eventhub_sequence_number) for r in table.collect()) == [
        ("file:", None), ("old-1", None)]
    assert "added the columns" not in lakehouse.ingest().stdout  # once


def test_on_databricks_files_are_read_with_auto_loader(monkeypatch, tmp_path):
    monkeypatch.setenv("DATABRICKS_RUNTIME_VERSION", "17.3")
    base = ["--bronze-table", "main.bronze.sales_events", "--checkpoint-dir", "/Volumes/main/bronze/checkpoints/c"]
    capture = parse_args(["--source", "capture", "--capture-dir", "abfss://archive@acct.dfs.core.windows.net/ns",
                          *base, "--max-files-per-trigger", "50"])
    assert capture.uses_autoloader
    assert capture.autoloader_options("avro") == {
        "cloudFiles.format": "avro",
        "cloudFiles.schemaLocation": "/Volumes/main/bronze/checkpoints/c/autoloader_schema",
        "cloudFiles.includeExistingFiles": "true",
        "pathGlobFilter": "*.avro",
        "cloudFiles.maxFilesPerTrigger": "50",
    }
    landing = parse_args(["--source", "files", "--landing-dir", "/Volumes/main/bronze/landing", *base,
                          "--file-events", "true", "--autoloader-schema-location", "/Volumes/main/bronze/schemas/x"])
    assert landing.autoloader_options("text") == {
        "cloudFiles.format": "text",
        "cloudFiles.schemaLocation": "/Volumes/main/bronze/schemas/x",
        "cloudFiles.includeExistingFiles": "true",
        "pathGlobFilter": "*.json",
        "cloudFiles.useManagedFileEvents": "true",
    }
    assert not parse_args(["--source", "files", *base, "--file-reader", "spark"]).uses_autoloader
    monkeypatch.delenv("DATABRICKS_RUNTIME_VERSION")
    (tmp_path / "capture").mkdir()
    local = ["--source", "capture", "--capture-dir", str(tmp_path / "capture"), "--bronze-path", str(tmp_path / "b")]
    assert not parse_args(local).uses_autoloader
    # what Auto Loader alone understands stops at start-up here, naming the setting
    for extra, message in (
        (["--file-reader", "autoloader"], "--file-reader autoloader needs Databricks"),
        (["--file-events", "true"], "--file-events is an Auto Loader setting"),
        (["--autoloader-schema-location", "/tmp/s"], "--autoloader-schema-location is an Auto Loader setting"),
        (["--capture-dir", str(tmp_path / "nowhere")], f"--capture-dir (CAPTURE_DIR) is not a folder: {tmp_path / 'nowhere'}"),
    ):
        with pytest.raises(ConfigError, match="^" + re.escape(message)):
            parse_args([*local, *extra])


@pytest.mark.parametrize("text, expected", [
    ("6/12/2020 6:32:34 PM", dt.datetime(2020, 6, 12, 18, 32, 34)),
    ("1/2/2026 12:00:00 AM", dt.datetime(2026, 1, 2, 0, 0, 0)),
    ("12/31/2026 12:30:05 PM", dt.datetime(2026, 12, 31, 12, 30, 5)),
    ("11/20/2026 11:59:59 PM", dt.datetime(2026, 11, 20, 23, 59, 59)),
    ("2026-11-20T08:00:01.5Z", dt.datetime(2026, 11, 20, 8, 0, 1, 500000)),
    ("2026-11-20T09:00:01+01:00", dt.datetime(2026, 11, 20, 8, 0, 1)),
    ("13/40/2026 1:00:00 PM", None),
    ("garbage", None),
    (None, None),
])
def test_capture_enqueued_time_reads_captures_text_in_utc(spark, text, expected):
    frame = spark.createDataFrame([(text,)], "t string")
    assert frame.select(capture_enqueued_time(frame.t).alias("at")).first().at == expected


def test_capture_needs_an_archive_on_databricks(monkeypatch, capsys):
    from streaming_ingest.__main__ import main

    monkeypatch.setenv("DATABRICKS_RUNTIME_VERSION", "17.3")
    with pytest.raises(SystemExit) as exit_:
        main(["--source", "capture", "--bronze-table", "main.bronze.sales_events", "--checkpoint-dir", "/tmp/c"])
    assert exit_.value.code == 2
    assert capsys.readouterr().err.strip() == (
        "streaming_ingest: error: --capture-dir (CAPTURE_DIR) is required for --source capture")
    with pytest.raises(SystemExit):
        main(["--source", "files", "--file-reader", "cloud", "--bronze-table", "t", "--checkpoint-dir", "/tmp/c"])
    assert capsys.readouterr().err.strip() == (
        "streaming_ingest: error: --file-reader must be one of auto, autoloader, spark (got 'cloud')")
