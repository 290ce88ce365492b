"""Landing-zone sink: newline-delimited JSON files that appear whole."""

from __future__ import annotations

import datetime as dt
import os
import time
from pathlib import Path

from producer.config import FilesSinkConfig


class FilesSink:
    """Newline-delimited JSON files in ``landing_dir``.

    Each file is written as ``.sales-<run start>-<seq>.json.tmp`` (hidden: Spark's file source
    skips names starting with ``.`` or ``_``), then ``os.replace``d to
    ``sales-<run start>-<seq>.json``: a reader sees a file whole or not at all. Names sort in
    write order. A file is published after ``max_events`` lines, ``max_bytes`` bytes (if set),
    ``max_seconds`` since its first line (if set), and at ``close``.
    """

    def __init__(self, config: FilesSinkConfig, run_started_at: dt.datetime | None = None) -> None:
        self._config = config
        self._dir = config.landing_dir
        self._dir.mkdir(parents=True, exist_ok=True)
        started = run_started_at or dt.datetime.now(dt.timezone.utc)
        self._stem = "sales-" + started.strftime("%Y%m%dT%H%M%S") + f"{started.microsecond // 1000:03d}Z"
        self._seq = 0
        self._handle = None
        self._tmp_path: Path | None = None
        self._events = 0
        self._bytes = 0
        self._opened_at = 0.0
        self.sent = 0
        self.failed = 0
        self.published: list[Path] = []

    def _open(self) -> None:
        self._seq += 1
        self._tmp_path = self._dir / f".{self._stem}-{self._seq:06d}.json.tmp"
        self._handle = open(self._tmp_path, "wb")
        self._events = 0
        self._bytes = 0
        self._opened_at = time.monotonic()

    def _publish(self) -> None:
        if self._handle is None or self._tmp_path is None:
            return
        self._handle.flush()
        os.fsync(self._handle.fileno())
        self._handle.close()
        final = self._dir / f"{self._stem}-{self._seq:06d}.json"
        if final.exists():  # published files are never changed
            raise FileExistsError(f"{final} already exists")
        os.replace(self._tmp_path, final)
        self.sent += self._events
        self.published.append(final)
        self._handle = None
        self._tmp_path = None

    def _write(self, lines: list[str]) -> None:
        data = ("\n".join(lines) + "\n").encode("utf-8")
        assert self._handle is not None
        self._handle.write(data)
        self._events += len(lines)
        self._bytes += len(data)

    def _fitting(self, lines: list[str], position: int, take: int) -> int:
        """How many of the next ``take`` lines fit under max_bytes (at least 1 in an empty file)."""
        room = self._config.max_bytes - self._bytes
        used = 0
        for count in range(take):
            used += len(lines[position + count]) + 1
            if used > room:
                return count if count or self._events else 1
        return take

    def send(self, lines: list[str], keys: list[str | None]) -> None:
        max_events = self._config.max_events
        max_bytes = self._config.max_bytes
        position = 0
        while position < len(lines):
            if self._handle is None:
                self._open()
            take = min(len(lines) - position, max_events - self._events)
            if max_bytes:
                take = self._fitting(lines, position, take)
            if take:
                self._write(lines[position:position + take])
                position += take
            if (take == 0 or self._events >= max_events
                    or (max_bytes and self._bytes >= max_bytes)):
                self._publish()
        self.poll()

    def poll(self) -> None:
        max_seconds = self._config.max_seconds
        if (self._handle is not None and max_seconds
                and time.monotonic() - self._opened_at >= max_seconds):
            self._publish()

    def close(self) -> None:
        if self._handle is not None and self._events:
            self._publish()
        elif self._handle is not None and self._tmp_path is not None:
            self._handle.close()
            self._tmp_path.unlink()
            self._handle = None
