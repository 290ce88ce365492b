"""Fixtures for the producer tests.

``kafka_broker`` (session scope) runs a real single-node Kafka broker (KRaft) from Maven
Central jars for the whole session. Other test folders can reuse it::

    from local_stack.kafka.broker import KafkaBroker

    @pytest.fixture(scope="session")
    def kafka_broker():
        with KafkaBroker() as broker:
            yield broker  # broker.bootstrap == "127.0.0.1:<port>"
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from local_stack.kafka.broker import KafkaBroker


@pytest.fixture(scope="session")
def kafka_broker() -> Iterator[KafkaBroker]:
    with KafkaBroker() as broker:
        yield broker
