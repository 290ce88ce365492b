"""Which rows the data tests read (var data_tests_scope, macros/data_test_scope.sql): a
`dbt build` tests the newest load of each incremental table, `dbt test` (make test-data, the
bundle's nightly sweep) every row. Shown with a defect planted in silver by hand: a second copy
of a sale, once among the rows of an older load (the build passes, the sweep fails) and once
among the rows of the newest load (the build fails).
"""

from __future__ import annotations

import pytest

from python_tests.conftest import Lakehouse
from python_tests.datasets import STAGE_A, STAGE_B

pytestmark = [pytest.mark.spark, pytest.mark.dbt]

# a second copy of one sale breaks these tests, and no other
DOUBLE_SALE_FAILS = {
    "unique_sales_simple_transaction_id",
    "unique_sales_simple_record_id",
    "equal_row_count_sales_enriched_ref_sales_simple_",
    "assert_bronze_rows_are_conserved",
}


def dbt_may_fail(lakehouse: Lakehouse, *args: str) -> tuple[int, dict[str, set[str]], int]:
    """Run dbt in the warm session: its exit code, the tests by status (but pass and warn) and
    how many tests there were."""
    result = lakehouse._session.run(*args)
    tests = [r for r in lakehouse.run_results()["results"] if r["unique_id"].startswith("test.")]
    by_status: dict[str, set[str]] = {}
    for r in tests:
        if r["status"] not in ("pass", "warn"):
            by_status.setdefault(r["status"], set()).add(r["unique_id"].split(".")[2])
    return result.returncode, by_status, len(tests)


def copy_one_sale(spark, lakehouse: Lakehouse, loaded_at: str) -> str:
    """Append to sales_simple a second copy of one of its rows loaded at `loaded_at`."""
    path = lakehouse.table_path("silver", "sales_simple")
    table = spark.read.format("delta").load(path)
    (row,) = table.where(f"loaded_at = timestamp '{loaded_at}'").orderBy("transaction_id").limit(1).collect()
    spark.createDataFrame([row], table.schema).write.format("delta").mode("append").save(path)
    return row.transaction_id


def loads(spark, lakehouse: Lakehouse) -> list[str]:
    table = spark.read.format("delta").load(lakehouse.table_path("silver", "sales_simple"))
    return [str(r[0]) for r in table.selectExpr("cast(loaded_at as string)").distinct().orderBy(1).collect()]


def test_a_build_tests_its_newest_load_and_dbt_test_sweeps_every_row(spark, lakehouse):
    with lakehouse.warm_dbt():
        lakehouse.write_landing_file("sales-a.json", STAGE_A)
        lakehouse.ingest()
        lakehouse.dbt("build", "--exclude", "resource_type:unit_test")
        lakehouse.write_landing_file("sales-b.json", STAGE_B)
        lakehouse.ingest()
        lakehouse.dbt("build", "--exclude", "resource_type:unit_test")
        older, newest = loads(spark, lakehouse)

        # the second build's generic tests on silver read its load only, and the tests on
        # bronze the rows after the first load (1 ms later: Delta's millisecond statistics)
        compiled = lakehouse.path("target", "run", "retail_lakehouse", "models")
        unique = (compiled / "silver" / "_silver__models.yml" / "unique_sales_simple_transaction_id.sql").read_text()
        assert f"where loaded_at >= timestamp '{newest}') dbt_subquery" in unique
        on_bronze = (compiled / "staging" / "_staging__sources.yml"
                     / "source_unique_bronze_sales_events_record_id.sql").read_text()
        assert "where ingestion_time > timestamp '" in on_bronze and "+ interval 1 millisecond" in on_bronze

        # a second copy of a sale of the older load: the build does not read that load again
        copy_one_sale(spark, lakehouse, older)
        code, statuses, ran = dbt_may_fail(lakehouse, "build", "--exclude", "resource_type:unit_test")
        assert (code, statuses) == (0, {})
        # the sweep reads every row: exactly the tests a double sale breaks fail
        code, statuses, swept = dbt_may_fail(lakehouse, "test", "--exclude-resource-type", "unit_test")
        assert (code, statuses, swept) == (1, {"fail": DOUBLE_SALE_FAILS}, ran)

        # a second copy of a sale of the newest load: the build reads it and fails; the
        # models after sales_simple (sales_quarantine among them) and their tests are skipped
        copy_one_sale(spark, lakehouse, newest)
        code, statuses, _ = dbt_may_fail(lakehouse, "build", "--exclude", "resource_type:unit_test")
        after_sales_simple = {"equal_row_count_sales_enriched_ref_sales_simple_", "assert_bronze_rows_are_conserved"}
        assert (code, statuses["fail"]) == (1, DOUBLE_SALE_FAILS - after_sales_simple)
        assert after_sales_simple <= statuses["skipped"]
        assert set(statuses) == {"fail", "skipped"}
        assert loads(spark, lakehouse) == [older, newest], "no new load: the build re-tested the newest one"
