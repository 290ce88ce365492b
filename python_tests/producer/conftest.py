"""The producer tests use the run's one Kafka broker, `kafka_broker` (python_tests/conftest.py)."""
