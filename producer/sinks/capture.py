"""Event Hubs Capture sink: Avro files as Event Hubs Capture archives an event hub.

What Capture writes, and where this comes from (Microsoft Learn, Azure Event Hubs):

- Record schema, "Exploring captured Avro files"
  (https://learn.microsoft.com/azure/event-hubs/explore-captured-avro-files): a record
  ``EventData`` in namespace ``Microsoft.ServiceBus.Messaging`` with ``SequenceNumber`` (long),
  ``Offset`` (string), ``EnqueuedTimeUtc`` (string), ``SystemProperties`` and ``Properties``
  (maps of long / double / string / bytes) and ``Body`` (null or bytes). ``CAPTURE_SCHEMA``
  below is that schema, field for field.
- Folder layout and names, "Capture events through Azure Event Hubs"
  (https://learn.microsoft.com/azure/event-hubs/event-hubs-capture-overview): each partition
  captures independently and writes one completed block blob per capture window, named for the
  time the window began, ``{Namespace}/{EventHub}/{PartitionId}/{Year}/{Month}/{Day}/{Hour}/
  {Minute}/{Second}``, the date values padded with zeroes, e.g.
  ``mynamespace/myeventhub/0/2017/12/08/03/03/17.avro``. ``capture_path`` builds that name.
- ``EnqueuedTimeUtc``: Microsoft's pages show no captured value; files captured in the wild
  hold the service's US format, ``6/12/2020 6:32:34 PM`` (``ENQUEUED_TIME_FORMAT``). The
  streaming job reads that format and ISO-8601 alike.
- ``Offset``: the service's offset, a decimal string; it grows with the bytes stored in the
  partition (here: the sum of the earlier bodies' sizes), and is not a count of events.
- ``SequenceNumber``: per partition, +1 per event, never reused.

What this sink simulates, deterministically for a given ``--seed`` and ``--start``:
- the event hub's partitioning: an event goes to partition ``crc32(partition key) % partitions``
  (the key is the event's ``store_id``, as with the other sinks; keyless events round-robin).
  Event Hubs' own hash is internal; only "one key, one partition" matters to readers;
- the enqueued time: with ``--start``, message ``j`` of the run is enqueued at
  ``start + j / sim-rate`` (the event-time clock, never the wall clock); without it, now;
- a capture window of ``window_seconds`` (Capture's default is 5 minutes): one file per
  partition and window, named for the window's start, published when the next window begins
  or at ``close``. A file is written under a hidden temporary name (``.17.avro.tmp``, skipped
  by Spark's and Auto Loader's file listing) and renamed whole, as Capture commits a block
  blob only when it is complete. Published files are never changed;
- an archive that grows across runs: the sequence numbers and offsets of each partition go on
  from the last file already in the archive. A file name already taken (a second run in the
  same window) moves to the next free second.

Empty windows are not written (Capture's "do not emit empty files" setting).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import fastavro

from producer.config import CaptureSinkConfig

CAPTURE_SCHEMA = {
    "type": "record",
    "name": "EventData",
    "namespace": "Microsoft.ServiceBus.Messaging",
    "fields": [
        {"name": "SequenceNumber", "type": "long"},
        {"name": "Offset", "type": "string"},
        {"name": "EnqueuedTimeUtc", "type": "string"},
        {"name": "SystemProperties", "type": {"type": "map", "values": ["long", "double", "string", "bytes"]}},
        {"name": "Properties", "type": {"type": "map", "values": ["long", "double", "string", "bytes"]}},
        {"name": "Body", "type": ["null", "bytes"]},
    ],
}
PARSED_SCHEMA = fastavro.parse_schema(CAPTURE_SCHEMA)
ENQUEUED_TIME_FORMAT = "{month}/{day}/{year} {hour12}:{minute:02d}:{second:02d} {ampm}"


def enqueued_time_text(when: dt.datetime) -> str:
    """`6/12/2020 6:32:34 PM`: Capture's EnqueuedTimeUtc text (UTC, no fraction)."""
    when = when.astimezone(dt.timezone.utc)
    hour12 = when.hour % 12 or 12
    return ENQUEUED_TIME_FORMAT.format(month=when.month, day=when.day, year=when.year, hour12=hour12,
                                       minute=when.minute, second=when.second,
                                       ampm="AM" if when.hour < 12 else "PM")


def capture_path(root: Path, namespace: str, eventhub: str, partition: int, window: dt.datetime) -> Path:
    """`{Namespace}/{EventHub}/{PartitionId}/{Year}/{Month}/{Day}/{Hour}/{Minute}/{Second}.avro`."""
    w = window.astimezone(dt.timezone.utc)
    return root.joinpath(namespace, eventhub, str(partition), f"{w.year:04d}", f"{w.month:02d}", f"{w.day:02d}",
                         f"{w.hour:02d}", f"{w.minute:02d}", f"{w.second:02d}.avro")


@dataclass
class _Partition:
    next_sequence: int = 0
    next_offset: int = 0
    window: dt.datetime | None = None
    records: list[dict] = field(default_factory=list)


def last_position(partition_dir: Path) -> tuple[int, int]:
    """(next sequence number, next offset) after the highest sequence number in one partition's
    archive (every file: a run with an earlier --start writes files that sort first)."""
    last = None
    for path in partition_dir.glob("*/*/*/*/*/*.avro"):
        with open(path, "rb") as handle:
            for record in fastavro.reader(handle):
                if last is None or record["SequenceNumber"] > last["SequenceNumber"]:
                    last = record
    if last is None:
        return 0, 0
    return last["SequenceNumber"] + 1, int(last["Offset"]) + len(last["Body"] or b"")


class CaptureSink:
    """Avro files in ``capture_dir`` as Event Hubs Capture writes them (see the module doc)."""

    def __init__(self, config: CaptureSinkConfig, clock_start: dt.datetime | None, sim_rate: float) -> None:
        self._config = config
        self._root = config.capture_dir
        self._hub_dir = self._root / config.namespace / config.eventhub
        self._clock_start = clock_start
        self._step = dt.timedelta(seconds=1.0 / sim_rate)
        self._window = dt.timedelta(seconds=config.window_seconds)
        self._partitions: list[_Partition] = []
        for partition in range(config.partitions):
            sequence, offset = last_position(self._hub_dir / str(partition))
            self._partitions.append(_Partition(sequence, offset))
        self._messages = 0
        self._round_robin = 0
        self.sent = 0
        self.failed = 0
        self.published: list[Path] = []

    def _enqueued_at(self) -> dt.datetime:
        if self._clock_start is None:
            return dt.datetime.now(dt.timezone.utc)
        return self._clock_start + self._messages * self._step

    def _window_start(self, when: dt.datetime) -> dt.datetime:
        seconds = self._window.total_seconds()
        epoch = when.timestamp()
        return dt.datetime.fromtimestamp(epoch - epoch % seconds, dt.timezone.utc)

    def _partition_of(self, key: str | None) -> int:
        if key is None:
            self._round_robin += 1
            return (self._round_robin - 1) % len(self._partitions)
        return zlib.crc32(key.encode("utf-8")) % len(self._partitions)

    def send(self, lines: list[str], keys: list[str | None]) -> None:
        for line, key in zip(lines, keys):
            when = self._enqueued_at()
            self._messages += 1
            number = self._partition_of(key)
            partition = self._partitions[number]
            window = self._window_start(when)
            if partition.window is not None and window != partition.window:
                self._publish(number)
            partition.window = window
            body = line.encode("utf-8")
            system = {"x-opt-enqueued-time": int(when.timestamp() * 1000)}
            if key is not None:
                system["x-opt-partition-key"] = key
            partition.records.append({
                "SequenceNumber": partition.next_sequence,
                "Offset": str(partition.next_offset),
                "EnqueuedTimeUtc": enqueued_time_text(when),
                "SystemProperties": system,
                "Properties": {},
                "Body": body,
            })
            partition.next_sequence += 1
            partition.next_offset += len(body)

    def _publish(self, number: int) -> None:
        partition = self._partitions[number]
        if not partition.records or partition.window is None:
            return
        window = partition.window
        final = capture_path(self._root, self._config.namespace, self._config.eventhub, number, window)
        while final.exists():  # published files are never changed: the next free second
            window += dt.timedelta(seconds=1)
            final = capture_path(self._root, self._config.namespace, self._config.eventhub, number, window)
        final.parent.mkdir(parents=True, exist_ok=True)
        tmp = final.with_name(f".{final.name}.tmp")
        with open(tmp, "wb") as handle:
            # Avro's 16-byte sync marker is random by default: derived from the name instead, so
            # that a run with the same --seed and --start writes the same bytes
            marker = hashlib.sha256(str(final.relative_to(self._root)).encode()).digest()[:16]
            fastavro.writer(handle, PARSED_SCHEMA, partition.records, codec="deflate", sync_marker=marker)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, final)
        self.sent += len(partition.records)
        self.published.append(final)
        partition.records = []
        partition.window = None

    def poll(self) -> None:
        """On the wall clock (no ``--start``), publish the windows that have ended."""
        if self._clock_start is not None:
            return
        now = dt.datetime.now(dt.timezone.utc)
        for number, partition in enumerate(self._partitions):
            if partition.window is not None and partition.window + self._window <= now:
                self._publish(number)

    def close(self) -> None:
        for number in range(len(self._partitions)):
            self._publish(number)
