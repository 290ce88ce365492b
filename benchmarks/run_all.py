"""`make bench`: every benchmark of the project, one Markdown report (artifacts/bench.md).

Sections, each from its own script (run one alone to iterate):
  loops_bench.py       first `make demo` on a fresh clone, a repeated `make demo`, `make kpis`
  producer_bench.py    producer events/s to files and to the local Kafka broker
  ingest_bench.py      landing, Capture and Kafka → bronze events/s at 1 M; event → bronze p50/p95
  dbt_bench.py         full refresh vs incremental at 1 M and 5 M; `dbt build -s sales_by_day+` on the sample
  stream (below)       event → gold p50/p95 in `make stream` and peak memory of each process
  duckdb_reference.py  the three gold KPIs in DuckDB over the same bronze, vs local Spark
  warehouse_bench.py   `dbt build -s sales_by_day+`: warehouse (thrift) target vs session target

Each figure stands next to its goal; a missed goal is reported, not hidden. Benchmarks take
long (≈ 35 min for all at full size on 2 cores); `BENCH_QUICK=1` runs every part at a small
size, `BENCH_PARTS=stream,duckdb` only the parts named. The report is rewritten after every
part, so an interrupted run keeps what it measured.
"""

from __future__ import annotations

import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parent
ARTIFACTS = REPO_ROOT / "artifacts"
QUICK = os.environ.get("BENCH_QUICK") == "1"

sys.path.insert(0, str(HERE))
from memory import PeakSampler, gib  # noqa: E402


def section(title: str, script: str, args: list[str]) -> str:
    """Run one benchmark script, echo its output, keep the Markdown table lines it printed."""
    print(f"\n[bench] {title}: {script} {' '.join(args)}", flush=True)
    started = time.monotonic()
    process = subprocess.Popen([sys.executable, str(HERE / script), *args], cwd=REPO_ROOT,
                               stdout=subprocess.PIPE, text=True)
    table = []
    for line in process.stdout:
        print(line, end="", flush=True)
        if line.startswith("|"):
            table.append(line.rstrip("\n"))
    process.wait()
    elapsed = time.monotonic() - started
    if process.returncode != 0 or not table:
        return f"### {title}\n\n_failed (exit {process.returncode}) after {elapsed:.0f} s — run `{script}` alone._\n"
    return f"### {title}\n\n" + "\n".join(table) + f"\n\n_({elapsed:.0f} s)_\n"


def stream_section(cycles: int, rate: int) -> str:
    """Run local_stack/stream.py for a few cycles; event → gold latency and peak memory."""
    print(f"\n[bench] make stream: {cycles} cycles at {rate} events/s", flush=True)
    work = Path(tempfile.mkdtemp(prefix="stream-bench-"))
    env = dict(os.environ, LAKEHOUSE_DIR=str(work))
    stats_file = work / "stats.json"
    process = subprocess.Popen(
        [sys.executable, str(REPO_ROOT / "local_stack" / "stream.py"), "--rate", str(rate), "--cycles", str(cycles),
         "--stats-json", str(stats_file)], cwd=REPO_ROOT, env=env)
    sampler = PeakSampler()
    sampler.watch("stream loop (dbt + its Spark)", process.pid)
    sampler.start()
    known: set[int] = set()
    while process.poll() is None:
        # the producer and ingest are children of the loop: watch each as its own tree
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit() and int(entry.name) not in known:
                try:
                    cmd = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
                    stat = (entry / "stat").read_text()
                    ppid = int(stat[stat.rindex(")") + 2:].split()[1])
                except (OSError, ValueError):
                    continue
                if ppid == process.pid and "-m producer" in cmd:
                    sampler.watch("producer", int(entry.name))
                    known.add(int(entry.name))
                elif ppid == process.pid and "-m streaming_ingest" in cmd:
                    sampler.watch("streaming job (JVM incl.)", int(entry.name))
                    known.add(int(entry.name))
        time.sleep(1)
    sampler.stop()
    cycles_stats = json.loads(stats_file.read_text()) if stats_file.exists() else []
    # Cycle 1 builds everything from scratch and cycle 2 is the first incremental one, in a JVM
    # that is still compiling its hot code: they are shown apart from the steady state.
    warmup, steady = cycles_stats[1:2], cycles_stats[2:]

    def values(cycles: list[dict], key: str) -> list[float]:
        return [c[key] for c in cycles if c.get(key) is not None]

    rows = ["| measure | value | goal |", "|---|---:|---|"]
    p95s = values(steady, "latency_p95_s")
    if p95s:
        p95 = max(p95s)
        rows += [
            f"| dbt cycle (incremental build of silver + gold), median of cycles 3–{len(cycles_stats)} "
            f"| {statistics.median(values(steady, 'cycle_s')):.0f} s | |",
            f"| event → gold latency p50, median of cycles 3–{len(cycles_stats)} "
            f"| {statistics.median(values(steady, 'latency_p50_s')):.0f} s | |",
            f"| event → gold latency p95, worst of cycles 3–{len(cycles_stats)} | {p95:.0f} s "
            f"| ≤ 60 s {'✓' if p95 <= 60 else '✗'} |",
        ]
        for c in warmup:
            if c.get("latency_p95_s") is not None:
                rows.append(f"| warm-up: first incremental cycle (JIT still compiling): cycle time, p95 "
                            f"| {c['cycle_s']:.0f} s, {c['latency_p95_s']:.0f} s | |")
    else:
        rows.append("| event → gold latency | no data (see the stream logs) | ≤ 60 s ✗ |")
    for name, peak in sampler.peaks.items():
        goal = "≤ 2 GB" if name.startswith("streaming job") else ""
        mark = ("✓" if peak <= 2 * 2**30 else "✗") if goal else ""
        rows.append(f"| peak RSS: {name} | {gib(peak)} | {goal} {mark} |")
    rows.append(f"| peak RSS: whole local stack at once | {gib(sampler.total_peak)} | ≤ 6 GB "
                f"{'✓' if sampler.total_peak <= 6 * 2**30 else '✗'} |")
    subprocess.run(["rm", "-rf", str(work)])
    return "### make stream (event → gold, memory)\n\n" + "\n".join(rows) + "\n"


def main() -> int:
    runs = {
        "loops": lambda: section("Everyday loops (make demo, make kpis)", "loops_bench.py",
                                 ["--events", "5000"] if QUICK else []),
        "producer": lambda: section("Producer", "producer_bench.py",
                                    ["--files-events", "200000", "--kafka-events", "100000"] if QUICK else []),
        "ingest": lambda: section("Streaming ingest", "ingest_bench.py", ["--events", "100000"] if QUICK else []),
        "dbt": lambda: section("dbt: full refresh vs incremental", "dbt_bench.py",
                               ["--sizes", "100000,500000"] if QUICK else []),
        "stream": lambda: stream_section(cycles=3 if QUICK else 8, rate=1000),
        "duckdb": lambda: section("Single-machine reference (DuckDB)", "duckdb_reference.py",
                                  ["--events", "200000"] if QUICK else []),
        "warehouse": lambda: section("Local SQL warehouse", "warehouse_bench.py", []),
    }
    wanted = [p.strip() for p in os.environ.get("BENCH_PARTS", ",".join(runs)).split(",") if p.strip()]
    unknown = sorted(set(wanted) - set(runs))
    if unknown:
        print(f"run_all: BENCH_PARTS: unknown part(s) {', '.join(unknown)}; known: {', '.join(runs)}",
              file=sys.stderr)
        return 2
    ARTIFACTS.mkdir(exist_ok=True)
    started = time.monotonic()
    header = [
        "# Benchmark report\n",
        f"Machine: {os.cpu_count()} cores; {'QUICK sizes' if QUICK else 'full sizes'}; parts: "
        f"{', '.join(wanted)}. Each figure is next to its goal.\n",
    ]
    parts: list[str] = []
    for name in wanted:
        try:
            parts.append(runs[name]())
        except Exception as error:  # noqa: BLE001 - one broken part must not lose the others
            parts.append(f"### {name}\n\n_failed: {type(error).__name__}: {error}_\n")
        # written after every part: an interrupted run keeps what it measured
        (ARTIFACTS / "bench.md").write_text("\n".join(header + parts))
    parts.append(f"\n_Total benchmark time: {(time.monotonic() - started) / 60:.0f} min._\n")
    report = "\n".join(header + parts)
    (ARTIFACTS / "bench.md").write_text(report)
    print("\n" + report)
    return 0


if __name__ == "__main__":
    signal.signal(signal.SIGINT, signal.default_int_handler)
    sys.exit(main())
