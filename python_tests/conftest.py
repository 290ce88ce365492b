"""Shared fixtures and helpers, for every test folder.

  spark          one local SparkSession with Delta for the whole run (reads tables by path)
  kafka_broker   one real local Kafka broker (KRaft, 127.0.0.1) for the whole run, stopped at the end
  lakehouse      a throw-away $LAKEHOUSE_DIR with the project's real commands bound to it
  stage_a        read-only: STAGE_A (python_tests/datasets.py) ingested and built once by one
                 full `dbt build` (seeds, models, unit and data tests) and `dbt docs generate`;
                 the gold, star, docs-site and dashboard tests all read it. A test that changes
                 a lakehouse builds its own.

`Lakehouse.dbt()` runs `bin/dbt`, one Spark JVM per command, as users do. Inside
`with lakehouse.warm_dbt():` the commands go to one `lakehouse_dbt.session` process instead: the
same dbt, profile and ANSI shim, one JVM started once and warm for the next command.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent

# Small-data mode for every Spark JVM of the run (streaming_ingest/spark_session.py): the test
# datasets are a few thousand rows, where interpreted execution and C1-only JIT give the same
# results for ~25 % less CPU. LAKEHOUSE_SMALL_DATA=0 runs the suite with Spark's defaults.
os.environ.setdefault("LAKEHOUSE_SMALL_DATA", "1")


@pytest.fixture(scope="session")
def spark():
    from streaming_ingest.spark_session import local_spark

    session = local_spark("pytest", driver_memory="1g", shuffle_partitions=2)
    yield session
    session.stop()


@pytest.fixture(scope="session")
def kafka_broker():
    """One broker for the run: the producer and streaming tests each use their own topics."""
    from local_stack.kafka.broker import BrokerError, KafkaBroker

    broker = None
    for attempt in range(3):
        try:
            broker = KafkaBroker().start()
            break
        except BrokerError as error:
            # local_stack/kafka/broker.py makes a random cluster id that starts with "-" once in
            # 64 starts, which kafka-storage reads as an option: start again.
            if "cluster-id" not in str(error) or attempt == 2:
                raise
    assert broker is not None
    try:
        yield broker
    finally:
        broker.stop()


def project_env(lakehouse_dir: Path, **extra: str) -> dict[str, str]:
    """The environment bin/lakehouse-env sets (local_stack/env.py), for a given lakehouse dir."""
    from local_stack.env import project_env as environment

    # two dbt threads in the one local SparkSession: independent data tests overlap (the
    # profile's default too; kept explicit so a changed default does not change the suite)
    return environment(lakehouse_dir, **{"LAKEHOUSE_DBT_THREADS": "2", **extra})


def run(cmd: list[str], env: dict[str, str], cwd: Path, timeout: int = 900) -> subprocess.CompletedProcess:
    """Run a project command; on failure show its output in the assertion message."""
    result = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout)
    if result.returncode != 0:
        raise AssertionError(
            f"{' '.join(cmd)} exited {result.returncode}\n--- stdout ---\n{result.stdout[-6000:]}"
            f"\n--- stderr ---\n{result.stderr[-4000:]}"
        )
    return result


class Lakehouse:
    """A throw-away $LAKEHOUSE_DIR with the project's commands bound to it."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.landing = root / "landing" / "sales"
        self.landing.mkdir(parents=True, exist_ok=True)
        self.env = project_env(root)
        self._session = None

    def path(self, *parts: str) -> Path:
        return self.root.joinpath(*parts)

    def write_landing_file(self, name: str, lines: list[str]) -> Path:
        """Write a landing file the way the producer does: temp name, then rename."""
        tmp = self.landing / f".{name}.tmp"
        tmp.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
        final = self.landing / name
        os.replace(tmp, final)
        return final

    def ingest(self, *args: str) -> subprocess.CompletedProcess:
        return run(
            [sys.executable, "-m", "streaming_ingest", "--trigger", "available-now", *args],
            env=self.env,
            cwd=self.root,
        )

    def dbt(self, *args: str):
        """dbt as users run it: bin/dbt (ANSI mode on for the local target, as on Databricks);
        inside `warm_dbt()`, the same command in the lakehouse's one warm dbt process."""
        if self._session is None:
            return run([str(REPO_ROOT / "bin" / "dbt"), *args], env=self.env, cwd=self.root)
        result = self._session.run(*args)
        if result.returncode != 0:
            raise AssertionError(f"dbt {' '.join(args)} exited {result.returncode}\n{result.stdout[-8000:]}")
        return result

    @contextlib.contextmanager
    def warm_dbt(self) -> Iterator[Lakehouse]:
        """Run this block's dbt commands in one process (one Spark JVM); it ends with the block.
        It holds the Derby metastore meanwhile: the streaming job (bronze by path) may run."""
        from lakehouse_dbt.session import DbtSession

        with DbtSession(env=self.env, cwd=self.root) as session:  # it creates logs/ for its stderr
            self._session = session
            try:
                yield self
            finally:
                self._session = None

    def run_results(self) -> dict:
        return json.loads(self.path("target", "run_results.json").read_text())

    def table_path(self, schema: str, table: str) -> str:
        return str(self.root / "warehouse" / f"{schema}.db" / table)

    @property
    def bronze_path(self) -> str:
        return str(self.root / "bronze" / "sales_events")


@pytest.fixture
def lakehouse(tmp_path: Path) -> Iterator[Lakehouse]:
    yield Lakehouse(tmp_path / "lakehouse")


class BuiltLakehouse(Lakehouse):
    """A lakehouse built once and shared: once `frozen`, read it, never change it."""

    frozen = False
    build_results: dict

    def _refuse(self) -> None:
        if self.frozen:
            raise AssertionError("stage_a is shared and read-only: build your own Lakehouse to change one")

    def ingest(self, *args: str):
        self._refuse()
        return super().ingest(*args)

    def dbt(self, *args: str):
        if not (args and args[0] in ("parse", "ls", "list", "show", "compile")):
            self._refuse()
        return super().dbt(*args)


@pytest.fixture(scope="session")
def stage_a(tmp_path_factory) -> BuiltLakehouse:
    """STAGE_A through the whole local pipeline once: ingest, one full `dbt build` (seeds,
    models, unit tests and data tests), `dbt docs generate --static`, the dashboard page."""
    from python_tests.datasets import STAGE_A

    built = BuiltLakehouse(tmp_path_factory.mktemp("stage_a") / "lakehouse")
    built.write_landing_file("sales-a.json", STAGE_A)
    built.ingest()
    with built.warm_dbt():
        built.dbt("build")
        built.build_results = built.run_results()  # docs generate writes its own run_results.json
        built.dbt("docs", "generate", "--static")
    run([sys.executable, "-m", "dashboard"], env=built.env, cwd=built.root)
    built.frozen = True
    return built
