"""Checkpoint-reset drill: ingest, delete the checkpoints, send more, ingest again.

Operators delete checkpoints (a changed query, a corrupted state). The new checkpoint must not
lose what arrives after it: its batches write under a new txnAppId (they would otherwise be
skipped by Delta as batches already written). It reads its source again from the start (all
landing files; Kafka from startingOffsets earliest), so bronze holds the old messages twice;
silver keeps one sale per transaction, counts the copies as duplicates, and gold equals what the
distinct events give. Both sources write the same bronze (each with its own checkpoint), so one
dbt build checks both.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import shutil
import uuid
from collections import Counter
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest

from python_tests.conftest import REPO_ROOT
from python_tests.streaming.kafka_harness import DONE_LINE, create_topic, produce

pytestmark = [pytest.mark.spark, pytest.mark.kafka, pytest.mark.dbt]

PRICE = Decimal("10.00")


def events(tag: str, count: int) -> list[str]:
    """Sales of P0001 at S001 / C01 over two days; every 5th line is not JSON."""
    lines = []
    for i in range(count):
        if i % 5 == 4:
            lines.append(f'{{"transaction_id":"{tag}-{i}", cut')
            continue
        lines.append(json.dumps({
            "transaction_id": f"{tag}-{i}", "event_timestamp": f"2026-11-{10 + i % 2}T09:00:00Z",
            "store_id": "S001", "channel_id": "C01", "product_id": "P0001", "customer_id": None,
            "quantity": 1 + i % 3, "unit_price": float(PRICE), "payment_method": "card", "currency": "USD",
        }))
    return lines


def valid(lines: list[str]) -> list[dict]:
    parsed = []
    for line in lines:
        try:
            parsed.append(json.loads(line))
        except ValueError:
            pass
    return parsed


def expected_sales_by_day(sales: list[dict]) -> list[tuple]:
    with open(REPO_ROOT / "seeds" / "stores.csv", newline="") as handle:
        region = {row["store_id"]: row["region"] for row in csv.DictReader(handle)}["S001"]
    days: dict[str, list[int]] = {}
    for sale in sales:
        days.setdefault(sale["event_timestamp"][:10], []).append(sale["quantity"])
    rows = []
    for day, quantities in sorted(days.items()):
        total = PRICE * sum(quantities)
        average = (total / len(quantities)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
        rows.append((dt.date.fromisoformat(day), "C01", region, len(quantities), sum(quantities), total, average))
    return rows


def app_ids(bronze: Path) -> set[str]:
    """Every txnAppId that committed a batch to bronze."""
    found = set()
    for log in (bronze / "_delta_log").glob("*.json"):
        for line in log.read_text().splitlines():
            action = json.loads(line)
            if "txn" in action:
                found.add(action["txn"]["appId"])
    return found


def query_id(checkpoint: Path) -> str:
    return json.loads((checkpoint / "metadata").read_text().splitlines()[0])["id"]


def ingested_rows(result) -> int:
    return int(DONE_LINE.match(result.stdout.strip().splitlines()[-1]).group(1))


def test_a_new_checkpoint_loses_nothing_and_silver_counts_the_re_read_rows(spark, kafka_broker, lakehouse):
    topic = f"reset-{uuid.uuid4().hex[:8]}"
    create_topic(kafka_broker.bootstrap, topic, partitions=2)
    kafka_args = ["--source", "kafka", "--bootstrap-servers", kafka_broker.bootstrap, "--topic", topic]
    checkpoints = lakehouse.path("checkpoints")
    bronze = Path(lakehouse.bronze_path)
    first = {"files": events("fa", 20), "kafka": events("ka", 20)}
    later = {"files": events("fb", 10), "kafka": events("kb", 10)}

    def send(kind: str, lines: list[str], name: str) -> None:
        if kind == "files":
            lakehouse.write_landing_file(name, lines)
        else:
            produce(kafka_broker.bootstrap, topic, [(None, line.encode()) for line in lines])

    def ingest(kind: str):
        return lakehouse.ingest(*(["--source", "files"] if kind == "files" else kafka_args))

    for kind in ("files", "kafka"):
        send(kind, first[kind], "sales-a.json")
        assert ingested_rows(ingest(kind)) == 20
    first_ids = {query_id(checkpoints / f"bronze_sales_events_{kind}") for kind in ("files", "kafka")}

    shutil.rmtree(checkpoints)  # the operator's reset
    for kind in ("files", "kafka"):
        send(kind, later[kind], "sales-b.json")
        # the new checkpoint reads everything again: the first 20 and the 10 new
        assert ingested_rows(ingest(kind)) == 30
    later_ids = {query_id(checkpoints / f"bronze_sales_events_{kind}") for kind in ("files", "kafka")}

    # each checkpoint wrote under its own txnAppId: its query id, new with the new checkpoint
    assert len(first_ids | later_ids) == 4
    assert app_ids(bronze) == {f"bronze_sales_events-{qid}" for qid in first_ids | later_ids}

    # bronze: every new message once, every old one twice (read by both checkpoints), each row its own id
    rows = spark.read.format("delta").load(str(bronze)).select("source_kind", "raw_payload", "record_id").collect()
    for kind in ("files", "kafka"):
        landed = Counter(r.raw_payload for r in rows if r.source_kind == kind)
        assert landed == Counter(first[kind] * 2 + later[kind])
    assert len({r.record_id for r in rows}) == len(rows) == 100

    # seeds, models and data tests (the unit tests read no bronze): conservation, unique record_id
    # and transaction_id
    lakehouse.dbt("build", "--exclude", "resource_type:unit_test")

    read = spark.read.format("delta").load
    simple = read(lakehouse.table_path("silver", "sales_simple")).collect()
    quarantine = read(lakehouse.table_path("silver", "sales_quarantine")).collect()
    distinct_sales = valid(first["files"] + later["files"] + first["kafka"] + later["kafka"])
    assert sorted(r.transaction_id for r in simple) == sorted(s["transaction_id"] for s in distinct_sales)
    # malformed lines are quarantined as often as they reached bronze: 4 + 4 (twice) and 2, per source
    assert Counter(r.rejection_reason for r in quarantine) == {"malformed_json": 2 * (4 * 2 + 2)}
    duplicates = len(rows) - len(simple) - len(quarantine)
    assert (len(rows), len(simple), duplicates, len(quarantine)) == (100, 48, 32, 20)  # conservation

    by_day = read(lakehouse.table_path("gold", "sales_by_day")).orderBy("sales_date", "channel_id", "region")
    assert [
        (r.sales_date, r.channel_id, r.region, r.transactions, r.units, r.total_amount, r.avg_ticket)
        for r in by_day.collect()
    ] == expected_sales_by_day(distinct_sales)
    (product,) = read(lakehouse.table_path("gold", "product_performance")).collect()
    units = sum(s["quantity"] for s in distinct_sales)
    assert (product.product_id, product.transactions, product.units_sold, product.revenue) == (
        "P0001", len(distinct_sales), units, PRICE * units
    )
