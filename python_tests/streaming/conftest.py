"""Fixtures for the streaming tests: one real local Kafka broker (KRaft) for the session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from local_stack.kafka.broker import BrokerError, KafkaBroker


@pytest.fixture(scope="session")
def kafka_broker() -> Iterator[KafkaBroker]:
    broker = None
    for attempt in range(3):
        try:
            broker = KafkaBroker().start()
            break
        except BrokerError as error:
            # local_stack/kafka/broker.py makes a random cluster id that starts with "-" once in
            # 64 starts, which kafka-storage reads as an option: start again.
            if "cluster-id" not in str(error) or attempt == 2:
                raise
    assert broker is not None
    try:
        yield broker
    finally:
        broker.stop()
