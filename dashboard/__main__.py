"""Render the KPI dashboard: one self-contained HTML file from the gold tables (`make dashboard`).

    python -m dashboard [--out FILE] [--top N]

Default output: $LAKEHOUSE_DIR/dashboard/index.html. Reads the dbt `local` target's tables
through its Derby metastore with one SparkSession, so run it while no dbt command runs on the
same LAKEHOUSE_DIR (like `make kpis`). The page needs no network to be viewed.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

if not __package__:  # run as a file: make `dashboard` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dashboard.page import render  # noqa: E402
from dashboard.queries import read_dashboard_data  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    from streaming_ingest.config import lakehouse_dir

    parser = argparse.ArgumentParser(prog="python -m dashboard", description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=os.environ.get("DASHBOARD_OUT", ""),
                        help="output file (DASHBOARD_OUT; default $LAKEHOUSE_DIR/dashboard/index.html)")
    parser.add_argument("--top", type=int, default=10, help="customers and products shown (default 10)")
    args = parser.parse_args(argv)
    base = lakehouse_dir()
    out = Path(args.out or f"{base}/dashboard/index.html")
    if not (Path(base) / "metastore_db").is_dir():
        print(f"[dashboard] ERROR: no dbt tables under {base} yet: run 'make build' (or 'make demo') first",
              file=sys.stderr)
        return 1

    started = time.monotonic()
    os.environ["TZ"] = "UTC"  # collected timestamps are naive: make them UTC like the session
    time.tzset()
    from streaming_ingest.spark_session import local_spark

    spark = local_spark("dashboard", lakehouse_dir=base)
    try:
        data = read_dashboard_data(spark, top=args.top, lakehouse=base)
    finally:
        spark.stop()
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    tmp.write_text(render(data), encoding="utf-8")
    os.replace(tmp, out)
    print(f"[dashboard] {out} ({out.stat().st_size / 1024:.0f} KiB, {len(data.sales_by_day)} day rows) "
          f"in {time.monotonic() - started:.1f} s; open it with any browser (file://{out})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
