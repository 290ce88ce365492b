"""dbt on a small hand-made dataset: exact gold values computed by hand, incremental == full refresh.

Stage A lands 30 lines covering every quarantine reason, rule order, duplicates (identical
and not), unknown ids, UTC dates across offsets and half-up rounding; `dbt seed` + `dbt
build` must give the gold rows written out below. Stage B adds late events, a re-sent
duplicate and new sales; an incremental `dbt build` must change exactly the affected rows
and equal a `--full-refresh` build row for row.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from decimal import Decimal

import pytest
from pyspark.sql import Row

from python_tests.conftest import REPO_ROOT

pytestmark = [pytest.mark.spark, pytest.mark.dbt]

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


@pytest.fixture(scope="module")
def built(tmp_path_factory, spark):
    """Stage A ingested and built once for the module's tests."""
    from python_tests.conftest import Lakehouse

    lakehouse = Lakehouse(tmp_path_factory.mktemp("dbt") / "lakehouse")
    lakehouse.write_landing_file("sales-a.json", STAGE_A)
    lakehouse.ingest()
    lakehouse.dbt("seed")
    lakehouse.dbt("build")
    return lakehouse


def test_sales_by_day_is_computed_by_the_contract(spark, built):
    actual = gold(spark, built, "sales_by_day", "sales_date,channel_id,region")
    expected = sorted(
        [
            by_day("2026-11-10", "C01", "S001", 2, 3, "19.01", "9.51"),  # 18.00 + 1.01; avg 9.505 → 9.51
            by_day("2026-11-10", "C09", "S999", 1, 4, "21.00", "21.00"),  # unknown channel and store
            by_day("2026-11-11", "C01", "S001", 1, 5, "500.00", "500.00"),
            by_day("2026-11-11", "C02", "S002", 2, 2, "119.98", "59.99"),
            by_day("2026-11-12", "C01", "S001", 1, 4, "20.00", "20.00"),
        ],
        key=lambda r: (r.sales_date, r.channel_id, r.region),
    )
    assert actual == expected


def test_top_customers_rank_by_spend_then_id(spark, built):
    actual = gold(spark, built, "top_customers", "spend_rank")
    assert actual == [
        Row(customer_id="CU00001", customer_name=name("CU00001"), segment=segment("CU00001"), purchases=2,
            total_spent=D("518.00"), avg_ticket=D("259.00"), first_purchase_at=ts("2026-11-10T10:00:00Z"),
            last_purchase_at=ts("2026-11-11T12:00:00.500Z"), spend_rank=1),
        Row(customer_id="CU00002", customer_name=name("CU00002"), segment=segment("CU00002"), purchases=2,
            total_spent=D("21.00"), avg_ticket=D("10.50"), first_purchase_at=ts("2026-11-10T20:00:00Z"),
            last_purchase_at=ts("2026-11-11T00:00:00Z"), spend_rank=2),
        Row(customer_id="CU99999", customer_name=None, segment=None, purchases=1, total_spent=D("21.00"),
            avg_ticket=D("21.00"), first_purchase_at=ts("2026-11-10T08:00:00Z"),
            last_purchase_at=ts("2026-11-10T08:00:00Z"), spend_rank=3),
    ]


def test_product_performance_with_margin(spark, built):
    actual = gold(spark, built, "product_performance", "revenue_rank")
    assert actual == [
        Row(product_id="P0001", product_name=PRODUCTS["P0001"]["product_name"],
            category=PRODUCTS["P0001"]["category"], transactions=4, units_sold=9, revenue=D("539.00"),
            avg_ticket=D("134.75"), gross_margin=D("539.00") - 9 * cost("P0001"), revenue_rank=1),
        Row(product_id="P0002", product_name=PRODUCTS["P0002"]["product_name"],
            category=PRODUCTS["P0002"]["category"], transactions=3, units_sold=9, revenue=D("140.99"),
            avg_ticket=D("47.00"), gross_margin=D("140.99") - 9 * cost("P0002"), revenue_rank=2),
    ]


def test_quarantine_reasons_and_conservation(spark, built):
    quarantine = spark.read.format("delta").load(built.table_path("silver", "sales_quarantine"))
    reasons = {r.rejection_reason: r["count"] for r in quarantine.groupBy("rejection_reason").count().collect()}
    assert reasons == REASONS_A
    simple = spark.read.format("delta").load(built.table_path("silver", "sales_simple"))
    assert sorted(r.transaction_id for r in simple.collect()) == [
        "t-001", "t-002", "t-003", "t-004", "t-005", "t-006", "t-008"
    ]
    # the first ingested copy of t-004 won (quantity 5, not the later quantity 1)
    assert simple.where("transaction_id = 't-004'").first().quantity == 5
    # bronze = simple + duplicates (t-001 copy, t-004 copy) + quarantine
    assert counts(spark, built) == {"bronze": len(STAGE_A), "simple": 7, "quarantine": sum(REASONS_A.values())}
    assert len(STAGE_A) == 7 + 2 + sum(REASONS_A.values())


def test_incremental_build_equals_full_refresh(spark, built):
    built.write_landing_file("sales-b.json", STAGE_B)
    built.ingest()
    # unit tests ran in the first build; data tests run on every build
    built.dbt("build", "--exclude", "resource_type:unit_test")
    incremental = kpis(spark, built)

    # the affected rows changed as the contract says
    day = {(r.sales_date.isoformat(), r.channel_id, r.region): r for r in incremental["sales_by_day"]}
    assert day[("2026-11-10", "C02", region("S002"))] == by_day("2026-11-10", "C02", "S002", 1, 1, "10.00", "10.00")
    assert day[("2026-11-12", "C01", region("S001"))] == by_day("2026-11-12", "C01", "S001", 2, 5, "55.49", "27.75")
    assert day[("2026-11-10", "C01", region("S001"))] == by_day("2026-11-10", "C01", "S001", 2, 3, "19.01", "9.51")
    top = incremental["top_customers"][0]
    assert (top.customer_id, top.purchases, top.total_spent, top.avg_ticket) == ("CU00001", 3, D("528.00"), D("176.00"))
    assert counts(spark, built) == {
        "bronze": len(STAGE_A) + 4,
        "simple": 9,
        "quarantine": sum(REASONS_A.values()) + 1,
    }

    built.dbt("build", "--full-refresh", "--exclude", "resource_type:unit_test")
    assert kpis(spark, built) == incremental


STAGE_C = [
    event("t-011", "2026-11-09T12:00:00Z", customer="CU00002", quantity=3, price=4.00),  # late: 2026-11-09, 12.00
    event("t-010", "2026-11-12T18:00:00Z", quantity=1, price=35.49),  # re-send of a stage B sale
    event("t-012", "2026-11-12T19:00:00Z", customer="CU00001", product="P0002", quantity=2, price=1.00),  # 2.00
]


def test_gold_stays_exact_when_silver_is_rebuilt_alone(spark, built):
    """Silver rebuilt on its own gives every silver row a new loaded_at: the next incremental
    run must notice (upstream_only_gained_rows) — the gold aggregates recompute from all of
    silver instead of adding it a second time, fct_sales appends only new transaction_ids."""
    built.dbt("run", "--full-refresh", "--select", "sales_simple", "sales_enriched")
    built.write_landing_file("sales-c.json", STAGE_C)
    built.ingest()
    # `run`, not `build`: the data tests ran in the tests above; this is about the models' logic
    result = built.dbt("run")
    assert result.stdout.count("changed beyond new rows since the last run: recomputing from all of it") == 3
    assert result.stdout.count("changed beyond new rows since the last run: appending only the transaction_ids") == 1
    incremental = kpis(spark, built)
    day = {(r.sales_date.isoformat(), r.channel_id, r.region): r for r in incremental["sales_by_day"]}
    assert day[("2026-11-09", "C01", region("S001"))] == by_day("2026-11-09", "C01", "S001", 1, 3, "12.00", "12.00")
    top = incremental["top_customers"][0]
    assert (top.customer_id, top.purchases, top.total_spent) == ("CU00001", 4, D("530.00"))
    read = spark.read.format("delta").load
    fct = read(built.table_path("gold", "fct_sales"))
    assert (fct.count(), fct.select("transaction_id").distinct().count()) == (11, 11)

    # and the run after it adds again (nothing new in bronze: gold unchanged)
    again = built.dbt("run", "--select", "tag:intermediate+", "--exclude", "tag:star")
    assert "changed beyond new rows" not in again.stdout
    assert kpis(spark, built) == incremental

    built.dbt("run", "--full-refresh")
    assert kpis(spark, built) == incremental
