"""A local single-node Kafka broker (KRaft): `broker.KafkaBroker`, and `python -m local_stack.kafka`."""
