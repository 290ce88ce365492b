"""The seeds as dbt loads them, on the shared `stage_a` lakehouse (python_tests/conftest.py).

Locally Spark's CSV reader loads them (macros/seeds.sql) instead of dbt-spark's batches of
literal rows. Whatever the path, each seeded table must hold exactly the rows of its CSV, read
the way dbt reads a seed: every column typed in `column_types`, '' and 'null' (any case,
blanks around) are NULL, any other cell is cast to its declared type.
"""

from __future__ import annotations

import csv
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
