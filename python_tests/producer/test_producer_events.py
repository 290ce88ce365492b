"""`python -m producer events`: contract shape, determinism and realistic distributions."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections import Counter
from pathlib import Path

import pytest
from python_tests.producer.producer_contract import (
    CONTRACT_FIELDS,
    PAYMENT_METHODS,
    failing_rules,
    parse_timestamp,
    produce_to_files,
    read_ids,
    read_rows,
)

START = "2026-11-16T00:00:00Z"  # a Monday
START_AT = dt.datetime(2026, 11, 16, tzinfo=dt.timezone.utc)
WEEK_TOTAL = 30_000
# standard-time UTC offsets of the regions (the producer documents "no daylight saving")
REGION_OFFSET = {"northeast": -5, "southeast": -5, "midwest": -6, "southwest": -7, "west": -8}
UUID4 = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")
TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z")


@pytest.fixture(scope="module")
def week(tmp_path_factory: pytest.TempPathFactory) -> list[dict]:
    """A clean week of sales: 30k events, one every 20 s of event time."""
    lines, summary = produce_to_files(
        tmp_path_factory.mktemp("week"), "--seed", "7", "--total", str(WEEK_TOTAL),
        "--start", START, "--sim-rate", "0.05")
    assert summary["sent"] == summary["clean"] == WEEK_TOTAL == len(lines)
    return [json.loads(line) for line in lines]


def is_open(region: str, timestamp: dt.datetime) -> bool:
    local = timestamp + dt.timedelta(hours=REGION_OFFSET[region])
    opens, closes = (10, 18) if local.weekday() == 6 else (9, 21)
    return opens <= local.hour < closes


def test_every_event_follows_the_contract(week: list[dict]) -> None:
    ingestion = START_AT + dt.timedelta(days=8)
    for event in week:
        line = json.dumps(event)
        assert failing_rules(line, ingestion) == [], line
        assert set(event) <= CONTRACT_FIELDS
        assert set(event) >= CONTRACT_FIELDS - {"discount_pct"}
        assert UUID4.fullmatch(event["transaction_id"])
        assert TIMESTAMP.fullmatch(event["event_timestamp"])
        assert event["payment_method"] in PAYMENT_METHODS
        assert event["currency"] == "USD"
        assert round(event["unit_price"], 2) == event["unit_price"]
        if "discount_pct" in event:
            assert 0 <= event["discount_pct"] <= 0.5
            assert round(event["discount_pct"], 2) == event["discount_pct"]
    assert len({event["transaction_id"] for event in week}) == WEEK_TOTAL


def test_timestamps_follow_start_and_sim_rate(week: list[dict]) -> None:
    stamps = [parse_timestamp(event["event_timestamp"]) for event in week]
    assert stamps == sorted(stamps)
    assert START_AT <= stamps[0] < START_AT + dt.timedelta(seconds=20)
    end = START_AT + dt.timedelta(seconds=WEEK_TOTAL * 20)
    assert end - dt.timedelta(seconds=20) <= stamps[-1] < end


def test_ids_come_from_the_dims(week: list[dict]) -> None:
    assert {e["store_id"] for e in week} <= read_ids("stores.csv", "store_id")
    assert {e["channel_id"] for e in week} == read_ids("channels.csv", "channel_id")
    assert {e["product_id"] for e in week} <= read_ids("products.csv", "product_id")
    customers = {e["customer_id"] for e in week} - {None}
    assert customers <= read_ids("customers.csv", "customer_id")


def test_anonymous_share(week: list[dict]) -> None:
    anonymous = sum(event["customer_id"] is None for event in week) / len(week)
    assert 0.28 <= anonymous <= 0.32


def test_physical_sales_only_while_the_store_is_open(week: list[dict]) -> None:
    regions = {row["store_id"]: row["region"] for row in read_rows("stores.csv")}
    physical = [e for e in week if e["channel_id"] == "C01"]
    closed = [e for e in physical
              if not is_open(regions[e["store_id"]], parse_timestamp(e["event_timestamp"]))]
    assert closed == []
    assert 0.38 <= len(physical) / len(week) <= 0.48
    # 07:00-13:00 UTC every store is closed: night sales are all online
    night = [e for e in week if 7 <= parse_timestamp(e["event_timestamp"]).hour < 13]
    # event i is stamped in [start + 20 i, start + 20 (i + 1)) s: slots align with hours
    assert len(night) == sum(7 <= (i * 20 // 3600) % 24 < 13 for i in range(WEEK_TOTAL))
    assert {e["channel_id"] for e in night} == {"C02", "C03", "C04"}
    assert {e["payment_method"] for e in night} == {"card", "mobile_wallet", "gift_card"}


def test_weekly_seasonality_of_physical_sales(week: list[dict]) -> None:
    regions = {row["store_id"]: row["region"] for row in read_rows("stores.csv")}
    by_day = Counter(
        (parse_timestamp(e["event_timestamp"])
         + dt.timedelta(hours=REGION_OFFSET[regions[e["store_id"]]])).weekday()
        for e in week if e["channel_id"] == "C01")
    # busiest on Saturday, quietest on Sunday (short opening hours), Friday above Monday
    assert max(by_day, key=by_day.get) == 5
    assert min(by_day, key=by_day.get) == 6
    assert by_day[4] > by_day[0]


def test_popular_products_dominate(week: list[dict]) -> None:
    counts = Counter(event["product_id"] for event in week)
    top_25 = sum(count for _, count in counts.most_common(25))
    assert 0.45 <= top_25 / len(week) <= 0.75
    assert counts.most_common(1)[0][1] >= 10 * sorted(counts.values())[len(counts) // 2]


def test_prices_near_list_price(week: list[dict]) -> None:
    list_price = {row["product_id"]: float(row["list_price"]) for row in read_rows("products.csv")}
    ratios = [event["unit_price"] / list_price[event["product_id"]] for event in week]
    assert all(0.89 <= ratio <= 1.06 for ratio in ratios)
    at_list = sum(abs(ratio - 1) < 1e-9 for ratio in ratios) / len(ratios)
    assert 0.58 <= at_list <= 0.67


def test_quantities_and_discounts(week: list[dict]) -> None:
    quantities = Counter(event["quantity"] for event in week)
    assert set(quantities) == {1, 2, 3, 5}
    assert 0.52 <= quantities[1] / len(week) <= 0.60
    omitted = sum("discount_pct" not in event for event in week) / len(week)
    assert 0.40 <= omitted <= 0.48


def test_same_seed_and_start_give_identical_bytes(tmp_path: Path) -> None:
    args = ("--seed", "3", "--total", "20000", "--start", START, "--dirty", "0.02",
            "--file-max-events", "3000")
    first, _ = produce_to_files(tmp_path / "a", *args)
    second, _ = produce_to_files(tmp_path / "b", *args)
    assert len(first) == 20000
    assert first == second
    # a different seed gives different events
    other, _ = produce_to_files(tmp_path / "c", "--seed", "4", *args[2:])
    assert sum(a == b for a, b in zip(first, other)) == 0


def test_rate_paces_without_changing_the_bytes(tmp_path: Path) -> None:
    """--rate only paces sending; with --sim-rate fixed, the events are the same."""
    fast, _ = produce_to_files(tmp_path / "fast", "--total", "600", "--start", START,
                               "--sim-rate", "200")
    paced, summary = produce_to_files(tmp_path / "paced", "--total", "600", "--start", START,
                                      "--rate", "2000", "--sim-rate", "200")
    assert paced == fast
    assert summary["elapsed_seconds"] >= 0.25  # 600 events at 2000/s take at least 0.3 s


def test_duration_and_rate_bound_the_run(tmp_path: Path) -> None:
    lines, summary = produce_to_files(tmp_path, "--rate", "2000", "--duration", "1",
                                      "--start", START)
    # paced at 2000/s for 1 s: batches of 100 are released on schedule, the last one at <= 1 s
    assert 1900 <= summary["sent"] <= 2100
    assert len(lines) == summary["sent"] == summary["generated"]
    assert 0.9 <= summary["elapsed_seconds"] <= 1.5
