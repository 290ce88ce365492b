"""Print the gold KPIs and the pipeline's counts (`make kpis`; the end of `make demo`).

Usage: python local_stack/show_kpis.py [--rows N] [--engine auto|delta-rs|spark]

`make kpis` reads the Delta tables by path with delta-rs (the `deltalake` package) and DuckDB:
no JVM and no metastore, so it prints in about two seconds and also while a dbt command holds
the Derby metastore. `--engine spark` (and `auto` when delta-rs cannot read a table, e.g. a
table feature it lacks) reads them through the dbt `local` target's metastore with Spark
instead. `make demo` calls `print_kpis` with the SparkSession its dbt build used
(local_stack/demo.py). Both engines run the same SQL and print the same tables.

The counts are checked row by row: every bronze row must be exactly one of the winning copy of
a sale in `silver.sales_simple` (by `record_id`), a row of `silver.sales_quarantine` (by
`record_id`), or a duplicate (neither, but its `transaction_id` is a sale in silver); and
silver and quarantine hold no row that is not in bronze. Exit status 1 when they do not add up.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from streaming_ingest.config import lakehouse_dir

# table name in the SQL below → (schema, table) of the dbt `local` target (bronze: by path)
TABLES = {
    "sales_by_day": ("gold", "sales_by_day"),
    "top_customers": ("gold", "top_customers"),
    "product_performance": ("gold", "product_performance"),
    "sales_simple": ("silver", "sales_simple"),
    "sales_quarantine": ("silver", "sales_quarantine"),
    "bronze": ("bronze", "sales_events"),
}

SECTIONS = [
    (
        "gold.sales_by_day (latest days first)",
        "select * from {sales_by_day} order by sales_date desc, total_amount desc, channel_id, region",
    ),
    ("gold.top_customers", "select * from {top_customers} order by spend_rank"),
    ("gold.product_performance", "select * from {product_performance} order by revenue_rank"),
    (
        "silver.sales_quarantine: rows by reason",
        "select rejection_reason, count(*) as rows from {sales_quarantine} group by rejection_reason "
        "order by rows desc, rejection_reason",
    ),
]

COUNTS = """
with winners as (select distinct transaction_id from {sales_simple}),
     classified as (
        select
            case when s.record_id is not null then 1 else 0 end as is_sale,
            case when q.record_id is not null then 1 else 0 end as is_quarantined,
            case when s.record_id is null and q.record_id is null and w.transaction_id is not null
                 then 1 else 0 end as is_duplicate
        from {bronze} as b
        left join {sales_simple} as s on b.record_id = s.record_id
        left join {sales_quarantine} as q on b.record_id = q.record_id
        left join winners as w on b.transaction_id = w.transaction_id
     ),
     totals as (
        select
            count(*) as bronze_rows,
            sum(is_sale) as sales_simple_rows,
            sum(is_duplicate) as duplicates_dropped,
            sum(is_quarantined) as quarantine_rows,
            sum(case when is_sale + is_quarantined + is_duplicate = 1 then 0 else 1 end) as unclassified
        from classified
     )
select
    totals.bronze_rows,
    totals.sales_simple_rows,
    totals.duplicates_dropped,
    totals.quarantine_rows,
    totals.unclassified = 0
        and totals.sales_simple_rows = (select count(*) from {sales_simple})
        and totals.quarantine_rows = (select count(*) from {sales_quarantine}) as conserved
from totals
"""

# run(sql) → (column names, rows)
Runner = Callable[[str], tuple[Sequence[str], Sequence[Sequence[object]]]]


def default_rows() -> int:
    return int(os.environ.get("KPI_ROWS", "10"))


def cell(value: object) -> str:
    """A value as Spark's DataFrame.show() prints it."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.timezone.utc).replace(tzinfo=None)
        return value.isoformat(sep=" ")
    return str(value)


def print_table(columns: Sequence[str], rows: Sequence[Sequence[object]], limit: int) -> None:
    """A table in DataFrame.show(truncate=False)'s layout (either engine prints the same)."""
    shown = [[cell(v) for v in row] for row in rows[:limit]]
    widths = [max([len(c), *(len(r[i]) for r in shown)]) for i, c in enumerate(columns)]
    rule = "+" + "+".join("-" * w for w in widths) + "+"
    print(rule)
    print("|" + "|".join(c.rjust(w) for c, w in zip(columns, widths, strict=True)) + "|")
    print(rule)
    for row in shown:
        print("|" + "|".join(v.rjust(w) for v, w in zip(row, widths, strict=True)) + "|")
    print(rule)
    if len(rows) > limit:
        print(f"only showing top {limit} rows")
    print()


def print_kpis_with(run: Runner, names: dict[str, str], rows: int) -> bool:
    """Print the gold tables, the quarantine by reason and the counts; True when they add up.
    Every query runs before anything is printed (a failing engine prints nothing)."""
    tables = [(title, *run(sql.format(**names))) for title, sql in SECTIONS]
    columns, counts = run(COUNTS.format(**names))
    for title, table_columns, table_rows in tables:
        print(f"\n== {title}")
        print_table(table_columns, table_rows, rows)
    print("== pipeline counts (bronze = sales_simple + duplicates + quarantine)")
    print_table(columns, counts, rows)
    return bool(counts[0][list(columns).index("conserved")])


def spark_runner(spark) -> Runner:
    def run(sql: str):
        frame = spark.sql(sql)
        return frame.columns, [tuple(row) for row in frame.collect()]

    return run


def spark_names() -> dict[str, str]:
    names = {name: f"{schema}.{table}" for name, (schema, table) in TABLES.items()}
    names["bronze"] = f"delta.`{bronze_path()}`"
    return names


def print_kpis(spark, rows: int) -> bool:
    """The KPIs through a SparkSession on the lakehouse's metastore (make demo's)."""
    return print_kpis_with(spark_runner(spark), spark_names(), rows)


def bronze_path() -> Path:
    """Where the streaming job writes bronze on this machine: its own default or BRONZE_PATH."""
    from streaming_ingest.config import parse_args

    return Path(parse_args([]).bronze_path)


def table_path(lakehouse: Path, name: str) -> Path:
    if name == "bronze":
        return bronze_path()
    schema, table = TABLES[name]
    return lakehouse / "warehouse" / f"{schema}.db" / table


def print_kpis_delta_rs(lakehouse: Path, rows: int) -> bool:
    """The KPIs with delta-rs + DuckDB, by path (raises if delta-rs cannot read a table)."""
    import duckdb
    from deltalake import DeltaTable

    connection = duckdb.connect()
    for name in TABLES:
        connection.register(name, DeltaTable(str(table_path(lakehouse, name))).to_pyarrow_dataset())

    def run(sql: str):
        relation = connection.sql(sql)
        return relation.columns, relation.fetchall()

    return print_kpis_with(run, {name: name for name in TABLES}, rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=default_rows())
    parser.add_argument("--engine", choices=("auto", "delta-rs", "spark"), default="auto")
    args = parser.parse_args(argv)
    started = time.monotonic()
    lakehouse = Path(lakehouse_dir()).resolve()
    missing = [name for name in TABLES if not (table_path(lakehouse, name) / "_delta_log").is_dir()]
    if missing:
        print(f"[kpis] ERROR: no {', '.join(missing)} table in {lakehouse}: run `make demo` (or ingest and build) first",
              file=sys.stderr)
        return 1
    conserved = None
    if args.engine != "spark":
        try:
            conserved = print_kpis_delta_rs(lakehouse, args.rows)
        except Exception as error:  # noqa: BLE001 - any table delta-rs cannot read: Spark reads it
            if args.engine == "delta-rs":
                raise
            print(f"[kpis] delta-rs could not read the tables ({type(error).__name__}: {error}); reading with Spark")
    if conserved is None:
        from streaming_ingest.spark_session import local_spark

        spark = local_spark("show-kpis", lakehouse_dir=str(lakehouse))
        try:
            conserved = print_kpis(spark, args.rows)
        finally:
            spark.stop()
    print(f"[kpis] printed in {time.monotonic() - started:.1f} s")
    return 0 if conserved else 1


if __name__ == "__main__":
    sys.exit(main())
