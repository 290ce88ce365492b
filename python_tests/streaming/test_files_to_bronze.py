"""Landing files → bronze through the real streaming job (available-now): every line exactly once."""

from __future__ import annotations

import subprocess
import sys

import pytest
from pyspark.sql import functions as F

from python_tests.conftest import REPO_ROOT

pytestmark = pytest.mark.spark


def test_every_line_lands_exactly_once_and_malformed_lines_stay_raw(spark, lakehouse):
    first = [f'{{"transaction_id":"a{i}","quantity":{i}}}' for i in range(1, 6)] + ["{truncated"]
    second = ['{"transaction_id":"b1"}', "", "\u00e9t\u00e9 not json", '{"transaction_id":"a1"}']
    lakehouse.write_landing_file("sales-0001.json", first)
    lakehouse.write_landing_file("sales-0002.json", second)
    # a file still being written (temporary name) is not read
    (lakehouse.landing / ".sales-0003.json.tmp").write_text('{"transaction_id":"partial"\n')

    out = lakehouse.ingest().stdout
    assert "[ingest] done: 10 rows" in out

    bronze = spark.read.format("delta").load(lakehouse.bronze_path)
    rows = bronze.select(
        F.regexp_extract("source_file", r"([^/]+)$", 1).alias("file"), "source_position", "raw_payload",
        "is_json_object",
    ).collect()
    by_file: dict[str, list] = {}
    for row in rows:
        by_file.setdefault(row.file, []).append(row)
    assert sorted(by_file) == ["sales-0001.json", "sales-0002.json"]
    for name, lines in (("sales-0001.json", first), ("sales-0002.json", second)):
        in_order = [r.raw_payload for r in sorted(by_file[name], key=lambda r: r.source_position)]
        assert in_order == lines
    assert sorted(r.raw_payload for r in rows if not r.is_json_object) == ["", "{truncated", "\u00e9t\u00e9 not json"]
    assert bronze.select("record_id").distinct().count() == 10
    assert bronze.select("ingestion_time").distinct().count() == 1

    # a second run over the same files (same checkpoint) adds nothing: exactly once
    again = lakehouse.ingest().stdout
    assert "[ingest] done: 0 rows" in again
    assert spark.read.format("delta").load(lakehouse.bronze_path).count() == 10

    # a new file is picked up on the next run, once
    lakehouse.write_landing_file("sales-0004.json", ['{"transaction_id":"c1"}'])
    lakehouse.ingest()
    final = spark.read.format("delta").load(lakehouse.bronze_path)
    assert final.count() == 11
    assert final.where("transaction_id = 'c1'").count() == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--source", "pubsub"], "--source must be one of files, kafka, capture (got 'pubsub')"),
        (["--source", "kafka"], "--bootstrap-servers (KAFKA_BOOTSTRAP_SERVERS) or EVENTHUB_CONNECTION_STRING"),
        (["--checkpoint-dir", "/proc/not-writable"], "--checkpoint-dir is not writable: /proc/not-writable"),
        (["--trigger", "sometimes"], "--trigger must be one of processing-time, available-now"),
        (["--max-offsets-per-trigger", "-1", "--source", "kafka", "--bootstrap-servers", "127.0.0.1:1"],
         "--max-offsets-per-trigger must be >= 0"),
    ],
)
def test_bad_configuration_stops_at_start_up_naming_the_setting(tmp_path, args, message):
    env = {"LAKEHOUSE_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"}
    result = subprocess.run(
        [sys.executable, "-m", "streaming_ingest", *args], cwd=REPO_ROOT, env=env, capture_output=True, text=True,
        timeout=60,
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("streaming_ingest: error: ")
    assert message in lines[0]


def test_bad_eventhubs_connection_string_is_named(tmp_path):
    env = {"LAKEHOUSE_DIR": str(tmp_path), "PATH": "/usr/bin:/bin", "EVENTHUB_CONNECTION_STRING": "nonsense"}
    result = subprocess.run(
        [sys.executable, "-m", "streaming_ingest", "--source", "kafka"], cwd=REPO_ROOT, env=env,
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 2
    assert "EVENTHUB_CONNECTION_STRING must look like 'Endpoint=sb://" in result.stderr
