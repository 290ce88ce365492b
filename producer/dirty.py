"""Dirty-data kinds and the one-defect mutations that produce them.

Every injected dirty event has exactly one defect, so the first failing contract rule (section 3,
quarantine) is exactly its kind. Kinds that stay *valid* (they reach silver):

- ``duplicates``: an identical re-send (same bytes, same key) of an earlier valid event;
- ``late``: ``event_timestamp`` 1-5 days before the event's nominal time;
- ``unknown_ids``: a well-formed store/channel/product/customer id that is not in the dims;
- ``extra_fields``: additional keys the contract does not know.

The other kinds are named after the quarantine reason they trigger.
"""

from __future__ import annotations

import json
import random
from typing import Any

VALID_KINDS = ("duplicates", "late", "unknown_ids", "extra_fields")
# In the contract's rule order.
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
KINDS = VALID_KINDS + QUARANTINE_REASONS

# Kinds whose event is built by the generator at a shifted time instead of being mutated.
TIME_SHIFTED_KINDS = ("late", "future_timestamp")

_INVALID_TIMESTAMPS = ("not-a-timestamp", "2026-13-45T25:61:00Z", "21/11/2026 10:15", "")
_INVALID_QUANTITIES: tuple[Any, ...] = (0, -1, -3, 2.5, "two")
_INVALID_PRICE_STRINGS = ("N/A", "free", "twelve")
_INVALID_DISCOUNTS = (1.0, 1.5, -0.1)
_CURRENCIES = ("EUR", "GBP")
_EXTRA_FIELDS: tuple[tuple[str, Any], ...] = (
    ("loyalty_points", 120),
    ("promo_code", "FALL10"),
    ("device", {"os": "ios", "app_version": "5.2.1"}),
    ("cashier_id", "E0042"),
    ("basket_size", 3),
    ("is_gift", True),
)


def dumps(event: dict[str, Any]) -> str:
    """Compact JSON in the same shape as the generator's hand-formatted lines."""
    return json.dumps(event, separators=(",", ":"))


def unknown_id(rng: random.Random, field: str) -> str:
    """An id with the dims' shape but outside their ranges (the dims never reach the 9xx block)."""
    if field == "store_id":
        return f"S9{rng.randrange(100):02d}"
    if field == "channel_id":
        return f"C9{rng.randrange(10)}"
    if field == "product_id":
        return f"P9{rng.randrange(1000):03d}"
    return f"CU9{rng.randrange(10000):04d}"


def mutate(kind: str, event: dict[str, Any], rng: random.Random) -> tuple[str, str | None]:
    """Apply ``kind``'s single defect to a valid event dict; returns (payload, message key)."""
    key = event.get("store_id")
    if kind == "unknown_ids":
        field = rng.choice(("store_id", "channel_id", "product_id", "customer_id"))
        event[field] = unknown_id(rng, field)
        return dumps(event), event["store_id"]
    if kind == "extra_fields":
        for name, value in rng.sample(_EXTRA_FIELDS, rng.randint(1, 3)):
            event[name] = value
        return dumps(event), key
    if kind == "malformed_json":
        return malformed(dumps(event), rng), None
    if kind == "missing_transaction_id":
        _blank(event, "transaction_id", rng)
    elif kind == "invalid_timestamp":
        choice = rng.randrange(len(_INVALID_TIMESTAMPS) + 2)
        if choice == len(_INVALID_TIMESTAMPS):
            del event["event_timestamp"]
        elif choice == len(_INVALID_TIMESTAMPS) + 1:
            event["event_timestamp"] = None
        else:
            event["event_timestamp"] = _INVALID_TIMESTAMPS[choice]
    elif kind == "invalid_quantity":
        event["quantity"] = rng.choice(_INVALID_QUANTITIES)
    elif kind == "invalid_price":
        if rng.random() < 0.5:
            event["unit_price"] = -abs(event["unit_price"]) or -1.0
        else:
            event["unit_price"] = rng.choice(_INVALID_PRICE_STRINGS)
    elif kind == "invalid_discount":
        event["discount_pct"] = rng.choice(_INVALID_DISCOUNTS)
    elif kind == "missing_reference":
        field = rng.choice(("store_id", "channel_id", "product_id"))
        _blank(event, field, rng)
        if field == "store_id":
            key = None
    elif kind == "unsupported_currency":
        event["currency"] = rng.choice(_CURRENCIES)
    else:
        raise ValueError(f"unknown dirty kind {kind!r}")
    return dumps(event), key


def _blank(event: dict[str, Any], field: str, rng: random.Random) -> None:
    """Missing key, null or empty string."""
    how = rng.randrange(3)
    if how == 0:
        del event[field]
    elif how == 1:
        event[field] = None
    else:
        event[field] = ""


def malformed(line: str, rng: random.Random) -> str:
    """A line that is not a JSON object: truncated, or with a broken key/value separator."""
    if rng.random() < 0.7:
        # Any proper prefix of a JSON object is not a JSON object (it never closes).
        return line[: rng.randint(1, len(line) - 2)]
    # '{"transaction_id"="...' : invalid even for lenient parsers (single quotes, comments...).
    return line.replace('":', '"=', 1)
