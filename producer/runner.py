"""Runs the events command: pacing, progress line, final summary (table and JSON)."""

from __future__ import annotations

import datetime as dt
import json
import sys
import time
from typing import TextIO

from producer.config import EventsConfig
from producer.dirty import KINDS, QUARANTINE_REASONS, VALID_KINDS
from producer.catalog import load_catalog
from producer.events import EventGenerator
from producer.sinks import Sink

MAX_BATCH = 5000


def make_sink(config: EventsConfig, run_started_at: dt.datetime) -> Sink:
    """The configured sink; only its SDK is imported."""
    if config.sink == "files":
        from producer.sinks.files import FilesSink

        assert config.files is not None
        return FilesSink(config.files, run_started_at)
    if config.sink == "capture":
        from producer.sinks.capture import CaptureSink

        assert config.capture is not None
        return CaptureSink(config.capture, config.start, config.sim_rate)
    if config.sink == "kafka":
        from producer.sinks.kafka import KafkaSink

        assert config.kafka is not None
        return KafkaSink(config.kafka)
    from producer.sinks.eventhubs import EventHubsSink

    assert config.eventhubs is not None
    return EventHubsSink(config.eventhubs)


def summarize(counts: dict[str, int], sink: Sink, elapsed: float) -> dict[str, float | int]:
    """The run's exact counts. ``valid_unique`` = distinct valid transaction_ids made (what
    silver should hold when ``failed`` is 0); one key per quarantine reason."""
    summary: dict[str, float | int] = {
        "sent": sink.sent,
        "failed": sink.failed,
        "generated": sum(counts.values()),
        "clean": counts["clean"],
    }
    for kind in KINDS:
        summary[kind] = counts[kind]
    summary["valid_unique"] = counts["clean"] + sum(
        counts[kind] for kind in VALID_KINDS if kind != "duplicates")
    summary["quarantined"] = sum(counts[reason] for reason in QUARANTINE_REASONS)
    summary["oversize"] = getattr(sink, "oversize", 0)
    summary["elapsed_seconds"] = round(elapsed, 3)
    summary["events_per_second"] = round(sink.sent / elapsed, 1) if elapsed > 0 else 0.0
    return summary


def format_summary(summary: dict[str, float | int]) -> str:
    rows = [("sent", summary["sent"]), ("failed", summary["failed"]),
            ("events/s", f"{summary['events_per_second']:,.0f}"),
            ("elapsed s", summary["elapsed_seconds"]), ("clean", summary["clean"])]
    rows += [(kind, summary[kind]) for kind in KINDS]
    rows += [("valid_unique", summary["valid_unique"]), ("quarantined", summary["quarantined"])]
    if summary["oversize"]:
        rows.append(("oversize", summary["oversize"]))
    width = max(len(name) for name, _ in rows)
    lines = [f"| {'metric':<{width}} | {'value':>12} |", f"|{'-' * (width + 2)}|{'-' * 14}|"]
    lines += [f"| {name:<{width}} | {value:>12} |" for name, value in rows]
    return "\n".join(lines)


class Progress:
    """One status line on stderr about every second."""

    def __init__(self, total: int | None, stream: TextIO, enabled: bool) -> None:
        self._total = total
        self._stream = stream
        self._enabled = enabled
        self._tty = enabled and stream.isatty()
        self._last = time.monotonic()
        self._last_sent = 0

    def tick(self, sink: Sink, generated: int, force: bool = False) -> None:
        if not self._enabled:
            return
        now = time.monotonic()
        if not force and now - self._last < 1.0:
            return
        rate = (sink.sent - self._last_sent) / max(now - self._last, 1e-9)
        self._last, self._last_sent = now, sink.sent
        of_total = f"/{self._total}" if self._total is not None else ""
        text = (f"producer: generated {generated}{of_total}, sent {sink.sent}, "
                f"failed {sink.failed}, {rate:,.0f} events/s")
        if self._tty:
            self._stream.write("\r" + text + "\033[K")
        else:
            self._stream.write(text + "\n")
        self._stream.flush()

    def done(self) -> None:
        if self._tty:
            self._stream.write("\n")
            self._stream.flush()


def run_events(config: EventsConfig, stdout: TextIO = sys.stdout,
               stderr: TextIO = sys.stderr) -> dict[str, float | int]:
    run_started_at = dt.datetime.now(dt.timezone.utc)
    start = config.start or run_started_at
    start_ms = int(start.timestamp() * 1000)
    generator = EventGenerator(
        load_catalog(config.seeds_dir), seed=config.seed, start_ms=start_ms,
        sim_rate=config.sim_rate, dirty=config.dirty, future_days=config.future_days)
    sink = make_sink(config, run_started_at)
    progress = Progress(config.total, stderr, config.progress)
    batch = MAX_BATCH if config.rate == 0 else max(1, min(MAX_BATCH, int(config.rate / 20)))
    began = time.monotonic()
    deadline = began + config.duration if config.duration else None
    generated = 0
    interrupted = False
    try:
        while config.total is None or generated < config.total:
            now = time.monotonic()
            if deadline is not None and now >= deadline:
                break
            count = batch if config.total is None else min(batch, config.total - generated)
            if config.rate > 0:
                # keep generated / elapsed <= rate
                wait = began + generated / config.rate - now
                if deadline is not None:
                    wait = min(wait, deadline - now)
                if wait > 0:
                    time.sleep(wait)
                    sink.poll()
                    continue
            lines, keys = generator.next_batch(count)
            sink.send(lines, keys)
            generated += count
            progress.tick(sink, generated)
    except KeyboardInterrupt:
        interrupted = True
    finally:
        sink.close()
    elapsed = time.monotonic() - began
    progress.tick(sink, generated, force=True)
    progress.done()
    summary = summarize(generator.counts, sink, elapsed)
    print(format_summary(summary), file=stdout)
    last_error = getattr(sink, "last_error", None)
    if last_error:
        print(f"producer: last delivery error: {last_error}", file=stderr)
    if config.summary_json is not None:
        config.summary_json.parent.mkdir(parents=True, exist_ok=True)
        config.summary_json.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    if interrupted:
        raise KeyboardInterrupt
    return summary
