"""Shared fixtures: one local SparkSession with Delta for the whole run, and helpers that run
the project's real commands (the streaming job, dbt) against a throw-away lakehouse."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def spark():
    from streaming_ingest.spark_session import local_spark

    session = local_spark("pytest", driver_memory="1g", shuffle_partitions=2)
    yield session
    session.stop()


def project_env(lakehouse_dir: Path, **extra: str) -> dict[str, str]:
    """The environment bin/lakehouse-env sets, for a given lakehouse dir."""
    env = dict(os.environ)
    env.update(
        {
            "LAKEHOUSE_HOME": str(REPO_ROOT),
            "LAKEHOUSE_DIR": str(lakehouse_dir),
            "LAKEHOUSE_JARS": str(REPO_ROOT / ".deps" / "jars"),
            "LAKEHOUSE_LOG4J": str(REPO_ROOT / "setup" / "log4j2.properties"),
            "DBT_PROJECT_DIR": str(REPO_ROOT),
            "DBT_PROFILES_DIR": str(REPO_ROOT),
            "DBT_LOG_PATH": str(lakehouse_dir / "logs"),
            "DBT_TARGET_PATH": str(lakehouse_dir / "target"),
            "PATH": f"{REPO_ROOT / '.venv' / 'bin'}:{env.get('PATH', '')}",
        }
    )
    env.pop("DBT_TARGET", None)
    env.update(extra)
    return env


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

    def dbt(self, *args: str) -> subprocess.CompletedProcess:
        """dbt as users run it: bin/dbt (ANSI mode on for the local target, as on Databricks)."""
        return run([str(REPO_ROOT / "bin" / "dbt"), *args], env=self.env, cwd=self.root)

    def table_path(self, schema: str, table: str) -> str:
        return str(self.root / "warehouse" / f"{schema}.db" / table)

    @property
    def bronze_path(self) -> str:
        return str(self.root / "bronze" / "sales_events")


@pytest.fixture
def lakehouse(tmp_path: Path) -> Iterator[Lakehouse]:
    yield Lakehouse(tmp_path / "lakehouse")
