"""`python -m producer dims`: deterministic seed CSVs with exactly the dbt project's columns."""

from __future__ import annotations

import csv
import datetime as dt
import re
from decimal import Decimal
from pathlib import Path

import pytest
from python_tests.producer.producer_contract import SEEDS_DIR, run_producer

HEADERS = {
    "products.csv": "product_id,product_name,category,brand,unit_cost,list_price",
    "stores.csv": "store_id,store_name,city,region,country",
    "channels.csv": "channel_id,channel_name,channel_type",
    "customers.csv": "customer_id,first_name,last_name,email,city,segment,signup_date",
    "stock.csv": "product_id,store_id,quantity_on_hand,updated_at",
}


@pytest.fixture(scope="module")
def dims_42(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dims42")
    result = run_producer("dims", "--seed", "42", "--out", str(out))
    assert result.returncode == 0, result.stderr
    return out


def rows(directory: Path, name: str) -> list[dict[str, str]]:
    with (directory / name).open(newline="") as handle:
        return list(csv.DictReader(handle))


def test_same_seed_gives_identical_bytes(dims_42: Path, tmp_path: Path) -> None:
    result = run_producer("dims", "--seed", "42", "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    for name in HEADERS:
        assert (tmp_path / name).read_bytes() == (dims_42 / name).read_bytes(), name


def test_committed_seeds_are_seed_42(dims_42: Path) -> None:
    for name in HEADERS:
        assert (SEEDS_DIR / name).read_bytes() == (dims_42 / name).read_bytes(), name


def test_other_seed_differs(dims_42: Path, tmp_path: Path) -> None:
    assert run_producer("dims", "--seed", "7", "--out", str(tmp_path)).returncode == 0
    assert (tmp_path / "customers.csv").read_bytes() != (dims_42 / "customers.csv").read_bytes()
    assert (tmp_path / "products.csv").read_bytes() != (dims_42 / "products.csv").read_bytes()
    # the fixed channel list is the same whatever the seed
    assert (tmp_path / "channels.csv").read_bytes() == (dims_42 / "channels.csv").read_bytes()


def test_headers_exact_and_plain_newlines(dims_42: Path) -> None:
    for name, header in HEADERS.items():
        data = (dims_42 / name).read_bytes()
        assert data.split(b"\n", 1)[0].decode() == header, name
        assert b"\r" not in data
        assert data.endswith(b"\n")


def test_products(dims_42: Path) -> None:
    products = rows(dims_42, "products.csv")
    assert len(products) == 500
    assert [p["product_id"] for p in products] == [f"P{i:04d}" for i in range(1, 501)]
    assert len({p["category"] for p in products}) == 8
    for product in products:
        assert re.fullmatch(r"\d+\.\d{2}", product["unit_cost"]), product
        assert re.fullmatch(r"\d+\.\d{2}", product["list_price"]), product
        assert Decimal("0") < Decimal(product["unit_cost"]) < Decimal(product["list_price"])
        assert product["product_name"] and product["brand"]


def test_stores_and_channels(dims_42: Path) -> None:
    stores = rows(dims_42, "stores.csv")
    assert [s["store_id"] for s in stores] == [f"S{i:03d}" for i in range(1, 41)]
    assert {s["country"] for s in stores} == {"US"}
    assert sorted({s["region"] for s in stores}) == [
        "midwest", "northeast", "southeast", "southwest", "west"]
    assert len({s["store_name"] for s in stores}) == 40
    assert rows(dims_42, "channels.csv") == [
        {"channel_id": "C01", "channel_name": "In-store POS", "channel_type": "physical"},
        {"channel_id": "C02", "channel_name": "Web store", "channel_type": "online"},
        {"channel_id": "C03", "channel_name": "Mobile app", "channel_type": "online"},
        {"channel_id": "C04", "channel_name": "Marketplace", "channel_type": "online"},
    ]


def test_customers(dims_42: Path) -> None:
    customers = rows(dims_42, "customers.csv")
    assert [c["customer_id"] for c in customers] == [f"CU{i:05d}" for i in range(1, 5001)]
    assert {c["segment"] for c in customers} == {"consumer", "small_business", "vip"}
    assert len({c["email"] for c in customers}) == 5000
    for customer in customers:
        assert dt.date.fromisoformat(customer["signup_date"]) <= dt.date(2026, 10, 31)
        assert re.fullmatch(r"[a-z.\-]+\d+@example\.com", customer["email"]), customer
    vip_share = sum(c["segment"] == "vip" for c in customers) / len(customers)
    assert 0.03 <= vip_share <= 0.07


def test_stock_is_one_row_per_product_and_store(dims_42: Path) -> None:
    stock = rows(dims_42, "stock.csv")
    pairs = [(s["product_id"], s["store_id"]) for s in stock]
    assert len(pairs) == 500 * 40 == len(set(pairs))
    products = {p["product_id"] for p in rows(dims_42, "products.csv")}
    stores = {s["store_id"] for s in rows(dims_42, "stores.csv")}
    assert {p for p, _ in pairs} == products and {s for _, s in pairs} == stores
    for row in stock:
        assert int(row["quantity_on_hand"]) >= 0
        assert re.fullmatch(r"2026-11-01T0[0-6]:\d{2}:00Z", row["updated_at"]), row
