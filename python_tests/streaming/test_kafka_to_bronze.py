"""Kafka → bronze through the real streaming job and a real local broker (available-now).

Every produced message lands exactly once, with its coordinates as the delivery reports gave
them, its key, its broker timestamp and its payload byte for byte; the progress lines show the
Kafka lag of each micro-batch; a second run resumes from the checkpoint.
"""

from __future__ import annotations

import base64
import json
import re
import uuid
from pathlib import Path

import pytest
from pyspark.sql import functions as F

from python_tests.streaming.kafka_harness import (
    DONE_LINE,
    IngestJob,
    batch_end_offsets,
    batch_files,
    create_topic,
    event_payload,
    ingest_args,
    produce,
)

pytestmark = [pytest.mark.spark, pytest.mark.kafka]

PARTITIONS = 3
PROGRESS_LINE = re.compile(
    r"^\[ingest\] batch (\d+): (\d+) rows, [\d,]+ rows/s, [\d.]+ s, lag max (\d+) / avg ([\d.]+) offsets behind latest$"
)
# Payloads that must come through untouched (key None: sent without a key).
ODD_MESSAGES: list[tuple[str | None, bytes | None]] = [
    ("S001", '{"transaction_id":"u1","store_id":"S001","note":"caf\u00e9 \u2615 \U0001f600 \u00fc\u00df"}'.encode()),
    ("S002", b'{"transaction_id":"w1",  "store_id" : "S002",\t"quantity": 2 }'),
    (None, b""),
    (None, b"not json at all"),
    (None, b"[1, 2, 3]"),
    (None, '"\u00e9t\u00e9"'.encode()),
    ("S003", None),  # a tombstone: no value at all
    ("S004", b'{"transaction_id":"x\xff1","store_id":"S004"}'),  # not UTF-8: kept as base64, not an event
]


def payload_bytes(raw: str | None) -> bytes | None:
    """The message bytes a bronze payload holds (`base64:...` for bytes that are not UTF-8)."""
    if raw is None:
        return None
    return base64.b64decode(raw.removeprefix("base64:")) if raw.startswith("base64:") else raw.encode("utf-8")


def is_json_object(value: bytes | None) -> bool:
    try:
        return isinstance(json.loads(value), dict) if value else False
    except ValueError:
        return False


def read_bronze(spark, path: Path):
    return (
        spark.read.format("delta").load(str(path))
        .select(
            "record_id", "kafka_topic", "kafka_partition", "kafka_offset", "kafka_key", "raw_payload",
            F.unix_millis("kafka_timestamp").alias("kafka_timestamp_ms"), "ingestion_time", "source_kind",
            "source_file", "source_position", "is_json_object", "transaction_id",
        )
        .collect()
    )


def expected_progress(checkpoint: Path, topic: str, batches: list[int], latest: dict[int, int]) -> dict:
    """batch id -> (rows, max lag, avg lag) from the checkpoint's offsets and the topic's end offsets."""
    expected = {}
    for batch_id in batches:
        end = batch_end_offsets(checkpoint, batch_id, topic)
        start = batch_end_offsets(checkpoint, batch_id - 1, topic) if batch_id > 0 else {}
        behind = [latest.get(p, 0) - end.get(p, 0) for p in range(PARTITIONS)]
        rows = sum(end[p] - start.get(p, 0) for p in end)
        expected[batch_id] = (rows, max(behind), f"{sum(behind) / PARTITIONS:.1f}")
    return expected


def printed_progress(output: str) -> dict:
    return {
        int(m.group(1)): (int(m.group(2)), int(m.group(3)), m.group(4))
        for m in (PROGRESS_LINE.match(line) for line in output.splitlines())
        if m
    }


def run_available_now(lakehouse_dir: Path, args: list[str], log: Path) -> str:
    job = IngestJob([*args, "--trigger", "available-now"], lakehouse_dir, log)
    try:
        code = job.wait(timeout=600)
        output = job.output()
        assert code == 0, output[-4000:]
        assert job.leftovers() == [], "processes of the finished job are still running"
    finally:
        job.close()
    return output


def test_every_kafka_message_lands_once_with_its_coordinates_and_payload(spark, kafka_broker, tmp_path):
    topic = f"sales-events-{uuid.uuid4().hex[:8]}"
    create_topic(kafka_broker.bootstrap, topic, PARTITIONS)
    bronze, checkpoint = tmp_path / "bronze", tmp_path / "checkpoint"
    args = ingest_args(kafka_broker.bootstrap, topic, bronze, checkpoint, "--max-offsets-per-trigger", "1000")

    messages = [event_payload("k", i) for i in range(3000)]
    messages[10:10] = ODD_MESSAGES
    delivered = produce(kafka_broker.bootstrap, topic, [(k, v) for k, v in messages])
    assert sorted({p for p, _ in delivered}) == [0, 1, 2]

    output = run_available_now(tmp_path, args, tmp_path / "run1.log")

    # exactly once, byte for byte, with the coordinates of the delivery reports
    rows = read_bronze(spark, bronze)
    landed = {
        (r.kafka_partition, r.kafka_offset): (
            r.kafka_key.encode() if r.kafka_key is not None else None,
            payload_bytes(r.raw_payload),
            r.kafka_timestamp_ms,
        )
        for r in rows
    }
    assert len(rows) == len(delivered) == 3008
    assert [r.raw_payload for r in rows if r.raw_payload and r.raw_payload.startswith("base64:")] == [
        "base64:" + base64.b64encode(ODD_MESSAGES[-1][1]).decode()]
    assert landed == delivered
    checkpoint_id = json.loads((checkpoint / "metadata").read_text().splitlines()[0])["id"].replace("-", "")[:12]
    assert {r.record_id for r in rows} == {f"{topic}/{p}/{o}@{checkpoint_id}" for p, o in delivered}
    assert {(r.kafka_topic, r.source_kind, r.source_file, r.source_position) for r in rows} == {
        (topic, "kafka", None, None)
    }
    assert all(r.ingestion_time is not None and r.kafka_timestamp_ms is not None for r in rows)
    assert {(r.kafka_partition, r.kafka_offset): r.is_json_object for r in rows} == {
        key: is_json_object(value) for key, (_, value, _) in delivered.items()
    }
    assert sum(1 for r in rows if not r.is_json_object) == 60 + 6
    unicode_row = next(r for r in rows if r.raw_payload and r.raw_payload.startswith('{"transaction_id":"u1"'))
    assert unicode_row.transaction_id == "u1"

    # one micro-batch per 1000 offsets at most, each printed with its Kafka lag
    batches = sorted(batch_files(checkpoint, "offsets"))
    assert batch_files(checkpoint, "commits") == set(batches)
    latest = {p: max(o for q, o in delivered if q == p) + 1 for p in range(PARTITIONS)}
    assert printed_progress(output) == expected_progress(checkpoint, topic, batches, latest)
    assert len({r.ingestion_time for r in rows}) == len(batches) >= 4
    assert DONE_LINE.match(output.strip().splitlines()[-1]).groups() == ("3008", str(len(batches)))

    # more messages later: the next run reads only those, from the checkpoint
    more = produce(kafka_broker.bootstrap, topic, [event_payload("m", i) for i in range(500)])
    output = run_available_now(tmp_path, args, tmp_path / "run2.log")
    rows = read_bronze(spark, bronze)
    assert len(rows) == 3508
    assert {
        (r.kafka_partition, r.kafka_offset): (r.kafka_key.encode() if r.kafka_key else None, r.raw_payload.encode())
        for r in rows if r.transaction_id and r.transaction_id.startswith("m-")
    } == {key: (k, v) for key, (k, v, _) in more.items() if is_json_object(v)}
    assert {(r.kafka_partition, r.kafka_offset) for r in rows} == set(delivered) | set(more)
    assert DONE_LINE.match(output.strip().splitlines()[-1]).group(1) == "500"
