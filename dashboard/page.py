"""The dashboard page: one self-contained HTML file (inline CSS and SVG, no scripts, no links out)."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal
from html import escape

from dashboard.charts import bar_chart, line_chart
from dashboard.queries import DashboardData

CSS = """
:root { --ink: #1f2933; --muted: #616e7c; --line: #d9e2ec; --card: #f5f7fa; }
* { box-sizing: border-box; }
body { font-family: "Liberation Sans", Arial, Helvetica, sans-serif; color: var(--ink); margin: 0; background: #fff; }
header { padding: 20px 32px 8px; border-bottom: 1px solid var(--line); }
header h1 { margin: 0 0 4px; font-size: 24px; }
header p { margin: 0 0 8px; color: var(--muted); font-size: 13px; }
main { padding: 8px 32px 32px; max-width: 1280px; }
section { margin-top: 24px; }
h2 { font-size: 18px; margin: 0 0 8px; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(180px, 1fr)); gap: 12px; }
.card { background: var(--card); border-radius: 6px; padding: 12px 14px; }
.card .value { font-size: 22px; font-weight: bold; }
.card .name { color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: .04em; }
.card .note { color: var(--muted); font-size: 12px; }
.grid2 { display: grid; grid-template-columns: 1fr 1fr; gap: 24px; }
@media (max-width: 1000px) { .grid2 { grid-template-columns: 1fr; } }
figure.chart { margin: 0 0 12px; }
figure.chart figcaption { font-weight: bold; font-size: 14px; margin-bottom: 4px; }
svg text { font-size: 11px; fill: var(--ink); }
svg text.muted, svg text.axis { fill: var(--muted); }
svg .grid { stroke: var(--line); stroke-width: 1; }
svg .legend-item text { font-size: 12px; }
table { border-collapse: collapse; font-size: 12px; width: 100%; }
th, td { padding: 4px 8px; border-bottom: 1px solid var(--line); text-align: left; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
.stale { color: #b42318; }
footer { color: var(--muted); font-size: 12px; padding: 16px 32px; border-top: 1px solid var(--line); }
"""

# Freshness: older than this (newest bronze row vs. the page's time) is flagged as stale,
# the same threshold as the bronze source's `warn_after` in models/staging/_staging__sources.yml.
STALE_AFTER = dt.timedelta(minutes=15)


def money(value: Decimal | float | int | None) -> str:
    if value is None:
        return "–"
    return f"-${-value:,.2f}" if value < 0 else f"${value:,.2f}"


def count(value: int | None) -> str:
    return "–" if value is None else f"{value:,}"


def timestamp(value: dt.datetime | None) -> str:
    return "–" if value is None else value.strftime("%Y-%m-%d %H:%M:%S UTC")


def _minute(value: dt.datetime | None) -> str:
    return "–" if value is None else value.strftime("%Y-%m-%d %H:%M")


def age(value: dt.datetime | None, now: dt.datetime) -> str:
    if value is None:
        return "no data"
    seconds = int((now - value).total_seconds())
    if seconds < 0:
        return "in the future"
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds // size} {unit} ago"
    return f"{seconds} s ago"


def _card(name: str, value: str, note: str = "", kpi: str = "", css: str = "") -> str:
    return (
        f'<div class="card {css}" data-kpi="{escape(kpi or name, quote=True)}"><div class="name">{escape(name)}</div>'
        f'<div class="value">{escape(value)}</div><div class="note">{escape(note)}</div></div>'
    )


def _table(name: str, headers: list[tuple[str, bool]], rows: list[list[str]]) -> str:
    head = "".join(f'<th class="{"num" if numeric else ""}">{escape(h)}</th>' for h, numeric in headers)
    body = "".join(
        "<tr>"
        + "".join(
            f'<td class="{"num" if numeric else ""}">{escape(cell)}</td>'
            for cell, (_, numeric) in zip(row, headers, strict=True)
        )
        + "</tr>"
        for row in rows
    )
    if not rows:
        body = f'<tr><td colspan="{len(headers)}">No data yet</td></tr>'
    return f'<table data-table="{escape(name, quote=True)}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _freshness(data: DashboardData) -> str:
    now, f = data.generated_at, data.freshness
    bronze_at, silver_at, loaded_at = f.get("bronze_ingested_at"), f.get("silver_ingested_at"), f.get("loaded_at")
    stale = bronze_at is None or now - bronze_at > STALE_AFTER
    if bronze_at is None or silver_at is None:
        lag = "–"
    elif silver_at >= bronze_at:
        lag = "up to date"
    else:
        lag = age(silver_at, bronze_at).replace(" ago", " behind")
    return "".join(
        [
            _card("Newest bronze row", age(bronze_at, now), timestamp(bronze_at), kpi="bronze_ingested_at",
                  css="stale" if stale else ""),
            _card("Last dbt load", age(loaded_at, now), timestamp(loaded_at), kpi="loaded_at"),
            _card("Silver vs. bronze", lag, "newest row in silver vs. in bronze", kpi="silver_lag"),
            _card("Newest sale", _minute(f.get("newest_sale_at")), "event time (UTC)", kpi="newest_sale_at"),
            _card("Bronze rows", count(f.get("bronze_rows")), "every received message", kpi="bronze_rows"),
        ]
    )


def share(value) -> str:
    return "–" if value is None else f"{float(value) * 100:.1f} %"


def _health(data: DashboardData) -> str:
    """Alerts, recent builds, quarantine by reason per build, test runs, stream batches."""
    firing = [a for a in data.alerts if a.firing]
    latest = data.builds[0] if data.builds else None
    cards = "".join([
        _card("Alerts firing", count(len(firing)) if data.alerts else "–",
              ", ".join(a.alert for a in firing) or ("none" if data.alerts else "no audit yet"), kpi="alerts_firing",
              css="stale" if firing else ""),
        _card("Last build conserved", "–" if latest is None else "yes" if latest["conserved"] else "NO",
              "bronze = sales + duplicates + quarantine", kpi="last_build_conserved",
              css="stale" if latest is not None and not latest["conserved"] else ""),
        _card("Last build quarantine", share(latest["quarantine_share"]) if latest else "–",
              "share of its bronze rows", kpi="last_build_quarantine_share"),
    ])
    alerts = _table(
        "alerts", [("alert", False), ("state", False), ("detail", False)],
        [[a.alert, "n/a" if a.firing is None else "FIRING" if a.firing else "ok", a.detail] for a in data.alerts],
    )
    builds = _table(
        "builds",
        [("build started", False), ("bronze rows", True), ("sales", True), ("duplicates", True),
         ("quarantined", True), ("share", True), ("conserved", False)],
        [[timestamp(b["run_started_at"]), count(b["bronze_rows_added"]), count(b["sales_added"]),
          count(b["duplicates_dropped"]), count(b["quarantined_rows"]), share(b["quarantine_share"]),
          "yes" if b["conserved"] else "NO"] for b in data.builds],
    )
    reasons = _table(
        "quarantine-by-build",
        [("build started", False), ("reason", False), ("rows", True), ("share of the build", True)],
        [[timestamp(r["run_started_at"]), r["rejection_reason"], count(r["quarantined_rows"]),
          share(r["quarantined_rows"] / r["bronze_rows_added"]) if r["bronze_rows_added"] else "–"]
         for r in data.quarantine_by_build],
    )
    tests = _table(
        "test-history",
        [("invocation started", False), ("command", False), ("pass", True), ("warn", True), ("fail", True),
         ("error", True), ("skipped", True)],
        [[timestamp(t["run_started_at"]), t["command"], count(t["passed"]), count(t["warned"]), count(t["failed"]),
          count(t["errored"]), count(t["skipped"])] for t in data.test_history],
    )
    batches = _table(
        "stream-batches",
        [("batch", True), ("ended", False), ("rows", True), ("seconds", True), ("offsets behind", True),
         ("files outstanding", True)],
        [[str(b["batch_id"]), timestamp(b["ended_at"]), count(b["rows"]), f"{b['write_seconds']:.1f}",
          count(b["offsets_behind_latest"]), count(b["files_outstanding"])] for b in data.stream_batches],
    )
    return (f'<div class="cards">{cards}</div>{alerts}'
            f"<h3>Builds (audit.audit_pipeline_health)</h3>{builds}"
            f"<h3>Quarantine by reason per build</h3>{reasons}"
            f"<h3>Test runs (audit.audit_dbt_node_results)</h3>{tests}"
            f"<h3>Stream micro-batches</h3>{batches}")


def render(data: DashboardData, title: str = "Retail sales — KPI dashboard") -> str:
    """The whole page as a string."""
    transactions = data.transactions
    avg_ticket = (data.revenue / transactions).quantize(Decimal("0.01"), ROUND_HALF_UP) if transactions else None
    kpis = "".join(
        [
            _card("Revenue", money(data.revenue), "sum of gold.sales_by_day", kpi="revenue"),
            _card("Transactions", count(transactions), kpi="transactions"),
            _card("Units sold", count(data.units), kpi="units"),
            _card("Average ticket", money(avg_ticket), kpi="avg_ticket"),
            _card("Quarantined rows", count(data.quarantined), "rejected by the contract", kpi="quarantined"),
        ]
    )
    by_channel = line_chart("sales-by-channel", "Revenue by day and channel (USD)", data.daily_totals("channel_name"),
                            value_format=money)
    by_region = line_chart("sales-by-region", "Revenue by day and region (USD)", data.daily_totals("region"),
                           value_format=money)
    customers = bar_chart(
        "top-customers", "Top customers by spend (USD)",
        [(f"{r['customer_name'] or r['customer_id']}", {"total spent": r["total_spent"]}) for r in data.top_customers],
        value_format=money,
    )
    products = bar_chart(
        "top-products", "Top products by revenue, with gross margin (USD)",
        [(r["product_name"] or r["product_id"], {"revenue": r["revenue"], "gross margin": r["gross_margin"]})
         for r in data.top_products],
        value_format=money,
    )
    margin = bar_chart(
        "top-margin-products", "Top products by gross margin (USD)",
        [(r["product_name"] or r["product_id"], {"gross margin": r["gross_margin"]}) for r in data.top_margin_products],
        value_format=money,
    )
    quarantine = bar_chart(
        "quarantine", "Quarantined rows by reason", [(reason, {"rows": n}) for reason, n in data.quarantine],
        value_format=count,
    )
    latest_days = sorted(data.sales_by_day, key=lambda r: (r["sales_date"], r["total_amount"]), reverse=True)[:15]
    days_table = _table(
        "sales-by-day",
        [("date", False), ("channel", False), ("region", False), ("transactions", True), ("units", True),
         ("revenue", True)],
        [[r["sales_date"].isoformat(), r["channel_name"], r["region"], count(r["transactions"]), count(r["units"]),
          money(r["total_amount"])] for r in latest_days],
    )
    customers_table = _table(
        "top-customers",
        [("#", True), ("customer", False), ("segment", False), ("purchases", True), ("spent", True),
         ("avg ticket", True)],
        [[str(r["spend_rank"]), r["customer_name"] or f"{r['customer_id']} (unknown)", r["segment"] or "–",
          count(r["purchases"]), money(r["total_spent"]), money(r["avg_ticket"])] for r in data.top_customers],
    )
    products_table = _table(
        "top-products",
        [("#", True), ("product", False), ("category", False), ("units", True), ("revenue", True),
         ("gross margin", True)],
        [[str(r["revenue_rank"]), r["product_name"] or f"{r['product_id']} (unknown)", r["category"] or "–",
          count(r["units_sold"]), money(r["revenue"]), money(r["gross_margin"])] for r in data.top_products],
    )
    quarantine_table = _table(
        "quarantine", [("reason", False), ("rows", True)], [[reason, count(n)] for reason, n in data.quarantine]
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generated-at" content="{data.generated_at.isoformat()}Z">
<title>{escape(title)}</title>
<style>{CSS}</style></head>
<body>
<header><h1>{escape(title)}</h1>
<p>From the gold tables (gold.sales_by_day, gold.top_customers, gold.product_performance) and
silver.sales_quarantine. Generated {timestamp(data.generated_at)} by <code>make dashboard</code>.
Definitions of every figure: <code>make docs</code>.</p></header>
<main>
<section id="freshness"><h2>Freshness</h2><div class="cards">{_freshness(data)}</div></section>
<section id="kpis"><h2>Totals</h2><div class="cards">{kpis}</div></section>
<section id="sales"><h2>Sales by day</h2>{by_channel}{by_region}
<details><summary>Latest days (per channel and region)</summary>{days_table}</details></section>
<section id="customers"><h2>Top customers</h2><div class="grid2">{customers}{customers_table}</div></section>
<section id="products"><h2>Top products</h2><div class="grid2">{products}{margin}</div>{products_table}</section>
<section id="quarantine"><h2>Quarantine</h2><div class="grid2">{quarantine}{quarantine_table}</div></section>
<section id="health"><h2>Pipeline health</h2>{_health(data)}</section>
</main>
<footer>Self-contained: no scripts, fonts or images are fetched. Amounts in USD; dates are UTC sales dates.</footer>
</body></html>
"""
