"""The KPI dashboard and its health section as a Databricks AI/BI (Lakeview) dashboard.

    python -m dashboard.lakeview > resources/dashboards.yml

Generates the bundle's `dashboards` resource: one dashboard, two pages ("KPIs" and "Pipeline
health"), whose datasets are the local dashboard's own queries (dashboard/queries.py) and the
alerts of `make health` (local_stack/health.py), reading the gold schema dbt writes and the
audit schema of the bundle. `serialized_dashboard` is written inline as YAML so the bundle's
${...} references resolve in the SQL; the CLI marshals it to the dashboard's JSON.

`definition(names, settings)` builds the same dashboard for any table names: the tests build it
with the local twin's tables (by path) and run every widget's query there.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

if not __package__:  # run as a file: make `dashboard` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dashboard import queries  # noqa: E402
from local_stack import health  # noqa: E402

RESOURCE_KEY = "retail_kpis"
DISPLAY_NAME = "Retail lakehouse: KPIs and pipeline health"
TOP = 10
# the grid of a Lakeview page is 6 columns wide
GRID_WIDTH = 6


@dataclass(frozen=True)
class Names:
    """Where the tables are: `table(schema, name)` for gold.* and audit.*, and the stream metrics."""

    table: Callable[[str, str], str]
    stream_batches: str


# on Databricks: dbt's gold schema (a variable: dbt names it) and the audit schema (a bundle
# resource, which dbt's audit models and the streaming job's metrics write to)
_BUNDLE_SCHEMAS = {"gold": "${var.catalog}.${var.gold_schema}", "audit": "${var.catalog}.${resources.schemas.audit.name}"}
BUNDLE_NAMES = Names(lambda schema, name: f"{_BUNDLE_SCHEMAS[schema]}.{name}",
                     "${var.catalog}.${resources.schemas.audit.name}.stream_batches")
BUNDLE_SETTINGS = {**{t.name: f"${{var.health_{t.name}}}" for t in health.THRESHOLDS}, "now": "current_timestamp()"}

_TABLE = re.compile(r"(?<![\w.`])(gold|audit)\.([a-z_]+)")

# the health page's own datasets (the rest are the local dashboard's queries)
LATEST_BUILD = """
select
    invocation_id,
    run_started_at,
    bronze_rows_added,
    quarantined_rows,
    quarantine_share,
    newest_event_at,
    newest_ingestion_time,
    timestampdiff(MINUTE, newest_ingestion_time, {now}) as minutes_since_newest_ingestion
from audit.audit_pipeline_health
order by window_end desc
limit 1
"""

# every build's quarantine by reason, summed: the quarantine panel of the KPI page
QUARANTINE_TOTALS = """
select rejection_reason, sum(quarantined_rows) as row_count
from audit.audit_quarantine_by_reason
group by rejection_reason
order by row_count desc, rejection_reason
"""

BUILD_CONSERVATION = """
select count(*) as builds, count_if(not conserved) as builds_not_conserved
from audit.audit_pipeline_health
"""


def qualify(sql: str, names: Names) -> str:
    """The dashboard's SQL with its gold.* and audit.* tables named as on the target."""
    return _TABLE.sub(lambda m: names.table(m.group(1), m.group(2)), sql)


def alerts_sql(names: Names, settings: dict[str, str]) -> str:
    """One row per alert of `make health`: alert, position, firing (0/1 or a count), detail."""
    table_names = {"health": names.table("audit", "audit_pipeline_health"),
                   "node_results": names.table("audit", "audit_dbt_node_results"),
                   "stream_batches": names.stream_batches}
    parts = [
        f"select '{alert.name}' as alert, {position} as position, firing, detail from (\n"
        f"{health.render(alert, table_names, settings)}\n) as {alert.name}"
        for position, alert in enumerate(health.ALERTS)
    ]
    return "\nunion all\n".join(parts) + "\norder by position\n"


def datasets(names: Names, settings: dict[str, str]) -> dict[str, tuple[str, str]]:
    """name -> (display name, SQL)."""
    fill = {"top": TOP, "recent": queries.RECENT, "stream_batches": names.stream_batches, "now": settings["now"]}
    sql = {
        "sales_by_day": ("Sales by day", queries.SALES_BY_DAY),
        "top_customers": ("Top customers", queries.TOP_CUSTOMERS),
        "top_products": ("Top products", queries.TOP_PRODUCTS),
        "top_margin_products": ("Top margin products", queries.TOP_MARGIN_PRODUCTS),
        "quarantine_totals": ("Quarantine by reason", QUARANTINE_TOTALS),
        "latest_build": ("Latest build", LATEST_BUILD),
        "build_conservation": ("Conservation", BUILD_CONSERVATION),
        "builds": ("Builds", queries.BUILDS),
        "quarantine_by_build": ("Quarantine by build", queries.QUARANTINE_BY_BUILD),
        "test_history": ("Test history", queries.TEST_HISTORY),
        "stream_batches": ("Stream batches", queries.STREAM_BATCHES),
    }
    out = {name: (title, qualify(text.strip().format(**fill), names) + "\n") for name, (title, text) in sql.items()}
    out["alerts"] = ("Alerts", alerts_sql(names, settings))
    return out


# --- widgets -----------------------------------------------------------------------------------

def _field(name: str, expression: str) -> dict:
    return {"name": name, "expression": expression}


def _widget(name: str, dataset: str, fields: list[dict], spec: dict, position: tuple[int, int, int, int],
            disaggregated: bool = False, orders: list[dict] | None = None) -> dict:
    query = {"datasetName": dataset, "fields": fields, "disaggregated": disaggregated}
    if orders:
        query["orders"] = orders
    x, y, width, height = position
    return {
        "widget": {"name": name, "queries": [{"name": "main_query", "query": query}], "spec": spec},
        "position": {"x": x, "y": y, "width": width, "height": height},
    }


def _frame(title: str, description: str = "") -> dict:
    frame = {"showTitle": True, "title": title}
    if description:
        frame.update(showDescription=True, description=description)
    return frame


def text(name: str, markdown: list[str], position: tuple[int, int, int, int]) -> dict:
    x, y, width, height = position
    return {"widget": {"name": name, "multilineTextboxSpec": {"lines": markdown}},
            "position": {"x": x, "y": y, "width": width, "height": height}}


def counter(name: str, dataset: str, title: str, field: tuple[str, str], position, description: str = "",
            disaggregated: bool = False) -> dict:
    """One number: an aggregate of the dataset, or (disaggregated) its first row's value."""
    field_name, expression = field
    spec = {"version": 2, "widgetType": "counter",
            "encodings": {"value": {"fieldName": field_name, "displayName": title}},
            "frame": _frame(title, description)}
    return _widget(name, dataset, [_field(field_name, expression)], spec, position, disaggregated)


def chart(name: str, kind: str, dataset: str, title: str, x: tuple[str, str, str], y: tuple[str, str, str],
          color: tuple[str, str] | None, position, description: str = "") -> dict:
    """A bar or line chart: x (field, expression, scale), y (field, expression, title), color by a column."""
    x_name, x_expression, x_scale = x
    y_name, y_expression, y_title = y
    fields = [_field(x_name, x_expression), _field(y_name, y_expression)]
    encodings = {
        "x": {"fieldName": x_name, "scale": {"type": x_scale}, "displayName": x_name},
        "y": {"fieldName": y_name, "scale": {"type": "quantitative"}, "displayName": y_title},
    }
    if color:
        color_name, color_expression = color
        fields.append(_field(color_name, color_expression))
        encodings["color"] = {"fieldName": color_name, "scale": {"type": "categorical"}, "displayName": color_name}
    spec = {"version": 3, "widgetType": kind, "encodings": encodings, "frame": _frame(title, description)}
    return _widget(name, dataset, fields, spec, position)


def table(name: str, dataset: str, title: str, columns: list[tuple[str, str]], position,
          description: str = "") -> dict:
    """The dataset's rows in its order: columns (column, type: string/integer/float/datetime/boolean)."""
    encodings = [
        {"fieldName": column, "title": column, "type": kind, "displayAs": "datetime" if kind == "datetime" else
         "number" if kind in ("integer", "float") else "string", "visible": True, "order": 100000 + i,
         "alignContent": "right" if kind in ("integer", "float") else "left", "allowSearch": False,
         "allowHTML": False, "highlightLinks": False, "useMonospaceFont": False, "preserveWhitespace": False,
         "booleanValues": ["false", "true"]}
        for i, (column, kind) in enumerate(columns)
    ]
    spec = {"version": 1, "widgetType": "table", "encodings": {"columns": encodings},
            "frame": _frame(title, description), "invisibleColumns": [], "allowHTMLByDefault": False,
            "itemsPerPage": 25, "condensed": True, "withRowNumber": False}
    fields = [_field(column, f"`{column}`") for column, _ in columns]
    return _widget(name, dataset, fields, spec, position, disaggregated=True)


def kpi_page() -> list[dict]:
    return [
        text("kpi_title", ["# Retail sales KPIs", "Gold marts built by dbt from the streamed sales events (USD, UTC)."],
             (0, 0, 6, 1)),
        counter("revenue", "sales_by_day", "Revenue", ("sum(total_amount)", "SUM(`total_amount`)"), (0, 1, 2, 2),
                "valid sales, every day, channel and region"),
        counter("transactions", "sales_by_day", "Transactions", ("sum(transactions)", "SUM(`transactions`)"),
                (2, 1, 2, 2)),
        counter("units", "sales_by_day", "Units sold", ("sum(units)", "SUM(`units`)"), (4, 1, 2, 2)),
        chart("revenue_by_channel", "line", "sales_by_day", "Revenue per day by channel",
              ("sales_date", "`sales_date`", "temporal"), ("sum(total_amount)", "SUM(`total_amount`)", "Revenue"),
              ("channel_name", "`channel_name`"), (0, 3, 3, 6)),
        chart("revenue_by_region", "line", "sales_by_day", "Revenue per day by region",
              ("sales_date", "`sales_date`", "temporal"), ("sum(total_amount)", "SUM(`total_amount`)", "Revenue"),
              ("region", "`region`"), (3, 3, 3, 6)),
        table("top_customers_table", "top_customers", f"Top {TOP} customers by spend",
              [("spend_rank", "integer"), ("customer_id", "string"), ("customer_name", "string"),
               ("segment", "string"), ("purchases", "integer"), ("total_spent", "float"), ("avg_ticket", "float"),
               ("last_purchase_at", "datetime")], (0, 9, 6, 6)),
        table("top_products_table", "top_products", f"Top {TOP} products by revenue",
              [("revenue_rank", "integer"), ("product_id", "string"), ("product_name", "string"),
               ("category", "string"), ("transactions", "integer"), ("units_sold", "integer"),
               ("revenue", "float"), ("gross_margin", "float")], (0, 15, 3, 6)),
        table("top_margin_products_table", "top_margin_products", f"Top {TOP} products by gross margin",
              [("product_id", "string"), ("product_name", "string"), ("category", "string"),
               ("units_sold", "integer"), ("revenue", "float"), ("gross_margin", "float")], (3, 15, 3, 6)),
        chart("quarantine_by_reason", "bar", "quarantine_totals", "Quarantined rows by reason",
              ("rejection_reason", "`rejection_reason`", "categorical"),
              ("sum(row_count)", "SUM(`row_count`)", "Rows"), None, (0, 21, 6, 5),
              "rows that failed validation, kept in silver.sales_quarantine (every build since the audit began)"),
    ]


def health_page() -> list[dict]:
    return [
        text("health_title", ["# Pipeline health",
                              "The audit tables: one row per dbt build and node, per build's conservation and "
                              "quarantine, per streaming micro-batch; the alerts are the bundle's SQL alerts."],
             (0, 0, 6, 1)),
        counter("alerts_firing", "alerts", "Alerts firing", ("sum(firing)", "SUM(`firing`)"), (0, 1, 2, 2),
                "the health_* SQL alerts, evaluated now"),
        counter("builds_not_conserved", "build_conservation", "Builds not conserved",
                ("builds_not_conserved", "`builds_not_conserved`"), (2, 1, 2, 2),
                "bronze rows != sales + duplicates + quarantine", disaggregated=True),
        counter("latest_quarantine_share", "latest_build", "Latest build's quarantine share",
                ("quarantine_share", "`quarantine_share`"), (4, 1, 2, 2), disaggregated=True),
        counter("minutes_since_newest_ingestion", "latest_build", "Minutes since silver's newest bronze row",
                ("minutes_since_newest_ingestion", "`minutes_since_newest_ingestion`"), (0, 3, 2, 2),
                "freshness: now - the newest ingestion_time silver holds", disaggregated=True),
        counter("latest_bronze_rows_added", "latest_build", "Bronze rows in the latest build",
                ("bronze_rows_added", "`bronze_rows_added`"), (2, 3, 2, 2), disaggregated=True),
        counter("latest_quarantined_rows", "latest_build", "Quarantined in the latest build",
                ("quarantined_rows", "`quarantined_rows`"), (4, 3, 2, 2), disaggregated=True),
        table("alerts_table", "alerts", "Alerts", [("alert", "string"), ("firing", "integer"), ("detail", "string")],
              (0, 5, 6, 4)),
        chart("quarantine_by_build_chart", "bar", "quarantine_by_build", "Quarantined rows by reason per build",
              ("run_started_at", "`run_started_at`", "categorical"),
              ("sum(quarantined_rows)", "SUM(`quarantined_rows`)", "Rows"),
              ("rejection_reason", "`rejection_reason`"), (0, 9, 6, 6)),
        table("builds_table", "builds", f"The last {queries.RECENT} builds",
              [("run_started_at", "datetime"), ("invocation_id", "string"), ("bronze_rows_added", "integer"),
               ("sales_added", "integer"), ("duplicates_dropped", "integer"), ("quarantined_rows", "integer"),
               ("quarantine_share", "float"), ("conserved", "boolean")], (0, 15, 6, 6)),
        table("test_history_table", "test_history", "Tests per dbt invocation",
              [("run_started_at", "datetime"), ("command", "string"), ("passed", "integer"), ("warned", "integer"),
               ("failed", "integer"), ("errored", "integer"), ("skipped", "integer")], (0, 21, 6, 6)),
        chart("batch_durations", "line", "stream_batches", "Micro-batch write seconds",
              ("batch_id", "`batch_id`", "quantitative"), ("max(write_seconds)", "MAX(`write_seconds`)", "Seconds"),
              None, (0, 27, 3, 6)),
        chart("batch_lag", "line", "stream_batches", "Offsets behind the source, per batch",
              ("batch_id", "`batch_id`", "quantitative"),
              ("max(offsets_behind_latest)", "MAX(`offsets_behind_latest`)", "Offsets behind"), None, (3, 27, 3, 6)),
    ]


def definition(names: Names, settings: dict[str, str]) -> dict:
    """The serialized dashboard (the .lvdash.json document) for these table names and thresholds."""
    return {
        "datasets": [
            {"name": name, "displayName": title, "query": sql}
            for name, (title, sql) in datasets(names, settings).items()
        ],
        "pages": [
            {"name": "kpis", "displayName": "KPIs", "pageType": "PAGE_TYPE_CANVAS", "layout": kpi_page()},
            {"name": "health", "displayName": "Pipeline health", "pageType": "PAGE_TYPE_CANVAS",
             "layout": health_page()},
        ],
    }


def bundle_yaml() -> str:
    """resources/dashboards.yml."""
    import yaml

    resource = {
        "display_name": DISPLAY_NAME,
        "warehouse_id": "${var.warehouse_id}",
        # each viewer's own grants: analysts read gold, engineers the audit schema
        "embed_credentials": False,
        "serialized_dashboard": definition(BUNDLE_NAMES, BUNDLE_SETTINGS),
    }
    header = [
        "# Generated by `python -m dashboard.lakeview > resources/dashboards.yml`: the local KPI",
        "# dashboard and its health section (dashboard/queries.py, local_stack/health.py) as an AI/BI",
        "# dashboard on the gold and audit schemas. Edit dashboard/lakeview.py, not this file.",
    ]
    class Dumper(yaml.SafeDumper):
        pass

    def strings(dumper, value: str):  # the SQL as block scalars, readable in review
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|" if "\n" in value else None)

    Dumper.add_representer(str, strings)
    body = yaml.dump({"resources": {"dashboards": {RESOURCE_KEY: resource}}}, Dumper=Dumper, sort_keys=False,
                     width=120, allow_unicode=True)
    return "\n".join(header) + "\n" + body


def main() -> int:
    sys.stdout.write(bundle_yaml())
    return 0


if __name__ == "__main__":
    sys.exit(main())
