"""Deterministic generator of the five dbt seed CSVs (contract section 4).

Same seed -> identical bytes: every random draw comes from one ``random.Random(seed)``
and one seeded Faker instance, and rows are written in a fixed order with ``\\n`` line
endings. The columns are exactly the ones the dbt project declares; do not add any.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import random
from dataclasses import dataclass
from pathlib import Path

from faker import Faker

PRODUCT_COUNT = 500
STORE_COUNT = 40
CUSTOMER_COUNT = 5000
# Stock snapshot time; rows are stamped a few hours before it (deterministic).
STOCK_SNAPSHOT_AT = dt.datetime(2026, 11, 1, 6, 0, 0, tzinfo=dt.timezone.utc)

SEED_HEADERS: dict[str, tuple[str, ...]] = {
    "products.csv": ("product_id", "product_name", "category", "brand", "unit_cost", "list_price"),
    "stores.csv": ("store_id", "store_name", "city", "region", "country"),
    "channels.csv": ("channel_id", "channel_name", "channel_type"),
    "customers.csv": (
        "customer_id", "first_name", "last_name", "email", "city", "segment", "signup_date",
    ),
    "stock.csv": ("product_id", "store_id", "quantity_on_hand", "updated_at"),
}

# category -> (price range in USD, product nouns)
CATEGORIES: dict[str, tuple[tuple[float, float], tuple[str, ...]]] = {
    "electronics": ((15.0, 900.0), ("Headphones", "Speaker", "Charger", "Monitor", "Keyboard",
                                    "Mouse", "Tablet", "Smartwatch", "Camera", "Router")),
    "grocery": ((1.5, 25.0), ("Coffee", "Olive Oil", "Pasta", "Granola", "Tea", "Chocolate",
                              "Rice", "Honey", "Crackers", "Salsa")),
    "home_kitchen": ((8.0, 250.0), ("Skillet", "Blender", "Knife Set", "Towel Set", "Lamp",
                                    "Cutting Board", "Kettle", "Pillow", "Vase", "Mixing Bowl")),
    "apparel": ((10.0, 180.0), ("T-Shirt", "Jeans", "Jacket", "Sneakers", "Hoodie", "Dress",
                                "Scarf", "Socks", "Cap", "Sweater")),
    "beauty": ((4.0, 90.0), ("Shampoo", "Face Cream", "Lipstick", "Perfume", "Sunscreen",
                             "Body Lotion", "Hair Oil", "Serum", "Soap", "Mascara")),
    "toys": ((5.0, 120.0), ("Puzzle", "Building Set", "Plush Bear", "Board Game", "Race Car",
                            "Doll", "Kite", "Yo-Yo", "Robot Kit", "Card Game")),
    "sports": ((8.0, 400.0), ("Yoga Mat", "Dumbbells", "Water Bottle", "Tennis Racket",
                              "Running Shorts", "Bike Helmet", "Football", "Jump Rope",
                              "Tent", "Backpack")),
    "books": ((6.0, 60.0), ("Cookbook", "Novel", "Atlas", "Biography", "Comic", "Notebook",
                            "Planner", "Field Guide", "Poetry Book", "Workbook")),
}
ADJECTIVES = ("Classic", "Pro", "Essential", "Deluxe", "Compact", "Eco", "Ultra", "Premium",
              "Everyday", "Smart", "Organic", "Urban", "Vintage", "Lite", "Max")

# region -> cities (US); stores are spread round-robin over regions.
REGIONS: dict[str, tuple[str, ...]] = {
    "northeast": ("New York", "Boston", "Philadelphia", "Pittsburgh", "Hartford", "Newark"),
    "southeast": ("Atlanta", "Miami", "Charlotte", "Orlando", "Nashville", "Tampa"),
    "midwest": ("Chicago", "Detroit", "Minneapolis", "Columbus", "Milwaukee", "St. Louis"),
    "southwest": ("Dallas", "Houston", "Phoenix", "Austin", "Albuquerque", "San Antonio"),
    "west": ("Los Angeles", "San Francisco", "Seattle", "Portland", "Denver", "San Diego"),
}
STORE_SUFFIXES = ("Downtown", "Mall", "Plaza", "Uptown", "Outlet", "Center", "Market", "Commons")

CHANNELS: tuple[tuple[str, str, str], ...] = (
    ("C01", "In-store POS", "physical"),
    ("C02", "Web store", "online"),
    ("C03", "Mobile app", "online"),
    ("C04", "Marketplace", "online"),
)

SEGMENTS = (("consumer", 0.80), ("small_business", 0.15), ("vip", 0.05))


@dataclass(frozen=True)
class DimTables:
    """The five seed tables as rows of strings, in output order."""

    products: list[tuple[str, ...]]
    stores: list[tuple[str, ...]]
    channels: list[tuple[str, ...]]
    customers: list[tuple[str, ...]]
    stock: list[tuple[str, ...]]

    def by_file(self) -> dict[str, list[tuple[str, ...]]]:
        return {
            "products.csv": self.products,
            "stores.csv": self.stores,
            "channels.csv": self.channels,
            "customers.csv": self.customers,
            "stock.csv": self.stock,
        }


def _money(value: float) -> str:
    return f"{value:.2f}"


def make_products(rng: random.Random, fake: Faker, count: int = PRODUCT_COUNT) -> list[tuple[str, ...]]:
    brands: list[str] = []
    while len(brands) < 40:
        brand = fake.last_name()
        if brand not in brands:
            brands.append(brand)
    categories = list(CATEGORIES)
    # each category gets its own 8 brands
    category_brands = {c: rng.sample(brands, 8) for c in categories}
    rows = []
    for index in range(1, count + 1):
        category = categories[(index - 1) % len(categories)]
        (low, high), nouns = CATEGORIES[category]
        brand = rng.choice(category_brands[category])
        name = f"{brand} {rng.choice(ADJECTIVES)} {rng.choice(nouns)}"
        # log-uniform price inside the category's range, snapped to .99 / .49 endings
        list_price = low * (high / low) ** rng.random()
        list_price = max(round(int(list_price) + rng.choice((0.99, 0.49)), 2), 0.99)
        unit_cost = round(list_price * rng.uniform(0.40, 0.75), 2)
        if unit_cost >= list_price:
            unit_cost = round(list_price - 0.01, 2)
        rows.append((f"P{index:04d}", name, category, brand, _money(unit_cost), _money(list_price)))
    return rows


def make_stores(rng: random.Random, count: int = STORE_COUNT) -> list[tuple[str, ...]]:
    regions = list(REGIONS)
    used: set[str] = set()
    rows = []
    for index in range(1, count + 1):
        region = regions[(index - 1) % len(regions)]
        while True:
            city = rng.choice(REGIONS[region])
            name = f"{city} {rng.choice(STORE_SUFFIXES)}"
            if name not in used:
                used.add(name)
                break
        rows.append((f"S{index:03d}", name, city, region, "US"))
    return rows


def make_channels() -> list[tuple[str, ...]]:
    return [tuple(row) for row in CHANNELS]


def make_customers(rng: random.Random, fake: Faker, count: int = CUSTOMER_COUNT) -> list[tuple[str, ...]]:
    segment_names = [s for s, _ in SEGMENTS]
    segment_weights = [w for _, w in SEGMENTS]
    first_day = dt.date(2019, 1, 1).toordinal()
    last_day = dt.date(2026, 10, 31).toordinal()
    rows = []
    for index in range(1, count + 1):
        first = fake.first_name()
        last = fake.last_name()
        local = f"{first}.{last}".lower().replace(" ", "").replace("'", "")
        email = f"{local}{index}@example.com"
        segment = rng.choices(segment_names, segment_weights)[0]
        signup = dt.date.fromordinal(rng.randint(first_day, last_day)).isoformat()
        rows.append((f"CU{index:05d}", first, last, email, fake.city(), segment, signup))
    return rows


def make_stock(rng: random.Random, products: list[tuple[str, ...]],
               stores: list[tuple[str, ...]]) -> list[tuple[str, ...]]:
    rows = []
    for product in products:
        for store in stores:
            quantity = 0 if rng.random() < 0.03 else rng.randint(1, 250)
            stamped = STOCK_SNAPSHOT_AT - dt.timedelta(minutes=rng.randint(0, 360))
            rows.append((product[0], store[0], str(quantity), stamped.strftime("%Y-%m-%dT%H:%M:%SZ")))
    return rows


def make_dims(seed: int) -> DimTables:
    rng = random.Random(seed)
    fake = Faker("en_US")
    fake.seed_instance(seed)
    products = make_products(rng, fake)
    stores = make_stores(rng)
    channels = make_channels()
    customers = make_customers(rng, fake)
    stock = make_stock(rng, products, stores)
    return DimTables(products, stores, channels, customers, stock)


def render_csv(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


def write_dims(seed: int, out_dir: Path) -> dict[str, int]:
    """Write the five CSVs into ``out_dir``; returns row counts per file."""
    out_dir.mkdir(parents=True, exist_ok=True)
    tables = make_dims(seed)
    counts = {}
    for name, rows in tables.by_file().items():
        data = render_csv(SEED_HEADERS[name], rows)
        tmp = out_dir / f".{name}.tmp"
        tmp.write_bytes(data)
        tmp.replace(out_dir / name)
        counts[name] = len(rows)
    return counts
