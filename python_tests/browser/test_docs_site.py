"""The dbt docs site: every column documented, and in a real browser the site served by
`dbt docs serve` loads and its lineage graph runs from the bronze source to the exposures."""

from __future__ import annotations

import json
from collections import deque
from pathlib import Path

import pytest

from python_tests.browser.conftest import save_screenshot
from dashboard.queries import TABLES_READ

pytestmark = [pytest.mark.spark, pytest.mark.dbt]

PROJECT = "retail_lakehouse"
SOURCE = f"source.{PROJECT}.bronze.sales_events"
SILVER = [f"model.{PROJECT}.{name}" for name in ("sales_simple", "sales_quarantine", "sales_enriched")]
GOLD = [f"model.{PROJECT}.{name}" for name in ("sales_by_day", "top_customers", "product_performance")]
EXPOSURES = [f"exposure.{PROJECT}.{name}"
             for name in ("kpi_dashboard", "databricks_dashboard", "power_bi_sales_report")]


@pytest.fixture(scope="module")
def manifest(stage_a) -> dict:
    return json.loads(stage_a.path("target", "manifest.json").read_text())


@pytest.fixture(scope="module")
def catalog(stage_a) -> dict:
    return json.loads(stage_a.path("target", "catalog.json").read_text())


def built_columns(spark, lakehouse, node: dict, catalog: dict) -> list[str]:
    """The relation's real columns. Views: from catalog.json. Delta tables: from the Delta log
    (locally, Spark 4 keeps a Delta table's schema out of the Hive metastore, so dbt-spark's
    catalog lists no columns for them)."""
    if node["resource_type"] == "source":
        path = lakehouse.bronze_path
    else:
        path = lakehouse.table_path(node["schema"], node.get("alias") or node["name"])
    if Path(path, "_delta_log").is_dir():
        return spark.read.format("delta").load(path).columns
    entry = catalog["nodes"].get(node["unique_id"]) or catalog["sources"].get(node["unique_id"])
    assert entry and entry["columns"], f"{node['unique_id']} was not built"
    return list(entry["columns"])


def test_every_model_seed_and_source_column_is_documented(spark, stage_a, manifest, catalog):
    """Each column the built relation has, has a description in the YAML (manifest.json)."""
    nodes = [n for n in manifest["nodes"].values()
             if n["resource_type"] in ("model", "seed") and n["config"].get("materialized") != "ephemeral"]
    nodes += list(manifest["sources"].values())
    undocumented, checked = [], 0
    for node in nodes:
        if node["package_name"] != PROJECT:
            continue
        documented = {name.lower(): (c.get("description") or "").strip() for name, c in node["columns"].items()}
        for column in built_columns(spark, stage_a, node, catalog):
            checked += 1
            if not documented.get(column.lower()):
                undocumented.append(f"{node['unique_id']}.{column}")
    assert not undocumented, f"no description: {undocumented}"
    assert {SOURCE, *SILVER, *GOLD, f"seed.{PROJECT}.customers"} <= {n["unique_id"] for n in nodes}
    assert checked > 200


def test_models_seeds_sources_and_exposures_all_have_descriptions(manifest):
    nodes = [n for n in manifest["nodes"].values() if n["resource_type"] in ("model", "seed")]
    nodes += list(manifest["sources"].values()) + list(manifest["exposures"].values())
    missing = [n["unique_id"] for n in nodes if n["package_name"] == PROJECT and not n["description"].strip()]
    assert not missing
    assert manifest["docs"][f"doc.{PROJECT}.__overview__"]["block_contents"].strip().startswith("# Retail sales lakehouse")


def test_the_dashboard_exposure_lists_exactly_what_the_dashboard_reads(manifest):
    exposure = manifest["exposures"][f"exposure.{PROJECT}.kpi_dashboard"]
    read = set()
    for unique_id in exposure["depends_on"]["nodes"]:
        node = manifest["nodes"].get(unique_id) or manifest["sources"][unique_id]
        read.add(f"{node['schema']}.{node.get('identifier') or node.get('alias') or node['name']}")
    assert read == set(TABLES_READ)


def test_the_databricks_dashboard_exposure_lists_exactly_what_its_datasets_read(manifest):
    from dashboard import lakeview

    read_by_datasets = set()
    names = lakeview.Names(lambda schema, table: read_by_datasets.add(f"{schema}.{table}") or f"{schema}.{table}",
                           "stream_metrics")
    lakeview.definition(names, lakeview.BUNDLE_SETTINGS)
    exposure = manifest["exposures"][f"exposure.{PROJECT}.databricks_dashboard"]
    read = {f"{manifest['nodes'][u]['schema']}.{manifest['nodes'][u]['alias']}" for u in exposure["depends_on"]["nodes"]}
    # the stream metrics are the streaming job's table, not a dbt node
    assert read == read_by_datasets
    assert len(read) == 6


def test_the_power_bi_exposure_reads_the_star_schema_and_the_marts_all_gold_with_contracts(manifest):
    exposure = manifest["exposures"][f"exposure.{PROJECT}.power_bi_sales_report"]
    assert exposure["type"] == "dashboard"
    read = exposure["depends_on"]["nodes"]
    assert set(GOLD) | {f"model.{PROJECT}.fct_sales", f"model.{PROJECT}.dim_customer"} <= set(read)
    for unique_id in read:
        node = manifest["nodes"][unique_id]
        assert node["schema"] == "gold" and node["config"]["contract"]["enforced"], unique_id


@pytest.mark.browser
def test_docs_site_loads_and_its_lineage_graph_runs_from_bronze_to_the_exposures(browser, docs_url, artifacts):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ready
    from selenium.webdriver.support.ui import WebDriverWait

    browser.set_window_size(1400, 1000)
    browser.get(docs_url)
    wait = WebDriverWait(browser, 60)
    # the app has loaded manifest + catalog and rendered the project overview (our __overview__ doc)
    wait.until(ready.visibility_of_element_located((By.XPATH, "//h1[contains(., 'Retail sales lakehouse')]")))
    assert browser.title.startswith("dbt Docs")
    tree = browser.find_element(By.TAG_NAME, "body").text
    for name in ("sales_by_day", "sales_simple", "bronze"):
        assert name in tree, f"{name} is not in the navigation"
    save_screenshot(browser, artifacts / "docs-overview.png")

    # open the lineage graph (the launcher button, bottom right): the whole DAG, drawn by cytoscape
    browser.find_element(By.CSS_SELECTOR, ".launcher-btn a").click()
    wait.until(lambda d: d.execute_script("return window.graph && window.graph.nodes().length > 0"))
    wait.until(lambda d: d.execute_script(
        "return window.graph.nodes().every(n => n.renderedPosition().x !== undefined)"))
    graph = browser.execute_script(
        """
        const cy = window.graph;
        const box = document.getElementById('cy').getBoundingClientRect();
        return {
          nodes: cy.nodes().filter(n => n.visible()).map(n => ({id: n.id(), label: n.data('label'),
                  x: n.renderedPosition().x, y: n.renderedPosition().y})),
          edges: cy.edges().filter(e => e.visible()).map(e => [e.source().id(), e.target().id()]),
          width: box.width, height: box.height,
        };
        """
    )
    nodes = {n["id"]: n for n in graph["nodes"]}
    for unique_id in [SOURCE, f"model.{PROJECT}.stg_bronze__sales_events", *SILVER, *GOLD, *EXPOSURES]:
        assert unique_id in nodes, f"{unique_id} is not drawn in the lineage graph"
    assert nodes[SOURCE]["label"] == "bronze.sales_events"
    assert nodes[f"exposure.{PROJECT}.kpi_dashboard"]["label"] == "KPI dashboard (make dashboard)"
    # every drawn node lies inside the graph's canvas
    for node in graph["nodes"]:
        assert 0 <= node["x"] <= graph["width"] and 0 <= node["y"] <= graph["height"], node

    # left to right: the bronze source reaches every silver and gold model and both exposures
    children: dict[str, list[str]] = {}
    for parent, child in graph["edges"]:
        children.setdefault(parent, []).append(child)
    reached, queue = {SOURCE}, deque([SOURCE])
    while queue:
        for child in children.get(queue.popleft(), []):
            if child not in reached:
                reached.add(child)
                queue.append(child)
    assert set(SILVER + GOLD + EXPOSURES) <= reached
    assert (f"model.{PROJECT}.sales_by_day", f"exposure.{PROJECT}.kpi_dashboard") in {tuple(e) for e in graph["edges"]}
    save_screenshot(browser, artifacts / "docs-lineage.png")

    # the dashboard exposure's own page and its lineage panel: what it reads, down to the bronze source
    browser.get("about:blank")  # a fresh page: the full-screen graph is closed
    browser.get(f"{docs_url}#!/exposure/exposure.{PROJECT}.kpi_dashboard")
    wait.until(ready.visibility_of_element_located((By.XPATH, "//*[contains(., 'self-contained HTML KPI dashboard')]")))
    browser.find_element(By.CSS_SELECTOR, ".launcher-btn a").click()
    wait.until(lambda d: d.execute_script(
        "return window.graph && window.graph.nodes().filter(n => n.visible()).length > 0"
        " && window.graph.getElementById(arguments[0]).visible()", SOURCE))
    upstream = set(browser.execute_script("return window.graph.nodes().filter(n => n.visible()).map(n => n.id())"))
    assert {SOURCE, f"exposure.{PROJECT}.kpi_dashboard", *GOLD, f"model.{PROJECT}.sales_simple"} <= upstream
    assert f"exposure.{PROJECT}.power_bi_sales_report" not in upstream
    save_screenshot(browser, artifacts / "docs-lineage-kpi-dashboard.png")
