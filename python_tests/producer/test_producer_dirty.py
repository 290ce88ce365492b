"""Dirty-data knobs: the summary's counts match an independent classification of the output."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter, defaultdict
from pathlib import Path

import pytest
from python_tests.producer.producer_contract import (
    CONTRACT_FIELDS,
    QUARANTINE_REASONS,
    failing_rules,
    parse_timestamp,
    produce_to_files,
    read_ids,
)

START = "2026-11-20T00:00:00Z"
START_AT = dt.datetime(2026, 11, 20, tzinfo=dt.timezone.utc)
TOTAL = 20_000
# --sim-rate 1: nominal times span [start, start + 20000 s) (5.6 h), so valid events stamped
# before START are exactly the late ones, and "ingestion" at the end of the span makes the
# +3 days future events future and nothing else.
INGESTION_AT = START_AT + dt.timedelta(seconds=TOTAL)


def classify(lines: list[str]) -> dict[str, int]:
    """Counts per summary key, computed from the lines alone."""
    dims = {
        "store_id": read_ids("stores.csv", "store_id"),
        "channel_id": read_ids("channels.csv", "channel_id"),
        "product_id": read_ids("products.csv", "product_id"),
        "customer_id": read_ids("customers.csv", "customer_id"),
    }
    counts: Counter[str] = Counter()
    first_copy: dict[str, str] = {}
    for line in lines:
        failing = failing_rules(line, INGESTION_AT)
        if failing:
            assert len(failing) == 1, (failing, line)  # exactly one defect per dirty event
            counts[failing[0]] += 1
            continue
        event = json.loads(line)
        transaction_id = event["transaction_id"]
        if transaction_id in first_copy:
            assert first_copy[transaction_id] == line  # a duplicate is byte-identical
            counts["duplicates"] += 1
            continue
        first_copy[transaction_id] = line
        counts["valid_unique"] += 1
        defects = []
        if parse_timestamp(event["event_timestamp"]) < START_AT:
            defects.append("late")
        if any(event[name] is not None and event[name] not in ids for name, ids in dims.items()):
            defects.append("unknown_ids")
        if set(event) - CONTRACT_FIELDS:
            defects.append("extra_fields")
        assert len(defects) <= 1, (defects, line)
        counts[defects[0] if defects else "clean"] += 1
    return dict(counts)


@pytest.fixture(scope="module")
def dirty_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[str], dict]:
    return produce_to_files(tmp_path_factory.mktemp("dirty"), "--seed", "11", "--total",
                            str(TOTAL), "--start", START, "--sim-rate", "1", "--dirty", "0.02")


def test_summary_counts_match_the_output(dirty_run: tuple[list[str], dict]) -> None:
    lines, summary = dirty_run
    counts = classify(lines)
    assert len(lines) == summary["sent"] == summary["generated"] == TOTAL
    assert summary["failed"] == 0
    for key in ("clean", "valid_unique", "duplicates", "late", "unknown_ids", "extra_fields",
                *QUARANTINE_REASONS):
        assert counts.get(key, 0) == summary[key], key
    assert summary["quarantined"] == sum(summary[reason] for reason in QUARANTINE_REASONS)


def test_conservation(dirty_run: tuple[list[str], dict]) -> None:
    """bronze rows = silver rows + duplicates dropped + quarantine rows, from the summary."""
    _, summary = dirty_run
    assert summary["sent"] == (summary["valid_unique"] + summary["duplicates"]
                               + summary["quarantined"])


def test_each_knob_is_near_its_fraction(dirty_run: tuple[list[str], dict]) -> None:
    _, summary = dirty_run
    for key in ("duplicates", "late", "unknown_ids", "extra_fields", *QUARANTINE_REASONS):
        assert 300 <= summary[key] <= 500, key  # 2% of 20000 = 400, +-5 sigma


def test_summary_keys(dirty_run: tuple[list[str], dict]) -> None:
    _, summary = dirty_run
    assert set(summary) == {
        "sent", "failed", "generated", "clean", "duplicates", "late", "unknown_ids",
        "extra_fields", *QUARANTINE_REASONS, "valid_unique", "quarantined", "oversize",
        "elapsed_seconds", "events_per_second"}


def test_malformed_lines_stay_one_line(dirty_run: tuple[list[str], dict]) -> None:
    lines, summary = dirty_run
    malformed = [line for line in lines if failing_rules(line, INGESTION_AT) == ["malformed_json"]]
    assert len(malformed) == summary["malformed_json"]
    assert all(line.startswith("{") and "\n" not in line for line in malformed)


def test_single_knob(tmp_path: Path) -> None:
    lines, summary = produce_to_files(tmp_path, "--total", "4000", "--start", START,
                                      "--sim-rate", "1", "--invalid-price", "0.5")
    counts = classify(lines)
    assert counts["invalid_price"] == summary["invalid_price"]
    assert counts["clean"] == summary["clean"] == 4000 - summary["invalid_price"]
    assert 1800 <= summary["invalid_price"] <= 2200
    for key in ("duplicates", "late", "unknown_ids", "extra_fields", *QUARANTINE_REASONS):
        if key != "invalid_price":
            assert summary[key] == 0, key


def test_explicit_knob_overrides_dirty(tmp_path: Path) -> None:
    lines, summary = produce_to_files(tmp_path, "--total", "3000", "--start", START,
                                      "--sim-rate", "1", "--dirty", "--duplicates", "0",
                                      "--late", "0.1")
    assert summary["duplicates"] == 0
    assert 240 <= summary["late"] <= 360
    assert 15 <= summary["invalid_quantity"] <= 50  # --dirty's default 1%
    assert classify(lines)["late"] == summary["late"]


def test_every_defect_variant_appears(dirty_run: tuple[list[str], dict]) -> None:
    """The knobs use the documented variants (e.g. quantity 0, negative, 2.5 and "two")."""
    lines, _ = dirty_run
    variants: dict[str, set] = defaultdict(set)
    for line in lines:
        failing = failing_rules(line, INGESTION_AT)
        if not failing or failing == ["malformed_json"]:
            continue
        event = json.loads(line)
        reason = failing[0]
        if reason == "invalid_quantity":
            variants[reason].add(event["quantity"] if not isinstance(event["quantity"], int)
                                 or event["quantity"] >= 0 else "negative")
        elif reason == "invalid_discount":
            variants[reason].add(event["discount_pct"])
        elif reason == "unsupported_currency":
            variants[reason].add(event["currency"])
        elif reason == "invalid_price":
            variants[reason].add("negative" if isinstance(event["unit_price"], float)
                                 else "string")
        elif reason == "future_timestamp":
            ahead = parse_timestamp(event["event_timestamp"]) - INGESTION_AT
            assert dt.timedelta(days=3) - dt.timedelta(seconds=TOTAL) <= ahead <= dt.timedelta(days=4)
    assert variants["invalid_quantity"] == {0, "negative", 2.5, "two"}
    assert variants["invalid_discount"] == {1.0, 1.5, -0.1}
    assert variants["unsupported_currency"] == {"EUR", "GBP"}
    assert variants["invalid_price"] == {"negative", "string"}
