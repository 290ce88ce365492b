"""Recovery drill (README: "Recovering from an outage longer than the retention"): the stream
lands a first share of the events through the local Kafka broker; then it is down while more
events reach only the Capture archive (which also holds the first share: Capture archives
everything the event hub received); bronze is backfilled from the archive; the stream resumes.

Every event must end in exactly one place: silver keeps one copy of each sale (the first
ingested: the streamed copy where there is one), the copy in the archive counts as a duplicate,
every dirty event is quarantined once per bronze row, and gold equals a full refresh.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid

import pytest

from python_tests.datasets import counts, kpis
from python_tests.producer.producer_contract import QUARANTINE_REASONS, run_producer
from python_tests.streaming.kafka_harness import create_topic

pytestmark = [pytest.mark.spark, pytest.mark.kafka, pytest.mark.dbt]

BUILD = ("build", "--exclude", "resource_type:unit_test")  # the unit tests run in stage_a's build
MODELS = ("build", "--exclude", "resource_type:test", "resource_type:unit_test")  # seeds and models


def produce(lakehouse, name: str, *args: str) -> dict:
    summary = lakehouse.path(f"{name}.json")
    result = run_producer("events", "--summary-json", str(summary), "--quiet", *args, env=lakehouse.env)
    assert result.returncode == 0, result.stderr
    return json.loads(summary.read_text())


def test_backfill_from_capture_after_an_outage_loses_and_doubles_nothing(spark, kafka_broker, lakehouse):
    topic = f"recovery-{uuid.uuid4().hex[:8]}"
    create_topic(kafka_broker.bootstrap, topic)
    archive = str(lakehouse.path("capture"))
    # event time one day before now: the generator's future events stay in the future
    start = (dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:00:00Z")
    events = ("--seed", "11", "--start", start, "--dirty", "0.02")
    kafka = ("--sink", "kafka", "--bootstrap-servers", kafka_broker.bootstrap, "--topic", topic)
    stream = ("--source", "kafka", "--bootstrap-servers", kafka_broker.bootstrap, "--topic", topic)
    backfill = ("--source", "capture", "--capture-dir", archive)

    # 1. the stream is up: events 0-599 through the hub (a seed's events are the same on every sink)
    streamed = produce(lakehouse, "streamed", *kafka, *events, "--total", "600")
    # Capture archived them, and 600-999, sent while the stream was down and gone from the hub
    captured = produce(lakehouse, "captured", "--sink", "capture", "--capture-dir", archive, *events,
                       "--total", "1000")
    assert "[ingest] done: 600 rows" in lakehouse.ingest(*stream).stdout
    with lakehouse.warm_dbt():
        lakehouse.dbt(*MODELS)  # silver and gold hold the streamed share
        # 2. after the outage: backfill bronze from the archive (available-now, its own checkpoint)
        assert "[ingest] done: 1000 rows" in lakehouse.ingest(*backfill).stdout
        # 3. the stream resumes from its checkpoint with new events
        resumed = produce(lakehouse, "resumed", *kafka, "--seed", "12", "--start", start, "--dirty", "0.02",
                          "--total", "300")
        assert "[ingest] done: 300 rows" in lakehouse.ingest(*stream).stdout
        # one incremental build over the backfill and the resumed stream, data tests included
        result = lakehouse.dbt(*BUILD)
        assert "PASS assert_bronze_rows_are_conserved" in result.stdout
        incremental = kpis(spark, lakehouse)

        runs = (streamed, captured, resumed)
        assert counts(spark, lakehouse) == {
            "bronze": 600 + 1000 + 300,
            # the first 600 events are a prefix of the archive's 1000: their sales are counted once
            "simple": captured["valid_unique"] + resumed["valid_unique"],
            "quarantine": sum(run["quarantined"] for run in runs),
        }
        read = spark.read.format("delta").load
        simple = read(lakehouse.table_path("silver", "sales_simple"))
        # the first ingested copy won: the streamed one where there is one
        assert {r.source_kind: r["count"] for r in simple.groupBy("source_kind").count().collect()} == {
            "kafka": streamed["valid_unique"] + resumed["valid_unique"],
            "capture": captured["valid_unique"] - streamed["valid_unique"],
        }
        quarantine = read(lakehouse.table_path("silver", "sales_quarantine"))
        by_reason = {r.rejection_reason: r["count"] for r in quarantine.groupBy("rejection_reason").count().collect()}
        assert by_reason == {
            reason: sum(run[reason] for run in runs) for reason in QUARANTINE_REASONS if sum(run[reason] for run in runs)
        }

        lakehouse.dbt("run", "--full-refresh")
        assert kpis(spark, lakehouse) == incremental
