"""Test helpers: an independent reading of the data contract, and ways to run the producer.

The classifier below re-implements the contract's rules (section 1 and the quarantine table of
section 3) without using the producer's code, so the tests check the producer against the
contract rather than against itself.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]
SEEDS_DIR = REPO_ROOT / "seeds"

QUARANTINE_REASONS = (
    "malformed_json",
    "missing_transaction_id",
    "invalid_timestamp",
    "future_timestamp",
    "invalid_quantity",
    "invalid_price",
    "invalid_discount",
    "missing_reference",
    "unsupported_currency",
)
CONTRACT_FIELDS = frozenset({
    "transaction_id", "event_timestamp", "store_id", "channel_id", "product_id", "customer_id",
    "quantity", "unit_price", "discount_pct", "payment_method", "currency",
})
PAYMENT_METHODS = frozenset({"card", "cash", "mobile_wallet", "gift_card"})


def parse_timestamp(value: Any) -> dt.datetime | None:
    """ISO-8601 with an offset, else None."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def failing_rules(line: str, ingestion_time: dt.datetime) -> list[str]:
    """Every quarantine rule the line breaks, in the contract's order (first = its reason)."""
    try:
        event = json.loads(line)
    except ValueError:
        return ["malformed_json"]
    if not isinstance(event, dict):
        return ["malformed_json"]
    failing = []
    if event.get("transaction_id") in (None, ""):
        failing.append("missing_transaction_id")
    timestamp = parse_timestamp(event.get("event_timestamp"))
    if timestamp is None:
        failing.append("invalid_timestamp")
    elif timestamp > ingestion_time + dt.timedelta(hours=24):
        failing.append("future_timestamp")
    quantity = event.get("quantity")
    if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity < 1:
        failing.append("invalid_quantity")
    price = event.get("unit_price")
    if not _is_number(price) or price < 0:
        failing.append("invalid_price")
    if event.get("discount_pct") is not None:
        discount = event["discount_pct"]
        if not _is_number(discount) or not 0 <= discount < 1:
            failing.append("invalid_discount")
    if any(event.get(name) in (None, "") for name in ("store_id", "channel_id", "product_id")):
        failing.append("missing_reference")
    if event.get("currency") != "USD":
        failing.append("unsupported_currency")
    return failing


def read_ids(name: str, column: str, seeds_dir: Path = SEEDS_DIR) -> set[str]:
    with (seeds_dir / name).open(newline="") as handle:
        return {row[column] for row in csv.DictReader(handle)}


def read_rows(name: str, seeds_dir: Path = SEEDS_DIR) -> list[dict[str, str]]:
    with (seeds_dir / name).open(newline="") as handle:
        return list(csv.DictReader(handle))


def run_producer(*args: str, env: dict[str, str] | None = None,
                 timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "producer", *args], capture_output=True,
                          text=True, timeout=timeout, cwd=REPO_ROOT, env=env)


def landing_lines(landing_dir: Path) -> list[str]:
    """All lines of the published files, in file-name order (= write order)."""
    lines: list[str] = []
    for path in sorted(landing_dir.glob("sales-*.json")):
        data = path.read_bytes().decode("utf-8")
        assert data.endswith("\n"), path
        lines += data[:-1].split("\n")
    return lines


def produce_to_files(tmp_path: Path, *args: str) -> tuple[list[str], dict[str, Any]]:
    """Run ``events --sink files`` into a fresh dir; returns (lines, summary)."""
    landing = tmp_path / "landing"
    summary_path = tmp_path / "summary.json"
    result = run_producer("events", "--sink", "files", "--landing-dir", str(landing),
                          "--summary-json", str(summary_path), "--quiet", *args)
    assert result.returncode == 0, result.stderr
    return landing_lines(landing), json.loads(summary_path.read_text())
