"""ANSI mode, as on a Databricks SQL warehouse (ANSI_MODE = true): an overflow is an error there.

- the `local` target really runs with ANSI on (bin/dbt → lakehouse_dbt), and dbt-spark alone
  would not (it forces `spark.sql.ansi.enabled=false` before every statement);
- a build over bronze holding extreme numbers succeeds: each row lands in silver or in
  quarantine with its reason (conservation holds), and the gold measures that no longer fit
  their column are null instead of failing the run;
- the bronze parse turns numbers too large for its types into nulls, ANSI on or off.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from decimal import Decimal

import pytest
from pyspark.sql import Row

from python_tests.conftest import REPO_ROOT, Lakehouse, run

pytestmark = [pytest.mark.spark, pytest.mark.dbt]

OVERFLOW_PROBE = "select cast(1 as tinyint) + cast(127 as tinyint) as probe"
MAX_BIGINT = 2**63 - 1


def test_local_target_runs_with_ansi_on(lakehouse):
    with pytest.raises(AssertionError, match="ARITHMETIC_OVERFLOW"):
        lakehouse.dbt("show", "--inline", OVERFLOW_PROBE)


def test_dbt_spark_alone_forces_ansi_off(lakehouse):
    """Why bin/dbt runs lakehouse_dbt: plain dbt-spark wraps the overflow (127 + 1 = -128)."""
    result = run([str(REPO_ROOT / ".venv" / "bin" / "dbt"), "show", "--inline", OVERFLOW_PROBE],
                 env=lakehouse.env, cwd=lakehouse.root)
    assert re.search(r"\|\s+-128 \|", result.stdout), result.stdout[-2000:]


def sale(tid, *, store="S001", channel="C01", product="P0001", quantity=1, price=10.0, discount=None,
         currency="USD", day="2026-11-10"):
    body = {"transaction_id": tid, "event_timestamp": f"{day}T10:00:00Z", "store_id": store,
            "channel_id": channel, "product_id": product, "customer_id": None, "quantity": quantity,
            "unit_price": price}
    if discount is not None:
        body["discount_pct"] = discount
    body.update({"payment_method": "card", "currency": currency})
    return json.dumps(body)


BIG_PRICE = 999999999999.99  # 10,000 units fit decimal(18,2): 9,999,999,999,999,900.00; 10,001 do not
EXTREMES = [
    sale("x-01", quantity=2, price=10.00),  # 20.00
    sale("x-01", quantity=2, price=10.00),  # duplicate
    '{"transaction_id":"x-02","event_timestamp":"2026-11-10T10:00:00Z","store_id":"S001","channel_id":"C01",'
    '"product_id":"P0001","quantity":99999999999999999999,"unit_price":1,"currency":"USD"}',  # beyond bigint
    '{"transaction_id":"x-03","event_timestamp":"2026-11-10T10:00:00Z","store_id":"S001","channel_id":"C01",'
    '"product_id":"P0001","quantity":1,"unit_price":1e30,"currency":"USD"}',  # beyond decimal(18,6)
    '{"transaction_id":"x-04","event_timestamp":"2026-11-10T10:00:00Z","store_id":"S001","channel_id":"C01",'
    '"product_id":"P0001","quantity":1,"unit_price":1,"discount_pct":1e30,"currency":"USD"}',
    # a product beyond decimal(38,6): a plain multiplication raises under ANSI
    sale("x-05", quantity=9 * 10**18, price=999999999999.0, discount=-999999999999.0),
    sale("x-06", product="P0002", quantity=10001, price=BIG_PRICE),  # amount_out_of_range
    sale("x-07", product="P0002", quantity=10000, price=BIG_PRICE),  # fits
    sale("x-08", product="P0002", quantity=10000, price=BIG_PRICE),  # fits; the day's sum does not
    sale("x-09", store="S002", channel="C02", product="P0003", quantity=MAX_BIGINT, price=0, day="2026-11-11"),
    sale("x-10", store="S002", channel="C02", product="P0003", quantity=MAX_BIGINT, price=0, day="2026-11-11"),
]
REASONS = {"invalid_quantity": 1, "invalid_price": 1, "invalid_discount": 2, "amount_out_of_range": 1}


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    lakehouse = Lakehouse(tmp_path_factory.mktemp("ansi") / "lakehouse")
    lakehouse.write_landing_file("extremes.json", EXTREMES)
    lakehouse.ingest()
    # the data tests included (conservation, uniqueness, the gold reconciliations); the unit tests,
    # which read no bronze, ran under ANSI mode in stage_a's build
    lakehouse.dbt("build", "--exclude", "resource_type:unit_test")
    return lakehouse


def test_build_quarantines_extreme_rows_and_conserves_them(spark, built):
    read = spark.read.format("delta").load
    bronze = read(built.bronze_path)
    simple = read(built.table_path("silver", "sales_simple"))
    quarantine = read(built.table_path("silver", "sales_quarantine"))
    reasons = {r.transaction_id: r.rejection_reason for r in quarantine.collect()}
    assert reasons == {"x-02": "invalid_quantity", "x-03": "invalid_price", "x-04": "invalid_discount",
                       "x-05": "invalid_discount", "x-06": "amount_out_of_range"}
    assert sorted(r.transaction_id for r in simple.collect()) == ["x-01", "x-07", "x-08", "x-09", "x-10"]
    # bronze = simple + duplicates (x-01's copy) + quarantine
    assert (bronze.count(), simple.count(), quarantine.count()) == (11, 5, sum(REASONS.values()))
    assert bronze.count() == simple.count() + 1 + quarantine.count()
    # the raw payloads of the unparseable numbers are kept
    raw = {r.transaction_id: r.raw_payload for r in quarantine.collect()}
    assert '"quantity":99999999999999999999' in raw["x-02"] and '"unit_price":1e30' in raw["x-03"]


def test_gold_measures_that_do_not_fit_are_null(spark, built):
    read = spark.read.format("delta").load
    by_day = read(built.table_path("gold", "sales_by_day")).orderBy("sales_date").collect()
    assert [(r.sales_date, r.channel_id, r.transactions, r.units, r.total_amount, r.avg_ticket) for r in by_day] == [
        # 20.00 + 2 × 9,999,999,999,999,900.00 does not fit decimal(18,2)
        (dt.date(2026, 11, 10), "C01", 3, 20002, None, None),
        # 2 × (2^63 − 1) units do not fit a bigint
        (dt.date(2026, 11, 11), "C02", 2, None, Decimal("0.00"), Decimal("0.00")),
    ]
    exact = read(built.table_path("intermediate", "int_sales_by_day")).orderBy("sales_date").collect()
    assert [(r.units, r.total_amount) for r in exact] == [
        (Decimal(20002), Decimal("19999999999999820.00")),
        (Decimal(2 * MAX_BIGINT), Decimal("0.00")),
    ]
    products = read(built.table_path("gold", "product_performance")).orderBy("product_id").collect()
    assert [(r.product_id, r.units_sold, r.revenue, r.revenue_rank) for r in products] == [
        ("P0001", 2, Decimal("20.00"), 2),
        ("P0002", 20000, None, 1),
        ("P0003", None, Decimal("0.00"), 3),
    ]


@pytest.mark.parametrize("ansi", ["true", "false"])
def test_bronze_parse_nulls_numbers_beyond_its_types(spark, ansi):
    """On a Databricks cluster the job's session may run either way: same bronze rows."""
    from streaming_ingest.bronze import to_bronze

    payloads = [
        '{"quantity":99999999999999999999,"unit_price":1e30,"discount_pct":-1e300}',
        '{"quantity":-99999999999999999999,"unit_price":12345678901234567890.5,"discount_pct":123456789012345678}',
        '{"quantity":9223372036854775807,"unit_price":999999999999.999999,"discount_pct":0.5}',
    ]
    previous = spark.conf.get("spark.sql.ansi.enabled")
    spark.conf.set("spark.sql.ansi.enabled", ansi)
    try:
        raw = spark.createDataFrame([Row(payload=p, source_file="f", source_position=i) for i, p in enumerate(payloads)])
        rows = to_bronze(raw, source_kind="files").orderBy("source_position").collect()
    finally:
        spark.conf.set("spark.sql.ansi.enabled", previous)
    assert [(r.raw_payload, r.quantity, r.unit_price, r.discount_pct, r.has_discount_pct) for r in rows] == [
        (payloads[0], None, None, None, True),
        (payloads[1], None, None, None, True),
        (payloads[2], MAX_BIGINT, Decimal("999999999999.999999"), Decimal("0.500000"), True),
    ]
