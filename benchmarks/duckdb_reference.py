"""Single-machine speed reference: the three gold KPIs computed by DuckDB over bronze exported
to Parquet, next to the local Spark path (`dbt run --full-refresh`) over the same bronze.

Steps: produce N events (1 % dirty), ingest to bronze (Delta), export bronze to Parquet with
Spark, then time (a) DuckDB: validation + dedup + the three KPIs in one SQL script, and
(b) dbt full refresh of silver and gold in-process (Spark already started). Prints a Markdown
table. Not a test.
Usage: python benchmarks/duckdb_reference.py [--events 1000000] [--out FILE]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from dbt_bench import MODELS, REPO_ROOT, emit_table, env_for, ingest, produce  # noqa: E402

KPI_SQL = """
create or replace view staged as
select
    *,
    case when event_timestamp ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(:[0-9]{2}([.][0-9]{1,9})?)?(Z|z|[+-][0-9]{2}(:?[0-9]{2})?)$'
         then try_cast(event_timestamp as timestamptz) end as event_at
from read_parquet('{bronze}/*.parquet');

create or replace table valid as
select *,
    round(cast(quantity as decimal(20,0)) * unit_price * (1 - coalesce(discount_pct, 0)), 2)::decimal(18,2) as total_amount,
    cast(timezone('UTC', event_at) as date) as sales_date
from staged
where is_json_object
  and coalesce(trim(transaction_id), '') <> ''
  and event_at is not null
  and event_at <= ingestion_time::timestamptz + interval 24 hours
  and quantity >= 1 and unit_price >= 0
  and not (has_discount_pct and (discount_pct is null or discount_pct < 0 or discount_pct >= 1))
  and coalesce(trim(store_id), '') <> '' and coalesce(trim(channel_id), '') <> '' and coalesce(trim(product_id), '') <> ''
  and currency = 'USD'
qualify row_number() over (partition by transaction_id order by ingestion_time, source_file, source_position,
                           kafka_partition, kafka_offset, record_id) = 1;

create or replace table sales_by_day as
select v.sales_date, v.channel_id, coalesce(max(c.channel_name), 'unknown') as channel_name,
       coalesce(s.region, 'unknown') as region, count(*) as transactions, sum(quantity) as units,
       sum(total_amount) as total_amount, round(sum(total_amount) / count(*), 2) as avg_ticket
from valid v left join read_csv_auto('{seeds}/stores.csv') s using (store_id)
left join read_csv_auto('{seeds}/channels.csv') c using (channel_id)
group by all;

create or replace table top_customers as
select customer_id, count(*) as purchases, sum(total_amount) as total_spent,
       row_number() over (order by sum(total_amount) desc, customer_id) as spend_rank
from valid where customer_id is not null group by customer_id;

create or replace table product_performance as
select product_id, count(*) as transactions, sum(quantity) as units_sold, sum(total_amount) as revenue,
       row_number() over (order by sum(total_amount) desc, product_id) as revenue_rank
from valid group by product_id;
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--out", default=str(REPO_ROOT / "artifacts" / "duckdb_reference.md"))
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="duckdb-ref-"))
    lakehouse = work / "lh"
    env = env_for(lakehouse)
    produce(env, args.events, seed=1, start="2026-11-01T00:00:00Z")
    ingest(env)
    parquet = work / "bronze_parquet"
    spark_code = f"""
import time
from dbt.cli.main import dbtRunner
from pyspark.sql import SparkSession
from lakehouse_dbt import honour_profile_ansi_mode
honour_profile_ansi_mode()
dbt = dbtRunner()
assert dbt.invoke(["seed", "--quiet"]).success
spark = SparkSession.builder.getOrCreate()  # the session dbt started (active only in dbt's thread)
spark.read.format("delta").load("{lakehouse}/bronze/sales_events").write.mode("overwrite").parquet("{parquet}")
t = time.monotonic(); ok = dbt.invoke(["run", "--quiet", "--full-refresh", *{MODELS!r}]).success
print(time.monotonic() - t if ok else -1)
"""
    result = subprocess.run([sys.executable, "-c", spark_code], cwd=REPO_ROOT, env=env, capture_output=True, text=True)
    if result.returncode != 0 or not result.stdout.strip():
        raise SystemExit(f"duckdb_reference: the Spark side failed:\n{result.stderr[-3000:]}")
    spark_s = float(result.stdout.strip().splitlines()[-1])
    if spark_s < 0:
        raise SystemExit("duckdb_reference: `dbt run --full-refresh` failed; see the dbt log in the work folder")
    import duckdb

    con = duckdb.connect()
    con.execute("set threads = 2")
    started = time.monotonic()
    # plain replacement: the SQL has regex braces ({4}) that str.format would take as fields
    con.execute(KPI_SQL.replace("{bronze}", str(parquet)).replace("{seeds}", str(REPO_ROOT / "seeds")))
    duck_s = time.monotonic() - started
    rows = con.execute("select count(*) from valid").fetchone()[0]
    table = "\n".join([
        "| engine (same bronze, 2 cores) | silver + 3 gold KPIs | ratio |",
        "|---|---:|---:|",
        f"| DuckDB over Parquet ({args.events:,} events, {rows:,} valid sales) | {duck_s:.1f} s | 1.0× |",
        f"| local Spark + Delta, `dbt run --full-refresh` (Spark started) | {spark_s:.1f} s | {spark_s / duck_s:.1f}× |",
    ])
    emit_table(table, args.out)
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
