"""The pure bronze transform on small in-memory frames: exact rows."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from pyspark.sql import Row
from pyspark.sql import functions as F
from pyspark.testing import assertDataFrameEqual

from streaming_ingest.bronze import BRONZE_COLUMNS, BRONZE_SCHEMA, to_bronze

pytestmark = pytest.mark.spark

INGESTED = dt.datetime(2026, 11, 21, 10, 0, 0)

PARSED = [
    "is_json_object",
    "transaction_id",
    "event_timestamp",
    "store_id",
    "channel_id",
    "product_id",
    "customer_id",
    "quantity",
    "unit_price",
    "discount_pct",
    "has_discount_pct",
    "payment_method",
    "currency",
]


def bronze_of(spark, payloads: list[str]):
    raw = spark.createDataFrame(
        [(p, "file:/landing/a.json", i) for i, p in enumerate(payloads)],
        "payload string, source_file string, source_position bigint",
    )
    return to_bronze(raw, source_kind="files", ingestion_time=F.lit(INGESTED).cast("timestamp"))


def expected(**values) -> Row:
    row = {name: None for name in PARSED}
    row["is_json_object"] = True
    row["has_discount_pct"] = False
    row.update(values)
    return Row(**row)


def test_parses_a_complete_event_with_its_json_types(spark):
    payload = (
        '{"transaction_id":"t1","event_timestamp":"2026-11-21T10:15:30.123+01:00","store_id":"S001",'
        '"channel_id":"C01","product_id":"P0001","customer_id":"CU00001","quantity":2,'
        '"unit_price":19.99,"discount_pct":0.15,"payment_method":"card","currency":"USD","extra":{"x":1}}'
    )
    actual = bronze_of(spark, [payload]).select(*PARSED)
    assertDataFrameEqual(
        actual,
        [
            expected(
                transaction_id="t1",
                event_timestamp="2026-11-21T10:15:30.123+01:00",
                store_id="S001",
                channel_id="C01",
                product_id="P0001",
                customer_id="CU00001",
                quantity=2,
                unit_price=Decimal("19.990000"),
                discount_pct=Decimal("0.150000"),
                has_discount_pct=True,
                payment_method="card",
                currency="USD",
            )
        ],
    )


def test_unparseable_and_wrongly_typed_values_are_null(spark):
    payloads = [
        "not json at all",
        "[1, 2, 3]",
        '"just a string"',
        '{"transaction_id": "t2", "quantity": "2", "unit_price": "9.99", "discount_pct": "0.1"}',
        '{"transaction_id": "t3", "quantity": 2.5, "unit_price": true, "discount_pct": null}',
        '{"transaction_id": 42, "quantity": 3, "unit_price": 1e2, "customer_id": null, "store_id": {"a": 1}}',
        '{"transaction_id": "t5", "quantity": -4, "unit_price": -1.5, "discount_pct": 1.5}',
        '{"transaction_id": "t6", "quantity": 1, "unit_price": 1234567890123.5}',
    ]
    actual = bronze_of(spark, payloads).select("source_position", *PARSED)
    rows = [
        expected(is_json_object=False),
        expected(is_json_object=False),
        expected(is_json_object=False),
        expected(transaction_id="t2", has_discount_pct=True),
        expected(transaction_id="t3"),
        expected(transaction_id="42", quantity=3, unit_price=Decimal("100.000000")),
        expected(
            transaction_id="t5",
            quantity=-4,
            unit_price=Decimal("-1.500000"),
            discount_pct=Decimal("1.500000"),
            has_discount_pct=True,
        ),
        expected(transaction_id="t6", quantity=1),
    ]
    assertDataFrameEqual(
        actual,
        [Row(source_position=i, **row.asDict()) for i, row in enumerate(rows)],
    )


def test_keeps_raw_payload_and_coordinates_for_every_line(spark):
    payloads = ['{"transaction_id":"a"}', "{broken", ""]
    actual = bronze_of(spark, payloads).select(
        "record_id", "raw_payload", "ingestion_time", "source_kind", "source_file", "source_position", "kafka_offset"
    )
    assertDataFrameEqual(
        actual,
        [
            Row(
                record_id=f"file:/landing/a.json#{i}",
                raw_payload=p,
                ingestion_time=INGESTED,
                source_kind="files",
                source_file="file:/landing/a.json",
                source_position=i,
                kafka_offset=None,
            )
            for i, p in enumerate(payloads)
        ],
    )


def test_kafka_coordinates_make_the_record_id(spark):
    raw = spark.createDataFrame(
        [('{"transaction_id":"k1"}', "sales-events", 3, 17, dt.datetime(2026, 11, 21, 9, 0), "S001")],
        "payload string, kafka_topic string, kafka_partition int, kafka_offset bigint, "
        "kafka_timestamp timestamp, kafka_key string",
    )
    actual = to_bronze(raw, source_kind="kafka", ingestion_time=F.lit(INGESTED).cast("timestamp")).select(
        "record_id", "transaction_id", "kafka_partition", "kafka_offset", "kafka_key", "source_file"
    )
    assertDataFrameEqual(
        actual,
        [Row(record_id="sales-events/3/17", transaction_id="k1", kafka_partition=3, kafka_offset=17,
             kafka_key="S001", source_file=None)],
    )


def test_bronze_has_the_declared_schema(spark):
    frame = bronze_of(spark, ['{"transaction_id":"a"}'])
    assert frame.columns == BRONZE_COLUMNS
    assert [(f.name, f.dataType) for f in frame.schema.fields] == [
        (f.name, f.dataType) for f in BRONZE_SCHEMA.fields
    ]
