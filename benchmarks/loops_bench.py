"""A newcomer's and an analyst's everyday loops, timed: the first `make demo` on a fresh clone
(setup included), `make demo` repeated with nothing changed and after editing one gold model,
`make demo FRESH=1` (from an empty lakehouse again), and `make kpis`, each next to its goal.

The fresh clone is of this repository's HEAD (commit first: uncommitted changes are not in
it), set up with an empty HOME, so uv's and Maven's download caches start empty as on a new
machine. The clone is removed afterwards. Peak RSS is the demo's whole process tree (its
Spark JVM included).

Usage: python benchmarks/loops_bench.py [--events 20000]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parent
sys.path.insert(0, str(HERE))
from memory import PeakSampler, gib  # noqa: E402


def timed_make(clone: Path, env: dict[str, str], *args: str) -> tuple[float, str, int]:
    """Run `make <args>` in the clone; (seconds, stdout, peak RSS of the tree in bytes)."""
    started = time.monotonic()
    process = subprocess.Popen(["make", "--no-print-directory", "-C", str(clone), *args], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    sampler = PeakSampler()
    sampler.watch("make", process.pid)
    sampler.start()
    output = process.communicate()[0]
    sampler.stop()
    elapsed = time.monotonic() - started
    if process.returncode != 0:
        sys.exit(f"loops_bench: make {' '.join(args)} exited {process.returncode}:\n{output[-4000:]}")
    return elapsed, output, sampler.total_peak


def step_seconds(output: str, name: str) -> float:
    """A `bin/step` line's time: '==> <name>: done in N s'."""
    match = re.search(rf"==> {re.escape(name)}[^\n]*: done in (\d+) s", output)
    return float(match.group(1)) if match else float("nan")


def mark(value: float, goal: float) -> str:
    return "✓" if value <= goal else "✗"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20000)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="loops-bench-"))
    try:
        clone, home = work / "clone", work / "home"
        home.mkdir()
        subprocess.run(["git", "clone", "-q", str(REPO_ROOT), str(clone)], check=True)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("LAKEHOUSE_", "DBT_", "VIRTUAL_ENV"))}
        env["HOME"] = str(home)
        events = f"EVENTS={args.events}"
        first, first_out, first_peak = timed_make(clone, env, "demo", events)
        again, _, _ = timed_make(clone, env, "demo", events)
        model = clone / "models" / "gold" / "sales_by_day.sql"
        model.write_text(model.read_text() + "\n-- an analyst's edit\n")
        edited, edited_out, _ = timed_make(clone, env, "demo", events)
        fresh, fresh_out, fresh_peak = timed_make(clone, env, "demo", events, "FRESH=1")
        kpis, _, _ = timed_make(clone, env, "kpis")
        setup = step_seconds(first_out, "setup")
        rows = [
            "| loop | time | goal |",
            "|---|---:|---|",
            f"| first `make demo` on a fresh clone, empty caches ({args.events:,} events): setup "
            f"{setup:.0f} s + demo {first - setup:.0f} s | {first:.0f} s | ≤ 240 s {mark(first, 240)} |",
            f"| repeated `make demo`, nothing changed | {again:.1f} s | ≤ 75 s {mark(again, 75)} |",
            f"| repeated `make demo` after editing `models/gold/sales_by_day.sql` (it and its tests "
            f"rebuilt: {finished(edited_out)}) | {edited:.0f} s | ≤ 75 s {mark(edited, 75)} |",
            f"| `make demo FRESH=1` (from an empty lakehouse again) | {fresh:.0f} s | |",
            f"| — of which `dbt build` (no unit tests) | {step_seconds_demo(fresh_out, 'dbt build'):.0f} s | |",
            f"| — of which ingest (Spark start included) | {step_seconds_demo(fresh_out, 'ingest'):.0f} s | |",
            f"| `make kpis` (delta-rs + DuckDB) | {kpis:.1f} s | ≤ 10 s {mark(kpis, 10)} |",
            f"| peak RSS: `make demo` (producer, then one process with its Spark JVM) "
            f"| {gib(max(first_peak, fresh_peak))} | |",
        ]
        print("\n".join(rows))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


def finished(output: str) -> str:
    """What dbt's `Finished running ...` line says it ran."""
    match = re.search(r"Finished running (.*) in \d+ hours", output)
    return match.group(1) if match else "?"


def step_seconds_demo(output: str, name: str) -> float:
    """A `[demo] <name>...: done in N s` line's time."""
    match = re.search(rf"\[demo\] {re.escape(name)}[^\n]*: done in ([\d.]+) s", output)
    return float(match.group(1)) if match else float("nan")


if __name__ == "__main__":
    sys.exit(main())
