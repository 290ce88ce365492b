"""Capture sink: Avro files as Event Hubs Capture writes them, read back with fastavro (an
independent Avro reader), checked against Microsoft's documented schema and folder layout."""

from __future__ import annotations

import datetime as dt
import json
import re
import zlib
from pathlib import Path

import fastavro

from producer.config import CaptureSinkConfig
from producer.sinks.capture import CaptureSink
from python_tests.producer.producer_contract import produce_to_files, run_producer

START = "2026-11-20T08:00:00Z"
ARGS = ("--total", "3000", "--start", START, "--dirty", "0.02", "--seed", "7")

# Microsoft Learn, "Exploring captured Avro files": the record Capture writes, field by field.
DOCUMENTED_FIELDS = [
    ("SequenceNumber", "long"),
    ("Offset", "string"),
    ("EnqueuedTimeUtc", "string"),
    ("SystemProperties", {"type": "map", "values": ["long", "double", "string", "bytes"]}),
    ("Properties", {"type": "map", "values": ["long", "double", "string", "bytes"]}),
    ("Body", ["null", "bytes"]),
]
# Microsoft Learn, "Capture overview": {Namespace}/{EventHub}/{PartitionId}/{Year}/{Month}/{Day}/
# {Hour}/{Minute}/{Second}, zero-padded, e.g. mynamespace/myeventhub/0/2017/12/08/03/03/17.avro
LAYOUT = re.compile(r"^(?P<ns>[^/]+)/(?P<hub>[^/]+)/(?P<partition>\d+)/(\d{4})/(\d{2})/(\d{2})/(\d{2})/(\d{2})/(\d{2})\.avro$")


def capture(tmp_path: Path, name: str, *args: str) -> tuple[Path, dict]:
    root = tmp_path / name
    summary = tmp_path / f"{name}.json"
    result = run_producer("events", "--sink", "capture", "--capture-dir", str(root), "--summary-json", str(summary),
                          "--quiet", *args)
    assert result.returncode == 0, result.stderr
    return root, json.loads(summary.read_text())


def archive(root: Path) -> dict[str, tuple[dict, list[dict]]]:
    """relative path → (writer schema, records), every visible .avro file."""
    files = {}
    for path in sorted(root.rglob("*.avro")):
        with open(path, "rb") as handle:
            reader = fastavro.reader(handle)
            files[str(path.relative_to(root))] = (reader.writer_schema, list(reader))
    return files


def enqueued(text: str) -> dt.datetime:
    return dt.datetime.strptime(text, "%m/%d/%Y %I:%M:%S %p").replace(tzinfo=dt.timezone.utc)


def test_files_hold_exactly_capture_schema_and_layout_and_the_events_of_the_other_sinks(tmp_path):
    root, summary = capture(tmp_path, "archive", *ARGS, "--capture-partitions", "3", "--capture-window-seconds", "1")
    lines, files_summary = produce_to_files(tmp_path, *ARGS)
    assert summary == {**files_summary, "elapsed_seconds": summary["elapsed_seconds"],
                       "events_per_second": summary["events_per_second"]}
    assert summary["sent"] == 3000 and summary["failed"] == 0

    files = archive(root)
    assert not [p for p in root.rglob("*") if p.is_file() and p.name.startswith(".")]  # no temp file left
    partitions: dict[int, list[dict]] = {}
    for relative, (schema, records) in files.items():
        match = LAYOUT.match(relative)
        assert match, relative
        assert (match["ns"], match["hub"]) == ("lakehouse-local", "sales-events")
        assert schema["type"] == "record"
        assert (schema["name"], schema.get("namespace")) in {
            ("EventData", "Microsoft.ServiceBus.Messaging"), ("Microsoft.ServiceBus.Messaging.EventData", None)}
        assert [(f["name"], f["type"]) for f in schema["fields"]] == DOCUMENTED_FIELDS
        window = dt.datetime(*map(int, match.groups()[3:]), tzinfo=dt.timezone.utc)
        assert records, relative  # no empty files
        for record in records:
            assert isinstance(record["Body"], bytes) and isinstance(record["Offset"], str)
            assert window <= enqueued(record["EnqueuedTimeUtc"]) < window + dt.timedelta(seconds=1)
        partitions.setdefault(int(match["partition"]), []).extend(records)
    assert sorted(partitions) == [0, 1, 2]

    # per partition: sequence numbers 0, 1, 2, ...; offsets = bytes stored before the event
    for records in partitions.values():
        assert [r["SequenceNumber"] for r in records] == list(range(len(records)))
        assert [int(r["Offset"]) for r in records] == [sum(len(r["Body"]) for r in records[:i]) for i in range(len(records))]

    # the bodies are the events the files sink writes for the same seed, each once
    bodies = [r["Body"].decode("utf-8") for records in partitions.values() for r in records]
    assert sorted(bodies) == sorted(lines)
    # one partition key (store_id), one partition: the hash documented in the sink; keyless round-robin
    for number, records in partitions.items():
        for record in records:
            key = record["SystemProperties"].get("x-opt-partition-key")
            if key is not None:
                assert zlib.crc32(key.encode()) % 3 == number
                assert json.loads(record["Body"])["store_id"] == key
    # event-time clock: message j is enqueued at start + j / sim-rate (1000/s), whole seconds in the text
    times = sorted(enqueued(r["EnqueuedTimeUtc"]) for records in partitions.values() for r in records)
    assert times[0] == dt.datetime(2026, 11, 20, 8, 0, 0, tzinfo=dt.timezone.utc)
    assert times[-1] == dt.datetime(2026, 11, 20, 8, 0, 2, tzinfo=dt.timezone.utc)


def test_same_seed_same_bytes_and_a_second_run_continues_the_archive(tmp_path):
    first, _ = capture(tmp_path, "one", *ARGS)
    second, _ = capture(tmp_path, "two", *ARGS)
    assert {p.relative_to(first): p.read_bytes() for p in first.rglob("*.avro")} == {
        p.relative_to(second): p.read_bytes() for p in second.rglob("*.avro")}

    before = archive(first)
    last = {}
    for relative, (_, records) in before.items():
        partition = LAYOUT.match(relative)["partition"]
        last[partition] = (records[-1]["SequenceNumber"], int(records[-1]["Offset"]) + len(records[-1]["Body"]))
    # the same window again (same --start): new files at the next free second, numbering goes on
    capture(tmp_path, "one", "--total", "500", "--start", START, "--seed", "8")
    after = archive(first)
    assert {k: v for k, v in after.items() if k in before} == before  # published files never change
    added = {k: v for k, v in after.items() if k not in before}
    assert sum(len(records) for _, records in added.values()) == 500
    for relative, (_, records) in added.items():
        partition = LAYOUT.match(relative)["partition"]
        assert relative.endswith("/08/00/01.avro")
        assert records[0]["SequenceNumber"] == last[partition][0] + 1
        assert int(records[0]["Offset"]) == last[partition][1]
    # a run with an earlier --start (its files sort first) still goes on from the highest number
    highest = {}
    for relative, (_, records) in archive(first).items():
        partition = LAYOUT.match(relative)["partition"]
        highest[partition] = max(highest.get(partition, -1), records[-1]["SequenceNumber"])
    capture(tmp_path, "one", "--total", "100", "--start", "2026-11-20T07:00:00Z", "--seed", "9")
    earlier = {k: v for k, v in archive(first).items() if "/07/00/" in k}
    assert sum(len(records) for _, records in earlier.values()) == 100
    for relative, (_, records) in earlier.items():
        assert records[0]["SequenceNumber"] == highest[LAYOUT.match(relative)["partition"]] + 1


def test_a_file_appears_only_when_its_window_is_over(tmp_path):
    start = dt.datetime(2026, 11, 20, 8, 0, tzinfo=dt.timezone.utc)
    sink = CaptureSink(CaptureSinkConfig(tmp_path, partitions=1, window_seconds=60), start, sim_rate=1.0)
    sink.send([json.dumps({"n": n}) for n in range(59)], [None] * 59)  # 08:00:00 .. 08:00:58
    assert list(tmp_path.rglob("*.avro")) == [] and sink.sent == 0
    sink.send([json.dumps({"n": n}) for n in range(59, 61)], [None] * 2)  # 08:00:59, then 08:01:00
    assert [str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*.avro")] == [
        "lakehouse-local/sales-events/0/2026/11/20/08/00/00.avro"]
    assert sink.sent == 60
    sink.close()
    assert sink.sent == 61 and len(list(tmp_path.rglob("*.avro"))) == 2


def test_bad_capture_settings_stop_at_start_naming_the_setting(tmp_path):
    for flag, value, message in (
        ("--capture-partitions", "0", "--capture-partitions must be in [1, 1024] (got 0)"),
        ("--capture-window-seconds", "0.5", "--capture-window-seconds must be >= 1 (got 0.5)"),
        ("--capture-eventhub", "a/b", "--capture-eventhub must be a name"),
    ):
        result = run_producer("events", "--sink", "capture", "--capture-dir", str(tmp_path), "--total", "1", flag, value)
        assert result.returncode == 2
        assert result.stderr.startswith(f"producer: error: {message}"), result.stderr
