"""Kafka sink (confluent-kafka): any Kafka, or Event Hubs' Kafka endpoint (SASL_SSL PLAIN)."""

from __future__ import annotations

import sys

from confluent_kafka import Producer

from producer.config import KafkaSinkConfig


class KafkaSink:
    """confluent-kafka producer: key = store_id, value = JSON bytes, idempotent, acks=all.

    ``sent``/``failed`` count delivery reports; ``close`` flushes (waits for all reports).
    """

    def __init__(self, config: KafkaSinkConfig) -> None:
        settings = {
            "bootstrap.servers": config.bootstrap_servers,
            "enable.idempotence": True,
            "acks": "all",
            "linger.ms": 20,
            "batch.num.messages": 10_000,
            "queue.buffering.max.messages": 500_000,
            "queue.buffering.max.kbytes": 512 * 1024,
            "compression.type": "lz4",
            "message.timeout.ms": 120_000,
            "client.id": "lakehouse-producer",
            "error_cb": self._on_error,
        }
        settings.update(config.extra)
        self._topic = config.topic
        self._producer = Producer(settings)
        self.sent = 0
        self.failed = 0
        self.last_error: str | None = None
        self._reported: set[str] = set()

    def _on_error(self, error) -> None:
        text = str(error)
        if text not in self._reported:  # each distinct client error once
            self._reported.add(text)
            print(f"producer: kafka: {text}", file=sys.stderr)

    def _on_delivery(self, error, _message) -> None:
        if error is None:
            self.sent += 1
        else:
            self.failed += 1
            self.last_error = str(error)

    def send(self, lines: list[str], keys: list[str | None]) -> None:
        produce = self._producer.produce
        topic = self._topic
        callback = self._on_delivery
        for line, key in zip(lines, keys):
            while True:
                try:
                    produce(topic, line, key, on_delivery=callback)
                    break
                except BufferError:  # local queue full: serve delivery reports, then retry
                    self._producer.poll(0.05)
        self._producer.poll(0)

    def poll(self) -> None:
        self._producer.poll(0)

    def close(self) -> None:
        remaining = self._producer.flush(180)
        if remaining:
            self.failed += remaining
            self.last_error = f"{remaining} messages still undelivered after flush"
