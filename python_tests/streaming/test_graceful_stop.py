"""How the job ends: SIGTERM lets the batch in flight commit and exits 0 with the summary line;
a failing query exits 1 naming the cause, also with the summary line."""

from __future__ import annotations

import uuid

import pytest
from pyspark.sql import functions as F

from python_tests.streaming.kafka_harness import (
    DONE_LINE,
    IngestJob,
    SteadyProducer,
    Wait,
    batch_end_offsets,
    batch_files,
    create_topic,
    ingest_args,
)

pytestmark = pytest.mark.spark


@pytest.mark.kafka
def test_sigterm_stops_after_the_batch_in_flight_and_exits_0(spark, kafka_broker, tmp_path):
    topic = f"sigterm-{uuid.uuid4().hex[:8]}"
    create_topic(kafka_broker.bootstrap, topic)
    bronze, checkpoint = tmp_path / "bronze", tmp_path / "checkpoint"
    args = ingest_args(kafka_broker.bootstrap, topic, bronze, checkpoint,
                       "--trigger", "processing-time", "--trigger-interval", "2 seconds")
    producer = SteadyProducer(kafka_broker.bootstrap, topic, rate=1000, tag="term")
    job = IngestJob(args, tmp_path, tmp_path / "job.log")
    producer.start()
    try:
        def first_batch_running() -> bool | None:
            assert job.alive(), job.output()[-3000:]
            return (0 in batch_files(checkpoint, "offsets") and 0 not in batch_files(checkpoint, "commits")) or None

        Wait(300, "the first micro-batch to start").until(first_batch_running, poll=0.01)
        job.terminate()
        code = job.wait(timeout=300)
        output = job.output()
        assert code == 0, output[-4000:]
        assert job.leftovers() == []
        producer.stop()
    finally:
        job.close()
        producer.close()

    lines = output.strip().splitlines()
    assert "[ingest] SIGTERM: stopping after the current batch" in lines
    assert "[ingest] ERROR" not in output
    # the batch in flight at SIGTERM committed; at most the one right behind it was cut short
    committed = batch_files(checkpoint, "commits")
    assert 0 in committed
    assert committed == set(range(max(committed) + 1))
    assert batch_files(checkpoint, "offsets") - committed <= {max(committed) + 1}
    # bronze holds exactly the offsets of the committed batches, once each
    end = batch_end_offsets(checkpoint, max(committed), topic)
    rows = spark.read.format("delta").load(str(bronze)).select("kafka_partition", "kafka_offset").collect()
    landed = sorted((r.kafka_partition, r.kafka_offset) for r in rows)
    assert landed == sorted((p, o) for p, stop in end.items() for o in range(stop))
    assert DONE_LINE.match(lines[-1]).groups() == (str(len(rows)), str(len(committed)))


def test_a_failing_query_exits_1_naming_the_cause(spark, lakehouse):
    # bronze exists with a schema the job cannot append to: the first batch fails
    bronze = lakehouse.path("bronze", "incompatible")
    spark.range(1).select(F.col("id").cast("int").alias("record_id")).write.format("delta").save(str(bronze))
    lakehouse.write_landing_file("sales-0001.json", ['{"transaction_id":"a1"}', '{"transaction_id":"a2"}'])
    job = IngestJob(
        ["--source", "files", "--landing-dir", str(lakehouse.landing), "--bronze-path", str(bronze),
         "--checkpoint-dir", str(lakehouse.path("checkpoint")), "--trigger", "processing-time",
         "--trigger-interval", "1 second"],
        lakehouse.root, lakehouse.path("job.log"),
    )
    try:
        code = job.wait(timeout=400)
        output = job.output()
    finally:
        job.close()
    lines = output.strip().splitlines()
    assert code == 1, output[-4000:]
    assert (
        "[ingest] ERROR: query failed: AnalysisException: [DELTA_FAILED_TO_MERGE_FIELDS] "
        "Failed to merge fields 'record_id' and 'record_id'"
    ) in lines
    assert DONE_LINE.match(lines[-1]).groups() == ("0", "0")
    assert spark.read.format("delta").load(str(bronze)).collect() == [(0,)]
    assert batch_files(lakehouse.path("checkpoint"), "commits") == set()
