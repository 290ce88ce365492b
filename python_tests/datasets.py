"""The hand-made datasets several test modules build, and the helpers that read them back.

STAGE_A (30 lines) covers every quarantine reason, the rules' order, duplicates (identical and
not), unknown ids, UTC dates across offsets and half-up rounding; REASONS_A counts its
quarantine. STAGE_B adds late events, a re-sent duplicate and new sales; STAGE_C a late sale and
another re-send. The expected gold rows are written out in the tests, computed by hand.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from decimal import Decimal

from pyspark.sql import Row

from python_tests.conftest import REPO_ROOT

D = Decimal


def seed(name: str, key: str) -> dict[str, dict[str, str]]:
    with open(REPO_ROOT / "seeds" / f"{name}.csv", newline="") as handle:
        return {row[key]: row for row in csv.DictReader(handle)}


PRODUCTS = seed("products", "product_id")
STORES = seed("stores", "store_id")
CHANNELS = seed("channels", "channel_id")
CUSTOMERS = seed("customers", "customer_id")


def event(tid, ts, store="S001", channel="C01", product="P0001", customer=None, quantity=1, price=10.0,
          discount=None, payment="card", currency="USD", **extra):
    body = {
        "transaction_id": tid,
        "event_timestamp": ts,
        "store_id": store,
        "channel_id": channel,
        "product_id": product,
        "customer_id": customer,
        "quantity": quantity,
        "unit_price": price,
    }
    if discount is not None:
        body["discount_pct"] = discount
    body.update({"payment_method": payment, "currency": currency})
    body.update(extra)
    return json.dumps(body, separators=(",", ":"))


def without(line: str, field: str) -> str:
    body = json.loads(line)
    del body[field]
    return json.dumps(body)


STAGE_A = [
    # valid sales
    event("t-001", "2026-11-10T10:00:00Z", customer="CU00001", quantity=2, price=10.00, discount=0.10),  # 18.00
    event("t-002", "2026-11-10T23:30:00-02:00", store="S002", channel="C02", product="P0002",
          quantity=1, price=99.99),  # 2026-11-11 UTC, 99.99
    event("t-003", "2026-11-11T05:00:00+09:00", customer="CU00002", quantity=1, price=2.01,
          discount=0.50),  # 2026-11-10 UTC; 1.005 → 1.01 (half up)
    event("t-001", "2026-11-10T10:00:00Z", customer="CU00001", quantity=2, price=10.00, discount=0.10),  # re-send
    event("t-004", "2026-11-11T12:00:00.500Z", customer="CU00001", quantity=5, price=100.00, discount=0),  # 500.00
    event("t-005", "2026-11-10T08:00:00Z", store="S999", channel="C09", product="P0002", customer="CU99999",
          quantity=4, price=5.25),  # unknown store/channel/customer: 21.00
    event("t-006", "2026-11-11T00:00:00Z", store="S002", channel="C02", customer="CU00002", price=19.99,
          discount=None, promo_code="XMAS", nested={"a": [1, 2]}),  # extra fields: 19.99
    event("t-004", "2026-11-11T12:00:00.500Z", customer="CU00001", quantity=1, price=100.00),  # same id, later
    event("t-008", "2026-11-12T09:00:00+00:00", product="P0002", quantity=4, price=5.00),  # 20.00
    # quarantine, one per rule (and a few variants)
    '{"transaction_id":"t-bad","quantity":1',  # malformed_json
    "[1,2,3]",  # malformed_json (not an object)
    event("", "2026-11-10T10:00:00Z"),  # missing_transaction_id
    event("   ", "2026-11-10T10:00:00Z", quantity=0),  # missing_transaction_id wins over invalid_quantity
    without(event("t-100", "2026-11-10T10:00:00Z"), "transaction_id"),  # missing_transaction_id
    event("t-101", "2026-13-45T10:00:00Z"),  # invalid_timestamp
    event("t-102", "yesterday"),  # invalid_timestamp
    event("t-103", "2026-11-10T10:00:00"),  # invalid_timestamp (no offset)
    event("t-104", "2099-01-01T00:00:00Z"),  # future_timestamp
    event("t-105", "2026-11-10T10:00:00Z", quantity=0),  # invalid_quantity
    event("t-106", "2026-11-10T10:00:00Z", quantity="2"),  # invalid_quantity (a string)
    event("t-107", "2026-11-10T10:00:00Z", quantity=1.5),  # invalid_quantity
    event("t-108", "2026-11-10T10:00:00Z", price=-1),  # invalid_price
    event("t-109", "2026-11-10T10:00:00Z", price="9.99"),  # invalid_price (a string)
    event("t-110", "2026-11-10T10:00:00Z", discount=1.0),  # invalid_discount
    event("t-111", "2026-11-10T10:00:00Z", discount=-0.1, price=-5),  # invalid_price wins over invalid_discount
    event("t-112", "2026-11-10T10:00:00Z", product=""),  # missing_reference
    without(event("t-113", "2026-11-10T10:00:00Z"), "store_id"),  # missing_reference
    event("t-114", "2026-11-10T10:00:00Z", currency="EUR"),  # unsupported_currency
    event("t-002", "2026-11-10T23:30:00-02:00", currency="usd"),  # invalid copy of a valid id: quarantined
    event("t-115", "2026-11-10T10:00:00Z", discount=None, currency=None),  # unsupported_currency
]

REASONS_A = {
    "malformed_json": 2,
    "missing_transaction_id": 3,
    "invalid_timestamp": 3,
    "future_timestamp": 1,
    "invalid_quantity": 3,
    "invalid_price": 3,
    "invalid_discount": 1,
    "missing_reference": 2,
    "unsupported_currency": 3,
}

STAGE_B = [
    event("t-001", "2026-11-10T10:00:00Z", customer="CU00001", quantity=2, price=10.00, discount=0.10),  # re-send
    event("t-009", "2026-11-10T15:00:00Z", store="S002", channel="C02", product="P0002", customer="CU00001",
          quantity=1, price=10.00),  # late: 2026-11-10, new (date, channel, region) key
    event("t-010", "2026-11-12T18:00:00Z", quantity=1, price=35.49),  # 2026-11-12, 35.49
    event("t-116", "2026-11-12T18:00:00Z", quantity=-1),  # invalid_quantity
]


def region(store_id: str) -> str:
    return STORES[store_id]["region"] if store_id in STORES else "unknown"


def channel_name(channel_id: str) -> str:
    return CHANNELS[channel_id]["channel_name"] if channel_id in CHANNELS else "unknown"


def name(customer_id: str):
    c = CUSTOMERS.get(customer_id)
    return f"{c['first_name']} {c['last_name']}" if c else None


def segment(customer_id: str):
    c = CUSTOMERS.get(customer_id)
    return c["segment"] if c else None


def cost(product_id: str) -> Decimal:
    return D(PRODUCTS[product_id]["unit_cost"])


def ts(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(dt.timezone.utc).replace(tzinfo=None)


def by_day(date, channel, store, transactions, units, total, avg):
    return Row(sales_date=dt.date.fromisoformat(date), channel_id=channel, channel_name=channel_name(channel),
               region=region(store), transactions=transactions, units=units, total_amount=D(total),
               avg_ticket=D(avg))


def gold(spark, lakehouse, table: str, order: str):
    return spark.read.format("delta").load(lakehouse.table_path("gold", table)).orderBy(*order.split(",")).collect()


KPI_TABLES = {
    "sales_by_day": "sales_date,channel_id,region",
    "top_customers": "spend_rank",
    "product_performance": "revenue_rank",
}


def kpis(spark, lakehouse) -> dict[str, list]:
    """The three gold KPI tables, each in a fixed order."""
    return {table: gold(spark, lakehouse, table, order) for table, order in KPI_TABLES.items()}


def counts(spark, lakehouse) -> dict[str, int]:
    read = spark.read.format("delta").load
    bronze = read(lakehouse.bronze_path).count()
    simple = read(lakehouse.table_path("silver", "sales_simple")).count()
    quarantine = read(lakehouse.table_path("silver", "sales_quarantine")).count()
    return {"bronze": bronze, "simple": simple, "quarantine": quarantine}


STAGE_C = [
    event("t-011", "2026-11-09T12:00:00Z", customer="CU00002", quantity=3, price=4.00),  # late: 2026-11-09, 12.00
    event("t-010", "2026-11-12T18:00:00Z", quantity=1, price=35.49),  # re-send of a stage B sale
    event("t-012", "2026-11-12T19:00:00Z", customer="CU00001", product="P0002", quantity=2, price=1.00),  # 2.00
]
