"""The seeds as dbt loads them, on the shared `stage_a` lakehouse (python_tests/conftest.py).

Locally Spark's CSV reader loads them (macros/seeds.sql) instead of dbt-spark's batches of
literal rows. Whatever the path, each seeded table must hold exactly the rows of its CSV, read
the way dbt reads a seed: every column typed in `column_types`, '' and 'null' (any case,
blanks around) are NULL, any other cell is cast to its declared type.
"""

from __future__ import annotations

import csv
import shutil
import datetime as dt
from collections import Counter
from decimal import Decimal

import pytest
import yaml

from python_tests.conftest import REPO_ROOT, BuiltLakehouse

SEEDS = yaml.safe_load((REPO_ROOT / "seeds" / "_seeds.yml").read_text())["seeds"]


def cell(raw: str, sql_type: str):
    """One CSV cell as dbt + Spark would store it, for the types the seeds declare."""
    if raw.strip().lower() in ("", "null"):
        return None
    if sql_type == "string":
        return raw
    if sql_type == "int":
        return int(raw)
    if sql_type.startswith("decimal("):
        scale = int(sql_type.rstrip(")").split(",")[1])
        return Decimal(raw).quantize(Decimal(1).scaleb(-scale))
    if sql_type == "date":
        return dt.date.fromisoformat(raw)
    if sql_type == "timestamp":  # ISO 8601 with Z; kept as UTC wall time (session time zone UTC)
        return dt.datetime.fromisoformat(raw.replace("Z", "+00:00")).astimezone(dt.UTC).replace(tzinfo=None)
    raise AssertionError(f"add {sql_type} to cell()")


def csv_rows(name: str, types: dict[str, str]) -> Counter:
    with (REPO_ROOT / "seeds" / f"{name}.csv").open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        assert set(reader.fieldnames or ()) == set(types), f"{name}: every column has a column_types entry"
        return Counter(tuple(cell(row[column], types[column]) for column in types) for row in reader)


def table_rows(spark, lakehouse: BuiltLakehouse, name: str, types: dict[str, str]) -> Counter:
    table = spark.read.format("delta").load(lakehouse.table_path("reference", name))
    # timestamps as UTC wall-clock strings, whatever the test process's own time zone
    columns = [f"cast({c} as string) as {c}" if types[c] == "timestamp" else c for c in types]
    rows = Counter()
    for row in table.selectExpr(*columns).collect():
        rows[tuple(
            dt.datetime.fromisoformat(row[c]) if types[c] == "timestamp" and row[c] is not None else row[c]
            for c in types
        )] += 1
    return rows


@pytest.mark.spark
@pytest.mark.dbt
@pytest.mark.parametrize("seed", SEEDS, ids=[seed["name"] for seed in SEEDS])
def test_each_seeded_table_holds_exactly_its_csv(spark, stage_a: BuiltLakehouse, seed):
    types = seed["config"]["column_types"]
    expected = csv_rows(seed["name"], types)
    assert sum(expected.values()) > 0
    assert table_rows(spark, stage_a, seed["name"], types) == expected


@pytest.mark.dbt
def test_local_seeds_are_loaded_by_sparks_csv_reader(stage_a: BuiltLakehouse):
    """The fast path was the one taken: the SQL dbt records for each seed reads the CSV view."""
    status = {r["unique_id"]: r["status"] for r in stage_a.build_results["results"]}
    for seed in SEEDS:
        name = seed["name"]
        compiled = next(stage_a.path("target", "run").rglob(f"seeds/{name}.csv")).read_text()
        assert f"from __dbt_seed_csv_{name}" in compiled, compiled[:400]
        assert status[f"seed.retail_lakehouse.{name}"] == "success"


def seed_messages(lakehouse) -> dict[str, str]:
    return {r["unique_id"].split(".")[-1]: r["message"] for r in lakehouse.run_results()["results"]
            if r["unique_id"].startswith("seed.")}


@pytest.mark.spark
@pytest.mark.dbt
def test_an_unchanged_seed_is_not_reloaded_and_a_changed_one_is(spark, lakehouse, tmp_path):
    """A seed whose CSV and config are those of its last load is left as it is (an incremental
    build writes no seed); an edited CSV is reloaded, alone; --full-refresh reloads them all."""
    project = tmp_path / "project"  # a copy: this test edits a CSV
    for name in ("models", "seeds", "macros", "tests", "analyses", "docs"):
        shutil.copytree(REPO_ROOT / name, project / name)
    for name in ("dbt_project.yml", "profiles.yml"):
        shutil.copy(REPO_ROOT / name, project / name)
    lakehouse.env.update(DBT_PROJECT_DIR=str(project), DBT_PROFILES_DIR=str(project))
    rows = {seed["name"]: sum(csv_rows(seed["name"], seed["config"]["column_types"]).values()) for seed in SEEDS}
    stores = lakehouse.table_path("reference", "stores")

    def store_name(store_id: str) -> str:
        return spark.read.format("delta").load(stores).where(f"store_id = '{store_id}'").first()["store_name"]

    with lakehouse.warm_dbt():
        lakehouse.dbt("seed")
        assert seed_messages(lakehouse) == {name: f"INSERT {count}" for name, count in rows.items()}
        first_version = spark.sql(f"describe history delta.`{stores}`").agg({"version": "max"}).first()[0]

        lakehouse.dbt("seed")
        assert seed_messages(lakehouse) == {name: "UNCHANGED" for name in rows}
        assert spark.sql(f"describe history delta.`{stores}`").agg({"version": "max"}).first()[0] == first_version

        csv_path = project / "seeds" / "stores.csv"
        original = csv_path.read_text()
        assert store_name("S001") == "Hartford Commons" and "S001,Hartford Commons," in original
        csv_path.write_text(original.replace("S001,Hartford Commons,", "S001,Renamed Commons,"))
        lakehouse.dbt("seed")
        assert seed_messages(lakehouse) == {name: f"INSERT {rows[name]}" if name == "stores" else "UNCHANGED"
                                            for name in rows}
        assert store_name("S001") == "Renamed Commons"

        lakehouse.dbt("seed", "--full-refresh")
        assert seed_messages(lakehouse) == {name: f"CREATE {count}" for name, count in rows.items()}
    types = {seed["name"]: seed["config"]["column_types"] for seed in SEEDS}
    assert table_rows(spark, lakehouse, "products", types["products"]) == csv_rows("products", types["products"])
