"""What the KPI dashboard reads, as plain Python values (the page is rendered from these).

Everything comes from the dbt `local` target's tables through its metastore, with one
SparkSession: the gold marts, the quarantine (counts by reason), for freshness the newest
timestamps in silver and bronze, and for the health section the audit tables (recent builds,
quarantine by reason per build, test results per invocation), the streaming job's metrics
(read by path) and the alerts of `make health` (local_stack/health.py), evaluated as it does. `TABLES_READ` is the list the `kpi_dashboard`
exposure in models/exposures.yml must match (a test checks).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

TABLES_READ = (
    "gold.sales_by_day",
    "gold.top_customers",
    "gold.product_performance",
    "silver.sales_quarantine",
    "silver.sales_simple",
    "bronze.sales_events",
    "audit.audit_pipeline_health",
    "audit.audit_quarantine_by_reason",
    "audit.audit_dbt_node_results",
)

# the health section: the newest builds, invocations and batches
RECENT = 20

BUILDS = """
select invocation_id, run_started_at, bronze_rows_added, sales_added, duplicates_dropped, quarantined_rows,
       quarantine_share, conserved
from audit.audit_pipeline_health
order by window_end desc
limit {recent}
"""

QUARANTINE_BY_BUILD = """
select health.run_started_at, reasons.rejection_reason, reasons.quarantined_rows, health.bronze_rows_added
from audit.audit_quarantine_by_reason as reasons
inner join (
    select invocation_id, run_started_at, bronze_rows_added from audit.audit_pipeline_health
    order by window_end desc limit {recent}
) as health
    on reasons.invocation_id = health.invocation_id
order by health.run_started_at desc, reasons.quarantined_rows desc, reasons.rejection_reason
"""

TEST_HISTORY = """
select invocation_id, max(run_started_at) as run_started_at, max(command) as command,
       count_if(status = 'pass') as passed, count_if(status = 'warn') as warned,
       count_if(status = 'fail') as failed, count_if(status = 'error') as errored,
       count_if(status = 'skipped') as skipped
from audit.audit_dbt_node_results
where resource_type in ('test', 'unit_test')
group by invocation_id
order by run_started_at desc
limit {recent}
"""

STREAM_BATCHES = """
select batch_id, ended_at, rows, write_seconds, offsets_behind_latest, files_outstanding, replayed
from {stream_batches}
order by ended_at desc
limit {recent}
"""

SALES_BY_DAY = """
select sales_date, channel_id, channel_name, region, transactions, units, total_amount
from gold.sales_by_day
order by sales_date, channel_id, region
"""

TOP_CUSTOMERS = """
select spend_rank, customer_id, customer_name, segment, purchases, total_spent, avg_ticket, last_purchase_at
from gold.top_customers
where spend_rank <= {top}
order by spend_rank
"""

TOP_PRODUCTS = """
select revenue_rank, product_id, product_name, category, transactions, units_sold, revenue, gross_margin
from gold.product_performance
where revenue_rank <= {top}
order by revenue_rank
"""

TOP_MARGIN_PRODUCTS = """
select product_id, product_name, category, units_sold, revenue, gross_margin
from gold.product_performance
where gross_margin is not null
order by gross_margin desc, product_id
limit {top}
"""

QUARANTINE = """
select rejection_reason, count(*) as row_count
from silver.sales_quarantine
group by rejection_reason
order by row_count desc, rejection_reason
"""

FRESHNESS = """
with silver as (
    select max(event_at) as newest_sale_at, max(ingestion_time) as silver_ingested_at, max(loaded_at) as loaded_at
    from silver.sales_simple
),
bronze as (
    select max(ingestion_time) as bronze_ingested_at, count(*) as bronze_rows from bronze.sales_events
)
select silver.newest_sale_at, silver.silver_ingested_at, silver.loaded_at, bronze.bronze_ingested_at,
       bronze.bronze_rows
from silver cross join bronze
"""


@dataclass(frozen=True)
class DashboardData:
    """The numbers on the page. Amounts are Decimal (USD), timestamps naive UTC."""

    generated_at: dt.datetime
    sales_by_day: list[dict] = field(default_factory=list)
    top_customers: list[dict] = field(default_factory=list)
    top_products: list[dict] = field(default_factory=list)
    top_margin_products: list[dict] = field(default_factory=list)
    quarantine: list[tuple[str, int]] = field(default_factory=list)
    freshness: dict = field(default_factory=dict)
    # the health section (empty lists: no audit table yet)
    builds: list[dict] = field(default_factory=list)
    quarantine_by_build: list[dict] = field(default_factory=list)
    test_history: list[dict] = field(default_factory=list)
    stream_batches: list[dict] = field(default_factory=list)
    alerts: list = field(default_factory=list)  # local_stack.health.Result

    @property
    def revenue(self) -> Decimal:
        return sum((row["total_amount"] for row in self.sales_by_day), Decimal("0.00"))

    @property
    def transactions(self) -> int:
        return sum(row["transactions"] for row in self.sales_by_day)

    @property
    def units(self) -> int:
        return sum(row["units"] for row in self.sales_by_day)

    @property
    def quarantined(self) -> int:
        return sum(count for _, count in self.quarantine)

    def daily_totals(self, key: str) -> dict[str, list[tuple[dt.date, Decimal]]]:
        """Revenue per day for each value of `key` (`channel_name` or `region`)."""
        totals: dict[str, dict[dt.date, Decimal]] = {}
        for row in self.sales_by_day:
            per_day = totals.setdefault(row[key], {})
            per_day[row["sales_date"]] = per_day.get(row["sales_date"], Decimal("0.00")) + row["total_amount"]
        return {name: sorted(days.items()) for name, days in sorted(totals.items())}


def read_dashboard_data(spark, top: int = 10, now: dt.datetime | None = None,
                        lakehouse: str | None = None) -> DashboardData:
    """Run the dashboard's queries (small results: they are collected to the driver). The
    health section reads the audit tables that exist (none before the first build) and the
    stream metrics under `lakehouse` (by path, where the streaming job writes them)."""
    from pathlib import Path

    from local_stack import health

    def rows(sql: str, **names: str) -> list[dict]:
        return [row.asDict() for row in spark.sql(sql.format(top=int(top), recent=RECENT, **names)).collect()]

    audited = spark.catalog.tableExists("audit.audit_pipeline_health") and spark.catalog.tableExists(
        "audit.audit_dbt_node_results")
    names, missing = health.local_names(Path(lakehouse), "") if lakehouse else ({}, {"stream_batches"})
    alerts = []
    if audited and lakehouse:
        settings = health.settings_from(health.parse_args([]))
        alerts = health.evaluate(lambda sql: [tuple(r) for r in spark.sql(sql).collect()],
                                 {**names, "health": "audit.audit_pipeline_health",
                                  "node_results": "audit.audit_dbt_node_results"}, settings, missing)

    return DashboardData(
        generated_at=now or dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0),
        sales_by_day=rows(SALES_BY_DAY),
        top_customers=rows(TOP_CUSTOMERS),
        top_products=rows(TOP_PRODUCTS),
        top_margin_products=rows(TOP_MARGIN_PRODUCTS),
        quarantine=[(r["rejection_reason"], r["row_count"]) for r in rows(QUARANTINE)],
        freshness=rows(FRESHNESS)[0],
        builds=rows(BUILDS) if audited else [],
        quarantine_by_build=rows(QUARANTINE_BY_BUILD) if audited else [],
        test_history=rows(TEST_HISTORY) if audited else [],
        stream_batches=rows(STREAM_BATCHES, **names) if "stream_batches" not in missing else [],
        alerts=alerts,
    )
