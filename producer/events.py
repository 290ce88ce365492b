"""Sales events (contract section 1): a fast, deterministic generator.

Determinism: all draws come from ``random.Random(seed)`` and event ``i``'s nominal time is
``start + (i + u) / sim_rate`` seconds (``u`` a uniform draw in [0, 1)), never the wall clock;
so the same seed, start and arguments give identical bytes.

Realism (all precomputed once, per UTC hour of the week, so the hot loop only indexes tables):
- physical channels sell only while a store is open: Mon-Sat 09:00-21:00 and Sun 10:00-18:00
  local time, with a fixed UTC offset per region (no daylight saving); the physical share of
  sales follows a weekly curve (busier Fridays and Saturdays, lunch and after-work peaks);
  online channels sell around the clock with an evening peak;
- product popularity is Zipf-like (s = 1.1) over a seeded shuffle of the catalog;
- the unit price is the list price most of the time, else 0.90-1.05 of it, 2 decimals;
- about 30% of sales are anonymous (``customer_id`` null); VIP customers buy more often.
"""

from __future__ import annotations

import bisect
import json
import random
import time
from collections import deque
from typing import Any

from producer.catalog import Catalog
from producer.config import DirtyMix
from producer.dirty import KINDS, TIME_SHIFTED_KINDS, mutate

DAY_MS = 86_400_000
# region -> hours from UTC (standard time; daylight saving ignored on purpose: simpler to check)
REGION_UTC_OFFSET_HOURS = {"northeast": -5, "southeast": -5, "midwest": -6, "southwest": -7,
                           "west": -8}
DEFAULT_UTC_OFFSET_HOURS = -6
# local weekday (Monday = 0) -> [open hour, close hour)
OPENING_HOURS = {0: (9, 21), 1: (9, 21), 2: (9, 21), 3: (9, 21), 4: (9, 21), 5: (9, 21),
                 6: (10, 18)}
PHYSICAL_DAY_FACTOR = (0.85, 0.85, 0.9, 1.0, 1.2, 1.5, 1.0)
PHYSICAL_HOUR_FACTOR = {9: 0.5, 10: 0.7, 11: 0.9, 12: 1.2, 13: 1.1, 14: 0.9, 15: 0.9, 16: 1.0,
                        17: 1.3, 18: 1.4, 19: 1.1, 20: 0.7}
ONLINE_DAY_FACTOR = (1.1, 1.0, 1.0, 1.0, 0.95, 0.9, 1.15)
ONLINE_HOUR_FACTOR = (0.5, 0.3, 0.2, 0.15, 0.15, 0.2, 0.35, 0.5, 0.7, 0.8, 0.9, 1.0, 1.1, 1.0,
                      0.95, 0.95, 1.0, 1.1, 1.2, 1.4, 1.5, 1.4, 1.1, 0.8)
# online demand in "store units" (a store of size 1 at factor 1): sets the physical share
ONLINE_SCALE = 12.0
ONLINE_CHANNEL_WEIGHTS = {"C02": 45, "C03": 40, "C04": 15}
ANONYMOUS_SHARE = 0.30
SEGMENT_WEIGHT = {"consumer": 1.0, "small_business": 2.0, "vip": 5.0}
ZIPF_S = 1.1
PRICE_FACTORS = (1.0, 1.0, 1.0, 1.0, 1.0, 0.95, 0.9, 1.05)
QUANTITIES = (1,) * 9 + (2,) * 4 + (3,) * 2 + (5,)
# (discount_pct or None = omitted, slots out of 32)
DISCOUNTS = ((None, 14), (0, 4), (0.05, 3), (0.1, 4), (0.15, 2), (0.2, 2), (0.25, 1), (0.3, 1),
             (0.5, 1))
PAYMENTS = {
    "physical": (("card", 11), ("cash", 5), ("mobile_wallet", 3), ("gift_card", 1)),
    "online": (("card", 15), ("mobile_wallet", 4), ("gift_card", 1)),
}
LATE_MIN_MS, LATE_MAX_MS = 1 * DAY_MS, 5 * DAY_MS
# 1970-01-01 was a Thursday: hour-of-week (Monday 00:00 = 0) of epoch hour h is (h + 72) % 168
_EPOCH_HOUR_OF_WEEK = 72


def utc_offset_hours(region: str) -> int:
    return REGION_UTC_OFFSET_HOURS.get(region, DEFAULT_UTC_OFFSET_HOURS)


def store_is_open(region: str, epoch_seconds: float) -> bool:
    """Opening hours rule used for physical-channel sales (local time of the store's region)."""
    local_hour_of_week = (int(epoch_seconds // 3600) + _EPOCH_HOUR_OF_WEEK
                          + utc_offset_hours(region)) % 168
    opens, closes = OPENING_HOURS[local_hour_of_week // 24]
    return opens <= local_hour_of_week % 24 < closes


def _table(items: list[tuple[Any, float]], size: int) -> tuple[Any, ...]:
    """A lookup table of ``size`` slots filled in proportion to the weights (inverse CDF)."""
    total = sum(weight for _, weight in items)
    cumulative = []
    running = 0.0
    for _, weight in items:
        running += weight
        cumulative.append(running / total)
    values = [item for item, _ in items]
    last = len(values) - 1
    return tuple(values[min(bisect.bisect_right(cumulative, (slot + 0.5) / size), last)]
                 for slot in range(size))


def _quoted(value: str) -> str:
    return json.dumps(value)


class EventGenerator:
    """Produces event lines in order; ``counts`` holds exact per-kind counts of what it made."""

    def __init__(self, catalog: Catalog, *, seed: int, start_ms: int, sim_rate: float,
                 dirty: DirtyMix | None = None, future_days: float = 3.0,
                 duplicate_window: int = 10_000) -> None:
        self._rng = random.Random(seed)
        self._start_ms = start_ms
        self._step_ms = 1000.0 / sim_rate
        self._future_ms = int(future_days * DAY_MS)
        self._index = 0
        self._recent: deque[tuple[str, str | None]] = deque(maxlen=duplicate_window)
        self.counts: dict[str, int] = {"clean": 0, **{kind: 0 for kind in KINDS}}
        self._prepare_tables(catalog, random.Random(f"catalog-{seed}"))
        mix = [(kind, fraction) for kind, fraction in (dirty or DirtyMix()).items() if fraction > 0]
        self._dirty_kinds = [kind for kind, _ in mix]
        self._dirty_cumulative = []
        running = 0.0
        for _, fraction in mix:
            running += fraction
            self._dirty_cumulative.append(running)
        self._dirty_total = running
        self._sec = -1
        self._ts_prefix = ""
        self._slot = 0

    # -- precomputation -----------------------------------------------------------------------

    def _prepare_tables(self, catalog: Catalog, setup: random.Random) -> None:
        quoted = _quoted
        # products: Zipf weights over a seeded shuffle; per product 8 price fragments
        order = list(range(len(catalog.products)))
        setup.shuffle(order)
        weights = [0.0] * len(order)
        for rank, product_index in enumerate(order, start=1):
            weights[product_index] = 1.0 / rank ** ZIPF_S
        fragments = []
        for product in catalog.products:
            id_part = f',"product_id":{quoted(product.product_id)}'
            price_parts = tuple(
                repr(round(product.list_price * factor, 2)) for factor in PRICE_FACTORS)
            fragments.append((id_part, price_parts))
        self._product_table = _table(list(zip(fragments, weights)), 1 << 16)

        # customers: anonymous share as "null" slots, the rest weighted by segment
        anonymous_slots = round(ANONYMOUS_SHARE * (1 << 16))
        customer_slots = (1 << 16) - anonymous_slots
        named = _table([(quoted(c.customer_id), SEGMENT_WEIGHT.get(c.segment, 1.0))
                        for c in catalog.customers], customer_slots) if catalog.customers else ()
        self._customer_table = ("null",) * anonymous_slots + (named or ("null",) * customer_slots)

        self._quantity_table = tuple(str(q) for q in QUANTITIES)  # 16 slots
        self._discount_table = _table(
            [("" if value is None else f',"discount_pct":{value}', slots)
             for value, slots in DISCOUNTS], 32)

        physical = [c for c in catalog.channels if c.channel_type == "physical"]
        online = [c for c in catalog.channels if c.channel_type != "physical"]
        self._physical_channels = _table(
            [(f',"channel_id":{quoted(c.channel_id)}', 1.0) for c in physical], 16) if physical else ()
        self._online_channels = _table(
            [(f',"channel_id":{quoted(c.channel_id)}', ONLINE_CHANNEL_WEIGHTS.get(c.channel_id, 10))
             for c in online], 256) if online else ()
        self._payments = {
            kind: _table([(f',"payment_method":{quoted(name)}', w) for name, w in items], 64)
            for kind, items in PAYMENTS.items()
        }

        # stores: a seeded size per store; per UTC hour-of-week, the open stores and the
        # probability that a sale in that hour is physical
        sizes = [setup.uniform(0.5, 1.5) for _ in catalog.stores]
        store_fragments = [(s.store_id, f',"store_id":{quoted(s.store_id)}') for s in catalog.stores]
        self._online_stores = _table(list(zip(store_fragments, sizes)), 256)
        self._physical_share: list[float] = []
        self._open_stores: list[tuple[Any, ...]] = []
        for slot in range(168):
            open_weights = []
            for store, size, fragment in zip(catalog.stores, sizes, store_fragments):
                local = (slot + utc_offset_hours(store.region)) % 168
                day, hour = divmod(local, 24)
                opens, closes = OPENING_HOURS[day]
                if opens <= hour < closes:
                    open_weights.append((fragment, size * PHYSICAL_DAY_FACTOR[day]
                                         * PHYSICAL_HOUR_FACTOR.get(hour, 0.6)))
            physical_demand = sum(weight for _, weight in open_weights) if physical else 0.0
            online_day, online_hour = divmod((slot + DEFAULT_UTC_OFFSET_HOURS) % 168, 24)
            online_demand = (ONLINE_SCALE * ONLINE_DAY_FACTOR[online_day]
                             * ONLINE_HOUR_FACTOR[online_hour]) if online else 0.0
            share = physical_demand / (physical_demand + online_demand) if physical_demand else 0.0
            self._physical_share.append(share)
            self._open_stores.append(_table(open_weights, 256) if open_weights else ())

    # -- generation ---------------------------------------------------------------------------

    def _clean(self, ts_ms: int) -> tuple[str, str]:
        """One valid event at ``ts_ms`` as (compact JSON line, store_id)."""
        rng = self._rng
        bits = rng.getrandbits
        sec, ms = divmod(ts_ms, 1000)
        if sec != self._sec:
            self._sec = sec
            self._ts_prefix = time.strftime('"%Y-%m-%dT%H:%M:%S', time.gmtime(sec))
            self._slot = (sec // 3600 + _EPOCH_HOUR_OF_WEEK) % 168
        slot = self._slot
        if rng.random() < self._physical_share[slot]:
            store_id, store_part = self._open_stores[slot][bits(8)]
            channel_part = self._physical_channels[bits(4)]
            payment_part = self._payments["physical"][bits(6)]
        else:
            store_id, store_part = self._online_stores[bits(8)]
            channel_part = self._online_channels[bits(8)]
            payment_part = self._payments["online"][bits(6)]
        product_part, prices = self._product_table[bits(16)]
        h = "%032x" % ((bits(128) & ~(0xF000 << 64) | (0x4000 << 64)) & ~(0xC000 << 48)
                       | (0x8000 << 48))
        line = (
            f'{{"transaction_id":"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"'
            f',"event_timestamp":{self._ts_prefix}.{ms:03d}Z"'
            f"{store_part}{channel_part}{product_part}"
            f',"customer_id":{self._customer_table[bits(16)]}'
            f',"quantity":{self._quantity_table[bits(4)]}'
            f',"unit_price":{prices[bits(3)]}'
            f"{self._discount_table[bits(5)]}{payment_part}"
            ',"currency":"USD"}'
        )
        return line, store_id

    def next_batch(self, count: int) -> tuple[list[str], list[str | None]]:
        """The next ``count`` messages as (JSON lines without newline, message keys)."""
        lines: list[str] = []
        keys: list[str | None] = []
        rng = self._rng
        random_ = rng.random
        start_ms = self._start_ms
        step_ms = self._step_ms
        dirty_total = self._dirty_total
        counts = self.counts
        recent = self._recent
        clean = self._clean
        index = self._index
        for index in range(index, index + count):
            ts_ms = start_ms + int((index + random_()) * step_ms)
            if dirty_total and random_() < dirty_total:
                kind, line, key = self._dirty(self._pick_kind(), ts_ms)
            else:
                kind = "clean"
                line, key = clean(ts_ms)
                recent.append((line, key))
            counts[kind] += 1
            lines.append(line)
            keys.append(key)
        self._index = index + 1 if count else self._index
        return lines, keys

    def _pick_kind(self) -> str:
        draw = self._rng.random() * self._dirty_total
        position = bisect.bisect_right(self._dirty_cumulative, draw)
        return self._dirty_kinds[min(position, len(self._dirty_kinds) - 1)]

    def _dirty(self, kind: str, ts_ms: int) -> tuple[str, str, str | None]:
        """(kind actually made, line, key) for a message drawn as ``kind``."""
        rng = self._rng
        if kind == "duplicates":
            if not self._recent:
                # nothing valid sent yet to re-send: make (and count) a clean event instead
                line, key = self._clean(ts_ms)
                self._recent.append((line, key))
                return "clean", line, key
            line, key = self._recent[rng.randrange(len(self._recent))]
            return kind, line, key
        if kind in TIME_SHIFTED_KINDS:
            if kind == "late":
                ts_ms -= rng.randint(LATE_MIN_MS, LATE_MAX_MS)
            else:
                ts_ms += self._future_ms + rng.randint(0, DAY_MS)
            line, key = self._clean(ts_ms)
            # the timestamp cache now holds a shifted second; force a refresh for the next event
            self._sec = -1
            if kind == "late":
                self._recent.append((line, key))
            return kind, line, key
        line, _ = self._clean(ts_ms)
        line, key = mutate(kind, json.loads(line), rng)
        if kind in ("unknown_ids", "extra_fields"):
            self._recent.append((line, key))
        return kind, line, key
