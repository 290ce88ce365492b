"""Where events go: landing-zone files, Kafka (or Event Hubs' Kafka endpoint), Event Hubs AMQP.

One module per sink. Every sink takes batches of (JSON line, key) pairs via ``send`` and keeps
two counters: ``sent`` (delivered: published in a file, acknowledged by the broker, accepted by
Event Hubs) and ``failed``. ``poll`` serves timers and callbacks; ``close`` flushes whatever is
pending.
"""

from __future__ import annotations

from typing import Protocol


class Sink(Protocol):
    sent: int
    failed: int

    def send(self, lines: list[str], keys: list[str | None]) -> None: ...

    def poll(self) -> None: ...

    def close(self) -> None: ...
