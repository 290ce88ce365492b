"""Kill drill: `kill -9` the running job (driver and JVM) mid-batch, three times, while a producer
keeps sending; restart from the same checkpoint each time; finish with an available-now run.
Bronze must hold every produced (partition, offset) exactly once: nothing lost, nothing doubled.

The kills land at different points of a micro-batch:
1. a random moment (0-0.8 s) after the batch's offsets were logged;
2. right after the batch's Delta commit but before Spark's checkpoint commit: the restart
   replays that batch and the sink's txnAppId/txnVersion must skip it (if a 3 ms poll does not
   catch that window within 60 s, a random moment instead);
3. a random moment in the second new batch of a run.

The drill runs twice: the job as locally (bronze by path), and as the Databricks task runs it
(the wheel's entry point in a process whose cluster session exists before it, bronze written
by table name through a metastore: cluster_task.py).
"""

from __future__ import annotations

import os
import random
import time
import uuid
from pathlib import Path

import pytest

from python_tests.streaming.kafka_harness import (
    DONE_LINE,
    IngestJob,
    SteadyProducer,
    Wait,
    batch_files,
    create_topic,
    delta_txn_versions,
    ingest_args,
    java_processes,
    processes_with_marker,
)

pytestmark = [pytest.mark.spark, pytest.mark.kafka]

RATE = 2000  # messages per second, steady, for the whole drill
TRIGGER = "1 second"
MAX_OFFSETS_PER_TRIGGER = "20000"  # bounded batches, also when a restart leaves a backlog


class DeltaLogWatcher:
    """Batch ids the job committed to bronze, re-read only when `_delta_log` has a new commit."""

    def __init__(self, table: Path) -> None:
        self.log = table / "_delta_log"
        self.seen: set[str] = set()
        self.batches: set[int] = set()

    def committed(self) -> set[int]:
        if self.log.is_dir():
            names = {n for n in os.listdir(self.log) if n.endswith(".json")}
            if names - self.seen:
                self.batches = delta_txn_versions(self.log.parent)
                self.seen = names
        return self.batches


def new_batch_in_flight(checkpoint: Path, after: int) -> int | None:
    """The lowest batch id > `after` whose offsets are logged but not committed yet."""
    pending = batch_files(checkpoint, "offsets") - batch_files(checkpoint, "commits")
    return min((b for b in pending if b > after), default=None)


def wait_for_new_batch(job: IngestJob, checkpoint: Path, after: int, timeout: float = 300) -> int:
    def in_flight() -> int | None:
        if not job.alive():
            pytest.fail(f"the job exited on its own:\n{job.output()[-3000:]}")
        return new_batch_in_flight(checkpoint, after)

    return Wait(timeout, f"a micro-batch after {after}").until(in_flight)


def random_moment(job: IngestJob, checkpoint: Path, batch: int, rng: random.Random) -> int:
    """Sleep 0-0.8 s into `batch`; if it has committed meanwhile, the next batch as soon as it starts."""
    time.sleep(rng.uniform(0.0, 0.8))
    if batch in batch_files(checkpoint, "commits"):
        return wait_for_new_batch(job, checkpoint, batch)
    return batch


def between_delta_and_checkpoint_commit(checkpoint: Path, delta_log: DeltaLogWatcher, after: int) -> int | None:
    def window() -> int | None:
        return min((b for b in delta_log.committed() - batch_files(checkpoint, "commits") if b > after), default=None)

    try:
        return Wait(60, "a batch in Delta but not in the checkpoint's commits").until(window, poll=0.003)
    except AssertionError:
        return None


def kill_in_batch(job: IngestJob, checkpoint: Path, bronze: Path, batch: int, round_no: int) -> tuple[bool, str]:
    """kill -9 the job's driver and JVM (both must be alive), then say where in `batch` it
    landed: (killed before the checkpoint commit, a line for the drill's report)."""
    group = job.leftovers()
    assert job.alive() and java_processes(group), f"no live driver + JVM to kill: {group}"
    job.kill9()
    assert job.leftovers() == [], f"processes of killed run {round_no} survived: {job.leftovers()}"
    in_checkpoint = batch in batch_files(checkpoint, "commits")
    in_delta = batch in delta_txn_versions(bronze)
    where = ("after its Delta commit, before the checkpoint commit" if in_delta and not in_checkpoint
             else "before its Delta commit" if not in_delta else "after it had fully committed")
    return not in_checkpoint, f"run {round_no} killed in batch {batch} {where}"


def job_setup(mode: str, bootstrap: str, topic: str, tmp_path: Path) -> tuple[Path, Path, list[str], tuple[str, ...]]:
    """(bronze table path, stream metrics table path, job flags, command) for the job run
    locally or as a cluster task."""
    checkpoint = tmp_path / "checkpoint"
    if mode == "path":
        bronze, metrics = tmp_path / "bronze", tmp_path / "stream_batches"
        args = ingest_args(bootstrap, topic, bronze, checkpoint, "--metrics-path", str(metrics))
        return bronze, metrics, args, ("-m", "streaming_ingest")
    metastore, schema = tmp_path / "cluster", "bronze_drill"
    args = ["--source", "kafka", "--bootstrap-servers", bootstrap, "--topic", topic,
            "--bronze-table", f"spark_catalog.{schema}.sales_events", "--checkpoint-dir", str(checkpoint),
            "--metrics-table", f"spark_catalog.{schema}.stream_batches"]
    command = ("-m", "python_tests.streaming.cluster_task", str(metastore), schema)
    return metastore / schema / "sales_events", metastore / schema / "stream_batches", args, command


@pytest.mark.parametrize("mode", ["path", "databricks"])
def test_kill_9_mid_batch_three_times_loses_and_doubles_nothing(mode, spark, kafka_broker, tmp_path):
    rng = random.Random(int.from_bytes(os.urandom(4), "big"))
    topic = f"kill-drill-{uuid.uuid4().hex[:8]}"
    create_topic(kafka_broker.bootstrap, topic)
    checkpoint = tmp_path / "checkpoint"
    bronze, metrics, args, command = job_setup(mode, kafka_broker.bootstrap, topic, tmp_path)
    streaming = [*args, "--trigger", "processing-time", "--trigger-interval", TRIGGER,
                 "--max-offsets-per-trigger", MAX_OFFSETS_PER_TRIGGER]
    delta_log = DeltaLogWatcher(bronze)
    producer = SteadyProducer(kafka_broker.bootstrap, topic, RATE, tag="drill")
    jobs: list[IngestJob] = []
    kills: list[str] = []
    mid_batch = 0
    producer.start()
    try:
        for round_no in range(3):
            logged = max(batch_files(checkpoint, "offsets"), default=-1)
            job = IngestJob(streaming, tmp_path, tmp_path / f"run{round_no}.log", command)
            jobs.append(job)
            batch = wait_for_new_batch(job, checkpoint, logged)
            if round_no == 1:
                batch = between_delta_and_checkpoint_commit(checkpoint, delta_log, logged)
                if batch is None:
                    batch = random_moment(job, checkpoint, wait_for_new_batch(job, checkpoint, logged), rng)
            else:
                if round_no == 2:
                    batch = wait_for_new_batch(job, checkpoint, batch)
                batch = random_moment(job, checkpoint, batch, rng)

            killed_mid_batch, report = kill_in_batch(job, checkpoint, bronze, batch, round_no)
            mid_batch += killed_mid_batch
            kills.append(report)
        delivered = producer.stop()

        final = IngestJob([*args, "--trigger", "available-now"], tmp_path, tmp_path / "final.log", command)
        jobs.append(final)
        assert final.wait(timeout=600) == 0, final.output()[-4000:]
        assert DONE_LINE.match(final.output().strip().splitlines()[-1])
    finally:
        producer.close()
        for job in jobs:
            job.close()

    report = "; ".join(kills)
    print(f"\nkill drill ({mode}): {len(delivered)} messages at {RATE}/s; {report}")
    rows = (
        spark.read.format("delta").load(str(bronze))
        .select("kafka_topic", "kafka_partition", "kafka_offset", "raw_payload", "record_id")
        .collect()
    )
    coordinates = [(r.kafka_partition, r.kafka_offset) for r in rows]
    doubled = len(coordinates) - len(set(coordinates))
    lost = set(delivered) - set(coordinates)
    assert (doubled, len(lost)) == (0, 0), f"{doubled} doubled, {len(lost)} lost ({report})"
    assert set(coordinates) == set(delivered)
    assert {(r.kafka_partition, r.kafka_offset): r.raw_payload.encode() for r in rows} == {
        key: value for key, (_, value, _) in delivered.items()
    }
    assert {r.kafka_topic for r in rows} == {topic}
    assert len({r.record_id for r in rows}) == len(delivered)
    assert batch_files(checkpoint, "offsets") == batch_files(checkpoint, "commits")
    assert mid_batch == 3, report
    # the stream metrics: one row per batch bronze holds, each counting that batch's rows once
    # (a replayed batch's row, written by whichever attempt got there, counts the first commit)
    batches = spark.read.format("delta").load(str(metrics)).collect()
    keys = [(b.query_id, b.batch_id) for b in batches]
    assert len(keys) == len(set(keys)), f"a batch has two metrics rows: {sorted(keys)}"
    assert {b.batch_id for b in batches} == delta_txn_versions(bronze)
    assert sum(b.rows for b in batches) == len(rows)
    assert all(b.rows is not None and b.bronze_version is not None and b.replayed is not None for b in batches)
    assert {b.lag_from_batch_id is None for b in batches} == {True, False}  # null only after a (re)start
    # nothing of any run is left: no driver, no JVM
    assert [pid for job in jobs for pid in processes_with_marker(job.marker)] == []


def test_kill_9_of_the_capture_source_loses_and_doubles_nothing(spark, tmp_path):
    """The same drill for `--source capture`: a producer keeps adding Capture files (one per
    partition and second) while the job is killed three times mid-batch; every archived event
    (partition, sequence number) must be in bronze exactly once."""
    import signal
    import subprocess
    import sys

    import fastavro

    from python_tests.conftest import REPO_ROOT, project_env

    rng = random.Random(int.from_bytes(os.urandom(4), "big"))
    archive, bronze, checkpoint = tmp_path / "archive", tmp_path / "bronze", tmp_path / "checkpoint"
    archive.mkdir()  # the archive exists before the job starts (--capture-dir must be a folder)
    args = ["--source", "capture", "--capture-dir", str(archive), "--bronze-path", str(bronze),
            "--checkpoint-dir", str(checkpoint)]
    streaming = [*args, "--trigger", "processing-time", "--trigger-interval", TRIGGER, "--max-files-per-trigger", "3"]
    producer = subprocess.Popen(
        [sys.executable, "-m", "producer", "events", "--sink", "capture", "--capture-dir", str(archive),
         "--rate", "500", "--capture-window-seconds", "1", "--capture-partitions", "2", "--quiet"],
        cwd=REPO_ROOT, env=project_env(tmp_path), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    jobs: list[IngestJob] = []
    kills: list[str] = []
    mid_batch = 0
    delta_log = DeltaLogWatcher(bronze)
    try:
        for round_no in range(3):
            logged = max(batch_files(checkpoint, "offsets"), default=-1)
            job = IngestJob(streaming, tmp_path, tmp_path / f"run{round_no}.log")
            jobs.append(job)
            batch = wait_for_new_batch(job, checkpoint, logged)
            if round_no == 1:  # between the batch's Delta commit and its checkpoint commit, if caught
                batch = between_delta_and_checkpoint_commit(checkpoint, delta_log, logged)
                if batch is None:
                    batch = random_moment(job, checkpoint, wait_for_new_batch(job, checkpoint, logged), rng)
            else:
                batch = random_moment(job, checkpoint, batch, rng)
            killed_mid_batch, report = kill_in_batch(job, checkpoint, bronze, batch, round_no)
            mid_batch += killed_mid_batch
            kills.append(report)
        producer.send_signal(signal.SIGINT)  # publishes the windows still open, then exits
        assert producer.wait(timeout=60) == 130, producer.stderr.read().decode()
        final = IngestJob([*args, "--trigger", "available-now"], tmp_path, tmp_path / "final.log")
        jobs.append(final)
        assert final.wait(timeout=600) == 0, final.output()[-4000:]
    finally:
        if producer.poll() is None:
            producer.kill()
            producer.wait()
        for job in jobs:
            job.close()

    archived = {}
    for path in archive.rglob("*.avro"):
        with open(path, "rb") as handle:
            for record in fastavro.reader(handle):
                archived[(int(path.relative_to(archive).parts[2]), record["SequenceNumber"])] = record["Body"]
    rows = (spark.read.format("delta").load(str(bronze))
            .select("eventhub_partition", "eventhub_sequence_number", "raw_payload").collect())
    coordinates = [(r.eventhub_partition, r.eventhub_sequence_number) for r in rows]
    report = "; ".join(kills)
    print(f"\ncapture kill drill: {len(archived)} archived events; {report}")
    assert len(archived) > 1000
    doubled = len(coordinates) - len(set(coordinates))
    lost = set(archived) - set(coordinates)
    assert (doubled, len(lost)) == (0, 0), f"{doubled} doubled, {len(lost)} lost ({report})"
    assert {c: r.raw_payload.encode() for c, r in zip(coordinates, rows)} == archived
    assert batch_files(checkpoint, "offsets") == batch_files(checkpoint, "commits")
    assert mid_batch == 3, report
    assert [pid for job in jobs for pid in processes_with_marker(job.marker)] == []
