"""Observability: one progress line per micro-batch, from a StreamingQueryListener.

    [ingest] batch 3: 1200 rows, 950 rows/s, 1.3 s, lag max 42 / avg 18.5 offsets behind latest

`lag` comes from the Kafka source's metrics (`maxOffsetsBehindLatest`: the largest
per-partition distance between what this batch read up to and the partition's latest offset;
`avgOffsetsBehindLatest`: its mean over the partitions). The landing-file source shows
`N files outstanding` instead. With `--progress-log` every progress event is also appended, as
one JSON line, to a file (for dashboards and the benchmark).
"""

from __future__ import annotations

import json
import sys
import threading
from typing import TextIO

from pyspark.sql.streaming import StreamingQueryListener

from streaming_ingest.metrics import LatestProgress


def describe_progress(progress: dict) -> str:
    """`batch 3: 1200 rows, 950 rows/s, 1.3 s, lag max 42 / avg 18.5 offsets behind latest`."""
    rows = int(progress.get("numInputRows") or 0)
    rate = float(progress.get("processedRowsPerSecond") or 0.0)
    duration_ms = int((progress.get("durationMs") or {}).get("triggerExecution") or 0)
    line = f"batch {progress.get('batchId')}: {rows} rows, {rate:,.0f} rows/s, {duration_ms / 1000:.1f} s"
    for source in progress.get("sources") or []:
        metrics = source.get("metrics") or {}
        if "maxOffsetsBehindLatest" in metrics:
            lag_max = int(float(metrics["maxOffsetsBehindLatest"]))
            lag_avg = float(metrics.get("avgOffsetsBehindLatest") or 0.0)
            line += f", lag max {lag_max} / avg {lag_avg:.1f} offsets behind latest"
        if "numFilesOutstanding" in metrics:
            line += f", {metrics['numFilesOutstanding']} files outstanding"
    return line


def progress_dict(progress) -> dict:
    """A StreamingQueryProgress (or its JSON, or a dict) as a plain JSON-able dict."""
    if isinstance(progress, dict):
        return progress
    if hasattr(progress, "json"):
        return json.loads(progress.json)
    return json.loads(str(progress))


def root_cause(message: str) -> str:
    """The most specific line of a (Java or Python) exception text, e.g.
    `AnalysisException: [DELTA_FAILED_TO_MERGE_FIELDS] Failed to merge fields ...`.

    Spark wraps a foreachBatch error several times (StreamingQueryException → Py4JException →
    the Python traceback); the last `SomethingException: text` line is where it started.
    """
    causes = []
    for raw in message.splitlines():
        line = raw.strip()
        head, sep, text = line.partition(": ")
        name = head.rsplit(".", 1)[-1]
        if sep and name.endswith(("Exception", "Error")) and " " not in head and text:
            if name not in ("StreamingQueryException", "Py4JException", "Py4JJavaError"):
                causes.append(f"{name}: {text}")
    if causes:
        return causes[-1]
    lines = [line.strip() for line in message.splitlines() if line.strip()]
    return lines[0] if lines else "unknown error"


class ProgressPrinter(StreamingQueryListener):
    """Prints a line per micro-batch and counts them (for the job's summary line)."""

    def __init__(self, out: TextIO = sys.stdout, progress_log: str = "") -> None:
        self.out = out
        self.progress_log = progress_log
        self.batches = 0
        self.rows = 0
        self.last_batch_id: int | None = None
        self.latest = LatestProgress()  # the batch function's source lag (streaming_ingest/metrics.py)
        self.terminated = False
        self._seen = threading.Condition()

    def onQueryStarted(self, event) -> None:  # noqa: N802 (Spark's API)
        print(f"[ingest] query {event.name or event.id} started", file=self.out, flush=True)

    def onQueryProgress(self, event) -> None:  # noqa: N802
        progress = progress_dict(event.progress)
        rows = int(progress.get("numInputRows") or 0)
        self.latest.set(progress)
        print(f"[ingest] {describe_progress(progress)}", file=self.out, flush=True)
        if self.progress_log:
            with open(self.progress_log.removeprefix("file:"), "a", encoding="utf-8") as log:
                log.write(json.dumps(progress, default=str) + "\n")
        with self._seen:
            self.batches += 1
            self.rows += rows
            self.last_batch_id = progress.get("batchId")
            self._seen.notify_all()

    def onQueryIdle(self, event) -> None:  # noqa: N802
        pass

    def onQueryTerminated(self, event) -> None:  # noqa: N802
        status = f"failed: {root_cause(event.exception)}" if event.exception else "stopped"
        print(f"[ingest] query {event.id} {status}", file=self.out, flush=True)
        with self._seen:
            self.terminated = True
            self._seen.notify_all()

    def wait_for_termination(self, timeout: float = 10.0) -> bool:
        """Wait until the query's termination event has been printed: on a cluster the session
        outlives the job, so nothing else flushes the listener's events before the summary."""
        with self._seen:
            return self._seen.wait_for(lambda: self.terminated, timeout)

    def wait_for_batch(self, batch_id: int | None, timeout: float = 10.0) -> bool:
        """Wait until the progress event of `batch_id` has been printed (events are async)."""
        if batch_id is None:
            return True
        with self._seen:
            return self._seen.wait_for(
                lambda: self.last_batch_id is not None and self.last_batch_id >= batch_id, timeout
            )
