"""dbt on the hand-made datasets of python_tests/datasets.py: exact gold values computed by
hand, incremental == full refresh.

STAGE_A built once by a full `dbt build` (the shared `stage_a` lakehouse) must give the gold rows
written out below. Stage B on top of it: an incremental `dbt build` must change exactly the
affected rows and equal a `--full-refresh` build row for row. Stage C after silver was rebuilt
alone: gold must stay exact. The tests that add data build their own lakehouse.
"""

from __future__ import annotations

import pytest
from pyspark.sql import Row

from python_tests.conftest import Lakehouse
from python_tests.datasets import (
    PRODUCTS, REASONS_A, STAGE_A, STAGE_B, STAGE_C, D, by_day, cost, counts, gold, kpis, name, region, segment, ts,
)

pytestmark = [pytest.mark.spark, pytest.mark.dbt]


def models_only(lakehouse: Lakehouse, *landing: tuple[str, list[str]]) -> None:
    """Land and ingest the given files, then build seeds and models (the tests ran on stage_a)."""
    for file_name, lines in landing:
        lakehouse.write_landing_file(file_name, lines)
    lakehouse.ingest()
    lakehouse.dbt("build", "--exclude", "resource_type:test", "resource_type:unit_test")


def test_sales_by_day_is_computed_by_the_contract(spark, stage_a):
    actual = gold(spark, stage_a, "sales_by_day", "sales_date,channel_id,region")
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


def test_top_customers_rank_by_spend_then_id(spark, stage_a):
    actual = gold(spark, stage_a, "top_customers", "spend_rank")
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


def test_product_performance_with_margin(spark, stage_a):
    actual = gold(spark, stage_a, "product_performance", "revenue_rank")
    assert actual == [
        Row(product_id="P0001", product_name=PRODUCTS["P0001"]["product_name"],
            category=PRODUCTS["P0001"]["category"], transactions=4, units_sold=9, revenue=D("539.00"),
            avg_ticket=D("134.75"), gross_margin=D("539.00") - 9 * cost("P0001"), revenue_rank=1),
        Row(product_id="P0002", product_name=PRODUCTS["P0002"]["product_name"],
            category=PRODUCTS["P0002"]["category"], transactions=3, units_sold=9, revenue=D("140.99"),
            avg_ticket=D("47.00"), gross_margin=D("140.99") - 9 * cost("P0002"), revenue_rank=2),
    ]


def test_quarantine_reasons_and_conservation(spark, stage_a):
    quarantine = spark.read.format("delta").load(stage_a.table_path("silver", "sales_quarantine"))
    reasons = {r.rejection_reason: r["count"] for r in quarantine.groupBy("rejection_reason").count().collect()}
    assert reasons == REASONS_A
    simple = spark.read.format("delta").load(stage_a.table_path("silver", "sales_simple"))
    assert sorted(r.transaction_id for r in simple.collect()) == [
        "t-001", "t-002", "t-003", "t-004", "t-005", "t-006", "t-008"
    ]
    # the first ingested copy of t-004 won (quantity 5, not the later quantity 1)
    assert simple.where("transaction_id = 't-004'").first().quantity == 5
    # bronze = simple + duplicates (t-001 copy, t-004 copy) + quarantine
    assert counts(spark, stage_a) == {"bronze": len(STAGE_A), "simple": 7, "quarantine": sum(REASONS_A.values())}
    assert len(STAGE_A) == 7 + 2 + sum(REASONS_A.values())


def test_incremental_build_equals_full_refresh(spark, lakehouse):
    with lakehouse.warm_dbt():
        models_only(lakehouse, ("sales-a.json", STAGE_A))
        lakehouse.write_landing_file("sales-b.json", STAGE_B)
        lakehouse.ingest()
        # the unit tests ran in stage_a's build; data tests run on every build
        lakehouse.dbt("build", "--exclude", "resource_type:unit_test")
        incremental = kpis(spark, lakehouse)

        # the affected rows changed as the contract says
        day = {(r.sales_date.isoformat(), r.channel_id, r.region): r for r in incremental["sales_by_day"]}
        assert day[("2026-11-10", "C02", region("S002"))] == by_day("2026-11-10", "C02", "S002", 1, 1, "10.00", "10.00")
        assert day[("2026-11-12", "C01", region("S001"))] == by_day("2026-11-12", "C01", "S001", 2, 5, "55.49", "27.75")
        assert day[("2026-11-10", "C01", region("S001"))] == by_day("2026-11-10", "C01", "S001", 2, 3, "19.01", "9.51")
        top = incremental["top_customers"][0]
        assert (top.customer_id, top.purchases, top.total_spent, top.avg_ticket) == (
            "CU00001", 3, D("528.00"), D("176.00"))
        assert counts(spark, lakehouse) == {
            "bronze": len(STAGE_A) + 4,
            "simple": 9,
            "quarantine": sum(REASONS_A.values()) + 1,
        }

        lakehouse.dbt("build", "--full-refresh", "--exclude", "resource_type:unit_test")
        assert kpis(spark, lakehouse) == incremental


def test_gold_stays_exact_when_silver_is_rebuilt_alone(spark, lakehouse):
    """Silver rebuilt on its own gives every silver row a new loaded_at: the next incremental
    run must notice (upstream_only_gained_rows) — the gold aggregates recompute from all of
    silver instead of adding it a second time, fct_sales appends only new transaction_ids."""
    with lakehouse.warm_dbt():
        models_only(lakehouse, ("sales-a.json", STAGE_A), ("sales-b.json", STAGE_B))
        lakehouse.dbt("run", "--full-refresh", "--select", "sales_simple", "sales_enriched")
        lakehouse.write_landing_file("sales-c.json", STAGE_C)
        lakehouse.ingest()
        # `run`, not `build`: the data tests run in the tests above; this is about the models' logic
        result = lakehouse.dbt("run")
        # the four intermediates: by day, customer, product and store
        assert result.stdout.count("changed beyond new rows since the last run: recomputing from all of it") == 4
        assert result.stdout.count(
            "changed beyond new rows since the last run: appending only the transaction_ids") == 1
        incremental = kpis(spark, lakehouse)
        day = {(r.sales_date.isoformat(), r.channel_id, r.region): r for r in incremental["sales_by_day"]}
        assert day[("2026-11-09", "C01", region("S001"))] == by_day("2026-11-09", "C01", "S001", 1, 3, "12.00", "12.00")
        top = incremental["top_customers"][0]
        assert (top.customer_id, top.purchases, top.total_spent) == ("CU00001", 4, D("530.00"))
        read = spark.read.format("delta").load
        fct = read(lakehouse.table_path("gold", "fct_sales"))
        assert (fct.count(), fct.select("transaction_id").distinct().count()) == (11, 11)
        # the store counts (what dim_store reads its ids from) recomputed too, not added twice
        stores = {r.store_id: r.transactions for r in read(lakehouse.table_path("intermediate", "int_store_sales")).collect()}
        silver_stores = read(lakehouse.table_path("silver", "sales_enriched")).groupBy("store_id").count().collect()
        assert stores == {r.store_id: r["count"] for r in silver_stores}
        assert sum(stores.values()) == 11

        # and the run after it adds again (nothing new in bronze: gold unchanged)
        again = lakehouse.dbt("run", "--select", "tag:intermediate+", "--exclude", "tag:star")
        assert "changed beyond new rows" not in again.stdout
        assert kpis(spark, lakehouse) == incremental

        lakehouse.dbt("run", "--full-refresh")
        assert kpis(spark, lakehouse) == incremental
