"""What the Kafka → bronze tests drive: a steady producer with delivery reports, the streaming
job as a killable process group, and readers for its checkpoint and Delta log.

Every job runs in its own session (process group = the Python driver + its Spark JVM) with a
unique marker in its environment, so a test can SIGKILL the whole group and then prove that no
process of it (the JVM in particular) is left.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient, NewTopic

from local_stack.processes import group_members as process_group
from python_tests.conftest import project_env

DONE_LINE = re.compile(r"^\[ingest\] done: (\d+) rows in (\d+) batches, [\d.]+ s$")

# A delivered message: (partition, offset) -> (key, value, timestamp in ms)
Delivered = dict[tuple[int, int], tuple[bytes | None, bytes | None, int]]


def create_topic(bootstrap: str, topic: str, partitions: int = 3) -> None:
    admin = AdminClient({"bootstrap.servers": bootstrap})
    futures = admin.create_topics([NewTopic(topic, num_partitions=partitions, replication_factor=1)])
    futures[topic].result(timeout=30)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:  # wait until every partition has a leader
        metadata = admin.list_topics(topic, timeout=10).topics.get(topic)
        if metadata and len(metadata.partitions) == partitions and all(
            p.leader >= 0 for p in metadata.partitions.values()
        ):
            return
        time.sleep(0.1)
    raise AssertionError(f"topic {topic} has no leaders after 30 s")


def producer_settings(bootstrap: str) -> dict:
    return {
        "bootstrap.servers": bootstrap,
        "enable.idempotence": True,
        "acks": "all",
        "linger.ms": 5,
        "client.id": "streaming-tests",
        "log_level": 3,
    }


def event_payload(tag: str, i: int) -> tuple[str | None, bytes]:
    """A sales event keyed by store_id; every 50th message is not a JSON object (sent without a key)."""
    if i % 50 == 49:
        return None, f'{{"transaction_id":"{tag}-{i}", truncated'.encode()
    store = f"S{i % 20:03d}"
    body = {
        "transaction_id": f"{tag}-{i}",
        "event_timestamp": "2026-11-21T10:15:30.123Z",
        "store_id": store,
        "channel_id": "C01",
        "product_id": f"P{i % 100:04d}",
        "customer_id": None,
        "quantity": 1 + i % 3,
        "unit_price": 9.99,
        "payment_method": "card",
        "currency": "USD",
    }
    return store, json.dumps(body, separators=(",", ":")).encode()


def produce(bootstrap: str, topic: str, messages: list[tuple[str | None, bytes | None]]) -> Delivered:
    delivered: Delivered = {}
    errors: list[str] = []

    def on_delivery(error, message) -> None:
        if error is not None:
            errors.append(str(error))
        else:
            coordinates = (message.partition(), message.offset())
            delivered[coordinates] = (message.key(), message.value(), message.timestamp()[1])

    producer = Producer(producer_settings(bootstrap))
    for key, value in messages:
        producer.produce(topic, value, key, on_delivery=on_delivery)
        producer.poll(0)
    assert producer.flush(60) == 0
    assert errors == []
    assert len(delivered) == len(messages)
    return delivered


class SteadyProducer(threading.Thread):
    """Sends `rate` messages/s to `topic` until stop(); `delivered` holds every delivery report."""

    def __init__(self, bootstrap: str, topic: str, rate: int, tag: str | None = None) -> None:
        super().__init__(name=f"steady-producer-{topic}", daemon=True)
        self.bootstrap = bootstrap
        self.topic = topic
        self.rate = rate
        self.tag = tag or uuid.uuid4().hex[:8]
        self.delivered: Delivered = {}
        self.errors: list[str] = []
        self.sent = 0
        self._stop_event = threading.Event()

    def _on_delivery(self, error, message) -> None:
        if error is not None:
            self.errors.append(str(error))
            return
        self.delivered[(message.partition(), message.offset())] = (
            message.key(), message.value(), message.timestamp()[1],
        )

    def run(self) -> None:
        producer = Producer(producer_settings(self.bootstrap))
        started = time.monotonic()
        try:
            while not self._stop_event.is_set():
                due = int((time.monotonic() - started) * self.rate)
                while self.sent < due:
                    key, value = event_payload(self.tag, self.sent)
                    try:
                        producer.produce(self.topic, value, key, on_delivery=self._on_delivery)
                    except BufferError:
                        producer.poll(0.05)
                        continue
                    self.sent += 1
                producer.poll(0)
                time.sleep(0.005)
        finally:
            left = producer.flush(60)
            if left:
                self.errors.append(f"{left} messages undelivered after flush")

    def close(self) -> None:
        """Stop sending (for clean-up: no checks)."""
        self._stop_event.set()
        if self.is_alive():
            self.join(timeout=90)

    def stop(self) -> Delivered:
        """Stop sending, wait for the last delivery reports, check that every message was delivered."""
        self.close()
        assert not self.is_alive(), "producer thread did not stop"
        assert self.errors == [], self.errors[:5]
        assert len(self.delivered) == self.sent
        return self.delivered


# -- the job as a process group ------------------------------------------------------------


def _stat(pid: int) -> tuple[str, int] | None:
    """(state, process group) of a live process, None if gone."""
    try:
        with open(f"/proc/{pid}/stat") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return fields[0], int(fields[2])


def processes_with_marker(marker: str) -> list[int]:
    """Live (non-zombie) processes whose environment carries `marker` (the job and its JVM)."""
    needle = f"INGEST_TEST_MARKER={marker}".encode()
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            environ = Path(f"/proc/{entry}/environ").read_bytes()
        except OSError:
            continue
        if needle in environ.split(b"\0"):
            stat = _stat(int(entry))
            if stat and stat[0] not in ("Z", "X"):
                found.append(int(entry))
    return found


def java_processes(pids: list[int]) -> list[int]:
    java = []
    for pid in pids:
        with contextlib.suppress(OSError):
            if b"java" in Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0]:
                java.append(pid)
    return java


class IngestJob:
    """`python -m streaming_ingest ...` in its own process group; output goes to a log file.
    `command` replaces `-m streaming_ingest` (e.g. the job as a cluster task: cluster_task.py)."""

    def __init__(self, args: list[str], lakehouse_dir: Path, log: Path,
                 command: tuple[str, ...] = ("-m", "streaming_ingest")) -> None:
        self.marker = uuid.uuid4().hex
        self.log = log
        # C1-only JIT comes with the suite's small-data mode (python_tests/conftest.py): a
        # short-lived job JVM on 2 cores starts its batches about twice as fast with it.
        env = project_env(lakehouse_dir, INGEST_TEST_MARKER=self.marker)
        self._out = open(log, "w")
        self.process = subprocess.Popen(
            [sys.executable, *command, *args],
            cwd=lakehouse_dir, env=env, stdin=subprocess.DEVNULL, stdout=self._out, stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.pgid = self.process.pid

    def output(self) -> str:
        self._out.flush()
        return self.log.read_text(errors="replace")

    def alive(self) -> bool:
        return self.process.poll() is None

    def leftovers(self) -> list[int]:
        return sorted(set(process_group(self.pgid)) | set(processes_with_marker(self.marker)))

    def wait_gone(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while self.leftovers() and time.monotonic() < deadline:
            time.sleep(0.05)

    def kill9(self) -> None:
        """SIGKILL the whole process group (the driver and its JVM) and wait until all are gone."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pgid, signal.SIGKILL)
        self.process.wait(timeout=30)
        self.wait_gone()

    def terminate(self) -> None:
        """SIGTERM to the driver only (what `kill <pid>` or an orchestrator's stop does)."""
        self.process.send_signal(signal.SIGTERM)

    def wait(self, timeout: float) -> int:
        code = self.process.wait(timeout=timeout)
        self.wait_gone()
        return code

    def close(self) -> None:
        """Whatever happened: nothing of this job survives."""
        if self.alive() or self.leftovers():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.pgid, signal.SIGKILL)
            for pid in processes_with_marker(self.marker):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=30)
            self.wait_gone()
        self._out.close()


# -- checkpoint and Delta log ------------------------------------------------------------------


def batch_files(checkpoint: Path, kind: str) -> set[int]:
    """Batch ids with a file in `<checkpoint>/offsets` or `<checkpoint>/commits`."""
    folder = checkpoint / kind
    if not folder.is_dir():
        return set()
    return {int(name) for name in os.listdir(folder) if name.isdigit()}


def batch_end_offsets(checkpoint: Path, batch_id: int, topic: str) -> dict[int, int]:
    """The Kafka end offsets (exclusive) batch `batch_id` read up to, per partition."""
    lines = (checkpoint / "offsets" / str(batch_id)).read_text().splitlines()
    return {int(p): int(o) for p, o in json.loads(lines[2])[topic].items()}


def delta_txn_versions(table: Path, app_id_prefix: str = "bronze_sales_events-") -> set[int]:
    """Batch ids committed to the Delta table by the job (its `txn` actions)."""
    log = table / "_delta_log"
    versions = set()
    if not log.is_dir():
        return versions
    for name in os.listdir(log):
        if not name.endswith(".json") or name.startswith("."):
            continue
        with contextlib.suppress(OSError):
            for line in (log / name).read_text().splitlines():
                action = json.loads(line)
                if "txn" in action and action["txn"]["appId"].startswith(app_id_prefix):
                    versions.add(int(action["txn"]["version"]))
    return versions


@dataclass
class Wait:
    timeout: float
    what: str

    def until(self, condition, poll: float = 0.02):
        """The first value of `condition()` that is not None or False (0 counts as a value)."""
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            value = condition()
            if value is not None and value is not False:
                return value
            time.sleep(poll)
        raise AssertionError(f"timed out after {self.timeout:g} s waiting for {self.what}")


def ingest_args(bootstrap: str, topic: str, bronze: Path, checkpoint: Path, *extra: str) -> list[str]:
    return [
        "--source", "kafka", "--bootstrap-servers", bootstrap, "--topic", topic,
        "--bronze-path", str(bronze), "--checkpoint-dir", str(checkpoint), *extra,
    ]

