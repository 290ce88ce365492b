"""Kafka sink end to end against a real local broker (local_stack/kafka/broker.py)."""

from __future__ import annotations

import json
import os
import subprocess
import time
import uuid
from collections import defaultdict
from pathlib import Path

import pytest
from confluent_kafka import Consumer, KafkaError, TopicPartition
from python_tests.producer.producer_contract import REPO_ROOT, produce_to_files, run_producer

from local_stack.kafka.broker import KafkaBroker, answers_api_versions

pytestmark = pytest.mark.kafka

START = "2026-11-20T00:00:00Z"
BROKER_SH = REPO_ROOT / "local_stack" / "kafka" / "broker.sh"


def consume_all(bootstrap: str, topic: str, expected: int, timeout: float = 60) -> list:
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"test-{uuid.uuid4()}",
                         "auto.offset.reset": "earliest", "enable.auto.commit": False})
    consumer.subscribe([topic])
    messages = []
    deadline = time.monotonic() + timeout
    try:
        while len(messages) < expected and time.monotonic() < deadline:
            for message in consumer.consume(num_messages=5000, timeout=1.0):
                if message.error():
                    assert message.error().code() == KafkaError._PARTITION_EOF, message.error()
                    continue
                messages.append(message)
        # then make sure nothing more arrives
        for message in consumer.consume(num_messages=100, timeout=2.0):
            if not message.error():
                messages.append(message)
    finally:
        consumer.close()
    return messages


def test_every_event_arrives_exactly_once_keyed_by_store(kafka_broker: KafkaBroker,
                                                         tmp_path: Path) -> None:
    topic = f"sales-events-{uuid.uuid4().hex[:8]}"
    args = ("--seed", "21", "--total", "20000", "--start", START, "--dirty", "0.02")
    summary_path = tmp_path / "kafka.json"
    result = run_producer("events", "--sink", "kafka", "--bootstrap-servers",
                          kafka_broker.bootstrap, "--topic", topic, "--quiet",
                          "--summary-json", str(summary_path), *args)
    assert result.returncode == 0, result.stderr
    summary = json.loads(summary_path.read_text())
    assert (summary["sent"], summary["failed"]) == (20000, 0)

    expected, _ = produce_to_files(tmp_path / "files", *args)  # same seed: same events
    messages = consume_all(kafka_broker.bootstrap, topic, expected=20000)
    values = [m.value().decode("utf-8") for m in messages]
    assert sorted(values) == sorted(expected)

    per_partition: dict[int, list[str]] = defaultdict(list)
    for message in messages:
        value = message.value().decode("utf-8")
        try:
            store_id = json.loads(value).get("store_id") or None
        except ValueError:
            store_id = None  # malformed JSON is sent without a key
        assert message.key() == (store_id.encode() if store_id else None)
        per_partition[message.partition()].append(value)
    assert sorted(per_partition) == [0, 1, 2]  # the broker's 3 partitions all get keys
    # one key -> one partition, in send order
    for key in {m.key() for m in messages}:
        partitions = {m.partition() for m in messages if m.key() == key}
        if key is not None:
            assert len(partitions) == 1
            in_order = [m.value().decode() for m in messages if m.key() == key]
            assert in_order == [v for v in expected if _key(v) == key]


def _key(line: str) -> bytes | None:
    try:
        store_id = json.loads(line).get("store_id") or None
    except ValueError:
        return None
    return store_id.encode() if store_id else None


def test_topic_defaults_and_env_bootstrap(kafka_broker: KafkaBroker, tmp_path: Path) -> None:
    env = dict(os.environ, KAFKA_BOOTSTRAP_SERVERS=kafka_broker.bootstrap)
    result = run_producer("events", "--sink", "kafka", "--total", "500", "--quiet", "--start",
                          START, env=env)
    assert result.returncode == 0, result.stderr
    consumer = Consumer({"bootstrap.servers": kafka_broker.bootstrap, "group.id": "offsets"})
    try:
        ends = [consumer.get_watermark_offsets(TopicPartition("sales-events", p), timeout=10)
                for p in range(3)]
    finally:
        consumer.close()
    assert sum(high - low for low, high in ends) == 500


def test_broker_script_start_status_stop() -> None:
    """Two named brokers at once: distinct ports; stop removes the process and its dir."""
    names = [f"t{uuid.uuid4().hex[:6]}", f"t{uuid.uuid4().hex[:6]}"]
    starts = [subprocess.Popen([str(BROKER_SH), "start", "--name", name], text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE) for name in names]
    outputs = [process.communicate(timeout=180) for process in starts]
    try:
        assert [p.returncode for p in starts] == [0, 0], outputs
        bootstraps = [out.strip().removeprefix("bootstrap=") for out, _ in outputs]
        assert all(out.startswith("bootstrap=127.0.0.1:") for out, _ in outputs)
        assert len(set(bootstraps)) == 2
        for bootstrap in bootstraps:
            host, port = bootstrap.split(":")
            assert answers_api_versions(host, int(port))
        status = subprocess.run([str(BROKER_SH), "status", "--name", names[0]],
                                capture_output=True, text=True, timeout=30)
        assert status.returncode == 0 and f"bootstrap={bootstraps[0]}" in status.stdout
        state_dir = Path(status.stdout.split("dir=")[1].strip())
        assert json.loads((state_dir / "broker.json").read_text())["bootstrap"] == bootstraps[0]
    finally:
        stops = [subprocess.run([str(BROKER_SH), "stop", "--name", name], capture_output=True,
                                text=True, timeout=60) for name in names]
    assert [s.returncode for s in stops] == [0, 0]
    assert not state_dir.exists()
    for bootstrap in bootstraps:
        host, port = bootstrap.split(":")
        assert not answers_api_versions(host, int(port), timeout=0.5)
    status = subprocess.run([str(BROKER_SH), "status", "--name", names[0]], capture_output=True,
                            text=True, timeout=30)
    assert status.returncode == 1
