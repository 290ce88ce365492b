"""Ingest benchmark (not a test): landing → bronze, Event Hubs Capture → bronze and Kafka → bronze
throughput, event → bronze
latency at a steady rate, and the job's peak memory, next to their goals.

    .venv/bin/python benchmarks/ingest_bench.py [--events 1000000] [--rate 2000] [--seconds 60]

Everything is the real thing: events from the producer CLI (fixed seed), a local Kafka broker
(local_stack/kafka/broker.py, 3 partitions), and the job as `python -m streaming_ingest` with its
default settings (local[2], 1 GB driver, maxOffsetsPerTrigger 200000). Throughput runs use
available-now on a fresh bronze and checkpoint; the latency run uses a 5 s processing-time
trigger while the producer sends at --rate for --seconds. The ceiling rows read the same
Kafka topic (stage by stage: read / + parse / + Delta write, where the time goes) and the same
landing files as one warm batch query through the job's own transforms: what the job's
micro-batches approach; its query-time rate is shown as a share of them (goal ≥ 85 %). Peak RSS is the sum
over the job's process group (Python driver + Spark JVM), sampled every 0.2 s. Prints a
Markdown table.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from local_stack.kafka.broker import KafkaBroker  # noqa: E402

sys.path.insert(0, str(REPO_ROOT / "benchmarks"))
from memory import sample_group  # noqa: E402

START = "2026-11-20T00:00:00Z"
GOAL_EVENTS_PER_SECOND = 100_000
GOAL_P95_SECONDS = 10.0
GOAL_RSS_BYTES = 2 * 1024**3
# The streaming job's query-time rate, as a share of the same input read as one warm batch.
GOAL_SHARE_OF_CEILING = 0.85
CEILING_KAFKA = "Kafka: read + parse + Delta write"
CEILING_FILES = "landing files: read + parse + Delta write"


def fail(message: str) -> None:
    raise SystemExit(f"ingest_bench: {message}")


def produce(args: list[str], total: int | None = None) -> dict:
    """Run the producer CLI; returns its summary."""
    with tempfile.NamedTemporaryFile(suffix=".json") as summary:
        command = [sys.executable, "-m", "producer", "events", *args, "--seed", "1", "--quiet",
                   "--summary-json", summary.name]
        if total is not None:
            command += ["--total", str(total)]
        result = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True)
        if result.returncode != 0:
            fail(f"producer {' '.join(args)} failed:\n{result.stderr[-2000:]}")
        return json.loads(Path(summary.name).read_text())


def create_topic(bootstrap: str, topic: str, partitions: int = 3) -> None:
    from confluent_kafka.admin import AdminClient, NewTopic

    admin = AdminClient({"bootstrap.servers": bootstrap})
    admin.create_topics([NewTopic(topic, num_partitions=partitions, replication_factor=1)])[topic].result(timeout=30)


class Job:
    """The streaming job in its own process group, with its peak RSS sampled in the background."""

    def __init__(self, args: list[str], workdir: Path, name: str) -> None:
        self.progress_log = workdir / f"{name}.progress.jsonl"
        self.log = workdir / f"{name}.log"
        env = dict(os.environ, LAKEHOUSE_DIR=str(workdir), PYTHONUNBUFFERED="1")
        self.started = time.monotonic()
        with open(self.log, "w") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "streaming_ingest", *args, "--progress-log", str(self.progress_log)],
                cwd=workdir, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        self.peak_rss = 0
        self._cpu: dict[int, float] = {}
        self.wall = 0.0
        self._sampler = threading.Thread(target=self._sample, daemon=True)
        self._sampler.start()

    def _sample(self) -> None:
        while self.process.poll() is None:
            rss, cpu = sample_group(self.process.pid)
            self.peak_rss = max(self.peak_rss, rss)
            self._cpu.update(cpu)
            time.sleep(0.2)

    @property
    def cpu_seconds(self) -> float:
        """CPU time of the driver and the JVM (sampled every 0.2 s: the last moments are missed)."""
        return sum(self._cpu.values())

    def progress(self) -> list[dict]:
        if not self.progress_log.exists():
            return []
        return [json.loads(line) for line in self.progress_log.read_text().splitlines() if line.strip()]

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def wait(self, timeout: float) -> None:
        try:
            code = self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            fail(f"job timed out after {timeout:g} s:\n{self.output()[-3000:]}")
        self.wall = time.monotonic() - self.started
        self._sampler.join(timeout=5)
        if code != 0:
            fail(f"job exited {code}:\n{self.output()[-3000:]}")

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)


def throughput_run(name: str, source_args: list[str], workdir: Path, expected_rows: int) -> dict:
    job = Job([*source_args, "--bronze-path", str(workdir / f"{name}-bronze"),
               "--checkpoint-dir", str(workdir / f"{name}-checkpoint"), "--trigger", "available-now"],
              workdir, name)
    job.wait(timeout=3600)
    progress = job.progress()
    rows = sum(int(p["numInputRows"]) for p in progress)
    if rows != expected_rows:
        fail(f"{name}: the job read {rows} rows, expected {expected_rows}")
    query_seconds = sum(int(p["durationMs"]["triggerExecution"]) for p in progress) / 1000
    return {"rows": rows, "batches": len(progress), "query_seconds": query_seconds, "wall_seconds": job.wall,
            "peak_rss": job.peak_rss, "cpu_seconds": job.cpu_seconds}


def latency_run(broker: KafkaBroker, workdir: Path, rate: int, seconds: int, metrics: bool = True) -> dict:
    """The job at a steady rate; `metrics=False`: without its per-batch metrics row (--metrics-path off)."""
    name = "latency" if metrics else "latency-no-metrics"
    topic = name
    bronze = workdir / f"{name}-bronze"
    create_topic(broker.bootstrap, topic)
    job = Job(["--source", "kafka", "--bootstrap-servers", broker.bootstrap, "--topic", topic,
               "--starting-offsets", "latest", "--bronze-path", str(bronze),
               "--checkpoint-dir", str(workdir / f"{name}-checkpoint"),
               "--trigger", "processing-time", "--trigger-interval", "5 seconds",
               *([] if metrics else ["--metrics-path", "off"])], workdir, name)
    try:
        deadline = time.monotonic() + 180
        while "query bronze_sales_events started" not in job.output():
            if job.process.poll() is not None or time.monotonic() > deadline:
                fail(f"latency job did not start:\n{job.output()[-3000:]}")
            time.sleep(0.2)
        time.sleep(12)  # let the first (empty) triggers and the JIT warm-up pass
        summary = produce(["--sink", "kafka", "--bootstrap-servers", broker.bootstrap, "--topic", topic,
                           "--rate", str(rate)], total=rate * seconds)
        deadline = time.monotonic() + 300
        while sum(int(p["numInputRows"]) for p in job.progress()) < summary["sent"]:
            if job.process.poll() is not None or time.monotonic() > deadline:
                fail(f"latency job did not catch up:\n{job.output()[-3000:]}")
            time.sleep(0.5)
    finally:
        if job.process.poll() is None:
            job.process.send_signal(signal.SIGTERM)
    job.wait(timeout=300)
    progress = job.progress()
    return {"bronze": bronze, "sent": summary["sent"], "peak_rss": job.peak_rss, "progress": progress,
            "batches": len({p["batchId"] for p in progress}), "query_id": progress[-1]["id"] if progress else None}


def stream_metric_rows(table: Path, query_id: str | None) -> int:
    """Rows of the job's stream metrics table for one query (read with a small Spark session)."""
    code = ("import sys; from streaming_ingest.spark_session import local_spark; "
            "s = local_spark('bench-metrics', driver_memory='512m', shuffle_partitions=1); "
            "print(s.read.format('delta').load(sys.argv[1]).where(f\"query_id = '{sys.argv[2]}'\").count()); s.stop()")
    result = subprocess.run([sys.executable, "-c", code, str(table), str(query_id)], cwd=REPO_ROOT,
                            capture_output=True, text=True)
    if result.returncode != 0:
        fail(f"reading the stream metrics failed:\n{result.stderr[-2000:]}")
    return int(result.stdout.strip().splitlines()[-1])


def delta_commit_times(table: Path) -> dict[str, int]:
    """Data file name → timestamp (ms) of the Delta commit that added it."""
    added: dict[str, int] = {}
    for log in sorted((table / "_delta_log").glob("*.json")):
        actions = [json.loads(line) for line in log.read_text().splitlines() if line.strip()]
        commit_ms = next(a["commitInfo"]["timestamp"] for a in actions if "commitInfo" in a)
        for action in actions:
            if "add" in action:
                added[action["add"]["path"]] = commit_ms
    return added


def latency_percentiles(table: Path) -> dict[str, float]:
    from pyspark.sql import functions as F

    from streaming_ingest.spark_session import local_spark

    spark = local_spark("ingest-bench", shuffle_partitions=2)
    try:
        commits = spark.createDataFrame(list(delta_commit_times(table).items()), "file string, commit_ms bigint")
        rows = (
            spark.read.format("delta").load(str(table))
            .select("kafka_timestamp", "ingestion_time",
                    F.regexp_extract(F.col("_metadata.file_path"), r"([^/]+)$", 1).alias("file"))
            .join(commits, "file")
            .select(
                ((F.col("commit_ms") - F.unix_millis("kafka_timestamp")) / 1000).alias("visible"),
                ((F.unix_millis("ingestion_time") - F.unix_millis("kafka_timestamp")) / 1000).alias("batch_start"),
            )
        )
        result = rows.select(
            F.count("*").alias("rows"),
            F.percentile("visible", 0.5).alias("visible_p50"), F.percentile("visible", 0.95).alias("visible_p95"),
            F.percentile("batch_start", 0.5).alias("start_p50"), F.percentile("batch_start", 0.95).alias("start_p95"),
        ).collect()[0].asDict()
    finally:
        spark.stop()
    return result


def batch_ceilings(bootstrap: str, topic: str, landing: Path, events: int) -> dict[str, float]:
    """The ceilings the streaming job is measured against: the same input read as one batch
    query in one warm SparkSession (local[2], as the job), through the job's own transforms.

    Kafka stage by stage (read / + parse / + Delta write), which shows where a batch spends its
    time, and the landing files read, parsed and written to Delta. Each stage runs twice and the
    second run is kept (the first pays the JIT warm-up). Returns events/s per stage."""
    from pyspark.sql import functions as F

    from streaming_ingest.bronze import to_bronze
    from streaming_ingest.sinks import add_positions
    from streaming_ingest.sources import message_columns
    from streaming_ingest.spark_session import local_spark

    spark = local_spark("ingest-bench-stages", shuffle_partitions=2)

    def messages():
        raw = (spark.read.format("kafka").option("kafka.bootstrap.servers", bootstrap).option("subscribe", topic)
               .option("startingOffsets", "earliest").option("endingOffsets", "latest").load())
        return message_columns(raw)

    def landing_lines():
        lines = spark.read.option("pathGlobFilter", "*.json").text(str(landing))
        return add_positions(lines.select(F.col("value").alias("payload"),
                                          F.col("_metadata.file_path").alias("source_file")))

    stages = {
        "Kafka: read": lambda _: messages().write.format("noop").mode("overwrite").save(),
        "Kafka: read + parse": lambda _: to_bronze(messages(), source_kind="kafka").write.format("noop")
        .mode("overwrite").save(),
        CEILING_KAFKA: lambda path: to_bronze(messages(), source_kind="kafka").write.format("delta")
        .mode("append").save(path),
        CEILING_FILES: lambda path: to_bronze(landing_lines(), source_kind="files").write.format("delta")
        .mode("append").save(path),
    }
    rates: dict[str, float] = {}
    try:
        with tempfile.TemporaryDirectory(prefix="stages-") as tmp:
            for number, (name, run) in enumerate(stages.items()):
                for attempt in range(2):
                    started = time.monotonic()
                    run(f"{tmp}/{number}-{attempt}")
                    rates[name] = events / (time.monotonic() - started)
    finally:
        spark.stop()
    return rates


def gib(value: int) -> str:
    return f"{value / 1024**3:.2f} GiB"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000, help="events per throughput run (default 1000000)")
    parser.add_argument("--rate", type=int, default=2000, help="events/s during the latency run (default 2000)")
    parser.add_argument("--seconds", type=int, default=60, help="length of the latency run (default 60)")
    args = parser.parse_args()

    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="ingest-bench-") as tmp:
        workdir = Path(tmp)
        landing = workdir / "landing"
        produce(["--sink", "files", "--landing-dir", str(landing), "--start", START], total=args.events)
        files = throughput_run("files", ["--source", "files", "--landing-dir", str(landing)], workdir, args.events)
        archive = workdir / "capture"
        # Capture's default window (5 min) at the default 1000 events/s of event time: files of
        # ~75,000 events per partition, as an archive of a busy hub holds
        produce(["--sink", "capture", "--capture-dir", str(archive), "--capture-window-seconds", "300",
                 "--start", START], total=args.events)
        capture = throughput_run("capture", ["--source", "capture", "--capture-dir", str(archive)], workdir,
                                 args.events)
        with KafkaBroker() as broker:
            produce(["--sink", "kafka", "--bootstrap-servers", broker.bootstrap, "--topic", "bench",
                     "--start", START], total=args.events)
            kafka = throughput_run("kafka", ["--source", "kafka", "--bootstrap-servers", broker.bootstrap,
                                             "--topic", "bench"], workdir, args.events)
            stages = batch_ceilings(broker.bootstrap, "bench", landing, args.events)
            latency = latency_run(broker, workdir, args.rate, args.seconds)
            bare = latency_run(broker, workdir, args.rate, args.seconds, metrics=False)
        percentiles = latency_percentiles(latency["bronze"])
        bare_percentiles = latency_percentiles(bare["bronze"])
        for run, counted in ((latency, percentiles), (bare, bare_percentiles)):
            if counted["rows"] != run["sent"]:
                fail(f"latency run: bronze has {counted['rows']} rows, {run['sent']} were sent")
        metric_rows = stream_metric_rows(workdir / "audit" / "stream_batches", latency["query_id"])
        if metric_rows != latency["batches"]:
            fail(f"latency run: {metric_rows} stream metrics rows for {latency['batches']} batches")

        def batch_seconds(run: dict) -> list[float]:
            return sorted(int(p["durationMs"]["triggerExecution"]) / 1000 for p in run["progress"]
                          if int(p["numInputRows"]))

    def ok(good: bool) -> str:
        return "yes" if good else "**no**"

    load = os.getloadavg()[0]
    print(f"load average {load_before:.1f} at the start")
    print(f"Ingest benchmark: {args.events:,} events per throughput run; latency at {args.rate:,} events/s "
          f"for {args.seconds} s, 5 s trigger; {os.cpu_count()} cores, load average {load:.1f} at the end.\n")
    print("| measure | value | goal | meets goal |")
    print("|---|---:|---:|---|")
    for name, run in (("landing files → bronze", files), ("Event Hubs Capture (Avro) → bronze", capture),
                      ("Kafka → bronze", kafka)):
        query_rate = run["rows"] / run["query_seconds"]
        print(f"| {name}: events/s, query time ({run['rows']:,} rows / {run['query_seconds']:.1f} s in "
              f"{run['batches']} batches) | {query_rate:,.0f} | ≥ {GOAL_EVENTS_PER_SECOND:,} | "
              f"{ok(query_rate >= GOAL_EVENTS_PER_SECOND)} |")
        print(f"| {name}: events/s, wall time incl. Spark start ({run['wall_seconds']:.1f} s) | "
              f"{run['rows'] / run['wall_seconds']:,.0f} | — | — |")
        print(f"| {name}: events per CPU-second of the job (driver + JVM, {run['cpu_seconds']:.0f} CPU-s, "
              f"Spark start and JIT warm-up included; less sensitive to other load than the rates) | "
              f"{run['rows'] / run['cpu_seconds']:,.0f} | — | — |")
        print(f"| {name}: peak RSS, driver + JVM | {gib(run['peak_rss'])} | ≤ {gib(GOAL_RSS_BYTES)} | "
              f"{ok(run['peak_rss'] <= GOAL_RSS_BYTES)} |")
    for name, rate in stages.items():
        print(f"| ceiling: {name}, one warm batch query of {args.events:,} events | "
              f"{rate:,.0f} | — | — |")
    for name, run, ceiling in (("landing files → bronze", files, CEILING_FILES), ("Kafka → bronze", kafka, CEILING_KAFKA)):
        share = run["rows"] / run["query_seconds"] / stages[ceiling]
        print(f"| {name}: the job's events/s (query time) / its ceiling ({ceiling}) | {share:.0%} | "
              f"≥ {GOAL_SHARE_OF_CEILING:.0%} | {ok(share >= GOAL_SHARE_OF_CEILING)} |")
    print(f"| event → visible in bronze, p50 (Delta commit time − Kafka timestamp) | "
          f"{percentiles['visible_p50']:.2f} s | — | — |")
    print(f"| event → visible in bronze, p95 (Delta commit time − Kafka timestamp) | "
          f"{percentiles['visible_p95']:.2f} s | ≤ {GOAL_P95_SECONDS:g} s | "
          f"{ok(percentiles['visible_p95'] <= GOAL_P95_SECONDS)} |")
    print(f"| event → batch start, p50 / p95 (ingestion_time − Kafka timestamp) | "
          f"{percentiles['start_p50']:.2f} s / {percentiles['start_p95']:.2f} s | — | — |")
    for label, run in (("", latency), (" without the stream metrics row (--metrics-path off)", bare)):
        seconds = batch_seconds(run)
        if seconds:
            print(f"| latency run{label}: micro-batch duration, median / max ({len(seconds)} batches) | "
                  f"{seconds[len(seconds) // 2]:.2f} s / {seconds[-1]:.2f} s | — | — |")
    print(f"| latency run without the stream metrics row: event → visible in bronze, p50 / p95 | "
          f"{bare_percentiles['visible_p50']:.2f} s / {bare_percentiles['visible_p95']:.2f} s | — | — |")
    print(f"| latency run: stream metrics rows written (one per batch, audit/stream_batches) | {metric_rows} | "
          f"{latency['batches']} | {ok(metric_rows == latency['batches'])} |")
    print(f"| latency run: peak RSS, driver + JVM | {gib(latency['peak_rss'])} | ≤ {gib(GOAL_RSS_BYTES)} | "
          f"{ok(latency['peak_rss'] <= GOAL_RSS_BYTES)} |")
    print("\nKafka timestamp = the producer's create time (librdkafka stamps it at produce()). "
          "Delta commit time = commitInfo.timestamp of the bronze commit that added the row's file, "
          "i.e. when the row became readable; ingestion_time is taken when the micro-batch starts, "
          "so it understates end-to-end latency by the batch's duration.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
