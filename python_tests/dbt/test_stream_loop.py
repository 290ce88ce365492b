"""What each `make stream` cycle builds (local_stack/stream.py), as dbt itself selects it: the
cycles between the test cycles build every model the three gold KPI tables are built from,
and the quarantine; the test cycles add the audit tables, the star and every data test."""

from __future__ import annotations

import json

import pytest

from local_stack.stream import FAST_SELECTION, KPI_TABLES, SELECTION


def listed(lakehouse, selection: list[str], excluded: list[str]) -> set[str]:
    result = lakehouse.dbt("ls", "--select", *selection, "--exclude", *excluded, "--resource-types", "model", "test",
                           "--output", "json", "--output-keys", "unique_id", "--quiet")
    return {json.loads(line)["unique_id"] for line in result.stdout.splitlines() if line.startswith("{")}


def models(unique_ids: set[str]) -> set[str]:
    return {uid.split(".")[-1] for uid in unique_ids if uid.startswith("model.")}


@pytest.mark.dbt
def test_the_cycles_between_tests_build_the_kpis_path_and_the_quarantine(lakehouse):
    fast = listed(lakehouse, FAST_SELECTION, ["resource_type:unit_test", "resource_type:test"])
    assert models(fast) == {
        "stg_bronze__sales_events", "sales_simple", "sales_quarantine", "sales_enriched",
        "int_sales_by_day", "int_customer_sales", "int_product_sales", *KPI_TABLES,
    }
    assert fast == {uid for uid in fast if uid.startswith("model.")}  # no test at all

    full = listed(lakehouse, SELECTION, ["resource_type:unit_test"])
    assert models(full) - models(fast) == {
        "audit_pipeline_health", "audit_quarantine_by_reason", "int_store_sales",
        "fct_sales", "dim_date", "dim_store", "dim_channel", "dim_product", "dim_customer",
    }
    # a test cycle runs every data test of what it builds: the three dedup checks among them
    tests = {uid.split(".")[2] for uid in full if uid.startswith("test.")}
    assert {"assert_bronze_rows_are_conserved", "assert_one_silver_row_per_valid_transaction",
            "assert_gold_reconciles_with_silver"} <= tests
