"""The KPI dashboard: the renderer on its own (no Spark), then the page `python -m
dashboard` wrote from the hand-made dataset, opened in a real headless Chromium."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest

from python_tests.browser.conftest import save_screenshot
from python_tests.datasets import REASONS_A, STAGE_A, channel_name, name, region
from dashboard.charts import nice_ticks, short_number
from dashboard.page import money, render
from dashboard.queries import DashboardData

# gold.sales_by_day of STAGE_A (python_tests/datasets.py): (date, channel, store, revenue)
SALES_A = [
    ("2026-11-10", "C01", "S001", "19.01"),
    ("2026-11-10", "C09", "S999", "21.00"),
    ("2026-11-11", "C01", "S001", "500.00"),
    ("2026-11-11", "C02", "S002", "119.98"),
    ("2026-11-12", "C01", "S001", "20.00"),
]


def points(key) -> dict[tuple[str, str], Decimal]:
    """Revenue per (series, day) for key = channel_name or region."""
    totals: dict[tuple[str, str], Decimal] = {}
    for day, channel, store, amount in SALES_A:
        series = channel_name(channel) if key == "channel" else region(store)
        totals[(series, day)] = totals.get((series, day), Decimal("0")) + Decimal(amount)
    return totals


# --- the renderer alone -----------------------------------------------------------------------


def test_nice_ticks_and_short_numbers():
    assert nice_ticks(679.99) == [0, 200, 400, 600, 800]
    assert nice_ticks(21) == [0, 5, 10, 15, 20, 25]
    assert nice_ticks(0) == [0.0, 1.0]
    assert [short_number(v) for v in (0, 2.5, 950, 1200, 2_500_000)] == ["0", "2.5", "950", "1.2k", "2.5M"]
    assert money(Decimal("1234.5")) == "$1,234.50" and money(Decimal("-3")) == "-$3.00" and money(None) == "–"


def small_data(**changes) -> DashboardData:
    base = dict(
        generated_at=dt.datetime(2026, 11, 21, 12, 0),
        sales_by_day=[dict(sales_date=dt.date(2026, 11, 20), channel_id="C01", channel_name="<Web>", region="North",
                           transactions=2, units=3, total_amount=Decimal("30.50"))],
        top_customers=[dict(spend_rank=1, customer_id="CU1", customer_name="<script>alert(1)</script>", segment=None,
                            purchases=2, total_spent=Decimal("30.50"), avg_ticket=Decimal("15.25"),
                            last_purchase_at=dt.datetime(2026, 11, 20, 9))],
        top_products=[dict(revenue_rank=1, product_id="P1", product_name=None, category=None, transactions=2,
                           units_sold=3, revenue=Decimal("30.50"), gross_margin=None)],
        quarantine=[("malformed_json", 4)],
        freshness=dict(newest_sale_at=dt.datetime(2026, 11, 20, 9), silver_ingested_at=dt.datetime(2026, 11, 21, 11),
                       loaded_at=dt.datetime(2026, 11, 21, 11, 30), bronze_ingested_at=dt.datetime(2026, 11, 21, 11, 50),
                       bronze_rows=10),
    )
    base.update(changes)
    return DashboardData(**base)


def test_page_is_self_contained_and_escapes_what_it_shows():
    html = render(small_data())
    assert not re.search(r"<script|<link|<img|<iframe|\bsrc=|\bhref=|url\(|@import", html, re.IGNORECASE)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "&lt;Web&gt;" in html
    assert 'data-kpi="revenue"' in html and "$30.50" in html
    assert "P1 (unknown)" in html  # a product missing from the seed is shown by id
    assert "10 min ago" in html and "50 min behind" in html


def test_an_empty_lakehouse_renders_placeholders_not_errors():
    empty = DashboardData(generated_at=dt.datetime(2026, 11, 21, 12, 0),
                          freshness=dict(newest_sale_at=None, silver_ingested_at=None, loaded_at=None,
                                         bronze_ingested_at=None, bronze_rows=0))
    html = render(empty)
    assert html.count("No data yet") == 15  # six charts, four tables and the health section's five
    assert 'class="card stale"' in html  # no bronze at all is stale


# --- the page of the built lakehouse, in Chromium ---------------------------------------------


@pytest.mark.spark
@pytest.mark.dbt
@pytest.mark.browser
def test_dashboard_renders_its_charts_with_the_datasets_figures(browser, dashboard_file, artifacts):
    from selenium.webdriver.common.by import By

    html = dashboard_file.read_text()
    assert not re.search(r"<script|<link|<img|\bsrc=|\bhref=|url\(|@import", html, re.IGNORECASE)
    browser.set_window_size(1400, 1000)
    browser.get(dashboard_file.as_uri())
    assert browser.title == "Retail sales — KPI dashboard"
    assert browser.execute_script("return performance.getEntriesByType('resource').length") == 0, "fetched something"

    def kpi(key: str) -> str:
        return browser.find_element(By.CSS_SELECTOR, f'[data-kpi="{key}"] .value').text

    revenue = sum(Decimal(amount) for *_, amount in SALES_A)
    assert revenue == Decimal("679.99")
    assert kpi("revenue") == "$679.99"
    assert kpi("transactions") == "7"
    assert kpi("units") == "18"
    assert kpi("quarantined") == str(sum(REASONS_A.values()))
    assert kpi("bronze_rows") == str(len(STAGE_A))
    assert kpi("silver_lag") == "up to date"  # one ingest, one build

    def marks(chart: str, selector: str) -> list[dict]:
        return browser.execute_script(
            "return [...document.querySelectorAll(arguments[0])].map(e => ({series: e.dataset.series,"
            " label: e.dataset.label, value: e.dataset.value, w: e.getBoundingClientRect().width,"
            " h: e.getBoundingClientRect().height}))",
            f'figure[data-chart="{chart}"] svg {selector}',
        )

    charts = browser.execute_script(
        "return [...document.querySelectorAll('figure.chart')].map(f => f.dataset.chart)")
    assert charts == ["sales-by-channel", "sales-by-region", "top-customers", "top-products", "top-margin-products",
                      "quarantine"]

    for chart, key in (("sales-by-channel", "channel"), ("sales-by-region", "region")):
        drawn = {(p["series"], p["label"]): Decimal(p["value"]) for p in marks(chart, "circle.point")}
        assert drawn == points(key), chart
        assert len(marks(chart, "path.line")) == len({series for series, _ in points(key)})

    quarantine = marks("quarantine", "rect.bar")
    assert {b["label"]: int(b["value"]) for b in quarantine} == REASONS_A
    assert all(b["w"] > 0 and b["h"] > 0 for b in quarantine), "a bar is not drawn"
    widest = max(quarantine, key=lambda b: b["w"])
    assert int(widest["value"]) == max(REASONS_A.values())

    customers = marks("top-customers", "rect.bar")
    assert [(b["label"], b["value"]) for b in customers] == [
        (name("CU00001"), "518.00"), (name("CU00002"), "21.00"), ("CU99999", "21.00")
    ]
    products = marks("top-products", "rect.bar")
    assert [(b["series"], b["label"]) for b in products][:1] == [("revenue", products[0]["label"])]
    assert {b["value"] for b in products if b["series"] == "revenue"} == {"539.00", "140.99"}
    assert len(products) == 4  # revenue and gross margin for both products

    save_screenshot(browser, artifacts / "dashboard.png", full_page=True)


@pytest.mark.spark
@pytest.mark.dbt
@pytest.mark.browser
def test_dashboard_health_section_holds_the_builds_audit(browser, dashboard_file, stage_a, artifacts):
    """STAGE_A's one build, as the audit tables recorded it: 30 bronze rows = 7 sales + 2
    duplicates + 21 quarantined; its reasons; its test results; the ingest's one batch."""
    from selenium.webdriver.common.by import By

    browser.set_window_size(1400, 1000)
    browser.get(dashboard_file.as_uri())

    def table(name: str) -> list[list[str]]:
        return browser.execute_script(
            "return [...document.querySelectorAll(`table[data-table='${arguments[0]}'] tbody tr`)]"
            ".map(r => [...r.cells].map(c => c.textContent))", name)

    def kpi(key: str) -> str:
        return browser.find_element(By.CSS_SELECTOR, f'[data-kpi="{key}"] .value').text

    built = {r["unique_id"]: r for r in stage_a.build_results["results"]}
    assert [row[1:] for row in table("builds")] == [["30", "7", "2", "21", "70.0 %", "yes"]]
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC", table("builds")[0][0])
    assert {row[1]: (row[2], row[3]) for row in table("quarantine-by-build")} == {
        reason: (str(n), f"{n / 30 * 100:.1f} %") for reason, n in REASONS_A.items()}
    tests = [r for r in built.values() if r["unique_id"].split(".")[0] in ("test", "unit_test")]
    by_status = {status: sum(1 for r in tests if r["status"] == status) for status in ("pass", "warn", "fail", "error")}
    assert [row[1:6] for row in table("test-history")] == [
        ["build", str(by_status["pass"]), str(by_status["warn"]), "0", "0"]]
    assert by_status["warn"] == 3  # the relationships of the unknown store, channel and customer ids
    assert [row[2] for row in table("stream-batches")] == ["30"]  # the one ingest batch
    alerts = {row[0]: row[1] for row in table("alerts")}
    # the hand-made batch is 70 % dirty: above the 5 % default; nothing else is wrong
    assert {k: alerts[k] for k in ("quarantine_share", "conservation_mismatch", "failing_test", "stream_lag")} == {
        "quarantine_share": "FIRING", "conservation_mismatch": "ok", "failing_test": "ok", "stream_lag": "ok"}
    assert kpi("last_build_conserved") == "yes" and kpi("last_build_quarantine_share") == "70.0 %"
    browser.execute_script("document.getElementById('health').scrollIntoView()")
    save_screenshot(browser, artifacts / "dashboard-health.png")
