"""The gold star schema on the hand-made STAGE_A (python_tests/datasets.py), and the PII rule.

On the shared `stage_a` lakehouse (STAGE_A built by one full `dbt build`, its data tests and
unit tests included; python_tests/conftest.py): the fact must hold exactly the
7 valid sales, keyed to every dimension (the unknown store/channel/customer of t-005 to their
own unknown members, anonymous sales to '-1'), `dim_customer` must show masked e-mails only,
and the reconciliation test with `sales_by_day` must pass. The build's manifest shows the only gold column tagged PII is `top_customers.customer_name`.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
from pyspark.sql import Row

from python_tests.conftest import Lakehouse
from python_tests.datasets import CUSTOMERS, PRODUCTS, STORES, ts

D = Decimal

def table(spark, lakehouse: Lakehouse, name: str):
    return spark.read.format("delta").load(lakehouse.table_path("gold", name))


def sale(tid, date, product, store, channel, customer, at, category, quantity, price, discount, total):
    cost = PRODUCTS[product]["unit_cost"] if product in PRODUCTS else None
    cost_amount = D(cost) * quantity if cost is not None else None
    return Row(
        transaction_id=tid, date_key=int(date.replace("-", "")), product_key=product, store_key=store,
        channel_key=channel, customer_key=customer, sales_date=dt.date.fromisoformat(date), event_at=ts(at),
        ticket_category=category, payment_method="card", quantity=quantity, unit_price=D(price),
        discount_pct=D(discount), total_amount=D(total), unit_cost=D(cost) if cost is not None else None,
        cost_amount=cost_amount, gross_margin=D(total) - cost_amount if cost_amount is not None else None,
    )


@pytest.mark.spark
@pytest.mark.dbt
def test_fact_has_one_row_per_sale_keyed_to_every_dimension(spark, stage_a):
    fact = table(spark, stage_a, "fct_sales").drop("loaded_at").orderBy("transaction_id").collect()
    assert fact == [
        sale("t-001", "2026-11-10", "P0001", "S001", "C01", "CU00001", "2026-11-10T10:00:00Z", "small", 2,
             "10", "0.1", "18.00"),
        sale("t-002", "2026-11-11", "P0002", "S002", "C02", "-1", "2026-11-11T01:30:00Z", "medium", 1,
             "99.99", "0", "99.99"),
        sale("t-003", "2026-11-10", "P0001", "S001", "C01", "CU00002", "2026-11-10T20:00:00Z", "small", 1,
             "2.01", "0.5", "1.01"),
        sale("t-004", "2026-11-11", "P0001", "S001", "C01", "CU00001", "2026-11-11T12:00:00.500Z", "premium", 5,
             "100", "0", "500.00"),
        sale("t-005", "2026-11-10", "P0002", "S999", "C09", "CU99999", "2026-11-10T08:00:00Z", "medium", 4,
             "5.25", "0", "21.00"),
        sale("t-006", "2026-11-11", "P0001", "S002", "C02", "CU00002", "2026-11-11T00:00:00Z", "small", 1,
             "19.99", "0", "19.99"),
        sale("t-008", "2026-11-12", "P0002", "S001", "C01", "-1", "2026-11-12T09:00:00Z", "medium", 4,
             "5", "0", "20.00"),
    ]

    # every sale survives inner joins to all five dimensions
    for name, key in [("dim_date", "date_key"), ("dim_product", "product_key"), ("dim_store", "store_key"),
                      ("dim_channel", "channel_key"), ("dim_customer", "customer_key")]:
        joined = table(spark, stage_a, "fct_sales").join(table(spark, stage_a, name), key, "inner")
        assert joined.count() == 7, name


@pytest.mark.spark
@pytest.mark.dbt
def test_unknown_ids_resolve_to_unknown_members(spark, stage_a):
    store = table(spark, stage_a, "dim_store").where("store_key in ('S999', '-1')").orderBy("store_key").collect()
    assert store == [
        Row(store_key="-1", store_id=None, store_name="unknown", city="unknown", region="unknown",
            country="unknown", is_unknown=True),
        Row(store_key="S999", store_id="S999", store_name="unknown", city="unknown", region="unknown",
            country="unknown", is_unknown=True),
    ]
    channel = table(spark, stage_a, "dim_channel").where("channel_key = 'C09'").collect()
    assert channel == [Row(channel_key="C09", channel_id="C09", channel_name="unknown", channel_type="unknown",
                           is_unknown=True)]
    customers = table(spark, stage_a, "dim_customer").where("customer_key in ('CU99999', '-1')")
    assert sorted(customers.collect()) == sorted([
        Row(customer_key="-1", customer_id=None, masked_email=None, segment="anonymous", signup_date=None,
            is_anonymous=True, is_unknown=True),
        Row(customer_key="CU99999", customer_id="CU99999", masked_email=None, segment="unknown",
            signup_date=None, is_anonymous=False, is_unknown=True),
    ], key=str)
    # members: the seeds, plus one per unknown id seen in sales, plus '-1'
    assert table(spark, stage_a, "dim_store").count() == len(STORES) + 2
    assert table(spark, stage_a, "dim_customer").count() == len(CUSTOMERS) + 2
    assert table(spark, stage_a, "dim_product").count() == len(PRODUCTS) + 1
    # a known store keeps its seed attributes
    s001 = table(spark, stage_a, "dim_store").where("store_key = 'S001'").first()
    assert (s001.region, s001.is_unknown) == (STORES["S001"]["region"], False)


@pytest.mark.spark
@pytest.mark.dbt
def test_dim_customer_masks_email_and_holds_no_names(spark, stage_a):
    dim = table(spark, stage_a, "dim_customer")
    assert dim.columns == ["customer_key", "customer_id", "masked_email", "segment", "signup_date",
                           "is_anonymous", "is_unknown"]
    seed = CUSTOMERS["CU00001"]
    domain = seed["email"].split("@")[-1].lower()
    assert dim.where("customer_key = 'CU00001'").collect() == [
        Row(customer_key="CU00001", customer_id="CU00001", masked_email=f"***@{domain}", segment=seed["segment"],
            signup_date=dt.date.fromisoformat(seed["signup_date"]), is_anonymous=False, is_unknown=False)
    ]
    # no raw e-mail anywhere in the dimension
    assert dim.where("masked_email rlike '[^*]@'").count() == 0


@pytest.mark.spark
@pytest.mark.dbt
def test_dim_date_covers_the_sales_years(spark, stage_a):
    dim = table(spark, stage_a, "dim_date")
    assert dim.count() == 365 + 1  # 2026, plus the unknown member
    assert dim.where("date_key = 20261110").first().asDict() == {
        "date_key": 20261110, "calendar_date": dt.date(2026, 11, 10), "day_of_week": 2, "day_name": "Tuesday",
        "day_of_month": 10, "day_of_year": 314, "is_weekend": False, "week_start_date": dt.date(2026, 11, 9),
        "iso_week_of_year": 46, "iso_year": 2026, "month_of_year": 11, "month_name": "November",
        "month_start_date": dt.date(2026, 11, 1), "year_month": "2026-11", "quarter_of_year": 4,
        "quarter_name": "Q4", "quarter_start_date": dt.date(2026, 10, 1), "calendar_year": 2026,
        "is_unknown": False,
    }


@pytest.mark.spark
@pytest.mark.dbt
def test_star_data_tests_ran_and_passed(stage_a):
    results = stage_a.build_results["results"]
    status = {r["unique_id"]: r["status"] for r in results}
    assert status["test.retail_lakehouse.star_sales_by_day_reconciles_with_fct_sales"] == "pass"
    assert status["test.retail_lakehouse.star_dim_date_is_contiguous"] == "pass"
    relationships = {uid: s for uid, s in status.items()
                     if uid.startswith("test.retail_lakehouse.relationships_fct_sales_")}
    assert len(relationships) == 5 and set(relationships.values()) == {"pass"}
    unit_tests = {uid: s for uid, s in status.items()
                  if uid.startswith(("unit_test.retail_lakehouse.dim_", "unit_test.retail_lakehouse.fct_sales"))}
    assert len(unit_tests) == 7 and set(unit_tests.values()) == {"pass"}


def is_pii(column: dict) -> bool:
    config = column.get("config") or {}
    tags = set(column.get("tags") or []) | set(config.get("tags") or [])
    meta = {**(column.get("meta") or {}), **(config.get("meta") or {})}
    return "pii" in tags or meta.get("pii") is True


@pytest.fixture(scope="module")
def manifest(stage_a) -> dict:
    return json.loads(stage_a.path("target", "manifest.json").read_text())


@pytest.mark.spark
@pytest.mark.dbt
def test_only_top_customers_customer_name_is_pii_in_gold(manifest):
    models = [n for n in manifest["nodes"].values() if n["resource_type"] == "model"]
    gold = [n for n in models if n["fqn"][1] == "gold"]
    assert {n["name"] for n in gold} >= {"fct_sales", "dim_customer", "top_customers", "int_customer_sales"}
    tagged = {(n["name"], c["name"]) for n in gold for c in n["columns"].values() if is_pii(c)}
    assert tagged == {("top_customers", "customer_name")}

    # and the personal columns of the seeds are tagged where they live, and reach gold under no
    # name: gold column lists are the contracts' (enforced), so an untagged copy would show here
    customers = manifest["nodes"]["seed.retail_lakehouse.customers"]
    assert {c for c, col in customers["columns"].items() if is_pii(col)} == {"first_name", "last_name", "email", "city"}
    personal = {"first_name", "last_name", "email", "customer_first_name", "customer_last_name", "raw_payload"}
    for node in gold:
        assert not personal & set(node["columns"]), node["name"]
    star = [n for n in gold if "star" in n["tags"]]
    assert {n["name"] for n in star} == {"fct_sales", "dim_date", "dim_product", "dim_store", "dim_channel",
                                         "dim_customer"}
    assert all(n["config"]["contract"]["enforced"] for n in star)
