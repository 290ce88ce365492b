"""Event Hubs sink over AMQP (azure-eventhub)."""

from __future__ import annotations

import time
from collections import defaultdict

from azure.eventhub import EventData, EventHubProducerClient
from azure.eventhub.exceptions import AuthenticationError, EventHubError

from producer.config import EventHubsSinkConfig


class EventHubsSink:
    """azure-eventhub AMQP producer: one batch per store_id (partition key), body = JSON bytes.

    A batch is sent when the next event does not fit (``ValueError`` from ``add``); an event
    too large for an empty batch is counted in ``failed`` and ``oversize`` and skipped. Sends are
    retried by the SDK (``retry_total``) and then ``send_retries`` more times on
    ``EventHubError`` (not on authentication errors); a batch still failing counts as failed.
    Malformed events have no store_id: they go in batches without a partition key.
    """

    def __init__(self, config: EventHubsSinkConfig, backoff_seconds: float = 0.5) -> None:
        self._client = EventHubProducerClient.from_connection_string(
            config.connection_string, eventhub_name=config.eventhub_name,
            retry_total=config.retry_total)
        self._send_retries = config.send_retries
        self._backoff = backoff_seconds
        self.sent = 0
        self.failed = 0
        self.oversize = 0
        self.last_error: str | None = None

    def _send_batch(self, batch) -> None:
        size = len(batch)
        for attempt in range(self._send_retries + 1):
            try:
                self._client.send_batch(batch)
                self.sent += size
                return
            except AuthenticationError as error:
                self.last_error = str(error)
                break
            except EventHubError as error:
                self.last_error = str(error)
                if attempt < self._send_retries:
                    time.sleep(self._backoff * 2 ** attempt)
        self.failed += size

    def send(self, lines: list[str], keys: list[str | None]) -> None:
        groups: dict[str | None, list[str]] = defaultdict(list)
        for line, key in zip(lines, keys):
            groups[key or None].append(line)
        for key, group in groups.items():
            batch = self._client.create_batch(partition_key=key)
            for line in group:
                event = EventData(line.encode("utf-8"))
                try:
                    batch.add(event)
                    continue
                except ValueError:
                    pass
                if len(batch):
                    self._send_batch(batch)
                    batch = self._client.create_batch(partition_key=key)
                    try:
                        batch.add(event)
                        continue
                    except ValueError:
                        pass
                self.oversize += 1
                self.failed += 1
            if len(batch):
                self._send_batch(batch)

    def poll(self) -> None:
        pass

    def close(self) -> None:
        self._client.close()
