"""Record the JVM classes a local Spark run loads into a class-data archive (AppCDS).

Each local Spark JVM (a dbt command, the streaming job) spends its first ~10 s loading and
verifying ~20,000 classes from jars. Java 17 can record the classes one run loaded in a
dynamic class-data sharing archive (-XX:ArchiveClassesAtExit) and map them, pre-parsed, into
later JVMs (-XX:SharedArchiveFile): a `dbt build -s sales_by_day+` on the sample then takes
~5 s less.

This script is the recording run, called by `setup/setup.sh tests` (`make setup-tests`) once
per set of jars / pyspark / Java: in one JVM it ingests 2,000 sample events (the streaming
job, available-now) and runs `dbt seed`, `dbt run` and the data tests of sales_by_day on them,
in a throw-away lakehouse. It prints the JVM's pid; the JVM writes the archive when it exits, after this script ends.

The archive is only a cache. A JVM whose class path or Java no longer matches it ignores it
(-Xshare:auto, the default) and loads classes from the jars as before; bin/lakehouse-env
passes it only when it exists (LAKEHOUSE_JAVA_OPTS).

Usage: python setup/class_archive.py ARCHIVE WORK_DIR
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


def main(archive: str, work: str) -> int:
    lakehouse = Path(work).resolve()
    landing = lakehouse / "landing"
    sys.path.insert(0, str(REPO_ROOT))
    from local_stack.env import project_env

    # the project environment (bin/lakehouse-env's), with one JVM option: write the archive at exit
    os.environ.update(project_env(lakehouse, LAKEHOUSE_JAVA_OPTS=f"-XX:ArchiveClassesAtExit={archive} -Xlog:cds*=off"))
    subprocess.run(
        [sys.executable, "-m", "producer", "events", "--sink", "files", "--quiet", "--total", "2000",
         "--seed", "7", "--dirty", "0.02", "--start", "2026-11-14T08:00:00Z", "--sim-rate", "0.01",
         "--future-days", "3650", "--landing-dir", str(landing)],
        cwd=REPO_ROOT, check=True,
    )
    from streaming_ingest.__main__ import main as ingest

    if ingest(["--source", "files", "--trigger", "available-now", "--landing-dir", str(landing)]) != 0:
        return 1
    # dbt-spark's session mode reuses this process's JVM (pyspark's gateway) for its session
    from dbt.cli.main import dbtRunner

    dbt = dbtRunner()
    # the data tests of one model only: their classes are the same for every test, and the
    # recording (in every fresh setup) should cost less than the starts it speeds up
    for args in (["seed"], ["run"], ["test", "--select", "sales_by_day"]):
        if not dbt.invoke(["--quiet", *args]).success:
            print(f"[setup] class archive: dbt {args[0]} failed (see {lakehouse}/logs)", file=sys.stderr)
            return 1
    from pyspark import SparkContext

    print(SparkContext._jvm.ProcessHandle.current().pid())  # noqa: SLF001 - the gateway's JVM
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__.strip().splitlines()[-1])
    sys.exit(main(sys.argv[1], sys.argv[2]))
