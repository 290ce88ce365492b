"""The pure bronze transform on small in-memory frames: exact rows."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from pyspark.sql import Row
from pyspark.sql import functions as F
from pyspark.testing import assertDataFrameEqual

from streaming_ingest.bronze import BRONZE_COLUMNS, BRONZE_SCHEMA, parse_payload, to_bronze

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

def bronze_of(spark, payloads: list[str], *, fast: bool = True):
    raw = spark.createDataFrame(
        [(p, "file:/landing/a.json", i) for i, p in enumerate(payloads)],
        "payload string, source_file string, source_position bigint",
    )
    return to_bronze(raw, source_kind="files", ingestion_time=F.lit(INGESTED).cast("timestamp"), fast=fast)

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
    # the job ends each id with its checkpoint's id: a message read again by a new checkpoint
    # (after a checkpoint reset) is a bronze row of its own
    again = to_bronze(raw, source_kind="kafka", checkpoint_id="0f3a9c1e2b4d").select("record_id")
    assert again.collect() == [Row(record_id="sales-events/3/17@0f3a9c1e2b4d")]

def test_bronze_has_the_declared_schema(spark):
    frame = bronze_of(spark, ['{"transaction_id":"a"}'])
    assert frame.columns == BRONZE_COLUMNS
    assert [(f.name, f.dataType) for f in frame.schema.fields] == [
        (f.name, f.dataType) for f in BRONZE_SCHEMA.fields
    ]

# Payloads where Spark's JSON reader (the fast path) and the variant parse (the exact path) could
# disagree: each must come out the same both ways, whichever path the row takes.
ODD_PAYLOADS = [
    '{"transaction_id":"t1","quantity":2,"unit_price":19.99,"discount_pct":0,"store_id":"S001"}',
    '  \t{"transaction_id":"lead-blank","quantity":1}',
    '{"transaction_id":"trailing","quantity":1} x',
    '{"transaction_id":"trailing-brace","quantity":1}}',
    '{"transaction_id":"dup","quantity":1,"quantity":2}',
    "{'transaction_id':'single-quotes','quantity':1}",
    '{"transaction_id":"nan","unit_price":NaN}',
    '{"transaction_id":"nan-string","unit_price":"NaN","discount_pct":"Infinity"}',
    '{"transaction_id":4.50,"store_id":1e2,"channel_id":true,"product_id":-0.0,"customer_id":12}',
    '{"transaction_id":"nested","store_id":{"a":1},"channel_id":[1,2],"product_id":"{not-nested}"}',
    '{"transaction_id":"[bracket-string","event_timestamp":{"at":"2026-11-21"}}',
    '{"transaction_id":"ts-number","event_timestamp":1763719200.5}',
    '{"transaction_id":"1.5","store_id":"3.25E2","customer_id":"2026.11"}',
    '{"transaction_id":"prec","unit_price":19.9999995,"discount_pct":0.1234567}',
    '{"transaction_id":"big","unit_price":123456789.25,"discount_pct":1e-7}',
    '{"transaction_id":"huge","unit_price":1e300,"quantity":99999999999999999999}',
    '{"transaction_id":"exp","unit_price":1.5e1,"quantity":1E2}',
    '{"transaction_id":"qty-float","quantity":2.0,"unit_price":-0}',
    '{"transaction_id":"qty-bool","quantity":true,"discount_pct":null}',
    '{"transaction_id":"Case","Quantity":3,"UNIT_PRICE":1.0}',
    '{"transaction_id":"escaped\\u00e9\\n","currency":"US\\"D"}',
    '{"transaction_id":""}',
    "{}",
    "[]",
    "null",
    "",
    "   ",
    '{"transaction_id":"cut","quantity":',
    '{"transaction_id"="broken"}',
]

def test_fast_and_exact_paths_agree_on_odd_payloads(spark):
    fast = bronze_of(spark, ODD_PAYLOADS).collect()
    exact = bronze_of(spark, ODD_PAYLOADS, fast=False).collect()
    assert len(fast) == len(ODD_PAYLOADS)
    by_position = {row.source_position: row for row in exact}
    for row in fast:
        assert row == by_position[row.source_position], ODD_PAYLOADS[row.source_position]

def test_odd_payloads_parse_as_the_contract_says(spark):
    rows = {r.source_position: r for r in bronze_of(spark, ODD_PAYLOADS).collect()}

    def at(payload: str) -> Row:
        return rows[ODD_PAYLOADS.index(payload)]

    # not one JSON object: trailing text, a repeated key, single quotes, NaN
    for payload in ODD_PAYLOADS[2:7]:
        assert at(payload).is_json_object is False, payload
    assert at(ODD_PAYLOADS[1]).transaction_id == "lead-blank"
    numbers = at(ODD_PAYLOADS[8])
    assert (numbers.transaction_id, numbers.store_id, numbers.channel_id, numbers.customer_id) == (
        "4.5", "100.0", "true", "12",
    )
    nested = at(ODD_PAYLOADS[9])
    assert (nested.store_id, nested.channel_id, nested.product_id) == (None, None, "{not-nested}")
    assert at(ODD_PAYLOADS[10]).event_timestamp is None
    price = at(ODD_PAYLOADS[13])
    assert (price.unit_price, price.discount_pct) == (Decimal("20.000000"), Decimal("0.123457"))
    assert at(ODD_PAYLOADS[16]).unit_price == Decimal("15.000000")
    assert at(ODD_PAYLOADS[16]).quantity is None  # 1E2 is not a JSON integer
    assert at(ODD_PAYLOADS[19]).quantity is None  # keys are case-sensitive
    assert at(ODD_PAYLOADS[20]).currency == 'US"D'

def test_clean_events_take_the_fast_path(spark):

    payloads = [
        '{"transaction_id":"612e7696-a6ce-4c1b-b8e5-10617311d8a3","event_timestamp":"2026-11-20T00:00:00.000Z",'
        '"store_id":"S010","channel_id":"C01","product_id":"P0317","customer_id":"CU03490","quantity":1,'
        '"unit_price":36.99,"discount_pct":0,"payment_method":"card","currency":"USD"}',
        '{"transaction_id":"cd447e35-b8b6-48fe-842e-3d437204e52d","event_timestamp":"2026-11-20T00:00:00.001+01:00",'
        '"store_id":"S031","channel_id":"C01","product_id":"P0299","customer_id":null,"quantity":2,'
        '"unit_price":35.69,"payment_method":"card","currency":"USD","device":{"os":"ios"}}',
    ]
    raw = spark.createDataFrame([(p,) for p in payloads], "payload string")
    staged, _ = parse_payload(raw)
    assert [r[0] for r in staged.select("__bronze_fast_ok").collect()] == [True, True]
