"""Event Hubs (AMQP) sink against a test double of EventHubProducerClient (the SDK boundary)."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import pytest
from azure.eventhub import EventData
from azure.eventhub.exceptions import AuthenticationError, EventHubError
from python_tests.producer.producer_contract import produce_to_files

import producer.sinks.eventhubs
from producer.cli import main
from producer.config import EventHubsSinkConfig
from producer.sinks.eventhubs import EventHubsSink

START = "2026-11-20T00:00:00Z"
CONNECTION_STRING = ("Endpoint=sb://test-ns.servicebus.windows.net/;SharedAccessKeyName=send;"
                     "SharedAccessKey=c2VjcmV0")


def body(event: EventData) -> str:
    return event.body_as_str(encoding="utf-8")


class FakeBatch:
    """EventDataBatch stand-in: ``add`` raises ValueError past ``max_size`` body bytes."""

    def __init__(self, partition_key: str | None, max_size: int) -> None:
        self.partition_key = partition_key
        self.max_size = max_size
        self.events: list[EventData] = []
        self.size = 0

    def add(self, event: EventData) -> None:
        size = len(body(event).encode())
        if self.size + size > self.max_size:
            raise ValueError("EventDataBatch has reached its size limit")
        self.events.append(event)
        self.size += size

    def __len__(self) -> int:
        return len(self.events)


class FakeClient:
    """EventHubProducerClient stand-in recording what the sink does with it."""

    max_batch_bytes = 4000
    last: "FakeClient | None" = None

    def __init__(self, conn_str: str, eventhub_name: str, kwargs: dict) -> None:
        self.conn_str = conn_str
        self.eventhub_name = eventhub_name
        self.kwargs = kwargs
        self.sent: list[FakeBatch] = []
        self.send_calls = 0
        self.failures: list[Exception] = []  # raised by the next send_batch calls, in order
        self.closed = False
        FakeClient.last = self

    @classmethod
    def from_connection_string(cls, conn_str: str, *, eventhub_name: str, **kwargs) -> "FakeClient":
        return cls(conn_str, eventhub_name, kwargs)

    def create_batch(self, *, partition_key: str | None = None) -> FakeBatch:
        return FakeBatch(partition_key, self.max_batch_bytes)

    def send_batch(self, batch: FakeBatch) -> None:
        self.send_calls += 1
        if self.failures:
            raise self.failures.pop(0)
        self.sent.append(batch)

    def close(self) -> None:
        self.closed = True


@pytest.fixture
def fake_client(monkeypatch: pytest.MonkeyPatch) -> type[FakeClient]:
    monkeypatch.setattr(producer.sinks.eventhubs, "EventHubProducerClient", FakeClient)
    FakeClient.last = None
    return FakeClient


def make_sink(send_retries: int = 3) -> EventHubsSink:
    config = EventHubsSinkConfig(CONNECTION_STRING, "sales", send_retries=send_retries)
    return EventHubsSink(config, backoff_seconds=0)


def test_cli_sends_every_event_in_store_batches(
        fake_client: type[FakeClient], monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("EVENTHUB_CONNECTION_STRING", CONNECTION_STRING)
    monkeypatch.setenv("EVENTHUB_NAME", "sales-hub")
    args = ["--total", "3000", "--start", START, "--dirty", "0.02", "--seed", "5"]
    summary_path = tmp_path / "eventhubs.json"
    assert main(["events", "--sink", "eventhubs", "--quiet", "--summary-json",
                 str(summary_path), *args]) == 0
    client = fake_client.last
    assert client is not None and client.closed
    assert (client.conn_str, client.eventhub_name) == (CONNECTION_STRING, "sales-hub")
    assert client.kwargs == {"retry_total": 3}

    expected, file_summary = produce_to_files(tmp_path / "files", *args)
    sent = [body(event) for batch in client.sent for event in batch.events]
    assert sorted(sent) == sorted(expected)  # every event exactly once (duplicates twice)
    summary = json.loads(summary_path.read_text())
    assert summary["sent"] == 3000 and summary["failed"] == 0
    assert {k: v for k, v in summary.items() if k not in ("elapsed_seconds", "events_per_second")} \
        == {k: v for k, v in file_summary.items() if k not in ("elapsed_seconds", "events_per_second")}

    per_key: dict[str | None, list[str]] = defaultdict(list)
    for batch in client.sent:
        assert 0 < batch.size <= fake_client.max_batch_bytes
        for event in batch.events:
            try:
                store_id = json.loads(body(event)).get("store_id") or None
            except ValueError:
                store_id = None  # malformed JSON: no key
            assert batch.partition_key == store_id
            per_key[store_id].append(body(event))
    for key, lines in per_key.items():  # order within a partition key is the send order
        assert lines == [line for line in expected if _key(line) == key]


def _key(line: str) -> str | None:
    try:
        return json.loads(line).get("store_id") or None
    except ValueError:
        return None


def test_full_batch_is_sent_and_a_new_one_started(fake_client: type[FakeClient]) -> None:
    sink = make_sink()
    lines = [json.dumps({"store_id": "S001", "n": n, "pad": "x" * 970}) for n in range(10)]
    sink.send(lines, ["S001"] * 10)  # ~1000 bytes each, 4000 per batch -> 3 batches
    client = fake_client.last
    assert client is not None
    assert [len(batch) for batch in client.sent] == [3, 3, 3, 1]
    assert [batch.partition_key for batch in client.sent] == ["S001"] * 4
    assert [body(e) for batch in client.sent for e in batch.events] == lines
    assert (sink.sent, sink.failed, sink.oversize) == (10, 0, 0)


def test_groups_by_store_id(fake_client: type[FakeClient]) -> None:
    sink = make_sink()
    keys = ["S001", "S002", "S001", None, "S003", "S002"]
    lines = [f'{{"n":{n}}}' for n in range(6)]
    sink.send(lines, keys)
    client = fake_client.last
    assert client is not None
    assert [(b.partition_key, [body(e) for e in b.events]) for b in client.sent] == [
        ("S001", ['{"n":0}', '{"n":2}']),
        ("S002", ['{"n":1}', '{"n":5}']),
        (None, ['{"n":3}']),
        ("S003", ['{"n":4}']),
    ]


def test_oversize_event_is_counted_and_skipped(fake_client: type[FakeClient]) -> None:
    sink = make_sink()
    lines = ['{"a":1}', "x" * 5000, '{"b":2}', "y" * 4001]
    sink.send(lines, ["S001"] * 4)
    client = fake_client.last
    assert client is not None
    assert [[body(e) for e in b.events] for b in client.sent] == [['{"a":1}'], ['{"b":2}']]
    assert (sink.sent, sink.failed, sink.oversize) == (2, 2, 2)


def test_transient_send_errors_are_retried(fake_client: type[FakeClient]) -> None:
    sink = make_sink(send_retries=3)
    client = fake_client.last
    assert client is not None
    client.failures = [EventHubError("link detached"), EventHubError("timeout")]
    sink.send(['{"a":1}', '{"a":2}'], ["S001", "S001"])
    assert client.send_calls == 3
    assert (sink.sent, sink.failed) == (2, 0)


def test_send_gives_up_after_bounded_retries(fake_client: type[FakeClient]) -> None:
    sink = make_sink(send_retries=2)
    client = fake_client.last
    assert client is not None
    client.failures = [EventHubError("down")] * 3
    sink.send(['{"a":1}', '{"a":2}'], ["S001", "S001"])
    assert client.send_calls == 3
    assert (sink.sent, sink.failed) == (0, 2)
    assert sink.last_error is not None and "down" in sink.last_error


def test_authentication_errors_are_not_retried(fake_client: type[FakeClient]) -> None:
    sink = make_sink(send_retries=3)
    client = fake_client.last
    assert client is not None
    client.failures = [AuthenticationError("unauthorized")]
    sink.send(['{"a":1}'], ["S001"])
    assert client.send_calls == 1
    assert (sink.sent, sink.failed) == (0, 1)
