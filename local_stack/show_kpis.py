"""Print the gold KPIs and the pipeline's counts (`make kpis`; the end of `make demo`).

Usage: python local_stack/show_kpis.py [--rows N]
Reads the dbt `local` target's tables through its metastore: run it when no dbt command runs.
`make demo` calls `print_kpis` with the SparkSession its dbt build used (local_stack/demo.py).
"""

from __future__ import annotations

import argparse
import os
import sys
import time

from streaming_ingest.config import lakehouse_dir
from streaming_ingest.spark_session import local_spark

SECTIONS = [
    (
        "gold.sales_by_day (latest days first)",
        "select * from gold.sales_by_day order by sales_date desc, total_amount desc, channel_id, region",
    ),
    ("gold.top_customers", "select * from gold.top_customers order by spend_rank"),
    ("gold.product_performance", "select * from gold.product_performance order by revenue_rank"),
    (
        "silver.sales_quarantine: rows by reason",
        "select rejection_reason, count(*) as rows from silver.sales_quarantine group by rejection_reason "
        "order by rows desc, rejection_reason",
    ),
]

COUNTS = """
with bronze as (select count(*) as n from bronze.sales_events),
     simple as (select count(*) as n from silver.sales_simple),
     quarantine as (select count(*) as n from silver.sales_quarantine),
     valid as (
        select count(*) as n from staging.stg_bronze__sales_events where is_valid
     )
select bronze.n as bronze_rows,
       simple.n as sales_simple_rows,
       valid.n - simple.n as duplicates_dropped,
       quarantine.n as quarantine_rows,
       bronze.n = simple.n + (valid.n - simple.n) + quarantine.n as conserved
from bronze cross join simple cross join quarantine cross join valid
"""


def default_rows() -> int:
    return int(os.environ.get("KPI_ROWS", "10"))


def print_kpis(spark, rows: int) -> bool:
    """Print the gold tables, the quarantine by reason and the counts; True when conserved."""
    for title, sql in SECTIONS:
        print(f"\n== {title}")
        spark.sql(sql).show(rows, truncate=False)
    print("== pipeline counts (bronze = sales_simple + duplicates + quarantine)")
    counts = spark.sql(COUNTS)
    counts.show(truncate=False)
    return bool(counts.first()["conserved"])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=default_rows())
    args = parser.parse_args()
    started = time.monotonic()
    spark = local_spark("show-kpis", lakehouse_dir=lakehouse_dir())
    conserved = print_kpis(spark, args.rows)
    spark.stop()
    print(f"[kpis] printed in {time.monotonic() - started:.1f} s")
    return 0 if conserved else 1


if __name__ == "__main__":
    sys.exit(main())
