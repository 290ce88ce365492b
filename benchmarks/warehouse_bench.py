"""Warehouse benchmark (not a test): `dbt build -s sales_by_day+` wall time on the sample, against
the `warehouse` target (the local Spark Thrift server of `make warehouse`) and the `local` session
target, in one run.

    .venv/bin/python benchmarks/warehouse_bench.py [--runs 3] [--lakehouse-dir DIR] [--keep]

In a throw-away lakehouse (or --lakehouse-dir): the sample of `make sample` (2,000 events, seed 7)
through the real streaming job, `dbt seed` + `dbt build` on the local target, then `--runs` timed
`dbt build -s sales_by_day+` on the local target, then the same on the warehouse target with a
server started for the purpose (on a free port) and stopped afterwards. Prints a Markdown table
next to the goals: ≤ 10 s on the warehouse target, at least 2× faster than the session target.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from local_stack.env import project_env  # noqa: E402
from local_stack.processes import free_port  # noqa: E402

SELECTION = "sales_by_day+"
GOAL_SECONDS = 10.0
GOAL_SPEEDUP = 2.0
DBT = str(REPO_ROOT / "bin" / "dbt")  # as users run it (ANSI mode on for local)
WAREHOUSE = str(REPO_ROOT / "local_stack" / "warehouse" / "warehouse.py")


def run(command: list[str], env: dict[str, str], cwd: Path) -> float:
    began = time.monotonic()
    result = subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True)
    elapsed = time.monotonic() - began
    if result.returncode != 0:
        output = result.stdout[-4000:] + result.stderr[-2000:]
        raise SystemExit(f"warehouse_bench: {' '.join(command)} failed:\n{output}")
    return elapsed


def prepare(lakehouse: Path, env: dict[str, str]) -> None:
    """The sample of `make sample`, ingested by the streaming job, then a full local build."""
    if not (lakehouse / "bronze" / "sales_events" / "_delta_log").is_dir():
        print("[bench] sample: 2,000 events → landing → bronze (streaming job)", file=sys.stderr)
        run([sys.executable, "-m", "producer", "events", "--sink", "files", "--quiet", "--total", "2000",
             "--seed", "7", "--dirty", "0.02", "--start", "2026-11-14T08:00:00Z", "--sim-rate", "0.01",
             "--future-days", "3650", "--landing-dir", str(lakehouse / "landing" / "sales")], env, REPO_ROOT)
        ingest = [sys.executable, "-m", "streaming_ingest", "--source", "files", "--trigger", "available-now"]
        run(ingest, env, lakehouse)
    if (lakehouse / "warehouse" / "gold.db" / "sales_by_day" / "_delta_log").is_dir():
        print("[bench] reusing the built lakehouse", lakehouse, file=sys.stderr)
        return
    print("[bench] dbt seed + dbt build (local target)", file=sys.stderr)
    run([DBT, "seed", "--target", "local"], env, lakehouse)
    run([DBT, "build", "--target", "local"], env, lakehouse)


def timed_builds(target: str, runs: int, env: dict[str, str], lakehouse: Path) -> list[float]:
    times = []
    for number in range(1, runs + 1):
        seconds = run([DBT, "build", "-s", SELECTION, "--target", target], env, lakehouse)
        print(f"[bench] {target} run {number}: {seconds:.1f} s", file=sys.stderr)
        times.append(seconds)
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="timed builds per target (default 3)")
    parser.add_argument("--lakehouse-dir", type=Path, help="reuse this lakehouse (default: a new temporary one)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary lakehouse")
    args = parser.parse_args()

    lakehouse = (args.lakehouse_dir or Path(tempfile.mkdtemp(prefix="warehouse-bench-"))).resolve()
    lakehouse.mkdir(parents=True, exist_ok=True)
    env = project_env(lakehouse, WAREHOUSE_PORT=str(free_port()))
    try:
        prepare(lakehouse, env)
        local = timed_builds("local", args.runs, env, lakehouse)
        print(f"[bench] starting the warehouse on 127.0.0.1:{env['WAREHOUSE_PORT']}", file=sys.stderr)
        start_seconds = run([sys.executable, WAREHOUSE, "start"], env, lakehouse)
        try:
            warehouse = timed_builds("warehouse", args.runs, env, lakehouse)
        finally:
            subprocess.run([sys.executable, WAREHOUSE, "stop"], env=env, cwd=lakehouse, capture_output=True)
    finally:
        if not args.keep and not args.lakehouse_dir:
            shutil.rmtree(lakehouse, ignore_errors=True)

    local_median, warehouse_median = statistics.median(local), statistics.median(warehouse)
    speedup = local_median / warehouse_median

    def runs_text(times: list[float]) -> str:
        return ", ".join(f"{t:.1f}" for t in times)

    print(f"\n`dbt build -s {SELECTION}` on the sample (2,000 events), {args.runs} runs per target\n")
    print("| target | runs (s) | median (s) | goal | meets goal |")
    print("|---|---|---:|---|---|")
    print(f"| `warehouse` (thrift) | {runs_text(warehouse)} | {warehouse_median:.1f} | ≤ {GOAL_SECONDS:g} s | "
          f"{'yes' if warehouse_median <= GOAL_SECONDS else 'no'} |")
    print(f"| `local` (session) | {runs_text(local)} | {local_median:.1f} | — | — |")
    print(f"| speed-up | | {speedup:.1f}× | ≥ {GOAL_SPEEDUP:g}× | {'yes' if speedup >= GOAL_SPEEDUP else 'no'} |")
    print(f"\nWarehouse start-up (paid once per session, not per command): {start_seconds:.1f} s.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
