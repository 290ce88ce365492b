"""The dimensions the producer draws from: the dbt seeds (seeds/*.csv), read once."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Product:
    product_id: str
    list_price: float


@dataclass(frozen=True)
class Store:
    store_id: str
    region: str


@dataclass(frozen=True)
class Channel:
    channel_id: str
    channel_type: str


@dataclass(frozen=True)
class Customer:
    customer_id: str
    segment: str


@dataclass(frozen=True)
class Catalog:
    products: tuple[Product, ...]
    stores: tuple[Store, ...]
    channels: tuple[Channel, ...]
    customers: tuple[Customer, ...]


def _read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def load_catalog(seeds_dir: Path) -> Catalog:
    products = tuple(Product(r["product_id"], float(r["list_price"]))
                     for r in _read_csv(seeds_dir / "products.csv"))
    stores = tuple(Store(r["store_id"], r["region"]) for r in _read_csv(seeds_dir / "stores.csv"))
    channels = tuple(Channel(r["channel_id"], r["channel_type"])
                     for r in _read_csv(seeds_dir / "channels.csv"))
    customers = tuple(Customer(r["customer_id"], r["segment"])
                      for r in _read_csv(seeds_dir / "customers.csv"))
    if not products or not stores:
        raise ValueError(f"{seeds_dir}: products.csv and stores.csv must not be empty")
    if not any(c.channel_type != "physical" for c in channels):
        raise ValueError(f"{seeds_dir}/channels.csv needs an online channel "
                         "(it carries the sales while the stores are closed)")
    return Catalog(products, stores, channels, customers)
