"""The bundle's AI/BI dashboard (dashboard/lakeview.py) run on the local twin: every widget's
query, as Lakeview runs it over its dataset, on STAGE_A's built lakehouse (the shared stage_a),
gives the figures the contract makes of that dataset: the KPIs, the quarantine by reason, and
the one build, its tests and its stream batch as the audit tables recorded them."""

from __future__ import annotations

import re

import pytest

from dashboard import lakeview
from local_stack import health
from python_tests.datasets import REASONS_A, D, channel_name, name, region

pytestmark = [pytest.mark.spark, pytest.mark.dbt]

AGGREGATE = re.compile(r"^(SUM|COUNT|MAX|MIN|AVG)\(", re.IGNORECASE)
# STAGE_A's valid sales per day, channel and store (python_tests/dbt/test_pipeline_gold.py)
DAYS = [("2026-11-10", "C01", "S001", "19.01"), ("2026-11-10", "C09", "S999", "21.00"),
        ("2026-11-11", "C01", "S001", "500.00"), ("2026-11-11", "C02", "S002", "119.98"),
        ("2026-11-12", "C01", "S001", "20.00")]


def widget_sql(dataset: str, query: dict) -> str:
    """A widget's query over its dataset, as Lakeview builds it: its fields, grouped by those
    that are not aggregates unless disaggregated (each dataset row as is)."""
    fields = query["fields"]
    select = ", ".join(f"{f['expression']} as `{f['name']}`" for f in fields)
    sql = f"select {select} from ({dataset}) as dataset"
    if not query["disaggregated"]:
        keys = [f["expression"] for f in fields if not AGGREGATE.match(f["expression"])]
        if keys:
            sql += " group by " + ", ".join(keys)
    return sql


@pytest.fixture(scope="module")
def shown(spark, stage_a) -> dict[str, list[dict]]:
    """Each widget's rows on stage_a: widget name -> rows (dicts by field name)."""
    names = lakeview.Names(lambda schema, table: f"delta.`{stage_a.table_path(schema, table)}`",
                           f"delta.`{stage_a.path('audit', 'stream_batches')}`")
    doc = lakeview.definition(names, health.settings_from(health.parse_args([])))
    datasets = {d["name"]: d["query"] for d in doc["datasets"]}
    out = {}
    for page in doc["pages"]:
        for item in page["layout"]:
            widget = item["widget"]
            if "queries" in widget:
                query = widget["queries"][0]["query"]
                rows = spark.sql(widget_sql(datasets[query["datasetName"]], query)).collect()
                out[widget["name"]] = [row.asDict() for row in rows]
    return out


def only(rows: list[dict]):
    (row,) = rows
    (value,) = row.values()
    return value


def test_the_kpi_page_shows_the_gold_figures(shown):
    assert only(shown["revenue"]) == D("679.99")
    assert only(shown["transactions"]) == 7
    assert only(shown["units"]) == 18
    by_channel, by_region = {}, {}
    for day, channel, store, amount in DAYS:
        key = (day, channel_name(channel))
        by_channel[key] = by_channel.get(key, D("0")) + D(amount)
        key = (day, region(store))
        by_region[key] = by_region.get(key, D("0")) + D(amount)
    assert {(str(r["sales_date"]), r["channel_name"]): r["sum(total_amount)"]
            for r in shown["revenue_by_channel"]} == by_channel
    assert {(str(r["sales_date"]), r["region"]): r["sum(total_amount)"] for r in shown["revenue_by_region"]} == by_region
    assert [(r["spend_rank"], r["customer_id"], r["customer_name"], r["total_spent"])
            for r in shown["top_customers_table"]] == [
        (1, "CU00001", name("CU00001"), D("518.00")), (2, "CU00002", name("CU00002"), D("21.00")),
        (3, "CU99999", None, D("21.00"))]
    assert [(r["revenue_rank"], r["revenue"]) for r in shown["top_products_table"]] == [
        (1, D("539.00")), (2, D("140.99"))]
    assert {r["product_id"] for r in shown["top_margin_products_table"]} == {
        r["product_id"] for r in shown["top_products_table"]}
    assert {r["rejection_reason"]: r["sum(row_count)"] for r in shown["quarantine_by_reason"]} == REASONS_A


def test_the_health_page_shows_the_builds_audit(shown, stage_a):
    # STAGE_A's one build: 30 bronze rows = 7 sales + 2 duplicates + 21 quarantined (70 %)
    assert [(r["bronze_rows_added"], r["sales_added"], r["duplicates_dropped"], r["quarantined_rows"],
             float(r["quarantine_share"]), r["conserved"]) for r in shown["builds_table"]] == [
        (30, 7, 2, 21, 0.7, True)]
    assert only(shown["builds_not_conserved"]) == 0
    assert float(only(shown["latest_quarantine_share"])) == 0.7
    assert only(shown["latest_bronze_rows_added"]) == 30
    assert only(shown["latest_quarantined_rows"]) == 21
    assert 0 <= only(shown["minutes_since_newest_ingestion"]) < 60  # built minutes ago
    assert {(r["run_started_at"], r["rejection_reason"]): r["sum(quarantined_rows)"]
            for r in shown["quarantine_by_build_chart"]} == {
        (shown["builds_table"][0]["run_started_at"], reason): n for reason, n in REASONS_A.items()}

    # the alerts of `make health`: the 70 % dirty batch is above the 5 % default, nothing else is wrong
    assert [(r["alert"], r["firing"]) for r in shown["alerts_table"]] == [
        ("stale_data", 0), ("quarantine_share", 1), ("conservation_mismatch", 0), ("failing_test", 0),
        ("stream_lag", 0)]
    assert only(shown["alerts_firing"]) == 1

    tests = [r for r in stage_a.build_results["results"] if r["unique_id"].split(".")[0] in ("test", "unit_test")]
    (history,) = shown["test_history_table"]
    assert (history["command"], history["passed"], history["warned"], history["failed"], history["errored"]) == (
        "build", sum(r["status"] == "pass" for r in tests), 3, 0, 0)

    # the ingest's one micro-batch
    (batch,) = shown["batch_durations"]
    assert batch["batch_id"] == 0 and batch["max(write_seconds)"] > 0
    assert len(shown["batch_lag"]) == 1
