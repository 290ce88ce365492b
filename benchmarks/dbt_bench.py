"""dbt benchmark: full refresh vs incremental at growing history, and the analyst's loop.

For each history size (default 1 M and 5 M bronze events) in a fresh lakehouse:
  1. produce N events (1 % dirty) into the landing zone and ingest them (available-now),
  2. `dbt build --full-refresh` (seeds, models, data tests)  → full refresh time,
  3. produce +1 % new events (late events and re-sent duplicates included), ingest,
  4. `dbt build` (incremental; its data tests read the newest load) → incremental time,
  5. the same +1 % again, then `dbt build --full-refresh`    → full refresh time at N × 1.02
     (the ratio compares builds over the same bronze).
Unit tests are left out (they test the SQL, not the data). dbt runs in this process through
its Python API, so Spark starts once per history size and the times are the builds' own cost. Also: `dbt build -s sales_by_day+` on the 2,000-event
sample as a user types it (a separate process: Spark start included).

Prints a Markdown table (and writes it to --out). Not a test: speed goals live here.
Usage: python benchmarks/dbt_bench.py [--sizes 1000000,5000000] [--out FILE]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
BUILD = ["build", "--quiet", "--exclude-resource-type", "unit_test"]


def env_for(lakehouse: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        LAKEHOUSE_DIR=str(lakehouse),
        LAKEHOUSE_JARS=str(REPO_ROOT / ".deps" / "jars"),
        LAKEHOUSE_LOG4J=str(REPO_ROOT / "setup" / "log4j2.properties"),
        DBT_PROJECT_DIR=str(REPO_ROOT),
        DBT_PROFILES_DIR=str(REPO_ROOT),
        DBT_LOG_PATH=str(lakehouse / "logs"),
        DBT_TARGET_PATH=str(lakehouse / "target"),
    )
    return env


def sh(args: list[str], env: dict[str, str]) -> float:
    started = time.monotonic()
    subprocess.run(args, cwd=REPO_ROOT, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    return time.monotonic() - started


def produce(env: dict[str, str], total: int, seed: int, start: str) -> None:
    sh([sys.executable, "-m", "producer", "events", "--sink", "files", "--quiet", "--total", str(total),
        "--seed", str(seed), "--dirty", "0.01", "--start", start, "--sim-rate", str(max(total / 604800, 0.01)),
        "--future-days", "3650", "--file-max-events", "250000"], env)


def ingest(env: dict[str, str]) -> float:
    return sh([sys.executable, "-m", "streaming_ingest", "--trigger", "available-now", "--driver-memory", "2g"], env)


def emit_table(table: str, out: str) -> None:
    """Print a benchmark's Markdown table and keep a copy in `out`."""
    print(table)
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    Path(out).write_text(table + "\n")


def size_run(size: int, work: Path) -> dict[str, float]:
    lakehouse = work / f"lh-{size}"
    env = env_for(lakehouse)
    print(f"[bench] {size:,} events: producing and ingesting", flush=True)
    produce(env, size, seed=1, start="2026-11-01T00:00:00Z")
    ingest_s = ingest(env)
    code = f"""
import json, sys, time
from dbt.cli.main import dbtRunner
from lakehouse_dbt import honour_profile_ansi_mode
honour_profile_ansi_mode()
dbt = dbtRunner()
def timed(args):
    t = time.monotonic(); ok = dbt.invoke(args).success; return time.monotonic() - t, ok
full, ok1 = timed([*{BUILD!r}, "--full-refresh"])
print(json.dumps({{"full": full, "ok": ok1}}), flush=True)
sys.stdin.readline()
inc, ok2 = timed({BUILD!r})
print(json.dumps({{"incremental": inc, "ok": ok2}}), flush=True)
sys.stdin.readline()
full2, ok3 = timed([*{BUILD!r}, "--full-refresh"])
print(json.dumps({{"full_after": full2, "ok": ok3}}), flush=True)
"""
    import json

    runner = subprocess.Popen([sys.executable, "-c", code], cwd=REPO_ROOT, env=env, stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    results: dict[str, float] = {"ingest_s": ingest_s}

    def read() -> dict:
        line = runner.stdout.readline()
        value = json.loads(line)
        if not value.pop("ok"):
            raise SystemExit(f"dbt failed at {size:,} events (see {lakehouse}/logs/dbt.log)")
        return value

    results.update(read())
    increment = max(size // 100, 1)
    print(f"[bench] {size:,} events: +{increment:,} new events, incremental run", flush=True)
    produce(env, increment, seed=2, start="2026-11-06T00:00:00Z")
    ingest(env)
    runner.stdin.write("\n")
    runner.stdin.flush()
    results.update(read())
    runner.stdin.write("\n")
    runner.stdin.flush()
    results.update(read())
    runner.wait()
    shutil.rmtree(lakehouse, ignore_errors=True)
    return results


def sample_run(work: Path) -> float:
    """`dbt build -s sales_by_day+` on the sample, as its own process (Spark start included)."""
    lakehouse = work / "lh-sample"
    env = env_for(lakehouse)
    sh([sys.executable, "-m", "producer", "events", "--sink", "files", "--quiet", "--total", "2000", "--seed", "7",
        "--dirty", "0.02", "--start", "2026-11-14T08:00:00Z", "--sim-rate", "0.01", "--future-days", "3650"], env)
    ingest(env)
    dbt = str(REPO_ROOT / "bin" / "dbt")  # as users run it (ANSI mode on)
    sh([dbt, "build"], env)
    times = [sh([dbt, "build", "-s", "sales_by_day+"], env) for _ in range(3)]
    return sorted(times)[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000000,5000000")
    parser.add_argument("--out", default=str(REPO_ROOT / "artifacts" / "dbt_bench.md"))
    parser.add_argument("--work", default=None, help="scratch folder (default: a temp dir)")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s]
    work = Path(args.work or tempfile.mkdtemp(prefix="dbt-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    rows = ["| measure | value | goal |", "|---|---:|---|"]
    incremental: dict[int, float] = {}
    for size in sizes:
        r = size_run(size, work)
        incremental[size] = r["incremental"]
        ratio = r["incremental"] / r["full_after"]
        rows += [
            f"| landing → bronze, {size:,} events (wall, Spark start incl.) | {r['ingest_s']:.0f} s | |",
            f"| `dbt build` full refresh, {size:,} events | {r['full']:.0f} s | |",
            f"| `dbt build` incremental, +1 % on {size:,} (tests on the newest load) | {r['incremental']:.0f} s | |",
            f"| `dbt build` full refresh, {int(size * 1.02):,} events (same bronze as the ratio) "
            f"| {r['full_after']:.0f} s | |",
            f"| incremental / full refresh at {size:,} | {ratio:.0%} | ≤ 20 % at 5 M "
            f"{'✓' if ratio <= 0.2 else '✗' if size >= 5_000_000 else ''} |",
        ]
    if len(sizes) >= 2:
        small, large = sizes[0], sizes[-1]
        growth = incremental[large] / incremental[small]
        rows.append(f"| incremental growth {small:,} → {large:,} history | {growth:.2f}× | ≤ 1.3× "
                    f"{'✓' if growth <= 1.3 else '✗'} |")
    sample = sample_run(work)
    rows.append(f"| `dbt build -s sales_by_day+` on the sample (median of 3, Spark start incl.) | {sample:.0f} s "
                f"| ≤ 20 s {'✓' if sample <= 20 else '✗'} |")
    emit_table("\n".join(rows), args.out)
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
