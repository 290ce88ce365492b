"""One progress line per micro-batch, from a StreamingQueryListener."""

from __future__ import annotations

import sys
from typing import TextIO

from pyspark.sql.streaming import StreamingQueryListener


def describe_progress(progress: dict) -> str:
    """`batch 3: 1200 rows, 950 rows/s, 1.3 s [lag 42 offsets]` from a query progress dict."""
    rows = int(progress.get("numInputRows") or 0)
    rate = float(progress.get("processedRowsPerSecond") or 0.0)
    duration_ms = int((progress.get("durationMs") or {}).get("triggerExecution") or 0)
    line = f"batch {progress.get('batchId')}: {rows} rows, {rate:,.0f} rows/s, {duration_ms / 1000:.1f} s"
    for source in progress.get("sources") or []:
        metrics = source.get("metrics") or {}
        if "maxOffsetsBehindLatest" in metrics:
            line += f", lag {metrics.get('maxOffsetsBehindLatest')} offsets (max per partition)"
        if "numFilesOutstanding" in metrics:
            line += f", {metrics.get('numFilesOutstanding')} files outstanding"
    return line


class ProgressPrinter(StreamingQueryListener):
    def __init__(self, out: TextIO = sys.stdout) -> None:
        self.out = out
        self.batches = 0
        self.rows = 0

    def onQueryStarted(self, event) -> None:  # noqa: N802 (Spark's API)
        print(f"[ingest] query {event.name or event.id} started", file=self.out, flush=True)

    def onQueryProgress(self, event) -> None:  # noqa: N802
        progress = event.progress.jsonValue() if hasattr(event.progress, "jsonValue") else event.progress
        if not isinstance(progress, dict):
            import json

            progress = json.loads(event.progress.json)
        rows = int(progress.get("numInputRows") or 0)
        if rows == 0 and self.batches and progress.get("batchId") is None:
            return
        self.batches += 1
        self.rows += rows
        print(f"[ingest] {describe_progress(progress)}", file=self.out, flush=True)

    def onQueryIdle(self, event) -> None:  # noqa: N802
        pass

    def onQueryTerminated(self, event) -> None:  # noqa: N802
        status = f"failed: {event.exception.splitlines()[0]}" if event.exception else "stopped"
        print(f"[ingest] query {event.id} {status}", file=self.out, flush=True)
