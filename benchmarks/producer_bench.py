"""Producer throughput benchmark (not a test): events/s to files and to a local Kafka broker.

    .venv/bin/python benchmarks/producer_bench.py [--files-events 1000000] [--kafka-events 500000]

Runs the real CLI (``python -m producer events``) with a fixed seed and start, reads the
``events_per_second`` of its summary JSON, and prints a Markdown table next to the goals.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from local_stack.kafka.broker import KafkaBroker  # noqa: E402

GOALS = {"files": 100_000, "kafka": 50_000}
START = "2026-11-20T00:00:00Z"


def run(sink_args: list[str], total: int, workdir: Path, dirty: bool) -> dict:
    summary = workdir / "summary.json"
    command = [sys.executable, "-m", "producer", "events", *sink_args, "--total", str(total),
               "--start", START, "--seed", "1", "--quiet", "--summary-json", str(summary)]
    if dirty:
        command.append("--dirty")
    result = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"producer_bench: {' '.join(sink_args)} failed:\n{result.stderr}")
    return json.loads(summary.read_text())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files-events", type=int, default=1_000_000)
    parser.add_argument("--kafka-events", type=int, default=500_000)
    parser.add_argument("--dirty", action="store_true", help="with --dirty (1%% of each kind)")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="producer-bench-") as tmp:
        workdir = Path(tmp)
        files = run(["--sink", "files", "--landing-dir", str(workdir / "landing")],
                    args.files_events, workdir, args.dirty)
        rows.append(("files", files))
        with KafkaBroker() as broker:
            kafka = run(["--sink", "kafka", "--bootstrap-servers", broker.bootstrap,
                         "--topic", "bench"], args.kafka_events, workdir, args.dirty)
        rows.append(("kafka (local broker)", kafka))
    print("| sink | events | failed | seconds | events/s | goal | meets goal |")
    print("|---|---:|---:|---:|---:|---:|---|")
    for name, summary in rows:
        goal = GOALS[name.split()[0]]
        rate = summary["events_per_second"]
        print(f"| {name} | {summary['sent']:,} | {summary['failed']} | "
              f"{summary['elapsed_seconds']:.2f} | {rate:,.0f} | >= {goal:,} | "
              f"{'yes' if rate >= goal else 'NO'} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
